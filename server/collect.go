package server

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The collection policy (docs/PROTOCOL.md §8.5 and §7.5: a tombstone goes
// once every device covering it acknowledged it), decided here once for
// every store from the primitives of GCTx.

// GCTx is the part of a write transaction collection works with: reads of
// what the policy weighs and writes of what it decided, no decisions.
type GCTx interface {
	// Head is the log head: the highest seq ever handed out, even if the
	// entry is gone (KeepHead).
	Head() (uint64, error)
	// MinCursors is, per hamlet, the lowest acknowledged cursor of the
	// active devices of the teams covering it: not revoked, and last seen
	// (or enrolled, if never seen) at or after silentBefore (every device
	// when it is zero); with acked, only devices that acknowledged a pull
	// (cursor above 0). A device that never said Hello and holds no cursor
	// (an enrollment not used yet, a fork whose answer was lost) is not
	// counted: it holds nothing and clones when it comes, and its first
	// Hello writes its contact before its Welcome (markReturned). A hamlet
	// no such device covers is absent.
	MinCursors(silentBefore time.Time, acked bool) (map[string]uint64, error)
	// Tombstones lists the tombstoned (deleted) rows.
	Tombstones() ([]Tombstone, error)
	// MovedFrom lists the hamlets a row was moved out of (scope_moves),
	// each once: its log entries there stay until the row is collected.
	MovedFrom(r RowRef) ([]string, error)
	// DropTombstone removes a tombstoned row: its state, its materialised
	// data, its scope moves and its log entries in its scope and in
	// t.MovedFrom (entries: how many), and keeps its id (SyncTx.Collected). dropped
	// is false, and nothing is removed, when the row is no longer that
	// tombstone or a push holds it now (a store shared by several
	// processes does not wait for it: the next collection takes it).
	DropTombstone(t Tombstone) (dropped bool, entries int, err error)
	// TruncateLog removes scope's log entries at or below upTo; top is the
	// highest seq removed, 0 if none.
	TruncateLog(scope string, upTo uint64) (top uint64, n int, err error)
	// RowScopes lists the scopes of the rows the store holds.
	RowScopes() ([]string, error)
	// LoggedChanges lists scope's change entries (not evictions) at or
	// below upTo.
	LoggedChanges(scope string, upTo uint64) ([]LoggedChange, error)
	// Versions is a row's current field versions (empty: no such row),
	// read without holding the row against pushes.
	Versions(r RowRef) (map[string]syncproto.Version, error)
	// DeleteEntries removes log entries by seq.
	DeleteEntries(seqs []uint64) error
	// KeepHead records head as the log head, so that a log whose newest
	// entries were removed hands none of their seqs out again.
	KeepHead(head uint64) error
	// RaiseFloor raises scope's log floor to seq (sync_log_floor); a lower
	// seq leaves it.
	RaiseFloor(scope string, seq uint64) error
	// CollectDigests keeps each replica's newest window change digests
	// (fork.go) and says how many it removed.
	CollectDigests(window int) (int, error)
	// ForgetBases clears, in r's versions, the base of each field whose
	// current version is one of the writes dots names for it, and says how
	// many it cleared; it rewrites a blob of an earlier build's format in
	// the current one even if it clears none. A row a push changed since
	// collection read it is left as it is (the next collection weighs it
	// again).
	ForgetBases(r RowRef, dots map[string][]syncproto.Dot) (int, error)
}

// Tombstone is a tombstoned row: its scope and the seq of the entry that
// deleted it.
type Tombstone struct {
	RowRef
	Scope   string
	TombSeq uint64
	// MovedFrom is the hamlets the row left before (GCTx.MovedFrom), set
	// by the policy before DropTombstone.
	MovedFrom []string
}

// LoggedChange is a change entry of the log as compaction weighs it.
type LoggedChange struct {
	Seq   uint64
	Ref   RowRef
	Field string
	Dot   syncproto.Dot // the change's origin
}

// Collect drops, in one transaction of st, the tombstoned rows every active
// device whose scope holds them has acknowledged (pulled past), and a scope
// no device holds needs no tombstone; then superseded log entries at or
// below the lowest cursor of each scope's devices (every device there has
// them already), or with opts.Truncate every entry there. Whatever it
// removes that a device behind might still need raises the scope's floor
// (sync_log_floor): such a device clones again.
//
// It first clears the base dots the horizon passed (forgetBases), in the
// same transaction: the log entries that tell which versions those are may
// be truncated next, and the overwritten entries those bases name go in
// the same commit (compacted or truncated: they are at or below every
// floor), so no reader sees a version without its base while the entry it
// overwrote is still in the log.
func Collect(ctx context.Context, st Updater, opts GCOptions) (GCStats, error) {
	var out GCStats
	err := st.Update(ctx, func(tx Tx) error {
		var bases GCStats
		if err := forgetBases(tx, opts, &bases); err != nil {
			return err
		}
		var err error
		out, err = collect(tx, opts)
		out.Bases, out.Floors = bases.Bases, out.Floors+bases.Floors
		return err
	})
	return out, err
}

func collect(tx GCTx, opts GCOptions) (GCStats, error) {
	var st GCStats
	var err error
	if st.Digests, err = tx.CollectDigests(DigestWindow); err != nil {
		return st, fmt.Errorf("gc: digests: %w", err)
	}
	head, err := tx.Head()
	if err != nil {
		return st, fmt.Errorf("gc: %w", err)
	}
	minCur, err := tx.MinCursors(opts.SilentBefore, false)
	if err != nil {
		return st, fmt.Errorf("gc: %w", err)
	}
	// A scope no active device covers needs nothing below the head.
	floor := func(scope string) uint64 {
		if c, ok := minCur[scope]; ok {
			return c
		}
		return head
	}
	// raised is the new log floor of each scope: the highest seq removed
	// there that a device behind it would have needed.
	raised := map[string]uint64{}
	raise := func(scope string, seq uint64) {
		if seq > raised[scope] {
			raised[scope] = seq
		}
	}
	dead, err := tx.Tombstones()
	if err != nil {
		return st, fmt.Errorf("gc: %w", err)
	}
	for _, d := range dead {
		if d.TombSeq > floor(d.Scope) {
			continue
		}
		// A row moved between hamlets left its entries in the hamlets it
		// passed through (the changes it had there, and its eviction):
		// they go with it, or a team that gains one of those hamlets gets
		// the row back live from them. So every device of those hamlets
		// must be past the tombstone too (and so past the eviction).
		if d.MovedFrom, err = tx.MovedFrom(d.RowRef); err != nil {
			return st, fmt.Errorf("gc: %w", err)
		}
		if slices.ContainsFunc(d.MovedFrom, func(sc string) bool { return d.TombSeq > floor(sc) }) {
			continue
		}
		dropped, n, err := tx.DropTombstone(d)
		if err != nil {
			return st, fmt.Errorf("gc: %w", err)
		}
		if !dropped {
			continue
		}
		st.Entries += n
		st.Rows++
		// A device below the tombstone never learns of the delete (nor,
		// in a hamlet the row left, of its eviction).
		raise(d.Scope, d.TombSeq)
		for _, sc := range d.MovedFrom {
			raise(sc, d.TombSeq)
		}
	}
	if opts.Truncate {
		err = truncate(tx, minCur, raise, &st)
	} else {
		// The lowest cursors again, counting the devices silent past the
		// horizon too: compaction does not wait for them, so what it
		// removes above one of them raises the floor (compact).
		var all map[string]uint64
		if all, err = tx.MinCursors(time.Time{}, false); err != nil {
			return st, fmt.Errorf("gc: %w", err)
		}
		err = compact(tx, floor, all, raise, &st)
	}
	if err != nil {
		return st, err
	}
	if st.Entries > 0 {
		// Keep the head: a log emptied at its top must not hand out its
		// seqs again.
		if err := tx.KeepHead(head); err != nil {
			return st, fmt.Errorf("gc: keep head: %w", err)
		}
	}
	for sc, seq := range raised {
		if err := tx.RaiseFloor(sc, seq); err != nil {
			return st, fmt.Errorf("gc: log floor: %w", err)
		}
		st.Floors++
	}
	return st, nil
}

// truncate drops every entry at or below the lowest durable cursor of
// each scope some active device covers (GCOptions.Truncate).
func truncate(tx GCTx, minCur map[string]uint64, raise func(string, uint64), st *GCStats) error {
	scopes := make([]string, 0, len(minCur))
	for sc := range minCur {
		scopes = append(scopes, sc)
	}
	sort.Strings(scopes)
	for _, sc := range scopes {
		top, n, err := tx.TruncateLog(sc, minCur[sc])
		if err != nil {
			return fmt.Errorf("gc: truncate: %w", err)
		}
		if n == 0 {
			continue
		}
		st.Entries += n
		st.Truncated += n
		raise(sc, top)
	}
	return nil
}

// compact drops superseded change entries at or below each scope's floor:
// an entry whose field's current version is another change's. A version
// only ever moves on to a newer entry, so an entry that is not the current
// one never will be again.
//
// Every device the floor counts holds those entries already. A device
// silent past the horizon (not counted: all is the lowest cursor of every
// device, it included) may not: reading the log from below them it would
// meet a version whose base it never saw, and take the writes it holds and
// their successors for concurrent ones (spurious conflicts; the
// simulation's silent world, seed 1). So what compaction removes above
// such a device's cursor raises the scope's floor, as truncation does: it
// is told to clone again when it returns (Welcome.Reclone).
func compact(tx GCTx, floor func(string) uint64, all map[string]uint64, raise func(string, uint64), st *GCStats) error {
	scopes, err := tx.RowScopes()
	if err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	sort.Strings(scopes)
	cache := map[RowRef]map[string]syncproto.Version{}
	for _, sc := range scopes {
		ents, err := tx.LoggedChanges(sc, floor(sc))
		if err != nil {
			return fmt.Errorf("gc: compact: %w", err)
		}
		var stale []uint64
		for _, e := range ents {
			vs, ok := cache[e.Ref]
			if !ok {
				if vs, err = tx.Versions(e.Ref); err != nil {
					return fmt.Errorf("gc: compact: %w", err)
				}
				cache[e.Ref] = vs
			}
			cur, ok := vs[e.Field]
			if !ok {
				continue
			}
			if cur.Dot != e.Dot {
				stale = append(stale, e.Seq)
			}
		}
		if len(stale) > 0 {
			if err := tx.DeleteEntries(stale); err != nil {
				return fmt.Errorf("gc: compact: %w", err)
			}
			if top := slices.Max(stale); top > floorOf(all, sc, top) {
				raise(sc, top)
			}
		}
		st.Superseded += len(stale)
		st.Entries += len(stale)
	}
	return nil
}

// floorOf is cur[sc], or def when no device covers sc.
func floorOf(cur map[string]uint64, sc string, def uint64) uint64 {
	if c, ok := cur[sc]; ok {
		return c
	}
	return def
}

// forgetBases drops the base dots the horizon has passed (issue 20: sync
// metadata under the data it describes). A version's base, the write it
// overwrote, serves one purpose: a replica that meets that older write
// after the version knows it for an ancestor (syncproto.Resolve: Stale)
// instead of a concurrent write. A replica only meets it after the version
// if it reads the log from below the version, or meets the version again
// re-logged (a row moved into another hamlet, server/install.go) while it
// holds an older one. So a base goes once every device the horizon counts
// (as collection counts them: not revoked, not silent past the horizon,
// its team covering a hamlet) holds the log durably past the version's
// entry, and the version's entry is in the log (so its base's entry came
// before it). New devices clone, and a snapshot carries current versions
// only.
//
// Every counted device's cursor counts for every hamlet, whatever
// hamlets it covers: a row that moves is logged again, its current
// versions with their bases, into its new hamlet, where a device that
// covers only that hamlet may hold an older version of it from before (it
// covered the row's first hamlet then, or the row was there). Cleared by
// the horizon of the hamlet the row was in, the base reached that device
// as none, and it recorded a conflict against its own version, which the
// moved one had overwritten (issue 17, seed 721439 of the wide and silent
// worlds).
//
// A device the horizon leaves out (revoked, then restored or enrolled
// again onto its cursor; of a team that covered no hamlet for a while;
// silent past the horizon) may come back below that line, so the line is
// a floor of every hamlet's log (EveryHamlet): such a device clones again
// after pushing, as below any floor (review 32c: counting every device
// instead, one laptop never used kept every team's bases; counting none
// of those, they met the same false conflict). A device that never
// acknowledged a pull is left out too (review 33: an enrolment never used
// would hold every hamlet's bases until the horizon): it holds nothing, or
// a clone the server has not heard of yet, and clones (again) when it
// comes, which costs the second kind one clone.
//
// The tombstone keeps its base: a hidden edit (syncproto.HiddenEdit) is
// based on what the tombstone overwrote.
func forgetBases(tx GCTx, opts GCOptions, st *GCStats) error {
	head, err := tx.Head()
	if err != nil {
		return fmt.Errorf("gc: bases: %w", err)
	}
	counted, err := tx.MinCursors(opts.SilentBefore, true)
	if err != nil {
		return fmt.Errorf("gc: bases: %w", err)
	}
	scopes, err := tx.RowScopes()
	if err != nil {
		return fmt.Errorf("gc: bases: %w", err)
	}
	sort.Strings(scopes)
	horizon := head
	for _, c := range counted {
		horizon = min(horizon, c)
	}
	cleared := 0
	for _, sc := range scopes {
		ents, err := tx.LoggedChanges(sc, horizon)
		if err != nil {
			return fmt.Errorf("gc: bases: %w", err)
		}
		// The writes logged at or below the horizon, by row and field.
		byRow := map[RowRef]map[string][]syncproto.Dot{}
		var order []RowRef
		for _, e := range ents {
			if e.Field == syncproto.TombstoneField {
				continue
			}
			m := byRow[e.Ref]
			if m == nil {
				m = map[string][]syncproto.Dot{}
				byRow[e.Ref] = m
				order = append(order, e.Ref)
			}
			m[e.Field] = append(m[e.Field], e.Dot)
		}
		for _, ref := range order {
			n, err := tx.ForgetBases(ref, byRow[ref])
			if err != nil {
				return fmt.Errorf("gc: bases: %w", err)
			}
			cleared += n
		}
	}
	if cleared > 0 {
		if err := tx.RaiseFloor(EveryHamlet, horizon); err != nil {
			return fmt.Errorf("gc: bases: floor: %w", err)
		}
		st.Floors++
	}
	st.Bases += cleared
	return nil
}

// EveryHamlet is the log floor (sync_log_floor) that holds under every
// hamlet's: the line below which collection cleared versions' bases
// (forgetBases). Not a hamlet code: codes are digits and dashes.
const EveryHamlet = "*"

// withEveryHamlet is the scopes whose floors bound a device of scopes:
// its own and EveryHamlet.
func withEveryHamlet(scopes []string) []string {
	return append(slices.Clip(scopes), EveryHamlet)
}
