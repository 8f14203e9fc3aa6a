// Package servertest starts a real hamlet server on loopback for tests of
// the server itself and of the agent: a temporary data directory, Cà Mau's
// 2025 units, hamlets in two communes, and one team in each.
//
// It is a test helper: it opens the SQLite store (server/sqlitestore) as
// only tests do, so only tests import it (and cmd/hamlet-load, which drives
// a server the way the tests do). It must never be imported by a package
// that ships in hamlet-server or hamlet-agent.
package servertest
