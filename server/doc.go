// Package server is Hamlet's sync hub: the WebSocket endpoint of
// docs/PROTOCOL.md, enrollment and scoped authorization, and the admin
// operations behind the hamlet-server CLI.
//
// # Layers
//
// The sync session (session.go, apply.go, snapshot.go) holds the rules of
// the server side of the protocol and calls syncproto.Resolve for every
// field; the policies over storage (collection in collect.go, enrollment in
// enrollment.go) are decided here too, once. The server reaches storage
// only through the Store port (store.go), whose parts each consumer
// declares where it uses them. The stores, server/sqlitestore and
// server/pgstore, persist what the server decided and never decide; both
// pass the same conformance suite (server/storetest.Run). server never
// imports a store: cmd/hamlet-server opens one and hands it to
// OpenWithStore.
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
