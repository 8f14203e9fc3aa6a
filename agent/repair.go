package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Repair rebuilds a damaged replica (damage.go) in place:
//
//  1. the damaged file (and its write-ahead log) is moved aside under a
//     timestamped name and kept as it was, for IT staff;
//  2. every row state, change-log entry, conflict and setting that can
//     still be read is read from a scratch copy of it, table by table in
//     key ranges, skipping the ranges SQLite cannot read;
//  3. a fresh replica with the same replica id and sequence counter
//     receives them; pending changes whose log entry was lost are rebuilt
//     from the row versions that carry them, and rows lost with their
//     pending changes from those changes;
//  4. it takes the replica's name, and the marker goes.
//
// The fresh replica is set to clone its scope again at its next sync
// (after pushing), which brings back from the server every synced row the
// damage took, and to close, once the server says what it holds, any gap
// the lost log entries left in its sequence (closeRepairGaps).
//
// A repair cut short resumes: the marker remembers where the damaged file
// went, and Open refuses to create a new replica meanwhile.
func Repair(ctx context.Context, path string, opts Options) (*RepairReport, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	mark, err := readMark(path)
	if err != nil {
		return nil, err
	}
	if mark == nil {
		if _, err := os.Stat(path); err != nil {
			return nil, ErrNotDamaged
		}
		if err := checkBeforeRepair(ctx, path, opts); err != nil {
			return nil, err
		}
		if mark, err = readMark(path); err != nil {
			return nil, err
		}
		if mark == nil { // the marker could not be written (a full disk)
			mark = &damageMark{At: opts.Now().UTC(), Reason: "damaged"}
		}
	}
	if mark.Kept != "" && exists(mark.Kept) && exists(path) {
		// The damaged file was moved aside and a file took its name
		// again: only the repair's own replica does (Open creates none
		// while the marker is there). A repair that stopped before
		// removing the marker: it is done.
		return &RepairReport{Kept: mark.Kept, Done: true}, removeMark(path)
	}
	if mark.Kept == "" {
		// A name no earlier repair used (two may fall in one second).
		base := fmt.Sprintf("%s.damaged-%s", path, opts.Now().Format("20060102-150405"))
		mark.Kept = base
		for n := 2; exists(mark.Kept) || exists(mark.Kept+"-wal"); n++ {
			mark.Kept = fmt.Sprintf("%s-%d", base, n)
		}
		if err := writeMark(path, mark); err != nil {
			return nil, classifyStore(path, err)
		}
	}
	kept := mark.Kept
	// Move the damaged file and its log aside together (the log holds
	// commits not yet copied into the file); the shared-memory index is
	// rebuilt from them.
	for _, suffix := range []string{"", "-wal"} {
		if exists(path+suffix) && !exists(kept+suffix) {
			if err := os.Rename(path+suffix, kept+suffix); err != nil {
				return nil, fmt.Errorf("keep the damaged file: %w", err)
			}
		}
	}
	if err := removeIfExists(path + "-shm"); err != nil {
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}

	rep := &RepairReport{Kept: kept, Unreadable: map[string]int{}, Rows: map[string]int{}}
	sv := &salvaged{meta: map[string]any{}, unreadable: rep.Unreadable}
	if exists(kept) {
		// Read a scratch copy: SQLite would write its log into the file
		// it opens, and the kept one stays as it was.
		scratch := path + ".salvage"
		defer removeDB(scratch)
		if err := removeDB(scratch); err != nil {
			return nil, err
		}
		for _, suffix := range []string{"", "-wal"} {
			if exists(kept + suffix) {
				if err := copyFile(kept+suffix, scratch+suffix); err != nil {
					return nil, classifyStore(path, fmt.Errorf("copy the damaged file: %w", err))
				}
			}
		}
		if err := sv.read(ctx, scratch); err != nil {
			return nil, err
		}
		if len(sv.unreadable) > 0 {
			// Some of it SQLite could not read: read the kept file page
			// by page for the rows it missed (rawsalvage.go).
			raw, err := rawRecords(kept)
			if err != nil {
				return nil, err
			}
			sv.merge(raw)
		}
	} else {
		rep.Unreadable["file"]++
	}

	fresh := path + ".repair"
	if err := removeDB(fresh); err != nil {
		return nil, err
	}
	if err := buildRepaired(ctx, fresh, sv, opts, rep); err != nil {
		removeDB(fresh)
		return nil, classifyStore(fresh, err)
	}
	if err := os.Rename(fresh, path); err != nil {
		return nil, fmt.Errorf("put the repaired replica in place: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return rep, removeMark(path)
}

// ErrNotDamaged: Repair found nothing to repair.
var ErrNotDamaged = errors.New("agent: the replica is not damaged")

// checkBeforeRepair opens an unmarked replica and checks it: a damaged one
// is marked (by Open or DamageCheck) and repaired; a sound one is left.
func checkBeforeRepair(ctx context.Context, path string, opts Options) error {
	r, err := OpenWith(ctx, path, opts)
	if err == nil {
		err = r.DamageCheck(ctx)
		r.Close()
		if err == nil {
			return ErrNotDamaged
		}
	}
	if errors.Is(err, ErrCorrupt) {
		return nil
	}
	return err
}

// RepairReport is what a repair saved and what it could not.
type RepairReport struct {
	// Kept is the damaged file, as it was.
	Kept string `json:"kept"`
	// Done: an earlier repair had finished all but removing its marker.
	Done bool `json:"done,omitempty"`
	// Rows counts the rows read, by table.
	Rows map[string]int `json:"rows"`
	// Pending is the changes not yet acknowledged by the server that were
	// saved: read from the change log, or rebuilt from the row versions
	// that carry them (Rebuilt of them).
	Pending int `json:"pending"`
	Rebuilt int `json:"rebuilt"`
	// RowsFromChanges is rows whose state was lost, rebuilt from their
	// pending changes.
	RowsFromChanges int `json:"rows_from_changes"`
	// Rejected is the refused changes kept for `rejected`; Conflicts the
	// conflict log entries kept.
	Rejected  int `json:"rejected"`
	Conflicts int `json:"conflicts"`
	// Unreadable counts, by table, the parts of the file that could not be
	// read ("file": the damaged file itself was gone).
	Unreadable map[string]int `json:"unreadable,omitempty"`
	// Undecodable is rows whose bytes were readable but not a row state.
	Undecodable int `json:"undecodable,omitempty"`
	// LostPending is changes never sent whose content could not be read
	// anywhere: made on this laptop, on no other copy.
	LostPending int `json:"lost_pending"`
	// LostUnknown: the sequence counter was unreadable (the settings, or
	// the file's schema, were in the damaged part), so whether unsent
	// changes were lost cannot be told.
	LostUnknown bool `json:"lost_pending_unknown,omitempty"`
	// NewReplicaID: the replica id was unreadable; the replica got a new
	// one and this laptop must be enrolled again.
	NewReplicaID bool `json:"new_replica_id,omitempty"`
	// NotEnrolled: the enrollment was unreadable (or there was none).
	NotEnrolled bool `json:"not_enrolled,omitempty"`
}

// Lost reports whether anything made only on this laptop is gone.
func (rep *RepairReport) Lost() bool { return rep.LostPending > 0 || rep.LostUnknown }

// salvaged is what could be read from a damaged replica.
type salvaged struct {
	meta       map[string]any
	states     []*rowState
	outbox     tableRows
	conflicts  tableRows
	unreadable map[string]int
	// undecodable is rows read whose state did not decode.
	undecodable int
}

// tableRows are rows of one table with their column names.
type tableRows struct {
	cols []string
	rows [][]any
}

func (t tableRows) col(row []any, name string) any {
	for i, c := range t.cols {
		if c == name {
			return row[i]
		}
	}
	return nil
}

// salvageBudget bounds the probes spent finding where reading can go on
// past the damage in one table.
const salvageBudget = 4000

// salvageBatch is the rows one range query reads.
const salvageBatch = 512

func (sv *salvaged) read(ctx context.Context, file string) error {
	// writable_schema: SQLite then loads what it can read of a damaged
	// schema instead of refusing every table.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: file}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=writable_schema(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := &salvager{ctx: ctx, db: db, unreadable: sv.unreadable}
	// The settings (the replica id, the sequence counter, the
	// enrollment): a small table, read from both ends.
	s.ends("agent_meta", "key", []string{"key", "value"}, func(row []any) {
		if k, ok := row[0].(string); ok {
			sv.meta[k] = row[1]
		}
	})
	s.keyed("row_state", "id", []string{"id", "tbl", "scope", "state"}, uuidSpace, func(row []any) {
		idText, _ := row[0].(string)
		table, _ := row[1].(string)
		scope, _ := row[2].(string)
		blob, _ := row[3].([]byte)
		id, err := uuid.Parse(idText)
		if err != nil || table == "" {
			sv.undecodable++
			return
		}
		st, err := decodeState(table, id, scope, blob)
		if err != nil {
			sv.undecodable++
			return
		}
		sv.states = append(sv.states, st)
	})
	sv.outbox = s.rows("outbox", "seq")
	sv.conflicts = s.rows("conflicts", "id")
	return ctx.Err()
}

// merge adds the rows read page by page that SQLite did not return.
func (sv *salvaged) merge(raw *rawRows) {
	for k, v := range raw.meta {
		if _, ok := sv.meta[k]; !ok {
			sv.meta[k] = v
		}
	}
	have := map[string]bool{}
	for _, st := range sv.states {
		have[st.id.String()] = true
	}
	for _, r := range raw.states {
		idText := r[0].(string)
		if have[idText] {
			continue
		}
		id, _ := uuid.Parse(idText)
		st, err := decodeState(r[1].(string), id, r[2].(string), r[4].([]byte))
		if err != nil {
			sv.undecodable++
			continue
		}
		have[idText] = true
		sv.states = append(sv.states, st)
	}
	sv.outbox = mergeRows(sv.outbox, raw.outbox, outboxBase)
	sv.conflicts = mergeRows(sv.conflicts, raw.conflicts, conflictsBase)
}

// mergeRows adds raw records (fields in declaration order, key first) to
// rows read by SQLite, by key.
func mergeRows(t tableRows, raw [][]any, base []string) tableRows {
	if len(t.cols) == 0 {
		t.cols = base
	}
	have := map[int64]bool{}
	for _, r := range t.rows {
		if k, ok := r[0].(int64); ok {
			have[k] = true
		}
	}
	for _, r := range raw {
		k := r[0].(int64)
		if have[k] {
			continue
		}
		have[k] = true
		row := make([]any, len(t.cols))
		copy(row, r)
		t.rows = append(t.rows, row)
	}
	sort.Slice(t.rows, func(i, j int) bool {
		a, _ := t.rows[i][0].(int64)
		b, _ := t.rows[j][0].(int64)
		return a < b
	})
	return t
}

// salvager reads what it can of one damaged file.
type salvager struct {
	ctx        context.Context
	db         *sql.DB
	unreadable map[string]int
	probes     int // probes spent on the current table
}

// columns are a table's columns as the damaged file declares them (its
// schema may be older or newer than this build's; buildRepaired keeps the
// ones both know).
func (s *salvager) columns(table string) []string {
	rows, err := s.db.QueryContext(s.ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if rows.Scan(&c) != nil {
			return nil
		}
		cols = append(cols, c)
	}
	if rows.Err() != nil {
		return nil
	}
	return cols
}

// query runs one range query, handing each row to each; it returns the
// rows read, the last key read, and the error that stopped it.
func (s *salvager) query(q string, cols int, each func([]any), args ...any) (n int, last any, err error) {
	rows, err := s.db.QueryContext(s.ctx, q, args...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		row := make([]any, cols)
		ptrs := make([]any, cols)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, last, err
		}
		n++
		last = row[0]
		each(row)
	}
	return n, last, rows.Err()
}

// rows reads a table keyed by its integer rowid (key), every column.
func (s *salvager) rows(table, key string) tableRows {
	out := tableRows{cols: s.columns(table)}
	if len(out.cols) == 0 || out.cols[0] != key {
		s.unreadable[table]++
		return out
	}
	s.keyed(table, key, out.cols, intSpace, func(row []any) { out.rows = append(out.rows, row) })
	sort.Slice(out.rows, func(i, j int) bool {
		a, _ := out.rows[i][0].(int64)
		b, _ := out.rows[j][0].(int64)
		return a < b
	})
	return out
}

// keySpace maps a table's keys to numbers in key order, so the salvager
// can jump past an unreadable range of keys.
type keySpace struct {
	lo, hi *big.Int
	arg    func(*big.Int) any         // the number as a query argument
	num    func(any) (*big.Int, bool) // a key read back as a number
}

var (
	// intSpace: sequences and conflict ids count from 1; 2^48 is far
	// above either.
	intSpace = keySpace{
		lo:  big.NewInt(-1 << 48),
		hi:  big.NewInt(1 << 48),
		arg: func(n *big.Int) any { return n.Int64() },
		num: func(v any) (*big.Int, bool) {
			k, ok := v.(int64)
			return big.NewInt(k), ok
		},
	}
	// uuidSpace: row ids in their canonical text, whose order is the
	// order of their 128-bit values.
	uuidSpace = keySpace{
		lo: new(big.Int),
		hi: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)),
		arg: func(n *big.Int) any {
			var id uuid.UUID
			n.FillBytes(id[:])
			return id.String()
		},
		num: func(v any) (*big.Int, bool) {
			s, _ := v.(string)
			id, err := uuid.Parse(s)
			return new(big.Int).SetBytes(id[:]), err == nil
		},
	}
)

var one = big.NewInt(1)

// keyed reads a table in key order. Where a read fails (a damaged page),
// it looks for the nearest key from which reading works again, galloping
// then bisecting, and goes on from there: what lies between is counted
// unreadable.
func (s *salvager) keyed(table, key string, cols []string, ks keySpace, each func([]any)) {
	s.probes = 0
	seen := map[string]bool{}
	once := func(row []any) {
		k := fmt.Sprint(row[0])
		if seen[k] {
			return
		}
		seen[k] = true
		each(row)
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table + ` WHERE ` + key + ` >= ? AND ` + key + ` <= ? ORDER BY ` + key + ` LIMIT ?`
	hi := ks.arg(ks.hi)
	// probe: can a read start at k?
	probe := func(k *big.Int) bool {
		s.probes++
		_, _, err := s.query(q, len(cols), func([]any) {}, ks.arg(k), hi, 1)
		return err == nil
	}
	cur := new(big.Int).Set(ks.lo)
	for cur.Cmp(ks.hi) <= 0 && s.ctx.Err() == nil {
		n, last, err := s.query(q, len(cols), once, ks.arg(cur), hi, salvageBatch)
		if n > 0 {
			k, ok := ks.num(last)
			if !ok || k.Cmp(cur) < 0 {
				// A key out of order: the page lies; skip past it.
				err = errors.New("key out of order")
			} else {
				cur = k.Add(k, one)
			}
		}
		if err == nil {
			if n < salvageBatch {
				return
			}
			continue
		}
		s.unreadable[table]++
		// Gallop: cur fails; try cur+1, cur+2, cur+4, ... until a read
		// works, then bisect back to the first key where it does.
		failed := new(big.Int).Set(cur)
		step := big.NewInt(1)
		var works *big.Int
		for s.probes < salvageBudget {
			p := new(big.Int).Add(failed, step)
			if p.Cmp(ks.hi) > 0 {
				break
			}
			if probe(p) {
				works = p
				break
			}
			failed = p
			step.Lsh(step, 1)
		}
		if works == nil {
			return // nothing readable after the damage
		}
		for s.probes < salvageBudget {
			gap := new(big.Int).Sub(works, failed)
			if gap.Cmp(one) <= 0 {
				break
			}
			m := new(big.Int).Add(failed, gap.Rsh(gap, 1))
			if probe(m) {
				works = m
			} else {
				failed = m
			}
		}
		cur = works
	}
}

// ends reads a small table keyed by text from its start until a read
// fails, then from its end backwards until one fails.
func (s *salvager) ends(table, key string, cols []string, each func([]any)) {
	sel := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table
	_, _, err := s.query(sel+` ORDER BY `+key, len(cols), each)
	if err == nil {
		return
	}
	s.unreadable[table]++
	_, _, _ = s.query(sel+` ORDER BY `+key+` DESC`, len(cols), each)
}

// metaSkipped are the settings a repaired replica does not take over: the
// pull position and the state of a clone or back-fill under way (it
// clones again), and what buildRepaired sets itself.
var metaSkipped = map[string]bool{
	"replica_id": true, "seq": true, "cursor": true, "durable_sent": true, metaReclone: true,
	"clone_head": true, "clone_table": true, "clone_row": true, "clone_total": true, "clone_done": true,
	"clone_indexes": true, metaBackfillScopes: true, metaBackfillCursor: true, "last_sync_error": true,
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
	if e, ok := sv.meta["enrollment"].(string); !ok || e == "" {
		rep.NotEnrolled = true
	}
	// Before the transaction: it holds the one connection.
	cols := commonColumns(r, "outbox", sv.outbox.cols)
	ccols := commonColumns(r, "conflicts", sv.conflicts.cols)
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
	// says it holds before they are sent).
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
			if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, scope, code, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
	for k, v := range map[string]any{
		"replica_id": self.String(), "seq": int64(seq), "sent_seq": int64(sent), "cursor": int64(0),
		metaReclone: int64(1), metaRepairGaps: int64(1),
	} {
		if err := t.setMeta(k, v); err != nil {
			return err
		}
	}
	return t.commit()
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
func (r *Replica) closeRepairGaps(ctx context.Context, pushed uint64) error {
	flag, err := r.metaInt(ctx, r.db, metaRepairGaps)
	if err != nil || flag == 0 {
		return err
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM outbox WHERE code = ? AND state = ? AND seq <= ?`, salvagedCode, outboxPending, int64(pushed)); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if _, err := r.db.ExecContext(ctx, `UPDATE outbox SET code = '' WHERE code = ? AND state = ?`, salvagedCode, outboxPending); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	var lo, hi sql.NullInt64
	var n int64
	if err := r.db.QueryRowContext(ctx, `SELECT min(seq), max(seq), count(*) FROM outbox WHERE seq > ?`, int64(pushed)).Scan(&lo, &hi, &n); err != nil {
		return fmt.Errorf("close repair gaps: %w", err)
	}
	if n > 0 && (uint64(lo.Int64) != pushed+1 || hi.Int64-lo.Int64+1 != n) {
		if _, err := r.renumberAbove(ctx, pushed, pushed); err != nil {
			return err
		}
	} else if seq, err := r.metaInt(ctx, r.db, "seq"); err != nil {
		return err
	} else if n == 0 && uint64(seq) != pushed {
		// Every change above pushed was lost: the next one follows pushed.
		if err := setMeta(ctx, r.db, "seq", int64(pushed)); err != nil {
			return err
		}
	}
	if seq, err := r.metaInt(ctx, r.db, "seq"); err != nil {
		return err
	} else if uint64(seq) < pushed {
		if err := setMeta(ctx, r.db, "seq", int64(pushed)); err != nil {
			return err
		}
	}
	_, err = r.db.ExecContext(ctx, `DELETE FROM agent_meta WHERE key = ?`, metaRepairGaps)
	return err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// removeDB removes a SQLite file with its log and index.
func removeDB(path string) error {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := removeIfExists(path + suffix); err != nil {
			return err
		}
	}
	return nil
}

func removeMark(path string) error {
	if err := removeIfExists(markerPath(path)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
