package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// SnapshotStore serves snapshot clones (docs/PROTOCOL.md, "Snapshot
// clone") and tells how far the log was truncated.
type SnapshotStore interface {
	// SnapshotRows returns up to q.Limit rows whose scope is in q.Scopes,
	// after q.After in (table, row) order, each with every field's current
	// version. The order is the rows' primary key, which never changes, so
	// a clone resumed after a row misses none. Tombstoned rows the store
	// still holds are included: a change to a deleted row pulled later
	// must find it deleted, as after a log replay (GC drops them from the
	// log and the store alike).
	SnapshotRows(ctx context.Context, q SnapshotQuery) ([]SnapshotRow, error)
	// SnapshotCount is the number of rows SnapshotRows would return from
	// the start.
	SnapshotCount(ctx context.Context, scopes []string) (uint64, error)
	// SnapshotLosses lists the conflicts logged on the given rows of
	// table, by row and then as logged: the write that lost and the one
	// that beat it (SnapshotChunk.Lost). The conflicts' archive
	// (conflicts_archive.go) takes old ones away.
	SnapshotLosses(ctx context.Context, table string, rows []syncproto.RowID) ([]syncproto.LostWrite, error)
	// LogFloor is the highest server_seq at or below which the log of any
	// of scopes may have been truncated (sync_log_floor; 0 if never).
	LogFloor(ctx context.Context, scopes []string) (uint64, error)
}

// SnapshotQuery selects a page of SnapshotRows.
type SnapshotQuery struct {
	Scopes []string
	// After is the last row of the previous page (zero: from the start).
	After RowRef
	Limit int
	// MaxFields, when set, lets the store stop early: after the first row
	// (not the first of the page) that takes the page's fields past it,
	// since the caller sends no more fields than that in one chunk. The
	// rows it does return are still the first ones after After.
	MaxFields int
}

// SnapshotRow is one row of a snapshot: its fields' versions, by field
// name.
type SnapshotRow struct {
	Ref    RowRef
	Scope  string
	Fields []FieldVersion
}

// FieldVersion is one field's current version.
type FieldVersion = versions.FieldVersion

// recloneNeeded reports whether a device must clone again: its
// acknowledged cursor is below the floor of the log of one of its scopes
// (the entries it would pull next may be gone). An acknowledged cursor of
// 0 is below any floor: a device acknowledges what it stored with its
// next Pull (Durable), so one that pulled a page and went silent before
// another holds rows and a cursor the server never heard of; told
// nothing, it pulled from that cursor, was refused below the floor, took
// the refusal for a server restored from a backup, replayed the truncated
// log from 0 keeping what it held, and was refused again at every sync
// (issue 17, a laptop silent past the horizon). A device that never pulled
// clones anyway, so the answer costs it nothing.
func (s *Server) recloneNeeded(ctx context.Context, dev Device, scopes []string) (bool, error) {
	floor, err := s.store.LogFloor(ctx, withEveryHamlet(scopes))
	if err != nil {
		return false, err
	}
	return s.ackedCursor(dev) < floor, nil
}

// ackedCursor is the device's acknowledged cursor: the one this process
// heard last (Pull.Durable, kept in memory until the activity flush) or,
// before that, the stored one.
func (s *Server) ackedCursor(dev Device) uint64 {
	s.actMu.Lock()
	defer s.actMu.Unlock()
	if a, ok := s.act[dev.ID]; ok && a.Cursor != nil && *a.Cursor > dev.Cursor {
		return *a.Cursor
	}
	return dev.Cursor
}

// onSnapshot answers one SnapshotRequest with one chunk (docs/PROTOCOL.md,
// "Snapshot clone"). Requests are answered in order, so an agent may send
// the next one as soon as a chunk arrives.
func (c *conn) onSnapshot(ctx context.Context, m *syncproto.SnapshotRequest) {
	ch, b := c.takeAhead(m)
	if ch == nil {
		var err error
		if ch, b, err = c.chunkFrame(ctx, m); err != nil {
			c.failLocked(err)
			return
		}
	}
	c.s.noteActivity(c.dev.ID, nil)
	if c.enqueueFrameLocked(b, nil) {
		c.readAhead(m, ch)
	}
}

// chunkFrame reads the chunk m asks for and encodes it.
func (c *conn) chunkFrame(ctx context.Context, m *syncproto.SnapshotRequest) (*syncproto.SnapshotChunk, []byte, error) {
	ch, err := c.snapshotChunk(ctx, m)
	if err != nil {
		var pe *syncproto.Error
		if !errors.As(err, &pe) {
			if ctx.Err() == nil {
				c.s.log.Error("snapshot failed", LogDevice, c.dev.ID, LogErr, err)
			}
			err = storeError("store failed", err)
		}
		return nil, nil, err
	}
	b, err := c.encodeChunk(ch)
	if err != nil {
		c.s.log.Error("encode snapshot chunk", LogDevice, c.dev.ID, LogErr, err)
		return nil, nil, &syncproto.Error{Code: syncproto.CodeUnavailable, Msg: "encode failed", Err: err}
	}
	return ch, b, nil
}

func (c *conn) snapshotChunk(ctx context.Context, m *syncproto.SnapshotRequest) (*syncproto.SnapshotChunk, error) {
	scopes := c.scopeList
	if len(m.Scopes) > 0 {
		for _, sc := range m.Scopes {
			if !c.scope[sc] {
				return nil, syncproto.Errorf(syncproto.CodeOutOfScope,
					"hamlet %q is not in this device's scope: ask only for hamlets of Welcome.Scope, or none for all of them", sc)
			}
		}
		scopes = m.Scopes
	}
	if !m.After.IsZero() {
		if _, ok := schema.LookupTable(m.After.Table); !ok {
			return nil, syncproto.Errorf(syncproto.CodeBadCursor,
				"snapshot position names table %q, which this server does not sync: start the clone again from the beginning", m.After.Table)
		}
		if m.Head == 0 {
			return nil, syncproto.Errorf(syncproto.CodeBadCursor,
				"a snapshot request after a position must carry the Head of its first chunk: start the clone again from the beginning")
		}
	}
	head, err := c.st.Head(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Head == 0:
		m.Head = head
	case m.Head > head:
		return nil, syncproto.Errorf(syncproto.CodeBadCursor,
			"snapshot head %d is beyond the log head %d (the server was restored from a backup): start the clone again from the beginning", m.Head, head)
	default:
		// A clone (or back-fill) resumed at a head its scopes' log no
		// longer reaches: the pull from that head would start below the
		// floor, and the chunks already stored hold values whose later
		// changes were collected (a laptop that stopped half-way through
		// its clone and stayed away past the horizon: issue 17, seed 8291).
		floor, err := c.st.LogFloor(ctx, withEveryHamlet(scopes))
		if err != nil {
			return nil, err
		}
		if m.Head < floor {
			return nil, syncproto.Errorf(syncproto.CodeBadCursor,
				"snapshot head %d is below the log floor %d of these hamlets (their log above it was collected): clone again from the beginning, without what a paused clone stored", m.Head, floor)
		}
	}
	ch := &syncproto.SnapshotChunk{Head: m.Head, From: m.After, To: m.After}
	if m.After.IsZero() {
		if ch.Total, err = c.st.SnapshotCount(ctx, scopes); err != nil {
			return nil, err
		}
	}
	limit := syncproto.SnapshotRows
	if m.Limit > 0 && int(m.Limit) < limit {
		limit = int(m.Limit)
	}
	maxChanges := c.s.cfg.Limits.MaxChanges
	rows, err := c.st.SnapshotRows(ctx, SnapshotQuery{Scopes: scopes, After: RowRef{Table: m.After.Table, Row: m.After.Row}, Limit: limit,
		MaxFields: maxChanges})
	if err != nil {
		return nil, err
	}
	// A store that stopped early at MaxFields returned the row that passed
	// it, which the loop below leaves for the next chunk (More).
	ch.More = len(rows) == limit
	n := 0
	for i := range rows {
		n += len(rows[i].Fields)
	}
	// Read after the rows: every version they hold was logged (in the
	// same commit) before this reads the log.
	above, err := c.loggedAbove(ctx, m.Head, scopes)
	if err != nil {
		return nil, err
	}
	ch.Rows = make([]syncproto.Change, 0, min(n, maxChanges)) // growing it cost a tenth of a clone's CPU
	// The budget counts every field of the rows taken, as the store does,
	// not only those sent: a chunk that leaves out fields logged above the
	// head (a teammate's edit, a move) must still leave the row that
	// passed the budget for the next chunk. Counted by what was sent, that
	// row fitted, More stayed false though the store had stopped early,
	// and the clone ended there without the rest of the snapshot.
	taken := 0
	// held: every version of the chunk's rows, sent or left out, when it
	// leaves some out; its losses are read for all of them (chunkLosses).
	var held []syncproto.Change
	if len(above) > 0 {
		held = make([]syncproto.Change, 0, min(n, maxChanges))
	}
	for i := range rows {
		r := &rows[i]
		if i > 0 && taken+len(r.Fields) > maxChanges {
			ch.More = true // the rest is the next chunk
			break
		}
		taken += len(r.Fields)
		for _, f := range r.Fields { // by field name
			v := syncproto.Change{Table: r.Ref.Table, Row: r.Ref.Row, Field: f.Field, Value: f.Value,
				HLC: f.HLC, Dot: f.Dot, Base: f.Base, Scope: r.Scope}
			if len(above) > 0 {
				held = append(held, v)
				if _, ok := above[fieldDot{r.Ref, f.Field, f.Dot}]; ok {
					continue // the pull from the head brings it, after its history
				}
			}
			ch.Rows = append(ch.Rows, v)
		}
		ch.To = syncproto.SnapshotPos{Table: r.Ref.Table, Row: r.Ref.Row}
	}
	if len(above) == 0 {
		held = ch.Rows
	}
	if ch.Lost, err = c.chunkLosses(ctx, held, maxChanges); err != nil {
		return nil, err
	}
	if !ch.More {
		c.above = nil // the snapshot ends here (a chunk cut at MaxFrame reads the log again)
	}
	return ch, nil
}

// chunkLosses lists the conflicts the server logged on the fields of a
// chunk's rows (rows: the versions the server holds, sent or left out for
// the pull from the head) whose winner is that version, the version it
// was written over, or the winner of the field's last conflict, from which
// every later version descends (LostWrite.NamedAfter): a client that still
// holds or noted the write that lost learns it lost, which the version
// alone cannot tell it (docs/PROTOCOL.md §16.4 step 3). A field left out
// is named too: the pull from the head brings its later versions, which
// cannot tell it either (stop 66's note: a hamlet gained, back-filled at
// the laptop's cursor, a winner written over since). Other conflicts are
// left out: the client could not tell them from a loser written over
// knowingly on another branch (agent: cloneTxn.superseded). Read by the
// chunk's own row ids: ids are random, so the rows of a device's hamlets
// spread over the whole table, and a range from the chunk's first row to
// its last read nearly every conflict the table ever logged, every chunk
// (review, helper 277). Read after the rows: a conflict logged since has
// a winner the chunk leaves out, named as above, or is a push that lost
// to the version sent, whose pusher is answered superseded and records it
// by that path (one conflict, one key). At most limit: a client refuses a
// longer list.
func (c *conn) chunkLosses(ctx context.Context, rows []syncproto.Change, limit int) ([]syncproto.LostWrite, error) {
	var out []syncproto.LostWrite
	for i := 0; i < len(rows) && len(out) < limit; {
		j := i
		ids := []syncproto.RowID{rows[i].Row}
		for j < len(rows) && rows[j].Table == rows[i].Table {
			if rows[j].Row != ids[len(ids)-1] {
				ids = append(ids, rows[j].Row)
			}
			j++
		}
		ls, err := c.st.SnapshotLosses(ctx, rows[i].Table, ids)
		if err != nil {
			return nil, fmt.Errorf("read the conflicts logged on a snapshot's rows: %w", err)
		}
		if len(ls) > 0 {
			sent := make(map[fieldKey]*syncproto.Change, j-i)
			for k := i; k < j; k++ {
				sent[fieldKey{rows[k].Row, rows[k].Field}] = &rows[k]
			}
			last := make(map[fieldKey]syncproto.LostWrite, len(ls))
			for _, l := range ls { // as logged, per row: the last one stays
				last[fieldKey{l.Row, l.Field}] = l
			}
			for _, l := range ls {
				k := fieldKey{l.Row, l.Field}
				if v := sent[k]; v != nil && l.NamedAfter(v, last[k]) && len(out) < limit {
					out = append(out, l)
				}
			}
		}
		i = j
	}
	return out, nil
}

// fieldDot is one version of one field.
type fieldDot struct {
	ref   RowRef
	field string
	dot   syncproto.Dot
}

// snapAbove is what a connection read of the log above a snapshot's
// head: the field versions the pull from that head will bring.
type snapAbove struct {
	head   uint64
	scopes string // the snapshot's hamlets, joined
	to     uint64 // read up to here
	dots   map[fieldDot]struct{}
}

// loggedAbove returns the field versions logged after head in scopes that
// the device's pull from head brings (its own writes left out, as the pull
// leaves them; entries a move logged included), reading the log from
// where the connection's last chunk of the same snapshot stopped.
//
// A chunk leaves those versions out, so the clone replays the field's
// history from the head instead of meeting it below the version it holds
// (docs/PROTOCOL.md §16.3). Otherwise a field written three times after
// the head reached the clone at its third write, and the pull then
// replayed the first, whose successor the clone never saw: neither the
// version it holds nor its base, so a conflict between writes that never
// competed (issue 9's review, simulation seed 235 with truncation).
func (c *conn) loggedAbove(ctx context.Context, head uint64, scopes []string) (map[fieldDot]struct{}, error) {
	key := strings.Join(scopes, "\x00")
	a := c.above
	if a == nil || a.head != head || a.scopes != key {
		a = &snapAbove{head: head, scopes: key, to: head}
		c.above = a
	}
	for {
		page, err := c.s.readLog(ctx, LogQuery{After: a.to, Scopes: scopes, Exclude: c.dev.Replica, Limit: syncproto.SnapshotRows})
		if err != nil {
			return nil, fmt.Errorf("read the log above the snapshot's head %d: %w", head, err)
		}
		for i := range page.Entries {
			e := &page.Entries[i]
			if e.Kind != EntryChange {
				continue
			}
			if a.dots == nil {
				a.dots = map[fieldDot]struct{}{}
			}
			a.dots[fieldDot{RowRef{e.Change.Table, e.Change.Row}, e.Change.Field, e.Change.Dot}] = struct{}{}
		}
		if page.To <= a.to {
			return a.dots, nil
		}
		a.to = page.To
		if !page.More {
			return a.dots, nil
		}
	}
}

// encodeChunk encodes a chunk, cutting it at a row boundary while the
// frame would exceed MaxFrame (large text values).
func (c *conn) encodeChunk(ch *syncproto.SnapshotChunk) ([]byte, error) {
	lim := c.s.cfg.Limits.MaxFrame
	for {
		b, err := syncproto.Encode(nil, ch)
		if err != nil || len(b) <= lim {
			return b, err
		}
		// Keep the share of rows that fits, with a margin, and at least one.
		keep := int(int64(len(ch.Rows)) * int64(lim) / int64(len(b)) * 9 / 10)
		end := max(keep, 1)
		for end < len(ch.Rows) && ch.Rows[end].Row == ch.Rows[end-1].Row {
			end++ // whole rows only
		}
		if end >= len(ch.Rows) {
			return b, nil // one row larger than a frame: the decoder will say so
		}
		last := ch.Rows[end-1]
		if len(ch.Lost) > 0 {
			// Lost is in the chunk's row order (chunkLosses), and names
			// rows the chunk sends nothing of too (every field left out
			// for the pull): cut it at the first row cut off. A row left
			// out whole between the two may be named again by the next
			// chunk, which a client records once (one conflict, one key).
			cut := make(map[syncproto.RowID]bool, len(ch.Rows)-end)
			for i := end; i < len(ch.Rows); i++ {
				cut[ch.Rows[i].Row] = true
			}
			if i := slices.IndexFunc(ch.Lost, func(l syncproto.LostWrite) bool { return cut[l.Row] }); i >= 0 {
				ch.Lost = ch.Lost[:i]
			}
		}
		ch.Rows = ch.Rows[:end]
		ch.To = syncproto.SnapshotPos{Table: last.Table, Row: last.Row}
		ch.More = true
	}
}
