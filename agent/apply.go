package agent

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// applyStats counts what one pulled batch did.
type applyStats struct {
	installed int
	conflicts int
	evicted   int
}

// ApplyChanges merges one pulled batch and stores its end as the new cursor,
// in one transaction: applying the same batch twice changes nothing.
func (r *Replica) ApplyChanges(ctx context.Context, ch *syncproto.Changes) (applyStats, error) {
	var stats applyStats
	// Pulled data can always be pulled again (the cursor commits with it),
	// so these transactions skip the fsync that local writes pay for.
	if _, err := r.db.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return stats, err
	}
	defer r.db.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`) //nolint:errcheck
	t, err := r.begin(ctx)
	if err != nil {
		return stats, err
	}
	defer t.rollback()
	ids := make([]syncproto.RowID, 0, len(ch.Changes)/4+1)
	seen := map[syncproto.RowID]bool{}
	for i := range ch.Changes {
		if id := ch.Changes[i].Row; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	states, err := t.getMany(ids)
	if err != nil {
		return stats, err
	}
	dirty := map[syncproto.RowID]bool{}
	now := r.now().UnixMilli()
	for i := range ch.Changes {
		c := &ch.Changes[i]
		if c.Dot.Replica == r.id {
			continue // our own write coming back: we hold it already
		}
		_ = r.clk().Observe(c.HLC) // beyond the skew bound: stored, our clock stays put
		st := states[c.Row]
		if st == nil {
			st = newRowState(c.Table, c.Row, c.Scope)
			states[c.Row] = st
		}
		cur := st.cur[c.Field]
		o := syncproto.Resolve(cur, c)
		if o.Conflicted() {
			cf := syncproto.ConflictFor(o, cur, c)
			isNew, err := t.recordConflict(cf, now)
			if err != nil {
				return stats, err
			}
			if isNew {
				stats.conflicts++
			}
		}
		switch o {
		case syncproto.Install:
			st.install(c.Field, syncproto.VersionOf(c))
		case syncproto.InstallOverConcurrent:
			st.hist = append(st.hist, histEntry{Field: c.Field, Ver: *cur, Lost: true})
			v := syncproto.VersionOf(c)
			st.cur[c.Field] = &v
		case syncproto.LoseToConcurrent:
			st.hist = append(st.hist, histEntry{Field: c.Field, Ver: syncproto.VersionOf(c), Lost: true})
		default:
			continue
		}
		if o.Installs() {
			stats.installed++
			st.scope = c.Scope
		}
		dirty[c.Row] = true
	}
	for _, id := range ids {
		if dirty[id] {
			if err := t.save(states[id]); err != nil {
				return stats, err
			}
		}
	}
	for _, ev := range ch.Evict {
		// The row left our scope. Local edits not yet pushed stay in the
		// outbox and are still pushed (the server decides about them).
		if err := t.drop(ev.Table, ev.Row); err != nil {
			return stats, err
		}
		stats.evicted++
	}
	if err := t.setMeta("cursor", int64(ch.To)); err != nil {
		return stats, err
	}
	if err := t.setMeta("clock_last", int64(r.clk().Last())); err != nil {
		return stats, err
	}
	return stats, t.commit()
}

// pendingBatch returns up to limit unacknowledged local changes after seq.
func (r *Replica) pendingBatch(ctx context.Context, after uint64, limit int) ([]syncproto.Change, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope
		FROM outbox WHERE state = ? AND seq > ? ORDER BY seq LIMIT ?`, outboxPending, int64(after), limit)
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
				return nil, err
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
	return out, rows.Err()
}

// applyAck records the server's answer for each change of a pushed batch:
// done ones leave the outbox (adopting a restamped HLC), refused ones stay
// in the rejected list with their reason.
func (r *Replica) applyAck(ctx context.Context, batch []syncproto.Change, results []syncproto.Result) (rejected int, err error) {
	if len(results) != len(batch) {
		return 0, &syncproto.Error{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("ack has %d results for %d changes", len(results), len(batch))}
	}
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	restamp := map[syncproto.RowID]*rowState{}
	for i, res := range results {
		c := &batch[i]
		switch res.Status {
		case syncproto.ResultApplied, syncproto.ResultSuperseded, syncproto.ResultDuplicate:
			if err := t.exec(`DELETE FROM outbox WHERE seq = ? AND state = ?`, int64(c.Dot.Seq), outboxPending); err != nil {
				return 0, err
			}
			if res.HLC != 0 && res.HLC != c.HLC {
				st := restamp[c.Row]
				if st == nil {
					if st, err = t.get(c.Row); err != nil {
						return 0, err
					}
					if st == nil {
						continue
					}
					restamp[c.Row] = st
				}
				if cur := st.cur[c.Field]; cur != nil && cur.Dot == c.Dot {
					cur.HLC = res.HLC
				}
				for j := range st.hist {
					if st.hist[j].Ver.Dot == c.Dot {
						st.hist[j].Ver.HLC = res.HLC
					}
				}
			}
		case syncproto.ResultRefused:
			rejected++
			reason := res.Reason
			if reason == "" {
				reason = string(res.Code)
			}
			if err := t.exec(`UPDATE outbox SET state = ?, code = ?, reason = ? WHERE seq = ?`,
				outboxRejected, string(res.Code), reason, int64(c.Dot.Seq)); err != nil {
				return 0, err
			}
		default:
			return 0, &syncproto.Error{Code: syncproto.CodeUnexpected, Msg: fmt.Sprintf("unknown result status %d", res.Status)}
		}
	}
	for _, st := range restamp {
		if err := t.save(st); err != nil {
			return 0, err
		}
	}
	return rejected, t.commit()
}

// ackUpTo marks every pending change up to seq as acknowledged: the server
// holds them durably (Welcome.PushedSeq), so they are never sent again.
func (r *Replica) ackUpTo(ctx context.Context, seq uint64) (int64, error) {
	res, err := r.db.ExecContext(ctx, `DELETE FROM outbox WHERE state = ? AND seq <= ?`, outboxPending, int64(seq))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
