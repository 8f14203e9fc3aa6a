package agent

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Own writes of a row that left the scope before they were pushed
// (docs/PROTOCOL.md §7.5). A pull may drop a row while this replica's
// edit of it still waits in the outbox (a watch session pulls on the
// server's notice without pushing first; the app writes while a sync
// runs). The edit is still pushed, and when another device moves the row
// back the server logs it after the move's re-log of the row's versions,
// as this replica's own write, which its pulls leave out: the row would
// come back without it, for good. So a drop keeps the row's own versions
// still waiting to be pushed (own_away), and the pull that brings the row
// back starts from them, as if the row had never left.

const ownAwayMigration = `
CREATE TABLE own_away (
	row_id TEXT NOT NULL,
	field TEXT NOT NULL,
	tbl TEXT NOT NULL,
	kind INTEGER NOT NULL,
	value,
	hlc INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	base_replica BLOB,
	base_seq INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (row_id, field)
) WITHOUT ROWID;
CREATE INDEX own_away_seq ON own_away(seq);
`

// Writes the server took after this replica's last complete pull began
// may be logged after it, beside a move's re-log of their row that the
// replica has not pulled yet: a row dropped then (its hamlet lost) comes
// back from those entries without them, as with unpushed ones (issue 17,
// wide seed 208). Own sequences from metaAckedFrom on (0: none) may be
// such writes; metaAckedTo is the highest acknowledged. Two numbers per
// Ack, not a row each: drops are rare, pushes are not.
const (
	metaAckedFrom = "acked_from"
	metaAckedTo   = "acked_to"
)

// noteAcked records that the server took (or answered) own writes from
// sequence lo to hi.
func (t *txn) noteAcked(lo, hi uint64) error {
	if hi == 0 {
		return nil
	}
	from, err := t.metaInt(metaAckedFrom)
	if err != nil {
		return err
	}
	if from == 0 || uint64(from) > lo {
		if err := t.setMeta(metaAckedFrom, int64(lo)); err != nil {
			return err
		}
	}
	to, err := t.metaInt(metaAckedTo)
	if err != nil || uint64(to) >= hi {
		return err
	}
	return t.setMeta(metaAckedTo, int64(hi))
}

// ackedFrom is the lowest own sequence that may be logged above the
// cursor although acknowledged (0: none).
func (t *txn) ackedFrom() (uint64, error) {
	n, err := t.metaInt(metaAckedFrom)
	return uint64(n), err
}

// ackedMark is the highest own sequence acknowledged so far: a pull that
// begins now reads the log past every entry of those writes.
func (r *Replica) ackedMark(ctx context.Context) (uint64, error) {
	n, err := r.metaInt(ctx, r.db, metaAckedTo)
	return uint64(n), err
}

// pulledPastAcked runs at the end of a complete pull that began when
// mark was the highest acknowledged sequence: those writes are at or
// below the cursor now.
func (r *Replica) pulledPastAcked(ctx context.Context, mark uint64) error {
	to, err := r.metaInt(ctx, r.db, metaAckedTo)
	if err != nil {
		return err
	}
	from := int64(0)
	if uint64(to) > mark {
		from = int64(mark) + 1 // acknowledged while the pull ran
	}
	// Most pulls change nothing here: no write then.
	if was, err := r.metaInt(ctx, r.db, metaAckedFrom); err != nil || was == from {
		return err
	}
	return setMeta(ctx, r.db, metaAckedFrom, from)
}

// keepAway keeps, for the rows ids about to be dropped, their own current
// versions that the outbox (or the compact log) still holds unpushed, and
// with acked (a drop of lost hamlets) also those the server took since
// the last complete pull began (ackedFrom). An eviction keeps none of
// those: only a later move brings the row back, and it re-logs the row's
// current versions after every write the server took before it, this
// replica's own included. Kept, a version others wrote over since would
// come back without its history, and the move's re-log would record a
// conflict no one else has (review 28).
func (t *txn) keepAway(ids []syncproto.RowID, acked bool) error {
	var from uint64
	if acked {
		var err error
		if from, err = t.ackedFrom(); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if err := t.exec(`DELETE FROM own_away WHERE row_id = ?`, id.String()); err != nil {
			return err
		}
		pending, err := t.pendingSeqs(id)
		if err != nil {
			return err
		}
		if len(pending) == 0 && from == 0 {
			continue
		}
		st, err := t.get(id)
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		var refused seqRanges
		if from != 0 {
			if refused, err = t.seqsIn(id, outboxRejected, outboxRejected); err != nil {
				return err
			}
		}
		for field, v := range st.cur {
			// A refused write stays current until the volunteer discards
			// it, but the server does not hold it: a row that comes back
			// comes back without it, as applyAck drops a refused one kept
			// here before.
			if v.Dot.Replica != t.r.id || refused.holds(v.Dot.Seq) ||
				!(pending.holds(v.Dot.Seq) || from != 0 && v.Dot.Seq >= from) {
				continue
			}
			kind, val := valueArgs(v.Value)
			var base any
			if !v.Base.IsZero() {
				base = v.Base.Replica[:]
			}
			if err := t.exec(`INSERT INTO own_away (row_id, field, tbl, kind, value, hlc, seq, base_replica, base_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id.String(), field, st.table, kind, val, int64(v.HLC), int64(v.Dot.Seq), base, int64(v.Base.Seq)); err != nil {
				return err
			}
		}
	}
	return nil
}

// seqRanges is a set of outbox sequences: single changes and the ranges of
// compact entries.
type seqRanges [][2]uint64

func (s seqRanges) holds(seq uint64) bool {
	for _, r := range s {
		if seq >= r[0] && seq <= r[1] {
			return true
		}
	}
	return false
}

// pendingSeqs lists the sequences of id's changes that await a result.
func (t *txn) pendingSeqs(id syncproto.RowID) (seqRanges, error) {
	return t.seqsIn(id, outboxPending, outboxUnacked)
}

// seqsIn lists the sequences of id's changes in outbox state a or b.
func (t *txn) seqsIn(id syncproto.RowID, a, b int) (seqRanges, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, seq FROM outbox WHERE row_id = ? AND state IN (?, ?)
		UNION ALL SELECT seq, seq + n - 1 FROM outbox_rows WHERE row_id = ? AND state IN (?, ?)`,
		id.String(), a, b, id.String(), a, b)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out seqRanges
	for rows.Next() {
		var lo, hi int64
		if err := rows.Scan(&lo, &hi); err != nil {
			return nil, err
		}
		out = append(out, [2]uint64{uint64(lo), uint64(hi)})
	}
	return out, rows.Err()
}

// pendingRowsIn lists the rows of hamlets (about to be dropped) with
// changes awaiting a result; all of them while writes taken since the last
// complete pull began may be among them (ackedFrom).
func (t *txn) pendingRowsIn(hamlets []string) ([]syncproto.RowID, error) {
	in := "(?" + strings.Repeat(", ?", len(hamlets)-1) + ")"
	args := []any{outboxPending, outboxUnacked}
	for _, h := range hamlets {
		args = append(args, h)
	}
	args = append(args, args...)
	q := `SELECT row_id FROM outbox WHERE state IN (?, ?) AND row_id IN (SELECT id FROM row_state WHERE scope IN ` + in + `)
		UNION SELECT row_id FROM outbox_rows WHERE state IN (?, ?) AND row_id IN (SELECT id FROM row_state WHERE scope IN ` + in + `)`
	if from, err := t.ackedFrom(); err != nil {
		return nil, err
	} else if from != 0 {
		// Any of them may hold a write taken since the last pull began.
		q = `SELECT id FROM row_state WHERE scope IN ` + in
		args = args[2 : 2+len(hamlets)]
	}
	rows, err := t.tx.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syncproto.RowID
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// anyAway says whether any own version waits for its row to come back.
func (t *txn) anyAway() (bool, error) {
	var n int
	err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM own_away)`).Scan(&n)
	return n != 0, err
}

// takeAway returns the row state id starts from when a pull brings it back
// (nil: nothing kept) and forgets what it kept.
func (t *txn) takeAway(table string, id syncproto.RowID, scope string) (*rowState, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, kind, value, hlc, seq, base_replica, base_seq FROM own_away WHERE row_id = ? AND tbl = ?`, id.String(), table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var st *rowState
	for rows.Next() {
		var field string
		var kind, hlc, seq, baseSeq int64
		var val any
		var base []byte
		if err := rows.Scan(&field, &kind, &val, &hlc, &seq, &base, &baseSeq); err != nil {
			return nil, err
		}
		if st == nil {
			st = newRowState(table, id, scope)
		}
		st.cur[field] = &syncproto.Version{Value: valueFrom(kind, val), HLC: syncproto.HLC(hlc),
			Dot: syncproto.Dot{Replica: t.r.id, Seq: uint64(seq)}, Base: dotFrom(base, baseSeq)}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if st == nil {
		return nil, nil
	}
	return st, t.exec(`DELETE FROM own_away WHERE row_id = ?`, id.String())
}
