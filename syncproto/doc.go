// Package syncproto is Hamlet's sync core: hybrid logical clocks, version
// vectors, change records, the field-level last-writer-wins merge, conflict
// detection and the msgpack wire encoding of every protocol message.
//
// # Purity
//
// syncproto holds rules, not machinery. It must never import a database
// driver, database/sql, net, net/http, os or a package of the module, nor
// read the wall clock on its own: the server, the agent and the tests hand
// it a clock function. That keeps the merge identical on every replica and
// lets the property tests replay any interleaving deterministically.
//
// # The merge contract
//
// Every synced row is a set of fields; every field carries the version that
// wrote it: an HLC timestamp, the dot (origin replica, origin sequence) that
// names the write, and the base dot of the value the writer overwrote. Deletes
// are the field [TombstoneField] and merge like any other field.
//
// [Resolve] decides one incoming field change against the current version:
//
//   - a change whose dot equals the current one is a duplicate;
//   - a change whose dot is the current value's base is its ancestor: stale;
//   - a change based on the current value supersedes it (causal overwrite);
//   - anything else is concurrent: the higher (HLC, replica, seq) wins and the
//     loser becomes a [Conflict] record, so no value disappears without a trace.
//
// Writers always stamp a write above its base ([Stamp], with
// [Clock.NowAfter]), so a causal successor also wins last-writer-wins. That
// makes the final value of a field the maximum over all writes on every
// replica, whatever the delivery order, duplication or loss, which is what
// the property tests check. Every replica, the server's, the agent's and
// the in-memory model ([MemReplica]), puts Resolve's outcome into its
// fields with [ApplyOutcome].
//
// # The clock bound
//
// Of two edits of one field, the one made more than [ClockBound] (ε = 2 s)
// later in real time wins on every replica, when both laptops completed a
// sync less than [SyncWithin] (D = 30 days) before pushing the edit, and
// their clocks drift less than [DriftRate] (r = 1 s a day) at a steady
// rate. A clock off by any constant amount, a year ahead or behind, is
// within the bound. Outside it (a laptop that never synced and whose clock
// drifted or was changed meanwhile; a clock changed by hand between two
// syncs; longer offline, faster drift) an edit is still stamped between
// the sync before it and the sync that pushes it. What makes it hold:
// stamps from the server-corrected clock ([EstimateOffset], [Correction],
// [Clock.SetOffset], which forgets a wrong date's stamps); the queue
// restamped by each new measurement before it is pushed ([Restamp]); the
// server restamping anything more than [DefaultMaxSkew] ahead and never
// following a stamp past its own time ([Clock.Admit]). [CheckClockBound]
// states the bound as a check, which the property test applies to every
// pair of edits of random schedules of wrong clocks. docs/PROTOCOL.md §8.6
// is the full statement.
//
// See docs/PROTOCOL.md for the wire format built on these types.
package syncproto
