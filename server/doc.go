// Package server is Hamlet's sync hub: the WebSocket endpoint of
// docs/PROTOCOL.md, enrollment and scoped authorization, the report
// workflow, the sign-in domain, and the admin operations behind the
// hamlet-server CLI.
//
// # Layers
//
// A session (session.go; its phases in session_phases.go, its goroutines in
// session_pumps.go) checks a pushed batch against the schema (precheck.go)
// and hands it to the committer (commit.go), the one write path of synced
// data: pushes, imports (Admin.ApplyChanges) and the report workflow's
// transitions (workflow.go) are committed there in group transactions and
// the hub (hub.go) is told whom to notify, in one function. Each change is
// decided by syncproto.Resolve (apply.go) and what a winning change does to
// its row follows (install.go). The policies over storage (collection in
// collect.go, enrollment in enrollment.go) are decided here too, once.
//
// The server reaches storage only through the Store port (store.go), whose
// parts each consumer declares where it uses them. The stores,
// server/sqlitestore and server/pgstore, persist what the server decided
// and never decide; both pass the same conformance suite
// (server/storetest.Run). The JSON API (server/api) and the dashboard
// (server/dashboard) reach the server through interfaces they declare;
// server/httpapp composes the three handlers. docs/ARCHITECTURE.md draws
// the whole.
//
// # What it must never import
//
// A store (server/sqlitestore, server/pgstore, server/internal/sqlread),
// an HTTP package built over it (server/api, server/dashboard,
// server/httpapp) or the agent: cmd/hamlet-server opens a store and hands
// it to OpenWithStore. No SQL is written here (internal/archtest).
//
// # What it must never do
//
//   - put personal data (names, phones, free text, values) in a log line or
//     an error message: logs carry ids, codes and counts only;
//   - acknowledge a push before its transaction committed;
//   - send a change outside the device's scope;
//   - buffer without limit for a slow reader: every connection has a bounded
//     outgoing queue and a slow reader is disconnected.
package server
