// Package stmtcache is the SQLite driver of Hamlet's long-lived
// connections: modernc.org/sqlite, with each connection keeping the
// statements it ran, prepared, under their SQL text.
//
// database/sql runs a query that was not prepared (DB.QueryContext,
// Tx.ExecContext, …) by handing its text to the connection, and
// modernc.org/sqlite then parses and plans it again at every call. For the
// agent and the server's SQLite store, which run the same few hundred
// texts again and again, parsing was a third of the CPU (issue 17's
// simulation; issue 20 found the same for pulls). With this driver a
// connection parses a text once and afterwards binds and steps the
// statement it kept.
//
// The cache belongs to the connection, so it is right inside and outside
// transactions alike (a transaction runs on one connection), and its
// statements are finalized when the connection closes. A statement whose
// rows are still open is not handed out again: a second query of the same
// text meanwhile (a query inside a loop over another's rows) is parsed and
// run as before. PRAGMA statements are not kept (some take effect while
// they are prepared, not when they run), except a few that only read and
// do it when they run (readOnlyPragmas). At most Size texts are kept per
// connection, the least recently used going first, so generated texts
// cannot make it grow without bound. SQLite itself prepares a kept
// statement again when the schema has changed under it.
//
// Use it by name: sql.Open(stmtcache.DriverName, dsn) with a DSN as for
// modernc.org/sqlite; errors are that driver's (*sqlite.Error).
//
// It imports database/sql and modernc.org/sqlite only: it must never import
// a package of the module, nor change what a statement does (no SQL of its
// own, no pragma).
package stmtcache
