// Package server is Hamlet's sync hub: the WebSocket endpoint of
// docs/PROTOCOL.md, enrollment and scoped authorization, and the admin
// operations behind the hamlet-server CLI.
//
// # Layers
//
// The sync session (session.go, apply.go, pull.go) holds the rules of the
// server side of the protocol and calls syncproto.Resolve for every field;
// it reaches storage only through the small Store interface it declares
// (store.go). The SQLite store (sqlite*.go) persists what the session
// decided and never decides itself; a PostgreSQL store can fill the same
// interface later and must pass the same conformance suite
// (server/storetest.Run).
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
