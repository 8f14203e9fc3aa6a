package agent

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Check verifies the replica's invariants; tests run it on every replica
// they open (agenttest.Open). It reads only.
//
//   - the file passes SQLite's integrity check;
//   - every row_state blob decodes, and its row table row (for known tables)
//     holds exactly the current values;
//   - every row table row has a row_state;
//   - every local write (dot with our replica id) has a sequence no higher
//     than the stored "seq", and outbox sequences are unique dots;
//   - every pending outbox entry is a write the row_state knows, either as
//     the current value or in the history;
//   - no conflict names the same write as loser and winner.
func (r *Replica) Check(ctx context.Context) error {
	var ic string
	if err := r.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ic); err != nil {
		return err
	}
	if ic != "ok" {
		return fmt.Errorf("integrity_check: %s", ic)
	}
	seq, err := r.metaInt(ctx, r.db, "seq")
	if err != nil {
		return err
	}
	t, err := r.beginRead(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM row_state`)
	if err != nil {
		return err
	}
	var ids []syncproto.RowID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		id, err := uuid.Parse(s)
		if err != nil {
			fail("row_state id %q: %v", s, err)
			continue
		}
		ids = append(ids, id)
	}
	rows.Close()
	states, err := t.getMany(ids)
	if err != nil {
		return fmt.Errorf("row_state: %w", err)
	}
	known := map[syncproto.Dot]bool{}
	for _, st := range states {
		for f, v := range st.cur {
			known[v.Dot] = true
			if v.Dot.Replica == r.id && v.Dot.Seq > uint64(seq) {
				fail("%s %s.%s: local dot %d above seq %d", st.table, st.id, f, v.Dot.Seq, seq)
			}
		}
		for _, h := range st.hist {
			known[h.Ver.Dot] = true
		}
		cols := r.cols[st.table]
		if len(cols) == 0 {
			continue
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		q := `SELECT ` + joinCols(cols) + ` FROM ` + st.table + ` WHERE id = ?`
		if err := t.tx.QueryRowContext(ctx, q, st.id.String()).Scan(ptrs...); err != nil {
			fail("%s %s: projection: %v", st.table, st.id, err)
			continue
		}
		for i, c := range cols {
			want := any(nil)
			if v := st.cur[c]; v != nil {
				want = columnValue(v.Value)
			} else if c == syncproto.TombstoneField {
				want = int64(0)
			}
			if !sameColumn(want, vals[i]) {
				fail("%s %s.%s: row table has %v, versions say %v", st.table, st.id, c, vals[i], want)
			}
		}
	}
	for table := range r.cols {
		var n int
		if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table+` x WHERE NOT EXISTS (SELECT 1 FROM row_state s WHERE s.id = x.id)`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			fail("%s: %d rows without versions", table, n)
		}
	}
	orows, err := t.tx.QueryContext(ctx, `SELECT seq, row_id, field, state FROM outbox`)
	if err != nil {
		return err
	}
	for orows.Next() {
		var s, state int64
		var row, field string
		if err := orows.Scan(&s, &row, &field, &state); err != nil {
			orows.Close()
			return err
		}
		if s > seq {
			fail("outbox seq %d above seq %d", s, seq)
		}
		id, _ := uuid.Parse(row)
		if state == outboxPending && states[id] != nil && !known[syncproto.Dot{Replica: r.id, Seq: uint64(s)}] {
			fail("outbox %d (%s.%s) is not in the row's versions", s, row, field)
		}
	}
	orows.Close()
	es, err := t.rowEntries(`1`)
	if err != nil {
		return err
	}
	for _, e := range es {
		if int64(e.last()) > seq {
			fail("compact log entry %d..%d above seq %d", e.seq, e.last(), seq)
		}
		if e.state != outboxPending && e.state != outboxUnacked {
			fail("compact log entry %d in state %d", e.seq, e.state)
		}
		id, _ := uuid.Parse(e.row)
		for j, f := range e.fields {
			if e.state == outboxPending && states[id] != nil && !known[syncproto.Dot{Replica: r.id, Seq: e.seq + uint64(j)}] {
				fail("compact log %d (%s.%s) is not in the row's versions", e.seq+uint64(j), e.row, f.field)
			}
		}
	}
	var bad int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM conflicts WHERE loser_replica = winner_replica AND loser_seq = winner_seq`).Scan(&bad); err != nil {
		return err
	}
	if bad > 0 {
		fail("%d conflicts with the same loser and winner", bad)
	}
	return errors.Join(errs...)
}

func joinCols(cols []string) string {
	s := ""
	for i, c := range cols {
		if i > 0 {
			s += ", "
		}
		s += c
	}
	return s
}

func sameColumn(want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case float64:
		if math.IsNaN(w) {
			return got == nil // SQLite stores NaN as NULL; the row state keeps it
		}
		switch g := got.(type) {
		case float64:
			return g == w
		case int64:
			return float64(g) == w
		}
		return false
	case string:
		switch g := got.(type) {
		case string:
			return g == w
		case []byte:
			return string(g) == w
		}
		return false
	}
	return want == got
}

// Snapshot returns every field's current version (for tests comparing
// replicas with each other and with the server).
func (r *Replica) Snapshot(ctx context.Context) (map[syncproto.FieldKey]syncproto.Version, error) {
	t, err := r.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	rows, err := t.tx.QueryContext(ctx, `SELECT id FROM row_state`)
	if err != nil {
		return nil, err
	}
	var ids []syncproto.RowID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, err
		}
		id, _ := uuid.Parse(s)
		ids = append(ids, id)
	}
	rows.Close()
	states, err := t.getMany(ids)
	if err != nil {
		return nil, err
	}
	out := map[syncproto.FieldKey]syncproto.Version{}
	for _, st := range states {
		for f, v := range st.cur {
			out[syncproto.FieldKey{Table: st.table, Row: st.id, Field: f}] = *v
		}
	}
	return out, nil
}
