// Package pgstore is the PostgreSQL server.Store: several hamlet-server
// processes share one database (docs/SCALING.md). It persists what
// the sync code decided and answers reads; syncproto.Resolve runs in the
// server's push path, never here. It passes server/storetest.Run like the
// SQLite store.
//
// # Several processes, one database
//
// The SQLite store has one writer, so reading a row, deciding and writing
// it back cannot interleave with another push. Here two processes (or two
// pool connections of one) can push to the same row at once, so a write
// transaction locks what it reads before deciding:
//
//   - rows: Row and LoadRows take a transaction-level advisory lock per row
//     (a 64-bit hash of table and row id, sorted, so two batches lock in the
//     same order) before reading the row, which works for rows that do not
//     exist yet, unlike SELECT ... FOR UPDATE;
//   - replicas: OriginSeq and SetOriginSeq lock the replica the same way, so
//     one replica's batch is applied once even if it reaches two processes;
//   - the log: see "The log" below.
//
// Locks are held until commit. A transaction takes them in the order rows,
// replicas, log; a lock it needs after it holds the log lock (a household's
// children, the second batch of a group) is only tried, and if it is busy
// the whole transaction is rolled back and fn runs again (errRetry), as it
// does when PostgreSQL reports a deadlock or a serialization failure.
//
// # The log
//
// server_seq must be assigned in commit order: a reader that has seen seq
// n must never later find an entry below n commit (it would skip it, its
// cursor being past). A sequence object hands out numbers in call order,
// not commit order, so it cannot do this alone. Instead the first Append of
// a transaction locks the one row of sync_log_head (SELECT ... FOR UPDATE),
// takes the next seqs from it, and writes the new head back; the row lock
// is released only when the transaction ends, after its commit is visible.
// So appending transactions commit one after another in seq order, and a
// committed head h means every entry at or below h is committed too: Head
// and ReadLog read the head row first and never look above it. The head row
// also keeps the head when GC deletes the newest entries, so a cursor never
// points past it and a seq is never handed out twice.
//
// The price is that appends from all processes are serialised from a
// transaction's first Append to its commit; everything before (decoding,
// loading and locking rows, deciding) runs in parallel.
//
// # Hearing of other processes' commits
//
// A transaction that appended also sends pg_notify('hamlet_log', {head,
// highest seq per scope}), delivered at its commit, in commit order, to
// every process listening on the database. Each server's store LISTENs on
// a connection of its own (FeedCommits, notify.go) and reports every
// commit, its own process's included, to the server, which notifies its
// agents of them and answers idle pulls from what it heard: since the
// notifications arrive in seq order, "nothing in these scopes up to the
// head I heard of" is true whichever process wrote. A lost listener
// connection is re-established with backoff and reported as a restart:
// the server forgets what it knew, notifies every agent, and reads the
// store for any cursor below the new head.
//
// It must never import net/http, server/api, server/dashboard, server/httpapp
// or server/sqlitestore, nor hand out its pool: the server reads through the
// port (AnalyticsSource for the read model), tests through pgtest and the
// port.
package pgstore
