package agent

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// applyStats counts what pulled batches did.
type applyStats struct {
	installed int
	conflicts int
	evicted   int
	hidden    int // edits found under this replica's own deletes (hidden.go)
}

// ApplyChanges merges one pulled batch and stores its end as the new cursor,
// in one transaction: applying the same batch twice changes nothing.
func (r *Replica) ApplyChanges(ctx context.Context, ch *syncproto.Changes) (applyStats, error) {
	g, err := r.beginPull(ctx)
	if err != nil {
		return applyStats{}, err
	}
	defer g.rollback()
	if err := g.apply(ch); err != nil {
		return applyStats{}, err
	}
	return g.stats, g.commit(ch.To)
}

// pullTxn applies one or more consecutive pulled batches in one transaction
// and commits them with the last one's To as the cursor. Each row is read at
// most once and written once per transaction, however many of its fields
// (and batches) arrive: the states it read or made stay in memory until the
// commit, which writes the changed ones with multi-row INSERTs.
type pullTxn struct {
	r      *Replica
	t      *txn
	states map[syncproto.RowID]*rowState // rows read or made in this transaction
	dirty  map[syncproto.RowID]*rowState // of which changed
	stats  applyStats
	now    int64
	seen   map[syncproto.RowID]bool
	ids    []syncproto.RowID
	// horizon is the latest non-zero Changes.Horizon applied (gc.go).
	horizon uint64
	// own: apply this replica's own writes too (a back-fill of a hamlet
	// it held before and dropped, scope.go); Resolve makes them no-ops
	// where it still holds them.
	own bool
	// open is the fields with a conflict not yet restored (hidden.go),
	// read at the transaction's first batch.
	open map[syncproto.FieldKey]bool
	// away: own writes of dropped rows wait for their rows (away.go),
	// read at the transaction's first batch.
	away bool
	// gone: of the rows that came back in this transaction, the own
	// writes the server took that their drop noted (takeAway), per field,
	// until a change of the field meets them (toldGone).
	gone map[syncproto.RowID]map[string]*syncproto.Version
	// toldAway: the fields whose note a snapshot named as lost, left out
	// for this pull to bring (away.go toldAway), read with away.
	toldAway map[syncproto.RowID]map[string]bool
	// carried: the versions of metaCarried, read when a conflict first
	// asks (carriedOut).
	carried map[string]string
}

func (r *Replica) beginPull(ctx context.Context) (*pullTxn, error) {
	t, err := r.beginPulled(ctx)
	if err != nil {
		return nil, err
	}
	return &pullTxn{r: r, t: t, states: map[syncproto.RowID]*rowState{}, dirty: map[syncproto.RowID]*rowState{},
		now: r.now().UnixMilli(), seen: map[syncproto.RowID]bool{}}, nil
}

func (g *pullTxn) rollback() { g.t.rollback() }

// toldGone records the conflict the batch names (Changes.Lost) for c's
// field where this replica, when it dropped c's row, held an own write
// the server had taken (g.gone): loser that write, winner c's version, as
// a pull that met c while it held the row would have (merge). The row
// came back by a move's re-log, whose versions alone cannot tell a write
// that beat it from one made over it (PROTOCOL.md §7.5), or by a snapshot
// that named the loss and left the field for this pull (toldAway). Once a
// field.
func (g *pullTxn) toldGone(c *syncproto.Change, lost []syncproto.LostWrite) error {
	held := g.gone[c.Row][c.Field]
	if held == nil || c.Dot != held.Dot && c.HLC < held.HLC {
		// An older version of the field, replayed from the log below
		// the note (a move's re-log of the row as it was before her
		// write): neither what beat it nor made over it. The note waits
		// for the field's later versions (issue 17, seed 8500251).
		return nil
	}
	if c.Dot != held.Dot && c.Base != held.Dot && c.Value.Equal(held.Value) && beaten(lost, held.Dot, c) {
		// A version of another branch with her very value (a copy of
		// her write that a copy of the data folder pushed under its own
		// replica id) on the chain the server logged her write lost to:
		// no value lost yet. The note waits for a version written over
		// it (seed 7765251).
		return nil
	}
	delete(g.gone[c.Row], c.Field)
	if err := g.t.exec(`DELETE FROM own_away WHERE row_id = ? AND field = ? AND taken`, c.Row.String(), c.Field); err != nil {
		return fmt.Errorf("forget a noted write of a row back: %w", err)
	}
	told := g.toldAway[c.Row][c.Field]
	delete(g.toldAway[c.Row], c.Field)
	if !lostTo(held, c) || !told && !beaten(lost, held.Dot, c) {
		return nil
	}
	isNew, err := g.t.recordLoss(held, c, g.now)
	if err != nil {
		return err
	}
	if isNew {
		g.stats.conflicts++
	}
	g.open[c.Key()] = true
	return nil
}

// readAway reads whether own writes of dropped rows wait (away), and the
// fields whose note a snapshot named lost (toldAway).
func (g *pullTxn) readAway() error {
	var err error
	if g.away, err = g.t.anyAway(); err != nil || !g.away {
		return err
	}
	if g.toldAway, err = g.t.toldFields(); err != nil {
		return fmt.Errorf("read the noted writes a snapshot named lost: %w", err)
	}
	return nil
}

// noteGone holds row's notes (takeAway's gone) for toldGone.
func (g *pullTxn) noteGone(row syncproto.RowID, gone map[string]*syncproto.Version) {
	if g.gone == nil {
		g.gone = map[syncproto.RowID]map[string]*syncproto.Version{}
	}
	g.gone[row] = gone
}

// apply merges one batch into the transaction.
func (g *pullTxn) apply(ch *syncproto.Changes) error {
	r, t := g.r, g.t
	if t.carriedOut == nil {
		t.carriedOut = g.carriedOut
	}
	if ch.Horizon != 0 {
		g.horizon = ch.Horizon // the latest: a returning device lowers it
	}
	if g.open == nil {
		open, err := t.openConflicts()
		if err != nil {
			return err
		}
		g.open = open
		if err := g.readAway(); err != nil {
			return err
		}
	}
	// Read the rows of this batch that the transaction has not seen yet,
	// all in one query.
	clear(g.seen)
	g.ids = g.ids[:0]
	for i := range ch.Changes {
		if id := ch.Changes[i].Row; !g.seen[id] {
			g.seen[id] = true
			if _, ok := g.states[id]; !ok {
				g.ids = append(g.ids, id)
			}
		}
	}
	got, err := t.getMany(g.ids)
	if err != nil {
		return err
	}
	for _, id := range g.ids {
		g.states[id] = got[id] // nil: the replica does not hold the row
	}
	if g.away {
		// A row whose return began in an earlier transaction (a re-log
		// over pages stored apart) holds it now: its notes wait in
		// own_away (takeAway) for the page that names their loss.
		for _, l := range ch.Lost {
			if _, read := g.gone[l.Row]; read || g.states[l.Row] == nil {
				continue
			}
			gone, err := t.goneOf(l.Row)
			if err != nil {
				return fmt.Errorf("read the noted writes of a row back: %w", err)
			}
			g.noteGone(l.Row, gone)
		}
	}
	for i := range ch.Changes {
		c := &ch.Changes[i]
		st := g.states[c.Row]
		if st == nil && g.away {
			// A row coming back starts from this replica's writes that
			// were not pushed yet when it left (away.go). What the server
			// took of them it only compares with the batch's losses.
			var gone map[string]*syncproto.Version
			if st, gone, err = t.takeAway(c.Table, c.Row, c.Scope, true); err != nil {
				return err
			}
			if gone != nil {
				g.noteGone(c.Row, gone)
			}
			if st != nil {
				g.states[c.Row], g.dirty[c.Row] = st, st
			}
		}
		if g.toldAway[c.Row][c.Field] && st != nil && g.gone[c.Row] == nil {
			// Back by a snapshot that left this field out for the pull
			// and named its loss: its note waits in own_away.
			gone, err := t.goneOf(c.Row)
			if err != nil {
				return fmt.Errorf("read the noted writes of a row back: %w", err)
			}
			g.noteGone(c.Row, gone)
		}
		if g.gone[c.Row] != nil {
			if err := g.toldGone(c, ch.Lost); err != nil {
				return err
			}
		}
		mine := c.Dot.Replica == r.id && !g.own
		if mine && st != nil && ownSince(st.cur[c.Field], r.id, c.Dot.Seq) {
			// Our own write coming back: a move logged the row's versions
			// again (§7.5), or the server marked a write of ours to a row
			// that moved after our cursor (server/apply.go ownBack). Where
			// we hold it or a later write of ours, we keep what we hold;
			// otherwise we dropped the row when it left our scope, and take
			// it back, merged as the server merged it: the row came back
			// from the log below it, as the server held it then.
			continue
		}
		_ = r.clk().Observe(c.HLC) // beyond the skew bound: stored, our clock stays put
		if st == nil {
			st = newRowState(c.Table, c.Row, c.Scope)
			g.states[c.Row] = st
		}
		o, newConflict, err := t.merge(st, c, g.now)
		if err != nil {
			return err
		}
		if newConflict {
			g.stats.conflicts++
		}
		if o.Conflicted() {
			g.open[c.Key()] = true
		}
		if g.open[c.Key()] && o != syncproto.Duplicate && o != syncproto.Stale {
			// A restore made elsewhere clears the conflict here too.
			if g.open[c.Key()], err = t.restoreConflicts(c, g.now); err != nil {
				return err
			}
		}
		if !stateChanged(o) {
			continue
		}
		if o.Installs() {
			g.stats.installed++
		}
		g.dirty[c.Row] = st
		if !g.own && !mine && r.hidesEdit(st, c) {
			// Not a version the delete saw before the row left: a move's
			// re-log brings the row back after its tombstone.
			if saw, err := t.sawAway(c); err != nil || saw {
				if err != nil {
					return fmt.Errorf("read what a delete saw of a row back: %w", err)
				}
				continue
			}
			hid, err := t.hideEdit(st, c, g.now)
			if err != nil {
				return err
			}
			if hid {
				g.stats.conflicts++
				g.stats.hidden++
				g.open[syncproto.FieldKey{Table: c.Table, Row: c.Row, Field: syncproto.TombstoneField}] = true
			}
		}
	}
	for _, ev := range ch.Evict {
		// The row left our scope. Local edits not yet pushed stay in the
		// outbox and are still pushed (the server decides about them). The
		// server never puts a change of a row after its eviction in one
		// batch, so dropping after the batch's changes is right.
		if err := t.drop(ev.Table, ev.Row, g.states[ev.Row]); err != nil {
			return err
		}
		delete(g.dirty, ev.Row)
		delete(g.gone, ev.Row) // the drop noted the row afresh
		delete(g.toldAway, ev.Row)
		g.states[ev.Row] = nil
		g.stats.evicted++
	}
	if len(ch.Evict) > 0 && !g.away {
		// A row dropped here may have kept own writes, and a later batch
		// of this transaction may bring it back (a move out and back):
		// read at the first batch, away would miss them, and the row would
		// come back without them.
		if err := g.readAway(); err != nil {
			return err
		}
	}
	return nil
}

// commit writes the changed rows, stores cursor and the clock, and commits.
func (g *pullTxn) commit(cursor uint64) error { return g.commitKey("cursor", cursor) }

// commitKey is commit storing the cursor under key (a back-fill has its
// own, scope.go).
func (g *pullTxn) commitKey(key string, cursor uint64) error {
	save := make([]*rowState, 0, len(g.dirty))
	for _, st := range g.dirty {
		save = append(save, st)
	}
	if err := g.t.saveMany(save); err != nil {
		return err
	}
	if err := g.noteTombs(cursor); err != nil {
		return err
	}
	if err := g.t.setMeta(key, int64(cursor)); err != nil {
		return err
	}
	if err := g.t.setMeta("clock_last", int64(g.r.clk().Last())); err != nil {
		return err
	}
	return g.t.commit()
}

// checkpoint copies the write-ahead log into the database after a pull
// (pulled batches commit without automatic checkpoints, see beginPulled).
// PASSIVE never waits for a reader or writer: whatever it cannot copy now
// the next automatic checkpoint does.
func (r *Replica) checkpoint(ctx context.Context) error {
	_, err := r.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
	return err
}

// pendingBatch returns up to limit local changes after seq that await a
// result: pending ones and unacknowledged ones (their Ack was lost), in
// sequence order. It walks the outbox by seq (NOT INDEXED: the rowid range),
// skipping the few rejected entries on the way.
func (r *Replica) pendingBatch(ctx context.Context, q querier, after uint64, limit int) ([]syncproto.Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope
		FROM outbox NOT INDEXED WHERE seq > ? AND state IN (?, ?) ORDER BY seq LIMIT ?`, int64(after), outboxPending, outboxUnacked, limit+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]syncproto.Change, 0, min(limit, 256))
	var lastRow string
	var lastID syncproto.RowID
	for rows.Next() {
		var seq, kind, hlc, baseSeq int64
		var v any
		var baseRep []byte
		var c syncproto.Change
		var rowText string
		if err := rows.Scan(&seq, &c.Table, &rowText, &c.Field, &kind, &v, &hlc, &baseRep, &baseSeq, &c.Scope); err != nil {
			return nil, err
		}
		if rowText != lastRow {
			if lastID, err = uuid.Parse(rowText); err != nil {
				return nil, fmt.Errorf("%w: change %d: %w", errDamagedRecord, seq, err)
			}
			lastRow = rowText
		}
		c.Row = lastID
		c.Value = valueFrom(kind, v)
		c.HLC = syncproto.HLC(hlc)
		c.Dot = syncproto.Dot{Replica: r.id, Seq: uint64(seq)}
		c.Base = dotFrom(baseRep, baseSeq)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if out, err = r.withRowEntries(ctx, q, out, after, limit); err != nil {
		return nil, err
	}
	return cutAtRow(out, limit), nil
}

// withRowEntries merges into cs (per-field changes after seq, in sequence
// order) the changes of the compact log's entries (outbox_rows.go) after
// seq, and keeps the first limit+1.
func (r *Replica) withRowEntries(ctx context.Context, q querier, cs []syncproto.Change, after uint64, limit int) ([]syncproto.Change, error) {
	// The entry holding after+1 may start at or before after.
	var from sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT max(seq) FROM outbox_rows WHERE seq <= ?`, int64(after)).Scan(&from); err != nil {
		return nil, err
	}
	lo := int64(after) + 1
	if from.Valid {
		lo = from.Int64
	}
	rows, err := q.QueryContext(ctx, `SELECT `+rowEntryCols+` FROM outbox_rows WHERE seq >= ? AND state IN (?, ?) ORDER BY seq LIMIT ?`,
		lo, outboxPending, outboxUnacked, limit+2) // the first may hold nothing after seq
	if err != nil {
		return nil, err
	}
	es, err := scanRowEntries(rows)
	if err != nil || len(es) == 0 {
		return cs, err
	}
	out := make([]syncproto.Change, 0, min(len(cs)+limit+1, 2*limit+2))
	i := 0
	for k := range es {
		e := &es[k]
		id, err := rowEntryID(e)
		if err != nil {
			return nil, err
		}
		for j := range e.fields {
			c := e.change(r.id, id, j)
			if c.Dot.Seq <= after {
				continue
			}
			for i < len(cs) && cs[i].Dot.Seq < c.Dot.Seq {
				out = append(out, cs[i])
				i++
			}
			out = append(out, c)
		}
		if len(out) > limit {
			break
		}
	}
	out = append(out, cs[i:]...)
	return out[:min(len(out), limit+1)], nil
}

// cutAtRow keeps at most limit changes (of limit+1 read) without splitting
// a run of one row's changes across two pushes: the server judges a new
// row by what one push carries for it (its required fields, its hamlet).
// A run longer than limit is split all the same.
func cutAtRow(cs []syncproto.Change, limit int) []syncproto.Change {
	if len(cs) <= limit {
		return cs
	}
	next := cs[limit]
	n := limit
	for n > 0 && cs[n-1].Row == next.Row && cs[n-1].Table == next.Table {
		n--
	}
	if n == 0 {
		n = limit
	}
	return cs[:n]
}

// dropDiscarded deletes the outbox entry seq if it is a write of a row
// discarded whole (discardedCode), refused: nothing of that row is listed.
func (t *txn) dropDiscarded(seq uint64) (bool, error) {
	res, err := t.tx.ExecContext(t.ctx, `DELETE FROM outbox WHERE seq = ? AND code = ? AND state IN (?, ?)`, int64(seq), discardedCode, outboxPending, outboxUnacked)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// applyAck records the server's answer for each change of a pushed batch:
// done ones leave the outbox (adopting a restamped HLC), refused ones stay
// in the rejected list with their reason. Changes refused as
// replica_forked stay as they are, and the fork is noted (fork.go).
// pushedBefore is the session's Welcome.PushedSeq: this replica's changes
// the server held before the session.
func (r *Replica) applyAck(ctx context.Context, batch []syncproto.Change, results []syncproto.Result, pushedBefore uint64) (rejected, forked int, err error) {
	if len(results) != len(batch) {
		return 0, 0, &syncproto.Error{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("ack has %d results for %d changes", len(results), len(batch))}
	}
	t, err := r.begin(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer t.rollback()
	settled, err := t.settleRowEntries(batch, results)
	if err != nil {
		return 0, 0, err
	}
	away, err := t.anyAway()
	if err != nil {
		return 0, 0, err
	}
	restamp := map[syncproto.RowID]*rowState{}
	refusedRows := map[syncproto.RowID]bool{} // rows with a change refused here
	var moved []syncproto.FieldKey            // fields with a version the server restamped
	var acked uint64                          // the highest of this replica's changes the server now holds
	held := map[string]string{}               // rows the server now holds (in this scope, or in a hamlet lost since the change was made), and their tables
	for i, res := range results {
		c := &batch[i]
		switch res.Status {
		case syncproto.ResultApplied, syncproto.ResultSuperseded, syncproto.ResultDuplicate:
			if c.Dot.Replica == r.id {
				acked = max(acked, c.Dot.Seq)
			}
			held[c.Row.String()] = c.Table
			if !settled[i] {
				if err := t.exec(`DELETE FROM outbox WHERE seq = ? AND state IN (?, ?)`, int64(c.Dot.Seq), outboxPending, outboxUnacked); err != nil {
					return 0, 0, err
				}
			}
			if err := t.noteOwnTomb(c); err != nil {
				return 0, 0, err
			}
			if res.Status == syncproto.ResultSuperseded {
				// Another write won: a pull that meets it records the
				// conflict here, a clone that replaces the row does so
				// from this note (superseded.go).
				if err := t.noteSuperseded(c); err != nil {
					return 0, 0, err
				}
			}
			if res.HLC != 0 && res.HLC != c.HLC {
				// A later write over it keeps it as its floor (clock.go).
				if err := t.exec(`UPDATE outbox SET base_hlc = ? WHERE base_replica = ? AND base_seq = ? AND state = ?`,
					int64(res.HLC), c.Dot.Replica[:], int64(c.Dot.Seq), outboxPending); err != nil {
					return 0, 0, err
				}
				if away {
					if err := t.restampAway(c.Dot, res.HLC); err != nil {
						return 0, 0, err
					}
				}
				if err := t.restampConflicts(c.Dot, res.HLC); err != nil {
					return 0, 0, err
				}
				st := restamp[c.Row]
				if st == nil {
					if st, err = t.get(c.Row); err != nil {
						return 0, 0, err
					}
					if st == nil {
						continue
					}
					restamp[c.Row] = st
				}
				st.adoptHLC(c.Field, c.Dot, res.HLC)
				moved = append(moved, syncproto.FieldKey{Table: c.Table, Row: c.Row, Field: c.Field})
			}
		case syncproto.ResultRefused:
			if res.Code == syncproto.CodeReplicaForked {
				forked++ // pushed again under the new replica id (fork.go)
				// Noted: the server holds no digest of it under this
				// number, so its base may still be rebased (rebaseOffRefused).
				if err := t.exec(`UPDATE outbox SET code = ? WHERE seq = ? AND state IN (?, ?) AND code = ''`, string(res.Code), int64(c.Dot.Seq), outboxPending, outboxUnacked); err != nil {
					return 0, 0, err
				}
				continue
			}
			if dropped, err := t.dropDiscarded(c.Dot.Seq); err != nil || dropped {
				if err != nil {
					return 0, 0, err
				}
				continue
			}
			rejected++
			refusedRows[c.Row] = true
			if away {
				// The server does not hold it: a row that comes back comes
				// back without it (the refusal stays in the rejected list).
				if err := t.exec(`DELETE FROM own_away WHERE replica = ? AND seq = ?`, c.Dot.Replica[:], int64(c.Dot.Seq)); err != nil {
					return 0, 0, err
				}
				// And the history kept with it, unless a later write of
				// the field is kept.
				if err := t.exec(`DELETE FROM own_away_hist WHERE row_id = ? AND field = ? AND NOT EXISTS (SELECT 1 FROM own_away WHERE row_id = ? AND field = ?)`,
					c.Row.String(), c.Field, c.Row.String(), c.Field); err != nil {
					return 0, 0, err
				}
			}
			// The reason as data when the server sent it, so each reader
			// renders it in its own language (Rejected.Text); else its text.
			reason := refusal.Store(res.Why)
			if reason == "" {
				reason = res.Reason
			}
			if reason == "" {
				reason = string(res.Code)
			}
			if err := t.exec(`UPDATE outbox SET state = ?, code = ?, reason = ? WHERE seq = ?`,
				outboxRejected, string(res.Code), reason, int64(c.Dot.Seq)); err != nil {
				return 0, 0, err
			}
			// A write that beat it here while it waited for this answer (a
			// pull merged before the push: an edit made while a session was
			// open) recorded it as a conflict she lost. Now refused, it is
			// in the rejected list, and recordConflict would never have
			// listed it: it never reached the server, which logged no
			// conflict. Kept, the same edit was told twice, offered a
			// restore that writes it again, and outlived its discard.
			// Restored or not: a restore is a write of its own, answered as
			// one, and the conflict it restored never was.
			if err := t.exec(`DELETE FROM conflicts WHERE row_id = ? AND field = ? AND loser_replica = ? AND loser_seq = ?`,
				c.Row.String(), c.Field, c.Dot.Replica[:], int64(c.Dot.Seq)); err != nil {
				return 0, 0, fmt.Errorf("drop the conflicts a refused change lost: %w", err)
			}
		default:
			return 0, 0, &syncproto.Error{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("unknown result status %d", res.Status)}
		}
	}
	now := r.now().UnixMilli()
	for _, k := range moved {
		if err := t.redecide(restamp[k.Row], k.Field, now); err != nil {
			return 0, 0, err
		}
	}
	for _, st := range restamp {
		if err := t.save(st); err != nil {
			return 0, 0, err
		}
	}
	// A new row discarded whole while one of its changes awaited the
	// answer a cut connection lost (discardNewRow) was left to that
	// answer: refused, the server never took the row, which lacks the
	// required field discarded and can never go whole again. It goes now,
	// as the discard would have taken it; kept, it stayed live and partial
	// here for good (simulation seed 7880608, wide, fixes).
	for _, id := range slices.SortedFunc(maps.Keys(refusedRows), func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) }) {
		st, err := t.get(id)
		if err != nil {
			return 0, 0, err
		}
		if st == nil || st.deleted() {
			continue
		}
		whole, err := t.lacksRequired(st)
		if err != nil {
			return 0, 0, err
		}
		if whole {
			if err := t.discardNewRow(st); err != nil {
				return 0, 0, fmt.Errorf("discard record %s, refused without a field it requires: %w", id, err)
			}
		}
	}
	if forked > 0 {
		if _, err := t.markForkDue(0); err != nil {
			return 0, 0, err
		}
	}
	if err := t.noteAcked(acked); err != nil {
		return 0, 0, err
	}
	// A row a clone under way listed to drop at its end unless a chunk
	// brings it (holdSynced) is one the server holds, in this scope, once
	// it takes a change of it: not the clone's end's to drop. Its chunk
	// may have gone by before (a household refused whole when the clone
	// started, sent again since), and the pull after the clone leaves out
	// this replica's own writes: dropped, it never came back (simulation
	// seed 9576925, wide, fixes, truncation).
	//
	// What it keeps of such a row may be several writes behind the
	// server's: the chunks leave out a field's version that the pull
	// from the clone's head brings (§16.3), and a chunk that went by
	// before, or brings the row after this, does not replace it. The pull
	// then brings a teammate's write over a version this replica never
	// saw, which met its version of long ago as a concurrent write: a
	// conflict no one had (simulation seed 6812067). Its versions the
	// server had taken before this session are noted as for a row carried
	// out of a lost hamlet (carriedOut), until the next complete pull.
	// Of its own, only those the server took before the clone's head
	// (metaCloneOwnSeq): one it took after it, a correction made during
	// the clone whose Ack a cut connection lost, is not behind (the pull
	// brings every write over it in order), and noted, a teammate's
	// write that truly competed with it was taken as written over it:
	// the volunteer's correction lost, and no conflict on her laptop.
	//
	// The server takes a change made while the row was in the team's
	// scope even when it holds the row outside it now (server/scope.go):
	// a visit edited here before its hamlet left the team, whose
	// household this replica had moved there (its children follow it on
	// the server, not here). Only a row whose chunk went by is taken off
	// the list for good: one after the clone's position is kept as a row
	// kept for a refused change is (metaCloneKeptRefused), merged with the
	// chunk that brings it, and dropped at the clone's end if none does.
	// Taken off outright, it stayed here, live, in the hamlet it was made
	// in, for good (simulation seed 7780547, wide).
	if len(held) > 0 {
		ids := slices.Sorted(maps.Keys(held))
		kept, err := t.keptRefused()
		if err != nil {
			return 0, 0, err
		}
		listed, err := t.rowIDs(`SELECT row_id FROM clone_drop WHERE row_id IN (SELECT value FROM json_each(?)) ORDER BY row_id`, listJSON(ids))
		if err != nil {
			return 0, 0, err
		}
		var behind, ahead []string
		if len(kept) > 0 || len(listed) > 0 {
			if behind, ahead, err = t.cloneBehind(held); err != nil {
				return 0, 0, err
			}
		}
		// Likewise a row a clone under way kept for a refused change
		// (metaCloneKeptRefused), once its chunk went by.
		if len(kept) > 0 {
			if err := t.unlistKeptRefused(kept, behind); err != nil {
				return 0, 0, err
			}
		}
		if len(listed) > 0 {
			bound := pushedBefore
			if s, err := t.r.meta(t.ctx, t.tx, metaCloneOwnSeq); err != nil {
				return 0, 0, err
			} else if s != "" {
				n, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return 0, 0, &FileError{Path: r.path, Kind: ErrCorrupt, Err: fmt.Errorf("%s: %w", metaCloneOwnSeq, err)}
				}
				bound = min(bound, n)
			}
			if err := t.noteTaken(listed, bound); err != nil {
				return 0, 0, fmt.Errorf("note the versions of rows the clone keeps: %w", err)
			}
			if err := t.exec(`DELETE FROM clone_drop WHERE row_id IN (SELECT value FROM json_each(?))`, listJSON(ids)); err != nil {
				return 0, 0, err
			}
			if err := t.listKeptRefused(listed, ahead); err != nil {
				return 0, 0, err
			}
		}
	}
	if err := t.forgetFiled(); err != nil {
		return 0, 0, err
	}
	return rejected, forked, t.commit()
}

// done is whether a result takes its change out of the log.
func done(res syncproto.Result) bool {
	switch res.Status {
	case syncproto.ResultApplied, syncproto.ResultSuperseded, syncproto.ResultDuplicate:
		return true
	}
	return false
}

// settleRowEntries settles the batch's changes that compact log entries
// hold (outbox_rows.go): an entry whose every change is done leaves the log
// at once (settled marks its changes); any other the batch touches is
// expanded into per-field rows, which applyAck then settles one by one.
func (t *txn) settleRowEntries(batch []syncproto.Change, results []syncproto.Result) ([]bool, error) {
	settled := make([]bool, len(batch))
	if len(batch) == 0 {
		return settled, nil
	}
	lo, hi := batch[0].Dot.Seq, batch[0].Dot.Seq
	for _, c := range batch {
		lo, hi = min(lo, c.Dot.Seq), max(hi, c.Dot.Seq)
	}
	es, err := t.rowEntries(`seq <= ? AND seq >= coalesce((SELECT max(seq) FROM outbox_rows WHERE seq <= ?), ?) AND state IN (?, ?)`,
		int64(hi), int64(lo), int64(lo), outboxPending, outboxUnacked)
	if err != nil || len(es) == 0 {
		return settled, err
	}
	doneIn := make([]int, len(es))
	touched := make([]bool, len(es))
	for i, c := range batch {
		if c.Dot.Replica != t.r.id {
			continue
		}
		k := entryAt(es, c.Dot.Seq)
		if k < 0 {
			continue
		}
		touched[k] = true
		if done(results[i]) {
			doneIn[k]++
		}
	}
	for k := range es {
		e := &es[k]
		switch {
		case doneIn[k] == len(e.fields):
			if err := t.exec(`DELETE FROM outbox_rows WHERE seq = ?`, int64(e.seq)); err != nil {
				return nil, err
			}
		case touched[k]:
			if _, err := t.expandRows(`seq = ?`, int64(e.seq)); err != nil {
				return nil, err
			}
		}
	}
	for i, c := range batch {
		if c.Dot.Replica != t.r.id {
			continue
		}
		if k := entryAt(es, c.Dot.Seq); k >= 0 && doneIn[k] == len(es[k].fields) {
			settled[i] = true
		}
	}
	return settled, nil
}

// markUnacked notes that the server holds every pending change up to seq
// (Welcome.PushedSeq) without this replica having its result: an Ack was
// lost. They are pushed again (pendingBatch) for their results; dropping
// them here would lose a refusal silently.
func (r *Replica) markUnacked(ctx context.Context, seq uint64) (int64, error) {
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	res, err := t.tx.ExecContext(ctx, `UPDATE outbox SET state = ? WHERE state = ? AND seq <= ?`, outboxUnacked, outboxPending, int64(seq))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// Compact entries (outbox_rows.go): the one the server holds in part
	// is expanded (and its held changes marked above); whole ones change
	// state as one.
	if k, err := t.expandRows(`seq <= ? AND seq + n - 1 > ? AND state = ?`, int64(seq), int64(seq), outboxPending); err != nil {
		return 0, err
	} else if k > 0 {
		res, err := t.tx.ExecContext(ctx, `UPDATE outbox SET state = ? WHERE state = ? AND seq <= ?`, outboxUnacked, outboxPending, int64(seq))
		if err != nil {
			return 0, err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		n += k
	}
	rows, err := t.tx.QueryContext(ctx, `UPDATE outbox_rows SET state = ? WHERE state = ? AND seq <= ? AND seq + n - 1 <= ? RETURNING n`,
		outboxUnacked, outboxPending, int64(seq), int64(seq))
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return 0, err
		}
		n += k
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	return n, t.commit()
}

// merge applies one change to a row's state with Resolve: installs it,
// keeps what a concurrent write displaced (or the losing write itself) in
// the history, moves the row's scope with an installed change, and records
// a conflict. newConflict is true when the conflict was not known yet.
func (t *txn) merge(st *rowState, c *syncproto.Change, now int64) (o syncproto.Outcome, newConflict bool, err error) {
	cur := st.cur[c.Field]
	if cur != nil && c.Dot != cur.Dot && st.held(c.Field, c.Dot) {
		// A version this replica held before, and replaced (or recorded
		// as a loser): not news. It comes again when a move logs a row's
		// versions anew for its new hamlet, the one it overwrote included
		// (a volunteer who corrects a head and moves the household in one
		// save, then corrects the head again before syncing: the move,
		// applied first, logs the old name for every device of the new
		// hamlet, this one too). Resolve, which knows only the current
		// version and its base, would take it for a concurrent write
		// (simulation silent world, seed 116).
		return syncproto.Stale, false, nil
	}
	o = syncproto.Resolve(cur, c)
	if o == syncproto.InstallOverConcurrent && t.carriedOut != nil {
		stale, err := t.carriedOut(st, c, cur)
		if err != nil {
			return o, false, fmt.Errorf("merge %s.%s: read what this replica holds: %w", c.Table, c.Field, err)
		}
		if stale {
			o = syncproto.Install
		}
	}
	cf, conflicted := syncproto.ApplyOutcome(o, cur, c, func(v syncproto.Version) { st.cur[c.Field] = &v })
	switch {
	case conflicted:
		// What lost, the value displaced or the change itself, stays in
		// the history and in the conflict log.
		st.hist = append(st.hist, histEntry{Field: c.Field, Ver: cf.Loser, Lost: true})
		if newConflict, err = t.recordConflict(cf, now); err != nil {
			return o, false, err
		}
	case o == syncproto.Install && cur != nil:
		st.hist = append(st.hist, histEntry{Field: c.Field, Ver: *cur})
	}
	if o.Installs() {
		st.scope = c.Scope
	}
	return o, newConflict, nil
}

// stateChanged reports whether merge changed the row state: an install,
// or a losing write kept in the history.
func stateChanged(o syncproto.Outcome) bool {
	return o.Installs() || o == syncproto.LoseToConcurrent
}

// ownSince says whether v is replica's own write of sequence seq or later.
func ownSince(v *syncproto.Version, replica syncproto.ReplicaID, seq uint64) bool {
	return v != nil && v.Dot.Replica == replica && v.Dot.Seq >= seq
}
