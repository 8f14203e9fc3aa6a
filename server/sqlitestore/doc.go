// Package sqlitestore is the SQLite server.Store: one file (DBFile) in a
// data directory, in WAL mode, with one writer connection (SQLite has one
// writer anyway) and a pool of read-only connections for pulls, listings
// and the read model. It is what hamlet-server runs on without --db.
//
// It persists what package server decided and answers reads: every line of
// the server's SQLite SQL is here, with its migrations (migrations/), and
// no decision is (syncproto.Resolve runs in server's push path; collection
// and enrollment are server's policies over the primitives of server.Tx).
// It passes server/storetest.Run, as server/pgstore does.
//
// Because this process is the database's only writer, the store keeps every
// replica's index and pushed sequence in memory, assigns log seqs as
// MAX(seq)+1, and reports each commit that grew the log to the server while
// it still holds the writer lock (FeedCommits).
//
// It must never import net/http, server/api, server/dashboard or
// server/pgstore, nor hand out a *sql.DB: the server reads through the
// port (AnalyticsSource for the read model), tests through sqlitetest.
package sqlitestore
