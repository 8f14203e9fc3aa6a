// Package sqlitetest lets tests of the server look at what it wrote into
// its SQLite store where the store's port has no read for it: how many
// refusals it kept, a materialised column. It reads the database file of a
// data directory (servertest.TS.DataDir) on a connection of its own,
// read-only; a test that can check through the port should.
//
// It is a test helper: only tests import it, and a package that ships must
// never import it.
package sqlitetest
