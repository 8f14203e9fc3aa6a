package server

import (
	"cmp"
	"slices"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// DefaultLogTail is how many of the newest log entries a server on a store
// it alone writes keeps in memory to answer pulls (Config.LogTail): about
// 200 bytes each, a few MB, and at least every entry a commune's teams
// push in a busy hour.
const DefaultLogTail = 1 << 16

// logTail holds the entries this process committed above floor, per scope
// in seq order, so a pull whose cursor is at or above floor is answered
// without reading the store: reading a page of the log back costs the
// server more than committing it (the row decoding in SQLite and the
// driver, 2.5 µs an entry, was a quarter of a sync's CPU under 2,000
// agents). It holds exactly what ReadLog would return for (floor, head]:
// every entry committed there, none deleted since (a commit that deletes
// log entries empties it); another process's commits, which it never
// holds, empty it through the store's Foreign Restart, and a pull answered
// from it checks afterwards that none went unseen (Server.stillTrue). The
// hub guards it with seqMu.
type logTail struct {
	max     int
	floor   uint64
	byScope map[string][]LogEntry
	order   []uint64 // every held entry's seq, in order: the trim point
}

func newLogTail(max int) *logTail {
	return &logTail{max: max, byScope: map[string][]LogEntry{}}
}

// reset empties the tail: it holds nothing, and knows nothing below head.
func (t *logTail) reset(head uint64) {
	clear(t.byScope)
	t.order = nil
	t.floor = head
}

// add holds a commit's entries, in seq order, the first of them right
// after the tail's last (the hub checked).
func (t *logTail) add(entries []LogEntry) {
	if t.max <= 0 {
		return
	}
	for i := range entries {
		e := entries[i]
		if e.Change.Base.Replica == (syncproto.ReplicaID{}) {
			e.Change.Base = syncproto.Dot{} // as ReadLog returns it: no base replica, no base
		}
		sc := e.Change.Scope
		t.byScope[sc] = append(t.byScope[sc], e)
		t.order = append(t.order, e.Seq)
	}
	if len(t.order) > t.max {
		t.trim(len(t.order) - t.max/2)
	}
}

// trim forgets the n oldest entries, raising the floor to the last of
// them: halving at a time, so trimming costs little per entry added.
func (t *logTail) trim(n int) {
	t.floor = t.order[n-1]
	t.order = slices.Clone(t.order[n:])
	for sc, es := range t.byScope {
		i, _ := slices.BinarySearchFunc(es, t.floor+1, func(e LogEntry, seq uint64) int { return cmp.Compare(e.Seq, seq) })
		if i == len(es) {
			delete(t.byScope, sc)
			continue
		}
		t.byScope[sc] = slices.Clone(es[i:])
	}
}

// read answers q as ReadLog would, for a log whose head is head, or
// reports that the tail does not cover q.After.
func (t *logTail) read(q LogQuery, head uint64) (LogPage, bool) {
	if t.max <= 0 || q.After < t.floor || q.After > head {
		return LogPage{}, false
	}
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	page := LogPage{To: head}
	if q.After == head || len(q.Scopes) == 0 {
		return page, true
	}
	type stream struct {
		es []LogEntry
		i  int
	}
	streams := make([]stream, 0, len(q.Scopes))
	for _, sc := range DistinctScopes(q.Scopes) {
		es := t.byScope[sc]
		i, _ := slices.BinarySearchFunc(es, q.After+1, func(e LogEntry, seq uint64) int { return cmp.Compare(e.Seq, seq) })
		if i < len(es) {
			streams = append(streams, stream{es: es, i: i})
		}
	}
	excluded := func(e *LogEntry) bool {
		// As the stores: a device's own changes are left out, never an
		// eviction or a change a move logged (LogQuery).
		return q.Exclude != (syncproto.ReplicaID{}) && e.Change.Dot.Replica == q.Exclude &&
			e.Kind != EntryEviction && e.NewScope == ""
	}
	for {
		var next *stream
		for k := range streams {
			s := &streams[k]
			for s.i < len(s.es) && excluded(&s.es[s.i]) {
				s.i++
			}
			if s.i < len(s.es) && (next == nil || s.es[s.i].Seq < next.es[next.i].Seq) {
				next = s
			}
		}
		if next == nil {
			return page, true
		}
		if len(page.Entries) == q.Limit {
			page.More = true
			page.To = page.Entries[len(page.Entries)-1].Seq
			return page, true
		}
		if page.Entries == nil {
			page.Entries = make([]LogEntry, 0, min(q.Limit, 128))
		}
		page.Entries = append(page.Entries, next.es[next.i])
		next.i++
	}
}
