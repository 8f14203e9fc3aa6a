package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/replicas"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// writeTx is one write transaction.
type writeTx struct {
	s       *Store
	ctx     context.Context
	reps    replicas.Tx       // replicas added by this transaction
	nextRep int64             // the next free replica index (0: not read yet)
	seqs    map[int64]uint64  // max_seq set by this transaction
	scopes  map[string]uint64 // highest seq appended per scope
	nextSeq uint64
	pending []any  // buffered log rows, logCols values each
	ids     []byte // arena for the row ids in pending
	// logged are the entries appended, for the commit feed (the server's
	// tail of the log in memory); cut is set when log entries were deleted.
	logged []server.LogEntry
	cut    bool
}

var _ server.Tx = (*writeTx)(nil)

func (w *writeTx) exec(q string, args ...any) (sql.Result, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(w.ctx, args...)
}

func (w *writeTx) queryRow(q string, args ...any) (*sql.Row, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(w.ctx, args...), nil
}

func (w *writeTx) query(q string, args ...any) (*sql.Rows, error) {
	st, err := w.s.stmt(w.ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(w.ctx, args...)
}

// idx returns the replica's small integer, creating it (create=true). A
// new replica gets the next free index at once; its row is written with the
// others when the transaction commits (flushReplicas).
func (w *writeTx) idx(r syncproto.ReplicaID, create bool) (int64, error) {
	return w.reps.Index(r, create, w)
}

// Find: the store read every committed replica when it opened and is the
// only writer, so one missing from the cache does not exist.
func (w *writeTx) Find(syncproto.ReplicaID) (int64, bool, error) { return 0, false, nil }

// New takes the next free index; flushReplicas writes the row.
func (w *writeTx) New(syncproto.ReplicaID) (int64, error) {
	if w.nextRep == 0 {
		row, err := w.queryRow(`SELECT COALESCE(MAX(idx), 0) + 1 FROM replicas`)
		if err != nil {
			return 0, err
		}
		if err := row.Scan(&w.nextRep); err != nil {
			return 0, err
		}
	}
	w.nextRep++
	return w.nextRep - 1, nil
}

func (w *writeTx) replica(i int64) (syncproto.ReplicaID, error) { return w.reps.ID(i, nil) }

func (w *writeTx) OriginSeq(r syncproto.ReplicaID) (uint64, error) {
	i, err := w.idx(r, false)
	if err != nil || i < 0 {
		return 0, err
	}
	if seq, ok := w.seqs[i]; ok {
		return seq, nil
	}
	if w.reps.Added(r) {
		return 0, nil
	}
	w.s.seqMu.Lock()
	seq, ok := w.s.repSeq[i]
	w.s.seqMu.Unlock()
	if ok {
		return seq, nil
	}
	row, err := w.queryRow(`SELECT max_seq FROM replicas WHERE idx = ?`, i)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := row.Scan(&n); err != nil {
		return 0, fmt.Errorf("origin seq: %w", err)
	}
	return uint64(n), nil
}

func (w *writeTx) SetOriginSeq(r syncproto.ReplicaID, seq uint64) error {
	i, err := w.idx(r, true)
	if err != nil {
		return err
	}
	if w.seqs == nil {
		w.seqs = map[int64]uint64{}
	}
	w.seqs[i] = seq
	return nil
}

const repCols = 3

// flushReplicas writes the replicas this transaction added and the origin
// sequences it set, in multi-row upserts.
func (w *writeTx) flushReplicas() error {
	added := w.reps.New()
	if len(added) == 0 && len(w.seqs) == 0 {
		return nil
	}
	idxs := make([]int64, 0, len(added)+len(w.seqs))
	for _, i := range added {
		if _, ok := w.seqs[i]; !ok {
			idxs = append(idxs, i)
		}
	}
	for i := range w.seqs {
		idxs = append(idxs, i)
	}
	slices.Sort(idxs)
	args := make([]any, 0, repCols*chunkSizes[1])
	err := chunks(len(idxs), chunkSizes[1], func(a, b int) error {
		q := w.s.query(qkey{"reps", "", b - a}, func() string {
			return `INSERT INTO replicas (idx, id, max_seq) VALUES ` + placeholders(b-a, repCols) +
				` ON CONFLICT (idx) DO UPDATE SET max_seq = excluded.max_seq`
		})
		args = args[:0]
		for _, i := range idxs[a:b] {
			r, err := w.replica(i)
			if err != nil {
				return err
			}
			args = append(args, i, r[:], int64(w.seqs[i]))
		}
		_, err := w.exec(q, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("save replicas: %w", err)
	}
	return nil
}

func (w *writeTx) Row(table string, id syncproto.RowID) (server.RowState, bool, error) {
	ref := server.RowRef{Table: table, Row: id}
	states, err := w.LoadRows([]server.RowRef{ref})
	if err != nil {
		return server.RowState{}, false, fmt.Errorf("load row %s: %w", id, err)
	}
	st, ok := states[ref]
	return st, ok, nil
}

func (w *writeTx) PutRow(table string, id syncproto.RowID, st server.RowState) error {
	return w.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: table, Row: id}, State: &st}})
}

// Append assigns the next server_seq and buffers the entry; entries are
// written in multi-row INSERTs (flushLog), far cheaper than one statement
// per change. One writer holds the database, so MAX(seq)+1 is ours.
func (w *writeTx) Append(e *server.LogEntry) error {
	if w.nextSeq == 0 {
		row, err := w.queryRow(`SELECT ` + sqliteHead)
		if err != nil {
			return err
		}
		var head int64
		if err := row.Scan(&head); err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		w.nextSeq = uint64(head) + 1
	}
	c := &e.Change
	o, err := w.idx(c.Dot.Replica, true)
	if err != nil {
		return err
	}
	b, err := w.idx(c.Base.Replica, true)
	if err != nil {
		return err
	}
	var ns any
	if e.Kind == server.EntryEviction || e.NewScope != "" {
		ns = e.NewScope
	}
	e.Seq = w.nextSeq
	w.nextSeq++
	if w.scopes == nil {
		w.scopes = map[string]uint64{}
	}
	w.scopes[c.Scope] = e.Seq
	if w.s.watch != nil {
		w.logged = append(w.logged, *e)
	}
	// The row id is copied into an arena: slicing c.Row would move every
	// entry to the heap. An arena that grows leaves earlier slices on the old
	// array, which stays valid.
	if cap(w.ids)-len(w.ids) < 16 {
		w.ids = make([]byte, 0, 16*1024)
	}
	w.ids = append(w.ids, c.Row[:]...)
	row := w.ids[len(w.ids)-16 : len(w.ids) : len(w.ids)]
	if w.pending == nil {
		w.pending = make([]any, 0, logCols*logRowsPerInsert*4)
	}
	w.pending = append(w.pending, int64(e.Seq), int64(e.Kind), c.Scope, c.Table, row, c.Field, int64(c.Value.Kind()), versions.SQLValue(c.Value), int64(c.HLC),
		o, int64(c.Dot.Seq), b, int64(c.Base.Seq), ns)
	if len(w.pending) >= cap(w.pending)-logCols {
		return w.flushLog()
	}
	return nil
}

const (
	logCols          = 14
	logRowsPerInsert = 64
)

func (w *writeTx) flushLog() error {
	n := len(w.pending) / logCols
	err := chunks(n, logRowsPerInsert, func(i, j int) error {
		q := w.s.query(qkey{"log", "", j - i}, func() string {
			return `INSERT INTO sync_log (seq, kind, scope, tbl, row, field, vkind, val, hlc, origin, oseq, base_origin, base_seq, new_scope) VALUES ` +
				placeholders(j-i, logCols)
		})
		_, err := w.exec(q, w.pending[i*logCols:j*logCols]...)
		return err
	})
	if err != nil {
		return fmt.Errorf("append to log: %w", err)
	}
	clear(w.pending) // drop references to the values
	w.pending = w.pending[:0]
	return nil
}

func (w *writeTx) Children(parent syncproto.RowID) ([]server.RowRef, error) {
	rows, err := w.query(`SELECT tbl, row FROM sync_rows WHERE parent = ? ORDER BY tbl, row`, parent[:])
	if err != nil {
		return nil, fmt.Errorf("load children: %w", err)
	}
	defer rows.Close()
	var out []server.RowRef
	for rows.Next() {
		var r server.RowRef
		var id []byte
		if err := rows.Scan(&r.Table, &id); err != nil {
			return nil, fmt.Errorf("load children: %w", err)
		}
		copy(r.Row[:], id)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (w *writeTx) AddConflict(c syncproto.Conflict, at time.Time) error {
	_, err := w.exec(`INSERT INTO sync_conflicts (at_ms, scope, tbl, row, field, loser_kind, loser_val, loser_hlc, loser_origin, loser_seq,
		winner_hlc, winner_origin, winner_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), c.Scope, c.Key.Table, c.Key.Row[:], c.Key.Field, int64(c.Loser.Value.Kind()), versions.SQLValue(c.Loser.Value),
		int64(c.Loser.HLC), c.Loser.Dot.Replica[:], int64(c.Loser.Dot.Seq), int64(c.Winner.HLC), c.Winner.Dot.Replica[:], int64(c.Winner.Dot.Seq))
	if err != nil {
		return fmt.Errorf("record conflict: %w", err)
	}
	return nil
}

func (w *writeTx) AddRefused(r server.Refused) error {
	c := &r.Change
	var baseOrigin, baseSeq any // NULL: the change overwrote no version
	if !c.Base.IsZero() {
		baseOrigin, baseSeq = c.Base.Replica[:], int64(c.Base.Seq)
	}
	_, err := w.exec(`INSERT INTO sync_refused (at_ms, device_id, scope, tbl, row, field, kind, val, hlc, origin, oseq, code, reason, base_origin, base_seq)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.At.UnixMilli(), r.DeviceID, c.Scope, c.Table, c.Row[:], c.Field, int64(c.Value.Kind()), versions.SQLValue(c.Value),
		int64(c.HLC), c.Dot.Replica[:], int64(c.Dot.Seq), string(r.Code), r.Reason, baseOrigin, baseSeq)
	if err != nil {
		return fmt.Errorf("record refused change: %w", err)
	}
	return nil
}

func (w *writeTx) Materialize(table string, id syncproto.RowID, fields map[string]syncproto.Value) error {
	t, ok := schema.LookupTable(table)
	if !ok {
		return fmt.Errorf("materialize: unknown table %q", table)
	}
	names := make([]string, 0, len(fields))
	for f := range fields {
		if _, ok := t.Field(f); !ok {
			return fmt.Errorf("materialize: table %s has no field %q", table, f)
		}
		names = append(names, f)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.Name + " (id")
	for _, n := range names {
		b.WriteString(", " + n)
	}
	b.WriteString(") VALUES (?" + strings.Repeat(", ?", len(names)) + ")")
	if len(names) > 0 {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " = excluded." + n)
		}
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	args := make([]any, 0, len(names)+1)
	args = append(args, id.String())
	for _, n := range names {
		v := fields[n]
		if n == schema.DeletedField && v.IsNull() {
			args = append(args, false) // the column is NOT NULL
			continue
		}
		args = append(args, versions.SQLValue(v))
	}
	if _, err := w.exec(b.String(), args...); err != nil {
		return fmt.Errorf("materialize %s row: %w", table, err)
	}
	return nil
}

// deleteRowData drops a row's materialized data (GC).
func (w *writeTx) deleteRowData(table string, id syncproto.RowID) error {
	t, ok := schema.LookupTable(table)
	if !ok {
		return nil
	}
	if _, err := w.exec(`DELETE FROM `+t.Name+` WHERE id = ?`, id.String()); err != nil {
		return fmt.Errorf("drop %s row: %w", table, err)
	}
	return nil
}
