package agent

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// renumberAbove gives every outbox entry above seq sentSeq a new sequence
// following pushed without a gap, in its old order, rewriting every dot
// that named it (the row states' versions and history, later entries'
// bases, the conflict log), in t; it sets metaReclone. A repaired replica
// whose lost change-log entries left gaps needs it (closeRepairGaps).
//
// A base that names one of this replica's changes lost with the log
// (above sentSeq, in no entry) is taken back through the row's history
// to the version that change was based on, until it names a change the
// log keeps or one the server can hold: a lost change reached no server.
// Left as it was, a correction written over a lost one reached the
// server based on a version it never held, and met the one it did hold
// (the correction before the lost ones) as a concurrent write: every
// teammate listed the volunteer's own earlier phone as lost to her later
// one (TestRepairedLogGapsRenumberedAtTheNextSync). Renumbered, the lost
// number is another change's, and a base naming it could even make the
// server take that change for the older one (stale). The lost versions
// leave the row's history too: they read as versions the server took
// (forgetOwn), under numbers now given to others.
func (t *txn) renumberAbove(sentSeq, pushed uint64) (int, error) {
	ctx, r := t.ctx, t.r
	if err := t.expandAllRows(); err != nil { // renumbered one by one below
		return 0, fmt.Errorf("renumber changes: %w", err)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, row_id, field, base_replica, base_seq FROM outbox WHERE seq > ? ORDER BY seq`, sentSeq)
	if err != nil {
		return 0, fmt.Errorf("renumber changes: %w", err)
	}
	renum := map[uint64]uint64{}
	var order []uint64
	touched := map[syncproto.RowID]bool{}
	type based struct {
		seq   uint64
		row   syncproto.RowID
		field string
		base  syncproto.Dot
	}
	var bases []based // the entries based on one of this replica's changes above sentSeq
	// New numbers follow pushed without a gap (the server requires it).
	// The file may have written past pushed since the restore, so new and
	// old numbers can overlap: every rewrite goes through the negative
	// of its new number first, and the signs are flipped at the end.
	next := pushed
	for rows.Next() {
		var old, baseSeq int64
		var rowText, field string
		var baseRep []byte
		if err := rows.Scan(&old, &rowText, &field, &baseRep, &baseSeq); err != nil {
			rows.Close()
			return 0, fmt.Errorf("renumber changes: %w", err)
		}
		id, err := uuid.Parse(rowText)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("renumber changes: outbox entry %d: %w", old, err)
		}
		next++
		renum[uint64(old)] = next
		order = append(order, uint64(old))
		touched[id] = true
		if b := dotFrom(baseRep, baseSeq); b.Replica == r.id && b.Seq > sentSeq {
			bases = append(bases, based{uint64(old), id, field, b})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("renumber changes: %w", err)
	}
	states := map[syncproto.RowID]*rowState{}
	state := func(id syncproto.RowID) (*rowState, error) {
		if st, ok := states[id]; ok {
			return st, nil
		}
		st, err := t.get(id)
		states[id] = st
		return st, err
	}
	held := func(d syncproto.Dot) bool {
		_, kept := renum[d.Seq]
		return kept || d.Replica != r.id || d.Seq <= sentSeq
	}
	// throughLost takes a base naming a lost change of this replica back
	// to the version that change was based on, in st's history.
	//
	// A history that does not hold the lost version (a row whose state
	// the damage took, rebuilt from the changes the log keeps) gives the
	// field's latest own version before it that the log keeps or the
	// server holds: every write of this replica is based on the field's
	// value then, and a teammate's value between the two makes the server
	// hold another than that one, which it then judges concurrent, as it
	// would the real base. None: no base (concurrent with what the server
	// holds). Left naming the lost number, now another change's, the base
	// made the server judge the correction concurrent with the volunteer's
	// own earlier one (a conflict every teammate listed), or a later
	// correction numbered so stale, dropped.
	throughLost := func(st *rowState, field string, d syncproto.Dot) syncproto.Dot {
		for range len(st.hist) + 1 {
			if held(d) {
				return d
			}
			v := st.overwritten(field, d)
			if v == nil {
				var before syncproto.Dot
				for i := range st.hist {
					h := &st.hist[i]
					if h.Field == field && !h.Lost && h.Ver.Dot.Replica == r.id && h.Ver.Dot.Seq < d.Seq &&
						h.Ver.Dot.Seq > before.Seq && held(h.Ver.Dot) {
						before = h.Ver.Dot
					}
				}
				return before
			}
			d = v.Base
		}
		return d
	}
	for _, b := range bases {
		if held(b.base) {
			continue
		}
		st, err := state(b.row)
		if err != nil {
			return 0, fmt.Errorf("renumber changes: row %s: %w", b.row, err)
		}
		if st == nil {
			continue
		}
		if d := throughLost(st, b.field, b.base); d != b.base {
			if err := t.exec(`UPDATE outbox SET base_replica = ?, base_seq = ? WHERE seq = ?`, replicaBytes(d), int64(d.Seq), int64(b.seq)); err != nil {
				return 0, fmt.Errorf("renumber changes: outbox bases: %w", err)
			}
		}
	}
	self := r.id[:]
	for _, old := range order {
		neg := -int64(renum[old])
		if err := t.exec(`UPDATE outbox SET seq = ? WHERE seq = ?`, neg, int64(old)); err != nil {
			return 0, fmt.Errorf("renumber changes: outbox: %w", err)
		}
		if err := t.exec(`UPDATE outbox SET base_seq = ? WHERE base_replica = ? AND base_seq = ?`, neg, self, int64(old)); err != nil {
			return 0, fmt.Errorf("renumber changes: outbox bases: %w", err)
		}
		for _, side := range [...]string{"loser", "winner"} {
			if err := t.exec(`UPDATE conflicts SET `+side+`_seq = ? WHERE `+side+`_replica = ? AND `+side+`_seq = ?`, neg, self, int64(old)); err != nil {
				return 0, fmt.Errorf("renumber changes: conflicts: %w", err)
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
			return 0, fmt.Errorf("renumber changes: %w", err)
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
		st, err := state(id)
		if err != nil {
			return 0, fmt.Errorf("renumber changes: row %s: %w", id, err)
		}
		if st == nil {
			continue
		}
		for f, v := range st.cur {
			v.Base = throughLost(st, f, v.Base)
		}
		for i := range st.hist {
			st.hist[i].Ver.Base = throughLost(st, st.hist[i].Field, st.hist[i].Ver.Base)
		}
		st.hist = slices.DeleteFunc(st.hist, func(h histEntry) bool { return !h.Lost && !held(h.Ver.Dot) })
		for _, v := range st.cur {
			redot(&v.Dot)
			redot(&v.Base)
		}
		for i := range st.hist {
			redot(&st.hist[i].Ver.Dot)
			redot(&st.hist[i].Ver.Base)
		}
		if err := t.save(st); err != nil {
			return 0, fmt.Errorf("renumber changes: row %s: %w", id, err)
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
	return len(order), nil
}

// noteSent records, in q's transaction, that changes up to seq are about
// to be sent: written before the Push, so a copy of this file (a restored
// backup, a copied folder) can tell that the server holds changes it
// never sent (fork.go).
func (r *Replica) noteSent(ctx context.Context, q querier, seq uint64) (uint64, error) {
	cur, err := r.metaInt(ctx, q, "sent_seq")
	if err != nil {
		return 0, err
	}
	if uint64(cur) >= seq {
		return uint64(cur), nil
	}
	// Mark the whole counter: one write covers this session's later batches.
	top, err := r.metaInt(ctx, q, "seq")
	if err != nil {
		return 0, err
	}
	top = max(top, int64(seq))
	return uint64(top), setMeta(ctx, q, "sent_seq", top)
}

// metaAckedSeq is the highest of this replica's sequences the server has
// acknowledged holding (applyAck). A Welcome whose PushedSeq is below it
// comes from a server that lost changes it had taken: restored from a
// backup, or its disk rolled back (resendLost).
const metaAckedSeq = "acked_seq"

// metaResentKeep set to 1: changes a restored server lost were queued
// again, and the re-clone after the fork keeps the rows whose changes it
// refuses (needsClone): the server may hold none of such a row.
const metaResentKeep = "resent_keep_refused"

// metaLogEpoch is the server's log epoch at this replica's last sync
// (Welcome.LogEpoch): another one means the log was restored since, and
// the session replays it from the start (plan).
const metaLogEpoch = "log_epoch"

// noteAcked raises metaAckedSeq to seq.
func (t *txn) noteAcked(seq uint64) error {
	if seq == 0 {
		return nil
	}
	cur, err := t.metaInt(metaAckedSeq)
	if err != nil || uint64(cur) >= seq {
		return err
	}
	return t.setMeta(metaAckedSeq, int64(seq))
}

// resendLost runs at the Welcome: when the server holds fewer of this
// replica's changes (pushed) than it acknowledged (acked: metaAckedSeq
// read before the Hello this Welcome answers), it lost them, and they
// left this laptop's change log when acknowledged. Every
// field whose current version this replica wrote above pushed is queued
// again from that version, and a fork is due: nothing above pushed goes
// under this id, and the fork gives the queued changes a new replica id
// and numbers of its own (fork.go), as for a copied folder. The server
// gets back the current value of every field this laptop wrote since; a
// value a later write of its own overwrote is not sent (the later one
// wins all the same). Other laptops' lost changes are theirs to send
// again. It returns how many changes were queued.
//
// So is every version of its own that the server took above pushed of a
// row this laptop dropped since (own_away, taken: resendAway).
//
// acked is read before Hello, not now: another handle on this file (the
// app beside `hamlet-agent sync`) may have pushed since the server read
// pushed, and had its Ack; what that raised the mark to is on the server
// all the same (TestTwoHandlesAckBetweenHelloAndWelcome).
func (r *Replica) resendLost(ctx context.Context, pushed, acked uint64) (int, error) {
	if acked <= pushed {
		return 0, nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	inLog := map[uint64]bool{}
	rows, err := t.tx.QueryContext(ctx, `SELECT seq, 1 FROM outbox WHERE seq > ? UNION ALL SELECT seq, n FROM outbox_rows WHERE seq + n - 1 > ?`, int64(pushed), int64(pushed))
	if err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	for rows.Next() {
		var seq, n int64
		if err := rows.Scan(&seq, &n); err != nil {
			rows.Close()
			return 0, fmt.Errorf("resend what the server lost: %w", err)
		}
		for s := seq; s < seq+n; s++ {
			inLog[uint64(s)] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	srows, err := t.tx.QueryContext(ctx, `SELECT id, tbl, scope, state FROM row_state`)
	if err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	raws, _, _, err := scanRawStates(srows, "", nil)
	if err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	states, err := r.decodeRows(ctx, t.q(), raws)
	if err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	now := r.now().UnixMilli()
	n := 0
	for _, st := range states {
		for _, f := range st.fields() {
			v := st.cur[f]
			if v.Dot.Replica != r.id || v.Dot.Seq <= pushed || inLog[v.Dot.Seq] {
				continue
			}
			kind, val := valueArgs(v.Value)
			// Its stamp stands: the server had taken it with this one.
			if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope, created_at, stamp_final)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
				int64(v.Dot.Seq), st.table, st.id.String(), f, kind, val, int64(v.HLC), replicaBytes(v.Base), int64(v.Base.Seq), st.scope, now); err != nil {
				return 0, fmt.Errorf("resend what the server lost: %w", err)
			}
			inLog[v.Dot.Seq] = true
			n++
		}
	}
	held := make(map[syncproto.RowID]bool, len(states))
	for _, st := range states {
		held[st.id] = true
	}
	away, err := t.resendAway(pushed, inLog, held, now)
	if err != nil {
		return 0, fmt.Errorf("resend what the server lost: %w", err)
	}
	n += away
	if n > 0 {
		// A fork due already (a copy found before) is a copy's as well.
		due, err := t.r.meta(ctx, t.tx, metaForkDue)
		if err != nil {
			return 0, err
		}
		// Sent under a new replica id (a fork, as a copied folder does),
		// never renumbered under this one: the lost numbers were seen by
		// the teammates that pulled them before the restore, and a number
		// given again to another write would be taken there for one they
		// hold (review of 595d3be).
		if _, err := t.markForkDue(pushed); err != nil {
			return 0, err
		}
		if err := t.setMeta(metaResentKeep, 1); err != nil {
			return 0, err
		}
		if err := t.noteForkUntold(nil, n, due == ""); err != nil { // told from it (tellFork)
			return 0, err
		}
	}
	if err := t.setMeta(metaAckedSeq, int64(pushed)); err != nil {
		return 0, err
	}
	return n, t.commit()
}

// resendAway queues again, in t, the versions of this replica's own rows
// that left its scope after the server took them above pushed (own_away,
// taken: a record that followed its household into another team's hamlet,
// a household moved out, a hamlet the team lost), for resendLost: the
// restored server lost them with the rest, and this laptop, holding no
// row to send them from, was the only device to send them again. Left out,
// the record reached no fresh clone, and a laptop of the row's new hamlet
// that had pulled it before the restore kept a record no other device
// would ever get. A row held again (it came back) is sent from its state
// (resendLost), where a later write over a note wins all the same.
//
// Each note is queued under its number, as the row states' versions are,
// and goes with them under the fork's new id: the fork renumbers the note
// with its change (renumberAway), so the note names the version the
// server then holds, which the row's return may name as lost. Each keeps
// the hamlet its row had when dropped (its hamlet_code note, when the
// laptop wrote it): the server places a row it does not hold by its
// hamlet_code, and moves a record after its household again
// (followHouseholds). inLog is the sequences the outbox holds, held the
// rows row_state holds; it returns how many changes were queued.
func (t *txn) resendAway(pushed uint64, inLog map[uint64]bool, held map[syncproto.RowID]bool, now int64) (int, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT field, kind, value, hlc, replica, seq, base_replica, base_seq, row_id, tbl
		FROM own_away WHERE taken AND replica = ? AND seq > ? ORDER BY seq`, t.r.id[:], int64(pushed))
	if err != nil {
		return 0, err
	}
	type note struct {
		row          syncproto.RowID
		table, field string
		ver          syncproto.Version
	}
	var notes []note
	scope := map[syncproto.RowID]string{}
	for rows.Next() {
		var idText string
		var nt note
		field, v, err := scanAwayVersion(rows, &idText, &nt.table)
		if err != nil {
			rows.Close()
			return 0, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("own_away row id %q: %w", idText, err)
		}
		if held[id] || inLog[v.Dot.Seq] {
			continue
		}
		nt.row, nt.field, nt.ver = id, field, v
		notes = append(notes, nt)
		if field == schema.ScopeField {
			scope[id] = v.Value.AsString()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, nt := range notes {
		v := nt.ver
		kind, val := valueArgs(v.Value)
		// Its stamp stands: the server had taken it with this one.
		if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope, created_at, stamp_final)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
			int64(v.Dot.Seq), nt.table, nt.row.String(), nt.field, kind, val, int64(v.HLC), replicaBytes(v.Base), int64(v.Base.Seq), scope[nt.row], now); err != nil {
			return 0, err
		}
		inLog[v.Dot.Seq] = true
	}
	return len(notes), nil
}
