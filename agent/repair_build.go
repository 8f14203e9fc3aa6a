package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// metaSkipped are the settings a repaired replica does not take over: the
// pull position and the state of a clone or back-fill under way (it
// clones again), and what buildRepaired sets itself.
var metaSkipped = map[string]bool{
	"replica_id": true, "seq": true, "cursor": true, "durable_sent": true, metaReclone: true,
	"clone_head": true, "clone_table": true, "clone_row": true, "clone_total": true, "clone_done": true, metaCloneOwnSeq: true,
	"clone_indexes": true, metaBackfillScopes: true, metaBackfillCursor: true, metaBackfillHead: true, metaBackfillTable: true, metaBackfillRow: true, metaBackfillDone: true, metaBackfillPartial: true, "last_sync_error": true, metaTxnNo: true, metaWALBase: true, metaWALSalt: true, metaWALSaltTxn: true,
	metaChecked: true,
}

// metaRepairGaps set to 1: the replica was repaired, and its change log
// may have lost entries (closeRepairGaps).
const metaRepairGaps = "repair_gaps"

// salvagedCode marks a change-log entry rebuilt from a row version that
// the server may hold already (closeRepairGaps drops it then, or makes it
// an ordinary pending change). Status does not count it as pending.
const salvagedCode = "salvaged"

// buildRepaired writes what was salvaged into a fresh replica at file.
func buildRepaired(ctx context.Context, file string, sv *salvaged, opts Options, rep *RepairReport) error {
	r, err := OpenWith(ctx, file, opts)
	if err != nil {
		return err
	}
	defer r.Close()
	self := r.id
	rep.NewReplicaID = true
	if s, ok := sv.meta["replica_id"].(string); ok {
		if id, err := uuid.Parse(s); err == nil {
			self, rep.NewReplicaID = id, false
		}
	}
	// Notes that do not read (a torn page the database still reads) are
	// left out: taken over, every command said the file was damaged and
	// to run repair again, for good (notes_check.go). The damaged copy
	// keeps them.
	if rep.NewReplicaID {
		// What the server acknowledged of the old id: nothing of the new.
		delete(sv.meta, metaAckedSeq)
	}
	hadEnrollment := metaText(sv.meta["enrollment"]) != ""
	dropUnreadNotes(sv, rep)
	if metaText(sv.meta["enrollment"]) == "" {
		// None, or one unread: the laptop is enrolled again (the report
		// says so).
		rep.NotEnrolled = true
		delete(sv.meta, "enrollment")
		// It was enrolled (an enrollment was there, or it synced): the
		// server knows its replica, on a device still active, and the
		// commands that find it not enrolled say so (EnrollmentLeftOut).
		// A new replica id is one the server never saw.
		was := hadEnrollment || metaText(sv.meta[metaEnrollmentLeftOut]) != "" || metaUint(sv.meta["sent_seq"]) > 0 || metaUint(sv.meta["cursor"]) > 0
		delete(sv.meta, metaEnrollmentLeftOut)
		if was && !rep.NewReplicaID {
			sv.meta[metaEnrollmentLeftOut] = "1"
		}
	} else {
		delete(sv.meta, metaEnrollmentLeftOut)
	}
	// Before the transaction: it holds the one connection.
	cols := commonColumns(r, "outbox", sv.outbox.cols)
	ccols := commonColumns(r, "conflicts", sv.conflicts.cols)
	fcols := commonColumns(r, "record_filed", sv.filed.cols)
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	keys := make([]string, 0, len(sv.meta))
	for k := range sv.meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !metaSkipped[k] {
			if err := t.setMeta(k, sv.meta[k]); err != nil {
				return err
			}
		}
	}

	// The change log: entries that are whole and name a row.
	inLog := map[uint64]bool{}
	var seqTop uint64
	byRow := map[syncproto.RowID][]syncproto.Change{}
	for _, row := range sv.outbox.rows {
		c, state, ok := outboxChange(sv.outbox, row, self)
		if !ok {
			rep.Undecodable++
			continue
		}
		if err := insertRow(t, "outbox", cols, sv.outbox, row); err != nil {
			return err
		}
		inLog[c.Dot.Seq] = true
		seqTop = max(seqTop, c.Dot.Seq)
		if state == outboxRejected {
			rep.Rejected++
		} else {
			rep.Pending++
			byRow[c.Row] = append(byRow[c.Row], c)
		}
	}

	// The sequence counter never goes back: a number the server may have
	// seen is never used again. Changes above sent_seq were never sent.
	seq := metaUint(sv.meta["seq"])
	sent, sentKnown := metaUint(sv.meta["sent_seq"]), sv.meta["sent_seq"] != nil
	rep.LostUnknown = sv.meta["seq"] == nil

	// Row states, and the pending changes only they still carry: every
	// own version not in the log is queued again (the server answers
	// "duplicate" for one it holds, and closeRepairGaps drops those it
	// acknowledged to this file, or says it holds when no copy of the
	// folder pushed too, before they are sent).
	states := map[syncproto.RowID]*rowState{}
	now := opts.Now().UnixMilli()
	for _, st := range sv.states {
		states[st.id] = st
		rep.Rows[st.table]++
		for _, f := range st.fields() {
			v := st.cur[f]
			if v.Dot.Replica != self || v.Dot.Seq == 0 {
				continue
			}
			seqTop = max(seqTop, v.Dot.Seq)
			if inLog[v.Dot.Seq] {
				continue
			}
			// Above sent_seq it was never sent: pending for sure.
			// At or below, the server may hold it: closeRepairGaps
			// decides once it says what it holds.
			unsent := sentKnown && v.Dot.Seq > sent
			code := salvagedCode
			if unsent {
				code = ""
				rep.Rebuilt++
				rep.Pending++
			}
			kind, val := valueArgs(v.Value)
			// Rebuilt from the version it installed: when it was made is
			// lost, so its stamp stands (stamp_final, clock.go).
			if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope, code, created_at, stamp_final)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`,
				int64(v.Dot.Seq), st.table, st.id.String(), f, kind, val, int64(v.HLC), replicaBytes(v.Base), int64(v.Base.Seq), st.scope, code, now); err != nil {
				return err
			}
			inLog[v.Dot.Seq] = true
		}
	}
	// Rows lost with pending changes: rebuilt from those changes.
	for id, cs := range byRow {
		if states[id] != nil {
			continue
		}
		sort.Slice(cs, func(i, j int) bool { return cs[i].Dot.Seq < cs[j].Dot.Seq })
		st := newRowState(cs[0].Table, id, cs[len(cs)-1].Scope)
		for i := range cs {
			st.install(cs[i].Field, syncproto.VersionOf(&cs[i]))
		}
		states[id] = st
		sv.states = append(sv.states, st)
		rep.RowsFromChanges++
		rep.Rows[st.table]++
	}
	if err := t.saveMany(sv.states); err != nil {
		return err
	}

	for _, row := range sv.conflicts.rows {
		if err := insertRow(t, "conflicts", ccols, sv.conflicts, row); err != nil {
			// A damaged entry (a broken value): the rest still count.
			rep.Undecodable++
			continue
		}
		rep.Conflicts++
	}
	for _, row := range sv.filed.rows {
		if err := insertRow(t, "record_filed", fcols, sv.filed, row); err != nil {
			rep.Undecodable++
			continue
		}
	}
	// Dropped, the notes of writes the server answered superseded left the
	// clone the repaired replica runs (metaReclone) to replace those
	// writes by the winners unseen: the volunteer whose edit lost never
	// learnt it (helper 225, TestSupersededCutBeforeCloneListedOnce).
	// A note that does not read whole is left out: it names no record.
	for _, row := range sv.superseded.rows {
		if d, ok := supersededNote(sv.superseded, row); ok {
			if err := t.noteSuperseded(&d); err != nil {
				return err
			}
		}
	}
	rep.Undecodable += sv.undecodable

	if !sentKnown {
		sent = max(seq, seqTop)
	}
	// Changes never sent (above sent_seq) that neither the log nor a row
	// still holds are lost.
	for s := sent + 1; s <= seq; s++ {
		if !inLog[s] {
			rep.LostPending++
		}
	}
	seq = max(seq, seqTop, sent)
	// The clock never stamps below a stamp the file holds: clock_last, if
	// it read, or the highest stamp kept (it did not read: numberNotes).
	last := metaUint(sv.meta["clock_last"])
	for _, st := range sv.states {
		for _, v := range st.cur {
			last = max(last, uint64(v.HLC))
		}
	}
	var outboxTop sql.NullInt64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT max(hlc) FROM outbox`).Scan(&outboxTop); err != nil {
		return err
	}
	last = max(last, uint64(max(outboxTop.Int64, 0)))
	// The measurement the kept writes were stamped by did not read: their
	// stamps stand, as those of the writes rebuilt from row versions.
	for _, k := range rep.UnreadNotes {
		if k == "offset_ms" || k == "offset_wall_ms" || k == metaClockSetBack {
			if err := t.exec(`UPDATE outbox SET stamp_final = 1`); err != nil {
				return err
			}
			break
		}
	}
	for k, v := range map[string]any{
		"replica_id": self.String(), "seq": int64(seq), "sent_seq": int64(sent), "cursor": int64(0),
		metaReclone: int64(1), metaRepairGaps: int64(1), "clock_last": int64(last),
	} {
		if err := t.setMeta(k, v); err != nil {
			return err
		}
	}
	if err := t.notePhotoFiles(); err != nil {
		return err
	}
	// The photos table was rebuilt from the files: a photo whose report a
	// pull took off the laptop lost its away note, and would be neither
	// counted nor sent (helper 141's review). Every photo no report here
	// names is noted as away with an unknown report; the server takes
	// those it still waits for, and forgets the others (photosync.go).
	if _, ok := t.r.sch.Table("field_reports"); ok && t.r.hasColumn("field_reports", schema.PhotoDigestsField) {
		if err := t.adoptOrphanPhotos(); err != nil {
			return fmt.Errorf("note the photos no report names: %w", err)
		}
	}
	return t.commit()
}

// notePhotoFiles records the photos whose files are in the data folder:
// the photos table is not salvaged, and a photo the server never
// confirmed must still be offered and counted as waiting (PhotosUnsent).
// Nothing is taken as uploaded: the next transfer asks the server, which
// answers "complete" for those it holds, and no byte is sent again.
func (t *txn) notePhotoFiles() error {
	ents, err := os.ReadDir(t.r.PhotoDir())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("list the photos: %w", err)
	}
	now := t.r.now().UnixMilli()
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".jpg") || strings.HasSuffix(name, ".thumb.jpg") {
			continue
		}
		d := strings.TrimSuffix(name, ".jpg")
		if !photo.ValidDigest(d) {
			continue
		}
		var size int64
		if fi, err := e.Info(); err == nil {
			size = fi.Size()
		}
		if err := t.exec(`INSERT INTO photos (digest, size, full, thumb, added_at) VALUES (?, ?, 1, ?, ?)
			ON CONFLICT (digest) DO UPDATE SET full = 1`, d, size, boolInt(t.r.HasPhoto(d, true)), now); err != nil {
			return fmt.Errorf("note the photos: %w", err)
		}
	}
	return nil
}

func metaUint(v any) uint64 {
	switch x := v.(type) {
	case int64:
		if x > 0 {
			return uint64(x)
		}
	case string:
		var n uint64
		if _, err := fmt.Sscan(x, &n); err == nil {
			return n
		}
	}
	return 0
}

// outboxChange reads a salvaged change-log entry; ok is false when it is
// not whole (a damaged page read as garbage).
func outboxChange(t tableRows, row []any, self syncproto.ReplicaID) (c syncproto.Change, state int64, ok bool) {
	seq, _ := t.col(row, "seq").(int64)
	table, _ := t.col(row, "tbl").(string)
	rowText, _ := t.col(row, "row_id").(string)
	field, _ := t.col(row, "field").(string)
	kind, _ := t.col(row, "kind").(int64)
	hlc, _ := t.col(row, "hlc").(int64)
	baseRep, _ := t.col(row, "base_replica").([]byte)
	baseSeq, _ := t.col(row, "base_seq").(int64)
	scope, _ := t.col(row, "scope").(string)
	state, _ = t.col(row, "state").(int64)
	id, err := uuid.Parse(rowText)
	if seq <= 0 || table == "" || field == "" || err != nil || state < outboxPending || state > outboxRejected {
		return c, 0, false
	}
	if kind < int64(syncproto.KindNull) || kind > int64(syncproto.KindString) {
		return c, 0, false
	}
	c = syncproto.Change{Table: table, Row: id, Field: field, Value: valueFrom(kind, t.col(row, "value")), HLC: syncproto.HLC(hlc),
		Dot: syncproto.Dot{Replica: self, Seq: uint64(seq)}, Base: dotFrom(baseRep, baseSeq), Scope: scope}
	return c, state, true
}

// commonColumns are the columns of table in both the fresh replica and the
// damaged one.
func commonColumns(r *Replica, table string, have []string) []string {
	rows, err := r.db.QueryContext(context.Background(), `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil
	}
	defer rows.Close()
	mine := map[string]bool{}
	for rows.Next() {
		var c string
		if rows.Scan(&c) == nil {
			mine[c] = true
		}
	}
	var out []string
	for _, c := range have {
		if mine[c] {
			out = append(out, c)
		}
	}
	return out
}

func insertRow(t *txn, table string, cols []string, from tableRows, row []any) error {
	if len(cols) == 0 {
		return nil
	}
	args := make([]any, len(cols))
	for i, c := range cols {
		args[i] = from.col(row, c)
	}
	return t.exec(`INSERT OR REPLACE INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(cols)-1)+`)`, args...)
}

// closeRepairGaps runs at the Welcome of a repaired replica, once the
// server has said the highest sequence of this replica it holds (pushed):
// change-log entries rebuilt from row versions that the server holds are
// dropped, and if lost entries left gaps above pushed, the entries there
// are renumbered to follow it without a gap (the server refuses a gap).
// The counter never falls below pushed.
//
// It runs in one write transaction that reads the mark (metaRepairGaps)
// first: another handle on this file (the app beside `hamlet-agent
// sync`) closes the gaps at its own Welcome, then pushes and has its Ack,
// all before this one's statements, one by one, would have ended: they
// then renumbered the entries left above this Welcome's PushedSeq (read
// before the other handle's push) to the numbers that push had given the
// server, or set the counter back below them, and the next push met the
// server's copies of those numbers as another copy's writes (a fork). No
// handle pushes the repaired file before its own Welcome has closed the
// gaps and removed the mark, so a transaction that still finds the mark
// finds no push since the repair.
func (r *Replica) closeRepairGaps(ctx context.Context, pushed uint64) error {
	flag, err := r.metaInt(ctx, r.db, metaRepairGaps)
	if err != nil || flag == 0 {
		return err
	}
	t, err := r.begin(ctx)
	if err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	defer t.rollback()
	if flag, err := t.metaInt(metaRepairGaps); err != nil || flag == 0 {
		return err // another handle closed them meanwhile
	}
	// A copy of this data folder pushed under this replica id too (the
	// server holds more than this file ever sent, or a fork was found
	// before the repair): what the server holds at a sequence may be the
	// copy's write, not this one. Each is then pushed: the server answers
	// "duplicate" for one it holds with this content, and finds the fork
	// at one it holds with other content (its digests), and the fork
	// pushes it again under the new id. Dropped, the volunteer's records
	// never sent were lost, and the fork said nothing was (helper 227,
	// TestRepairForkNotesLeftOut).
	// Those the server acknowledged to this file (metaAckedSeq, taken
	// over by repair when it reads) are this file's writes for sure, and
	// only those are dropped then: a copy pushed when nothing in the file
	// tells it any more (the fork's notes and sent_seq unread).
	held := pushed
	copied, err := r.pushedByCopy(ctx, t.tx, pushed)
	if err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if copied {
		held = 0
	}
	if acked, err := r.metaUint(ctx, t.tx, metaAckedSeq); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	} else if acked > 0 {
		held = min(acked, pushed)
	}
	if err := t.exec(`DELETE FROM outbox WHERE code = ? AND state = ? AND seq <= ?`, salvagedCode, outboxPending, int64(held)); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if err := t.exec(`UPDATE outbox SET code = '' WHERE code = ? AND state = ?`, salvagedCode, outboxPending); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	var lo, hi sql.NullInt64
	var n int64
	if err := t.tx.QueryRowContext(ctx, `SELECT min(seq), max(seq), count(*) FROM outbox WHERE seq > ?`, int64(pushed)).Scan(&lo, &hi, &n); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if n > 0 && (uint64(lo.Int64) != pushed+1 || hi.Int64-lo.Int64+1 != n) {
		if _, err := t.renumberAbove(pushed, pushed); err != nil {
			return fmt.Errorf("close repair gaps: %w", err)
		}
	} else if seq, err := t.metaInt("seq"); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	} else if n == 0 && uint64(seq) != pushed {
		// Every change above pushed was lost: the next one follows pushed.
		if err := t.setMeta("seq", int64(pushed)); err != nil {
			return fmt.Errorf("close repair gaps: %w", err)
		}
	}
	if seq, err := t.metaInt("seq"); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	} else if uint64(seq) < pushed {
		if err := t.setMeta("seq", int64(pushed)); err != nil {
			return fmt.Errorf("close repair gaps: %w", err)
		}
	}
	if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaRepairGaps); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if err := t.commit(); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	return nil
}

// pushedByCopy reports whether the server's pushed holds changes of this
// replica that this file did not send: a fork is noted (metaForkDue), or
// pushed is above what this file marked sent (forkBound's test).
func (r *Replica) pushedByCopy(ctx context.Context, q querier, pushed uint64) (bool, error) {
	if due, err := r.meta(ctx, q, metaForkDue); err != nil || due != "" {
		return due != "", err
	}
	s, err := r.meta(ctx, q, "sent_seq")
	if err != nil || s == "" {
		return false, err
	}
	sent, err := r.noteUint("sent_seq", s)
	if err != nil {
		return false, err
	}
	return pushed > sent, nil
}
