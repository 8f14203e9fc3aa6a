package agent

import (
	"context"
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// renumberRestored handles a replica file that was restored from an older
// copy (a backup, a disk image). The file remembers the highest sequence it
// ever sent to the server ("sent_seq", written before each push). When the
// server holds changes of this replica above it (Welcome.PushedSeq), they
// were sent by a later state of this file that the restore threw away, and
// every write made since the restore reuses one of their sequence numbers:
// pushed as it is, the server would answer "duplicate" and the change would
// leave the outbox without ever reaching the server. (A lost Ack is
// different: the changes the server holds were sent by this very file, so
// they are at or below sent_seq and are pushed again for their results.)
//
// So every outbox entry above sent_seq gets a new sequence above pushed, in
// its old order, and every dot that named it (the row states' versions and
// history, later entries' bases, the conflict log) is rewritten in the same
// transaction. It returns how many entries were renumbered. A file older
// than the sent_seq mark is not checked.
//
// The writes the thrown-away state made are on the server but not in the
// file, and a pull never returns a replica's own writes; metaReclone is set
// so the session clones the replica's scope again after pushing.
func (r *Replica) renumberRestored(ctx context.Context, pushed uint64) (int, error) {
	// Every session asks; only a restored file needs the write transaction.
	sent, err := r.meta(ctx, r.db, "sent_seq")
	if err != nil || sent == "" {
		return 0, err
	}
	sentSeq, err := strconv.ParseUint(sent, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("renumber restored replica: sent_seq %q: %w", sent, err)
	}
	if pushed <= sentSeq {
		return 0, nil
	}
	return r.renumberAbove(ctx, sentSeq, pushed)
}

// renumberAbove gives every outbox entry above seq `above` a new sequence
// following pushed without a gap, in its old order, rewriting every dot
// that named it (renumberRestored; closeRepairGaps).
func (r *Replica) renumberAbove(ctx context.Context, sentSeq, pushed uint64) (int, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, row_id FROM outbox WHERE seq > ? ORDER BY seq`, sentSeq)
	if err != nil {
		return 0, fmt.Errorf("renumber restored replica: %w", err)
	}
	renum := map[uint64]uint64{}
	var order []uint64
	touched := map[syncproto.RowID]bool{}
	// New numbers follow pushed without a gap (the server requires it).
	// The file may have written past pushed since the restore, so new and
	// old numbers can overlap: every rewrite goes through the negative
	// of its new number first, and the signs are flipped at the end.
	next := pushed
	for rows.Next() {
		var old int64
		var rowText string
		if err := rows.Scan(&old, &rowText); err != nil {
			rows.Close()
			return 0, fmt.Errorf("renumber restored replica: %w", err)
		}
		id, err := uuid.Parse(rowText)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("renumber restored replica: outbox entry %d: %w", old, err)
		}
		next++
		renum[uint64(old)] = next
		order = append(order, uint64(old))
		touched[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("renumber restored replica: %w", err)
	}
	self := r.id[:]
	for _, old := range order {
		neg := -int64(renum[old])
		if err := t.exec(`UPDATE outbox SET seq = ? WHERE seq = ?`, neg, int64(old)); err != nil {
			return 0, fmt.Errorf("renumber restored replica: outbox: %w", err)
		}
		if err := t.exec(`UPDATE outbox SET base_seq = ? WHERE base_replica = ? AND base_seq = ?`, neg, self, int64(old)); err != nil {
			return 0, fmt.Errorf("renumber restored replica: outbox bases: %w", err)
		}
		for _, side := range [...]string{"loser", "winner"} {
			if err := t.exec(`UPDATE conflicts SET `+side+`_seq = ? WHERE `+side+`_replica = ? AND `+side+`_seq = ?`, neg, self, int64(old)); err != nil {
				return 0, fmt.Errorf("renumber restored replica: conflicts: %w", err)
			}
		}
	}
	for _, q := range [...]string{
		`UPDATE outbox SET seq = -seq WHERE seq < 0`,
		`UPDATE outbox SET base_seq = -base_seq WHERE base_seq < 0`,
		`UPDATE conflicts SET loser_seq = -loser_seq WHERE loser_seq < 0`,
		`UPDATE conflicts SET winner_seq = -winner_seq WHERE winner_seq < 0`,
	} {
		if err := t.exec(q); err != nil {
			return 0, fmt.Errorf("renumber restored replica: %w", err)
		}
	}
	redot := func(d *syncproto.Dot) {
		if d.Replica == r.id {
			if n, ok := renum[d.Seq]; ok {
				d.Seq = n
			}
		}
	}
	for id := range touched {
		st, err := t.get(id)
		if err != nil {
			return 0, fmt.Errorf("renumber restored replica: row %s: %w", id, err)
		}
		if st == nil {
			continue
		}
		for _, v := range st.cur {
			redot(&v.Dot)
			redot(&v.Base)
		}
		for i := range st.hist {
			redot(&st.hist[i].Ver.Dot)
			redot(&st.hist[i].Ver.Base)
		}
		if err := t.save(st); err != nil {
			return 0, fmt.Errorf("renumber restored replica: row %s: %w", id, err)
		}
	}
	// The counter continues from the last renumbered entry.
	if err := t.setMeta("seq", int64(next)); err != nil {
		return 0, err
	}
	if err := t.setMeta("sent_seq", int64(pushed)); err != nil {
		return 0, err
	}
	if err := t.setMeta(metaReclone, 1); err != nil {
		return 0, err
	}
	if err := t.commit(); err != nil {
		return 0, fmt.Errorf("renumber restored replica: %w", err)
	}
	return len(order), nil
}

// noteSent records that changes up to seq are about to be sent: written
// before the Push, so a file restored from an older copy can tell (see
// renumberRestored).
func (r *Replica) noteSent(ctx context.Context, seq uint64) (uint64, error) {
	cur, err := r.metaInt(ctx, r.db, "sent_seq")
	if err != nil {
		return 0, err
	}
	if uint64(cur) >= seq {
		return uint64(cur), nil
	}
	// Mark the whole counter: one write covers this session's later batches.
	top, err := r.metaInt(ctx, r.db, "seq")
	if err != nil {
		return 0, err
	}
	top = max(top, int64(seq))
	return uint64(top), setMeta(ctx, r.db, "sent_seq", top)
}
