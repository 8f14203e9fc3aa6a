// Package agent is the field agent's local replica and sync client: the part
// of Hamlet that runs on a volunteer's laptop, offline most of the day.
//
// # The replica
//
// One SQLite file (modernc, no cgo, WAL) holds everything. Three things are
// written in the same transaction by every local write, so "saved but not
// queued" cannot happen, whatever the power does:
//
//   - the row table of the schema (households, visits, tutoring_records,
//     field_reports: one column per field), a projection used for listing;
//   - row_state: per row, a msgpack blob with every field's current version
//     (value with its kind, HLC, dot, base) and the versions it replaced. It
//     is the source of truth; fields a newer server knows and this build does
//     not are kept there as they came;
//   - outbox: one entry per field change, the syncproto.Change to push, whose
//     dot is (replica id, local sequence).
//
// Changes pulled from the server are merged with syncproto.Resolve, the same
// rule syncproto.MemReplica follows, with conflict losers kept in the
// conflicts table until a person restores one (a new write) or leaves it.
// The pull cursor is stored in the same transaction as the changes it
// covers, so a pull is resumable and idempotent.
//
// # Sync
//
// Sync speaks the protocol of docs/PROTOCOL.md over one WebSocket: Hello and
// Welcome (clock offset, scope, the server's resume point), Push/Ack in
// batches, Pull/Changes until nothing is left. Watch keeps doing that while
// the context lives, reconnecting with exponential backoff and jitter.
//
// sync.go holds Sync and Watch (retries, forks, backoff); session.go runs
// one connection as a list of phases (handshake, push, clone, scope, pull);
// push.go, pull.go and clone.go are those phases, wire.go the WebSocket.
//
// # What it must never import
//
// agent must not import server or cmd packages; it talks to the server only
// through the enroll endpoint and the sync protocol.
package agent
