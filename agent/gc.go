package agent

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Tombstone collection on the replica (issue 9 part 5). The server tells
// the agent a horizon (Changes.Horizon): the server_seq at or below which
// every active device covering this device's scopes holds the log durably.
// A deleted row whose tombstone the replica knows to be at or below it is
// dropped, state and projection, as the server drops it.
//
// The replica does not see the server_seq of a change, so it keeps a
// conservative bound per deleted row in tombs: for a tombstone it pulled,
// the cursor the batch committed with (at or above the entry's seq); for
// one it made itself (the server never sends a replica its own changes),
// 0 until the Ack, then the cursor at the end of the first complete pull
// after it: that pull read the log up to a head at or above the tombstone.

// tombsMigration is the agent's bookkeeping table for the bounds.
const tombsMigration = `
CREATE TABLE tombs (
	id TEXT PRIMARY KEY,
	seq INTEGER NOT NULL
) WITHOUT ROWID;
`

// noteTombs records the bound of every row this pulled transaction left
// deleted, and forgets rows it restored.
func (g *pullTxn) noteTombs(cursor uint64) error {
	for id, st := range g.dirty {
		if st.deleted() {
			// An own tombstone awaiting its pull (0) keeps waiting: this
			// batch's cursor may be below the head at its Ack.
			if err := g.t.exec(`INSERT INTO tombs (id, seq) VALUES (?, ?)
				ON CONFLICT (id) DO UPDATE SET seq = CASE WHEN tombs.seq = 0 THEN 0 ELSE excluded.seq END`, id.String(), int64(cursor)); err != nil {
				return fmt.Errorf("note tombstone: %w", err)
			}
		} else if err := g.t.exec(`DELETE FROM tombs WHERE id = ?`, id.String()); err != nil {
			return fmt.Errorf("note tombstone: %w", err)
		}
	}
	return nil
}

// noteOwnTomb marks a tombstone the server acknowledged: its bound is the
// end of the next complete pull (settleTombs).
func (t *txn) noteOwnTomb(c *syncproto.Change) error {
	if c.Field != syncproto.TombstoneField || !c.Value.AsBool() {
		return nil
	}
	return t.exec(`INSERT INTO tombs (id, seq) VALUES (?, 0) ON CONFLICT (id) DO UPDATE SET seq = 0`, c.Row.String())
}

// afterPull runs at the end of a complete pull that ended at cursor: own
// tombstones acknowledged before it get cursor as their bound, the rows
// carried out of a lost hamlet are no longer told apart (carriedOut), and
// rows whose tombstone is at or below horizon are dropped. It returns how
// many.
func (r *Replica) afterPull(ctx context.Context, cursor, horizon, sent uint64) (int, error) {
	err := r.inCounted(ctx, func(t *txn) error {
		if err := t.exec(`UPDATE tombs SET seq = ? WHERE seq = 0`, int64(cursor)); err != nil {
			return fmt.Errorf("settle tombstones: %w", err)
		}
		if err := t.setMeta("durable_sent", int64(sent)); err != nil {
			return err
		}
		// The pull brought the server's versions of the rows carried out
		// of a lost hamlet: a conflict there is a real one from now on
		// (carriedOut).
		if err := t.exec(`DELETE FROM agent_meta WHERE key = ? OR key > ? AND key < ?`, metaCarried, carriedPartsFrom, carriedPartsTo); err != nil {
			return fmt.Errorf("forget the carried rows: %w", err)
		}
		// It met every write that beat one of this replica's pushed
		// before it, and recorded the conflicts (superseded.go).
		return t.forgetSuperseded()
	})
	if err != nil {
		return 0, err
	}
	if horizon == 0 {
		return 0, nil
	}
	return r.CollectTombstones(ctx, horizon)
}

// CollectTombstones drops the deleted rows whose tombstone is at or below
// horizon: row_state, projection and bound. A row with a change still in
// the outbox (pending, unacknowledged or rejected) stays: a person may yet
// act on it.
func (r *Replica) CollectTombstones(ctx context.Context, horizon uint64) (int, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	rows, err := t.tx.QueryContext(ctx, `SELECT b.id, s.tbl, s.scope, s.state FROM tombs b JOIN row_state s ON s.id = b.id
		WHERE b.seq > 0 AND b.seq <= ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.row_id = b.id)
		AND NOT EXISTS (SELECT 1 FROM outbox_rows o WHERE o.row_id = b.id)`, int64(horizon))
	if err != nil {
		return 0, fmt.Errorf("collect tombstones: %w", err)
	}
	var raws []rawState
	for rows.Next() {
		var idText, table, scope string
		var blob []byte
		if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
			rows.Close()
			return 0, fmt.Errorf("collect tombstones: %w", err)
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("collect tombstones: %w", err)
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("collect tombstones: %w", err)
	}
	states, err := r.decodeRows(ctx, t.q(), raws)
	if err != nil {
		return 0, fmt.Errorf("collect tombstones: %w", err)
	}
	var dead []*rowState
	for _, st := range states {
		if st.deleted() {
			dead = append(dead, st)
		}
	}
	for _, st := range dead {
		// Collected on the server too, at a collection to come: no
		// snapshot brings it back to compare a note of its writes with
		// (keepRowAway). A move's re-log may, until then: what its delete
		// saw is noted, not to be taken for edits it hid (noteSeen; stop
		// 68, TestCollectedDeletedVisitBackByMoveHidesNothing).
		if err := t.dropNoting(st.table, st.id, st, false); err != nil {
			return 0, fmt.Errorf("collect tombstones: drop %s: %w", st.id, err)
		}
		if err := t.noteSeen(st); err != nil {
			return 0, fmt.Errorf("collect tombstones: %w", err)
		}
	}
	if err := t.exec(`DELETE FROM tombs WHERE seq > 0 AND seq <= ? AND id NOT IN (SELECT id FROM row_state)`, int64(horizon)); err != nil {
		return 0, fmt.Errorf("collect tombstones: %w", err)
	}
	return len(dead), t.commit()
}

// needsPull reports whether a sync whose server has nothing new should pull
// all the same: the server has not heard that this replica stored its
// cursor (so it would hold collection back on every device), or the replica
// keeps tombstones waiting for a horizon. The pull is one round trip.
func (r *Replica) needsPull(p *planNotes, cursor uint64) (bool, error) {
	sent, err := r.noteInt("durable_sent", p.durableSent)
	if err != nil {
		return false, err
	}
	if uint64(sent) < cursor {
		return true, nil
	}
	return p.tombs, nil
}

// CompactHistory drops the overwritten versions each row keeps for
// `show`'s history (rowState.hist entries not lost to a concurrent write),
// except on rows with changes still in the outbox: rolling back a refused
// local write needs the version it overwrote. Versions lost to concurrent
// writes stay (the conflicts list refers to them). It returns how many
// versions it dropped. Rows are rewritten in transactions of a few
// hundred, then the file is vacuumed so the space goes back to the disk
// (rewritten rows leave pages part empty).
func (r *Replica) CompactHistory(ctx context.Context) (int, error) {
	const chunk = 500
	after, dropped := "", 0
	for {
		t, err := r.begin(ctx)
		if err != nil {
			return dropped, err
		}
		rows, err := t.tx.QueryContext(ctx, `SELECT s.id, s.tbl, s.scope, s.state FROM row_state s WHERE s.id > ?
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.row_id = s.id)
			AND NOT EXISTS (SELECT 1 FROM outbox_rows o WHERE o.row_id = s.id) ORDER BY s.id LIMIT ?`, after, chunk)
		if err != nil {
			t.rollback()
			return dropped, fmt.Errorf("compact history: %w", err)
		}
		raws, n, last, err := scanRawStates(rows, after, nil)
		if err != nil {
			t.rollback()
			return dropped, fmt.Errorf("compact history: %w", err)
		}
		after = last
		states, err := r.decodeRows(ctx, t.q(), raws)
		if err != nil {
			t.rollback()
			return dropped, fmt.Errorf("compact history: %w", err)
		}
		var todo []*rowState
		for _, st := range states {
			keep := st.hist[:0]
			for _, h := range st.hist {
				if h.Lost {
					keep = append(keep, h)
				}
			}
			if d := len(st.hist) - len(keep); d > 0 {
				dropped += d
				st.hist = keep
				todo = append(todo, st)
			}
		}
		for _, st := range todo {
			blob, err := st.encode(r.stored(st))
			if err != nil {
				t.rollback()
				return dropped, err
			}
			if err := t.exec(`UPDATE row_state SET state = ? WHERE id = ?`, blob, st.id.String()); err != nil {
				t.rollback()
				return dropped, fmt.Errorf("compact history: %w", err)
			}
		}
		if err := t.commit(); err != nil {
			return dropped, fmt.Errorf("compact history: %w", err)
		}
		if n < chunk {
			if dropped == 0 {
				return 0, nil
			}
			if _, err := r.db.ExecContext(ctx, `VACUUM`); err != nil {
				return dropped, fmt.Errorf("compact history: vacuum: %w", err)
			}
			return dropped, nil
		}
	}
}

// noteClonedTombs runs after a snapshot clone: the clone stored rows
// without their server_seq, so every deleted row gets the bound of the
// pull that follows (0 until then, settled by afterPull), and bounds of
// rows a re-clone dropped go. The clone's last transaction sets
// metaCloneTombs, so a session that ended right after it still leaves the
// work to the next one; without the mark there is nothing to do.
func (r *Replica) noteClonedTombs(ctx context.Context) error {
	// Every session asks; only after a clone is there a transaction to run.
	if pending, err := r.metaInt(ctx, r.db, metaCloneTombs); err != nil || pending == 0 {
		return err
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := t.setMeta(metaCloneTombs, int64(0)); err != nil {
		return err
	}
	if err := t.exec(`DELETE FROM tombs WHERE id NOT IN (SELECT id FROM row_state)`); err != nil {
		return fmt.Errorf("note cloned tombstones: %w", err)
	}
	for table, cols := range r.cols {
		if !slices.Contains(cols, syncproto.TombstoneField) {
			continue
		}
		if err := t.exec(`INSERT INTO tombs (id, seq) SELECT id, 0 FROM ` + table + ` WHERE ` + syncproto.TombstoneField + ` = 1
			ON CONFLICT (id) DO UPDATE SET seq = 0`); err != nil {
			return fmt.Errorf("note cloned tombstones: %w", err)
		}
	}
	return t.commit()
}

// metaCloneTombs is set by a clone's last transaction until
// noteClonedTombs has run.
const metaCloneTombs = "clone_tombs"
