package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The clock bound (syncproto.ClockBound, docs/PROTOCOL.md §8.6): every
// sync measures this laptop's clock against the server's, and before it
// pushes anything it brings the stamps of the writes made since the last
// measurement back into the bound (restampPending). Writes made during a
// session are stamped with its fresh measurement; a watch session measures
// again (it reconnects) before it pushes writes made long after it, or
// after the laptop's clock was changed (stale).

// clockMigration keeps, for every queued write, the stamp of the version
// it overwrote (its floor when it is restamped) and whether its stamp is
// final: restamped at a sync after it was made, or not this clock's
// (a hidden edit, a write rebuilt by repair).
const clockMigration = `
ALTER TABLE outbox ADD COLUMN base_hlc INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN stamp_final INTEGER NOT NULL DEFAULT 0;
`

// clockSample is the measurement of this laptop's clock the last sync
// stored (the zero sample if it never synced).
func (r *Replica) clockSample(ctx context.Context, q querier) (syncproto.ClockSample, error) {
	notes, err := r.metas(ctx, q, clockSampleNotes...)
	if err != nil {
		return syncproto.ClockSample{}, err
	}
	return r.sampleOf(notes)
}

// clockSampleNotes are the notes of the last measurement, in the order
// sampleOf reads them.
var clockSampleNotes = []string{"offset_wall_ms", "offset_ms"}

// sampleOf is the measurement the notes read by clockSampleNotes hold.
// Their keys are written out here too: TestNumberNotesListed finds the
// notes read as numbers by the literal keys of noteInt.
func (r *Replica) sampleOf(notes []string) (syncproto.ClockSample, error) {
	wall, err := r.noteInt("offset_wall_ms", notes[0])
	if err != nil {
		return syncproto.ClockSample{}, err
	}
	off, err := r.noteInt("offset_ms", notes[1])
	if err != nil {
		return syncproto.ClockSample{}, err
	}
	return syncproto.ClockSample{Wall: wall, Offset: off}, nil
}

// measured takes a Welcome's measurement of the clock: the sample taken
// halfway through the round trip, with its corrected offset.
func measured(sent, received time.Time, serverTime int64) (syncproto.ClockSample, time.Duration) {
	if received.Before(sent) {
		received = sent
	}
	off := syncproto.Correction(syncproto.EstimateOffset(sent, received, time.UnixMilli(serverTime)))
	mid := sent.Add(received.Sub(sent) / 2)
	return syncproto.ClockSample{Wall: mid.UnixMilli(), Offset: off.Milliseconds()}, off
}

// takeClock stores next as this laptop's clock measurement, sets the clock
// by it, and restamps the writes no server holds yet (above pushed) and no
// session sent. checkedAt, unless 0, is noted as damage_checked in the
// same transaction (the session's damage check, check in session.go).
func (r *Replica) takeClock(ctx context.Context, next syncproto.ClockSample, pushed uint64, checkedAt int64) (restamped int, err error) {
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	// The last measurement (clockSample), sent_seq and the set-back mark,
	// in one read.
	notes, err := r.metas(ctx, t.tx, append(clockSampleNotes, "sent_seq", metaClockSetBack)...)
	if err != nil {
		return 0, err
	}
	prev, err := r.sampleOf(notes)
	if err != nil {
		return 0, err
	}
	// Above what the server holds and what any session sent: a change
	// sent may reach the server yet (another server process may still be
	// applying an older session's push), and must arrive as it was sent.
	sent, err := r.noteInt("sent_seq", notes[len(clockSampleNotes)])
	if err != nil {
		return 0, err
	}
	if pushed > uint64(sent) {
		// Behind the server: a copy of a data folder, whose measurement
		// before this one may be another laptop's (syncproto.OtherClock).
		// A copy that syncs before its original is not behind, yet its
		// offset jumped from the original's: syncproto.Restamp stamps
		// its writes by its own (syncproto.Jumped; helper 217,
		// TestCopiedFolderLaterEditWinsCopySyncsFirst).
		prev = syncproto.OtherClock(prev, next)
	}
	// The writes made before the laptop saw its clock set back since prev
	// (metaClockSetBack keeps the last sequence then, plus one), as kept
	// in the file: a set-back this process saw only in memory says nothing
	// of writes another process made since (helper 299: the CLI's edit of
	// the Thursday, its clock reading past the sync again, was stamped the
	// Monday). Not on a copy behind, whose prev is its original's.
	var backSeq uint64
	if back, err := r.noteInt(metaClockSetBack, notes[len(clockSampleNotes)+1]); err != nil {
		return 0, err
	} else if back > 1 && pushed <= uint64(sent) {
		backSeq = uint64(back - 1)
	}
	if restamped, err = t.restampPending(max(pushed, uint64(sent)), math.MaxInt64, prev, next, backSeq); err != nil {
		return 0, err
	}
	if err := t.noteBehindPrev(pushed, uint64(sent), prev, next); err != nil {
		return 0, err
	}
	r.setClock(time.Duration(next.Offset)*time.Millisecond, r.clk().Last())
	kv := []any{"offset_ms", next.Offset, "offset_wall_ms", next.Wall, "clock_last", int64(r.clk().Last()), metaClockSetBack, int64(0)}
	if checkedAt != 0 {
		kv = append(kv, metaChecked, checkedAt)
	}
	if err := t.setMetas(kv...); err != nil {
		return 0, err
	}
	if err := t.commit(); err != nil {
		return 0, err
	}
	r.measuredWall.Store(next.Wall)
	r.clockBack.Store(false)
	return restamped, nil
}

// clockSetBackSlack is how far this laptop's clock may read before the
// moment the last sync measured it before ClockSetBack says it was set
// back: past a time service's small steps.
const clockSetBackSlack = 10 * time.Minute

// metaClockSetBack marks that this laptop's clock was seen set back since
// the last sync measured it (ClockSetBack): kept until the next sync
// measures it again (takeClock), so that the clock passing the measured
// moment later, days offline, does not bring the stale offset back. Its
// value is the replica's last write sequence when it was seen, plus one
// (1 from agents before it): the writes up to it were made before the
// clock was set back, and the next sync stamps them by the offset before
// (syncproto.PendingWrite.BeforeSetBack).
const metaClockSetBack = "clock_set_back"

// ClockSetBack reports whether this laptop's clock was set back by hand
// since the last sync measured it: it reads, or read at an earlier
// command, earlier than at that measurement, which real time cannot do
// (most often set right, after a sync measured it days ahead). The offset
// that sync measured no longer says how wrong the clock is, so new
// records' dates and times follow the clock as it reads (Now, today) until
// the next sync measures it again.
func (r *Replica) ClockSetBack() bool {
	w := r.measuredWall.Load()
	if clockSetBack(r.now(), w) {
		r.backSeenFor.Store(w) // kept with the next write (saveWrites)
		return true
	}
	return r.clockBack.Load() || w > 0 && r.backSeenFor.Load() == w
}

func clockSetBack(now time.Time, measuredWall int64) bool {
	return measuredWall > 0 && now.UnixMilli() < measuredWall-clockSetBackSlack.Milliseconds()
}

// noteClockSetBack keeps a set-back seen now (ClockSetBack) in the replica.
// A failure to write it is no failure of the command: the next one sees
// the clock again, or the write's own transaction keeps it (saveWrites).
func (r *Replica) noteClockSetBack(ctx context.Context) {
	if r.clockBack.Load() || !r.ClockSetBack() {
		return
	}
	seq, err := r.metaInt(ctx, r.db, "seq")
	if err != nil {
		return
	}
	if setMeta(ctx, r.writer(), metaClockSetBack, r.backMark(seq)) == nil {
		r.clockBack.Store(true)
	}
}

// backMark is metaClockSetBack's value for a set-back seen with seq the
// replica's last write: seq+1 when the clock reads set back now, so every
// write up to seq was made before it (any write since the set-back would
// have seen it and kept it); 1, writes unknown, when only this process saw
// it earlier and the clock reads past the measurement again: another
// process may have written since, not seeing it (helper 299).
func (r *Replica) backMark(seq int64) int64 {
	if clockSetBack(r.now(), r.measuredWall.Load()) {
		return seq + 1
	}
	return 1
}

// Now is the time by this laptop's clock corrected by the offset the last
// sync measured, or as it reads once it was set back since (ClockSetBack):
// what new records' dates and times take. Stamps (the HLC) keep the
// measured offset: the next sync restamps what was written meanwhile.
//
// A clock set back never reads, for them, earlier than the last sync as
// that sync measured it, nor than the latest stamp this laptop gave: what
// is written now is written after both. A clock set right after a sync
// measured it ahead reads later than that anyway; one set back from right
// (a dead clock battery at boot, a date changed by mistake) dated visits
// and reports days or years before the sync that came before them, and
// leaders' statistics counted them there (helper 298), and held at the
// sync alone, a report dated before one filed an hour earlier (helper
// 299).
func (r *Replica) Now() time.Time {
	if r.ClockSetBack() {
		now := r.now()
		floor := r.clk().Last().Time() // the latest stamp given: no record is dated before one made earlier
		if w := r.measuredWall.Load(); w > 0 {
			if synced := time.UnixMilli(w).Add(r.clk().Offset()); synced.After(floor) {
				floor = synced
			}
		}
		if now.Before(floor) {
			return floor.In(now.Location())
		}
		return now
	}
	return r.now().Add(r.clk().Offset())
}

// restampPending restamps the writes above seq (and at or below through)
// that no sync restamped yet (syncproto.Restamp) and records the new stamps wherever this replica
// keeps them: the queue, the fields' versions, the conflict records. Only
// writes no server can hold are touched: the server compares a sequence
// pushed again with what it holds, and would take a restamped one for
// another copy's write (a fork).
//
// The writes at or below backSeq (0: none) were made before the laptop saw
// its clock set back (metaClockSetBack).
func (t *txn) restampPending(above uint64, through int64, prev, next syncproto.ClockSample, backSeq uint64) (int, error) {
	// Most syncs find nothing to restamp (nothing was written since the
	// last): one look at both queues says so, where the three reads below
	// each say it again. It covers all they read: a queued write in
	// (above, through], and a compact entry that begins at or below the
	// higher of the two bounds and ends above the lower (one within them,
	// or one across either, which the next step expands).
	var some bool
	if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE state = ?1 AND stamp_final = 0 AND seq > ?2 AND seq <= ?3)
		OR EXISTS (SELECT 1 FROM outbox_rows WHERE state = ?1 AND stamp_final = 0 AND seq <= max(?2, ?3) AND seq + n - 1 > min(?2, ?3))`,
		outboxPending, int64(above), through).Scan(&some); err != nil {
		return 0, err
	}
	if !some {
		return 0, nil
	}
	// A compact entry (outbox_rows.go) the server may hold part of is
	// expanded: its changes are judged one by one below; so is one
	// across through.
	if _, err := t.expandRows(`(seq <= ?1 AND seq + n - 1 > ?1 OR seq <= ?2 AND seq + n - 1 > ?2) AND state = ?3 AND stamp_final = 0`, int64(above), through, outboxPending); err != nil {
		return 0, err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, row_id, field, hlc, base_replica, base_seq, base_hlc, created_at
		FROM outbox WHERE state = ? AND stamp_final = 0 AND seq > ? AND seq <= ? ORDER BY seq`, outboxPending, int64(above), through)
	if err != nil {
		return 0, err
	}
	// where is a write's place: its row and field, and for a change of a
	// compact entry the entry and its index there (entry -1 otherwise).
	type where struct {
		row   syncproto.RowID
		field string
		entry int
		at    int
	}
	var ws []syncproto.PendingWrite
	var at []where
	for rows.Next() {
		var seq, hlc, baseSeq, baseHLC, created int64
		var rowText, field string
		var baseRep []byte
		if err := rows.Scan(&seq, &rowText, &field, &hlc, &baseRep, &baseSeq, &baseHLC, &created); err != nil {
			rows.Close()
			return 0, err
		}
		id, err := uuid.Parse(rowText)
		if err != nil {
			rows.Close()
			return 0, errors.Join(errDamagedRecord, err)
		}
		ws = append(ws, syncproto.PendingWrite{Dot: syncproto.Dot{Replica: t.r.id, Seq: uint64(seq)}, Base: dotFrom(baseRep, baseSeq),
			BaseHLC: syncproto.HLC(baseHLC), Wall: created, HLC: syncproto.HLC(hlc), BeforeSetBack: uint64(seq) <= backSeq})
		at = append(at, where{id, field, -1, 0})
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	es, err := t.rowEntries(`state = ? AND stamp_final = 0 AND seq > ? AND seq <= ?`, outboxPending, int64(above), through)
	if err != nil {
		return 0, err
	}
	if len(es) > 0 {
		// In sequence order with the per-field writes: a write's base
		// must come before it (syncproto.Restamp).
		type item struct {
			w  syncproto.PendingWrite
			at where
		}
		items := make([]item, 0, len(ws)+len(es)*8)
		for i := range ws {
			items = append(items, item{ws[i], at[i]})
		}
		for k := range es {
			e := &es[k]
			id, err := rowEntryID(e)
			if err != nil {
				return 0, err
			}
			for j, f := range e.fields {
				s := e.seq + uint64(j)
				items = append(items, item{syncproto.PendingWrite{Dot: syncproto.Dot{Replica: t.r.id, Seq: s}, Wall: e.createdAt, HLC: f.hlc, BeforeSetBack: s <= backSeq},
					where{id, f.field, k, j}})
			}
		}
		slices.SortFunc(items, func(a, b item) int { return cmp.Compare(a.w.Dot.Seq, b.w.Dot.Seq) })
		ws, at = ws[:0], at[:0]
		for _, it := range items {
			ws = append(ws, it.w)
			at = append(at, it.at)
		}
	}
	if len(ws) == 0 {
		return 0, nil
	}
	// The writes that later queued writes overwrote: their new stamps are
	// those writes' floors.
	based := map[int64]bool{}
	brows, err := t.tx.QueryContext(t.ctx, `SELECT base_seq FROM outbox WHERE state = ? AND base_replica = ?`, outboxPending, t.r.id[:])
	if err != nil {
		return 0, err
	}
	for brows.Next() {
		var s int64
		if err := brows.Scan(&s); err != nil {
			brows.Close()
			return 0, err
		}
		based[s] = true
	}
	if err := errors.Join(brows.Err(), brows.Close()); err != nil {
		return 0, err
	}
	hlcs := syncproto.Restamp(ws, prev, next)
	states := map[syncproto.RowID]*rowState{}
	var moved []syncproto.FieldKey // fields with a version restamped, in order
	n := 0
	for i, w := range ws {
		h := hlcs[i]
		if k := at[i].entry; k >= 0 {
			es[k].fields[at[i].at].hlc = h
		} else if err := t.exec(`UPDATE outbox SET hlc = ?, stamp_final = 1 WHERE seq = ?`, int64(h), int64(w.Dot.Seq)); err != nil {
			return 0, err
		}
		if based[int64(w.Dot.Seq)] {
			if err := t.exec(`UPDATE outbox SET base_hlc = ? WHERE base_replica = ? AND base_seq = ? AND state = ?`,
				int64(h), w.Dot.Replica[:], int64(w.Dot.Seq), outboxPending); err != nil {
				return 0, err
			}
		}
		if h == w.HLC {
			continue
		}
		n++
		st, ok := states[at[i].row]
		if !ok {
			if st, err = t.get(at[i].row); err != nil {
				return 0, err
			}
			states[at[i].row] = st
		}
		if st != nil {
			st.adoptHLC(at[i].field, w.Dot, h)
			moved = append(moved, syncproto.FieldKey{Table: st.table, Row: st.id, Field: at[i].field})
		} else if err := t.restampAway(w.Dot, h); err != nil {
			return 0, err // its row was dropped (away.go)
		}
		if err := t.restampConflicts(w.Dot, h); err != nil {
			return 0, err
		}
	}
	now := t.r.now().UnixMilli()
	for _, k := range moved {
		if err := t.redecide(states[k.Row], k.Field, now); err != nil {
			return 0, err
		}
	}
	var blob []byte
	for k := range es {
		blob = appendRowFields(blob[:0], es[k].fields)
		if err := t.exec(`UPDATE outbox_rows SET fields = ?, stamp_final = 1 WHERE seq = ?`, blob, int64(es[k].seq)); err != nil {
			return 0, err
		}
	}
	for _, st := range states {
		if st == nil {
			continue
		}
		if err := t.save(st); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// restampConflicts gives this replica's version dot its new stamp h in the
// conflict records that name it.
func (t *txn) restampConflicts(dot syncproto.Dot, h syncproto.HLC) error {
	if err := t.exec(`UPDATE conflicts SET loser_hlc = ? WHERE loser_replica = ? AND loser_seq = ?`, int64(h), dot.Replica[:], int64(dot.Seq)); err != nil {
		return err
	}
	return t.exec(`UPDATE conflicts SET winner_hlc = ? WHERE winner_replica = ? AND winner_seq = ?`, int64(h), dot.Replica[:], int64(dot.Seq))
}

// redecide decides a field again once a write of this replica took a new
// stamp (restampPending; a server's restamp, applyAck). The write met the
// other versions of the field under its old stamp: one it lost to may now
// lose to it, or one that lost to it may now win. The server and every
// other replica decide with the new stamp, and this replica's pulls leave
// its own write out and bring nothing new of the other (it holds it), so
// the field is decided here as they decide it: its value is the version
// that wins over every other the row holds as its value or as a loser.
// When that is not the value, the two change places and the conflict
// record turns round (simulation seeds 14953, 16455, 19778, 20453 with
// truncation).
func (t *txn) redecide(st *rowState, field string, now int64) error {
	loser, winner, ok := st.redecide(field)
	if !ok {
		return nil
	}
	if err := t.exec(`DELETE FROM conflicts WHERE row_id = ? AND field = ? AND loser_replica = ? AND loser_seq = ?`,
		st.idText(), field, winner.Dot.Replica[:], int64(winner.Dot.Seq)); err != nil {
		return fmt.Errorf("decide %s again: %w", field, err)
	}
	cf := syncproto.Conflict{Key: syncproto.FieldKey{Table: st.table, Row: st.id, Field: field}, Scope: st.scope, Loser: loser, Winner: winner}
	if _, err := t.recordConflict(cf, now); err != nil {
		return fmt.Errorf("decide %s again: %w", field, err)
	}
	if field != syncproto.TombstoneField {
		return nil
	}
	// The row's deletion changed: its tombstone's bound, as a pull notes
	// it (gc.go), is the cursor now; a restored row has none.
	if !st.deleted() {
		return t.exec(`DELETE FROM tombs WHERE id = ?`, st.idText())
	}
	cursor, err := t.metaInt("cursor")
	if err != nil {
		return err
	}
	return t.exec(`INSERT INTO tombs (id, seq) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, st.idText(), cursor)
}

// redecide makes the field's value the version that wins over its value
// and every version of it the history keeps as a loser (syncproto.Wins).
// Without restamps the value already is; after one it may not be. The
// value it replaces is kept as a loser. It returns both when they changed
// places.
func (s *rowState) redecide(field string) (loser, winner syncproto.Version, changed bool) {
	cur := s.cur[field]
	if cur == nil {
		return loser, winner, false
	}
	best := -1
	h, d := cur.HLC, cur.Dot
	for i := range s.hist {
		if e := &s.hist[i]; e.Field == field && e.Lost && syncproto.Wins(e.Ver.HLC, e.Ver.Dot, h, d) {
			best, h, d = i, e.Ver.HLC, e.Ver.Dot
		}
	}
	if best < 0 {
		return loser, winner, false
	}
	loser, winner = *cur, s.hist[best].Ver
	s.hist[best] = histEntry{Field: field, Ver: loser, Lost: true}
	v := winner
	s.cur[field] = &v
	return loser, winner, true
}

// adoptHLC gives the version with dot its new stamp h wherever the row
// keeps it: the field's value, its history.
func (s *rowState) adoptHLC(field string, dot syncproto.Dot, h syncproto.HLC) {
	if cur := s.cur[field]; cur != nil && cur.Dot == dot {
		cur.HLC = h
	}
	for j := range s.hist {
		if s.hist[j].Ver.Dot == dot {
			s.hist[j].Ver.HLC = h
		}
	}
}

// errRemeasure ends a watch session whose measurement of the clock went
// stale before it pushed: Watch reconnects at once and measures again.
var errRemeasure = errors.New("the clock's measurement is stale: measure again before pushing")

// stale reports whether the session's measurement of the clock no longer
// serves the writes it is about to push: it is older than
// syncproto.Remeasure, or the wall clock moved unlike the time that
// passed (the laptop's date was changed since).
func (s *syncRun) stale() bool {
	now := s.r.now()
	passed := now.Sub(s.measuredAt) // monotonic when the clock has it
	wall := time.Duration(now.UnixMilli()-s.measuredAt.UnixMilli()) * time.Millisecond
	jump := wall - passed
	return wall < 0 || passed > syncproto.Remeasure || wall > syncproto.Remeasure || jump > syncproto.ClockError || -jump > syncproto.ClockError
}

// metaClockBehindPrev keeps, for a copy of a data folder that finds itself
// behind the other (Welcome.PushedSeq above sent_seq, agent/fork.go), the
// interval its waiting writes were made in (behindNote): those at or
// below PushedSeq are not restamped then (the server may hold them, from
// the other copy). Those the fork renumbers are restamped in that interval
// by the fork (restampRenumbered). Restamped by the next session instead,
// in the interval after the sync that found the copy, each was raised to
// that sync's time, above the other copy's later writes: an edit the copy
// made before the original's won over it (helper 215,
// TestCopiedFolderLaterEditWins).
const metaClockBehindPrev = "clock_behind_prev"

// behindNote is metaClockBehindPrev's value: the measurement before the
// sync that found the file behind (as OtherClock made it), the one that
// sync took, and the counter then (the writes at or below it were made
// before Next). A note of the older form holds the first alone.
type behindNote struct {
	syncproto.ClockSample
	Next syncproto.ClockSample `json:"next,omitzero"`
	Seq  uint64                `json:"seq,omitempty"`
}

// noteBehindPrev keeps the interval (metaClockBehindPrev) when this file
// is behind the server (pushed above sent), the first such sync's only
// (the writes were made in it); it forgets it once the file is not
// behind and no fork is due. A fork found behind and not made yet keeps
// it: its push under the old id marked sent_seq, so the next sync is not
// behind, and the fork made then (its POST /v1/fork failed, the sync was
// cut or the laptop shut down before it) restamped nothing, and the
// copy's earlier edit won again (helper 217,
// TestCopiedFolderLaterEditWinsForkRefusedOnce).
func (t *txn) noteBehindPrev(pushed, sent uint64, prev, next syncproto.ClockSample) error {
	if pushed <= sent {
		if rep, err := t.r.meta(t.ctx, t.tx, metaForkReplica); err != nil || rep != "" {
			return err
		}
		return t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaClockBehindPrev)
	}
	if cur, err := t.r.meta(t.ctx, t.tx, metaClockBehindPrev); err != nil || cur != "" {
		return err
	}
	seq, err := t.metaInt("seq")
	if err != nil {
		return err
	}
	// prev never measured (zero): next's offset holds throughout.
	return t.setMetaJSON(metaClockBehindPrev, behindNote{ClockSample: prev, Next: next, Seq: uint64(seq)})
}

// restampRenumbered restamps the fork's renumbered writes (moves) made
// before the sync that found this file behind, not restamped yet, in the
// interval they were made in (metaClockBehindPrev): from the measurement
// before that sync to the one it took, whatever measured the clock since
// (a sync whose fork failed, the clock set right after its warning); they
// are marked final, so the next session leaves them. Those made after
// that sync and not restamped since are restamped between it and the
// last sync. Nothing without that
// note: a fork the server found (replica_forked) restamps as ever. Called
// in the fork's transaction, once the file is the new replica.
func (t *txn) restampRenumbered(start uint64, moves []forkMove) error {
	raw, err := t.r.meta(t.ctx, t.tx, metaClockBehindPrev)
	if err != nil || raw == "" {
		return err
	}
	var note behindNote
	if json.Unmarshal([]byte(raw), &note) == nil {
		next, made := note.Next, note.Seq
		if !next.Known() { // the older form: the last measurement, every write
			if next, err = t.r.clockSample(t.ctx, t.tx); err != nil {
				return err
			}
			made = math.MaxInt64
		}
		// The renumbered writes keep their order: those made before Next
		// come first, from start+1.
		through := start
		for _, m := range moves {
			if m.renumber && uint64(m.old) <= made {
				through++
			}
		}
		if next.Known() && through > start {
			if _, err := t.restampPending(start, int64(through), note.ClockSample, next, 0); err != nil {
				return fmt.Errorf("restamp the renumbered writes: %w", err)
			}
		}
		// Those made after it that no sync restamped since (at or below
		// PushedSeq at a later sync behind, its session cut before its
		// push): between that sync and the last, this laptop's own two
		// measurements. None if the fork follows the sync that found it:
		// the next session's, as any write made during a sync.
		if cur, err := t.r.clockSample(t.ctx, t.tx); err != nil {
			return err
		} else if note.Next.Known() && cur.Known() && cur != note.Next {
			if _, err := t.restampPending(through, math.MaxInt64, note.Next, cur, 0); err != nil {
				return fmt.Errorf("restamp the renumbered writes: %w", err)
			}
		}
	}
	return t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaClockBehindPrev)
}
