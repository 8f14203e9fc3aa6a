package agent

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Record is one row as the volunteer sees it: current values, kinds kept
// (bool, int64, float64, string), including fields this build does not know.
type Record struct {
	ID      string         `json:"id"`
	Table   string         `json:"table"`
	Hamlet  string         `json:"hamlet_code"`
	Deleted bool           `json:"deleted"`
	Fields  map[string]any `json:"fields"`
}

func (s *rowState) record() Record {
	rec := Record{ID: s.id.String(), Table: s.table, Hamlet: s.scope, Deleted: s.deleted(), Fields: map[string]any{}}
	for f, v := range s.cur {
		if f == syncproto.TombstoneField {
			continue
		}
		rec.Fields[f] = v.Value.Any()
	}
	return rec
}

// Str returns a string field ("" when absent).
func (rec Record) Str(field string) string {
	s, _ := rec.Fields[field].(string)
	return s
}

// ListOptions filters List.
type ListOptions struct {
	Hamlet         string // only this hamlet
	Household      string // only records of this household (child tables)
	IncludeDeleted bool
	Limit          int
}

// listOrder is how each table is listed.
var listOrder = map[string]string{
	"households":       "hamlet_code, head_name, id",
	"visits":           "visited_on DESC, id",
	"tutoring_records": "taught_on DESC, id",
	"field_reports":    "submitted_at DESC, id",
}

// List returns the rows of a table, filtered.
func (r *Replica) List(ctx context.Context, table string, o ListOptions) ([]Record, error) {
	if _, err := r.lookup(table); err != nil {
		return nil, err
	}
	q := `SELECT id FROM ` + table + ` WHERE 1=1`
	var args []any
	if !o.IncludeDeleted {
		q += ` AND _deleted = 0`
	}
	if o.Hamlet != "" {
		q += ` AND hamlet_code = ?`
		args = append(args, o.Hamlet)
	}
	if o.Household != "" && table != "households" {
		q += ` AND household_id = ?`
		args = append(args, strings.ToLower(o.Household))
	}
	if table == "households" {
		return r.householdsBy(ctx, strings.Replace(q, `SELECT id FROM`, `SELECT id, hamlet_code, head_name FROM`, 1), o.Limit, args...)
	}
	q += ` ORDER BY ` + listOrder[table]
	if o.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, o.Limit)
	}
	return r.recordsBy(ctx, q, args...)
}

// householdsBy lists the households q selects (id, hamlet_code,
// head_name) by hamlet, then by head's name in Vietnamese order ("Ngô"
// before "Nguyễn", "Đ" after "D": SQLite's ORDER BY compares bytes), then
// keeps the first limit (0: all).
func (r *Replica) householdsBy(ctx context.Context, q string, limit int, args ...any) ([]Record, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var keys []listKey
	for rows.Next() {
		var k listKey
		var hamlet, head sql.NullString
		if err := rows.Scan(&k.id, &hamlet, &head); err != nil {
			rows.Close()
			return nil, err
		}
		k.hamlet, k.head = hamlet.String, head.String
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return r.sortedHouseholds(ctx, keys, limit)
}

// listKey is what households are listed by.
type listKey struct{ id, hamlet, head string }

// sortedHouseholds reads the households keys name, by hamlet, then head's
// name in Vietnamese order, the first limit (0: all).
func (r *Replica) sortedHouseholds(ctx context.Context, keys []listKey, limit int) ([]Record, error) {
	i18n.SortByKeys(keys, func(k listKey) []string { return []string{k.hamlet, k.head, k.id} })
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	ids := make([]syncproto.RowID, 0, len(keys))
	for _, k := range keys {
		id, err := uuid.Parse(k.id)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return r.records(ctx, ids)
}

func (r *Replica) recordsBy(ctx context.Context, q string, args ...any) ([]Record, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
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
		id, err := uuid.Parse(s)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return r.records(ctx, ids)
}

// records reads the rows ids name, in that order.
func (r *Replica) records(ctx context.Context, ids []syncproto.RowID) ([]Record, error) {
	t, err := r.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	states, err := t.getMany(ids)
	if err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		if s := states[id]; s != nil {
			out = append(out, s.record())
		}
	}
	return out, nil
}

// Search finds live households whose head's name, address, phone, hamlet
// code or hamlet name contain every word of query, ignoring case and
// Vietnamese diacritics ("duc" finds "Đức").
func (r *Replica) Search(ctx context.Context, query string, o ListOptions) ([]Record, error) {
	words := SearchWords(query)
	if len(words) == 0 {
		return r.List(ctx, "households", o)
	}
	// Hamlet names live in the enrollment: a word matching one selects its code.
	hamletsByWord := map[string][]string{}
	if e, err := r.Enrollment(ctx); err == nil && e != nil {
		for _, w := range words {
			for _, h := range e.Scope {
				if strings.Contains(Fold(h.Name), w) {
					hamletsByWord[w] = append(hamletsByWord[w], h.Code)
				}
			}
		}
	}
	// The search text is folded from the row table's columns as they are
	// read (stored, it was a fifth of a household's bytes on disk).
	q := `SELECT id, hamlet_code, head_name, address, phone FROM households WHERE 1=1`
	var args []any
	if !o.IncludeDeleted {
		q += ` AND _deleted = 0`
	}
	if o.Hamlet != "" {
		q += ` AND hamlet_code = ?`
		args = append(args, o.Hamlet)
	}
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search households: %w", err)
	}
	defer rows.Close()
	var keys []listKey
	for rows.Next() {
		var id string
		var hamlet, head, address, phone sql.NullString
		if err := rows.Scan(&id, &hamlet, &head, &address, &phone); err != nil {
			return nil, fmt.Errorf("search households: %w", err)
		}
		text := FoldHousehold(head.String, address.String, phone.String, hamlet.String)
		all := true
		for _, w := range words {
			if !strings.Contains(text, w) && !slices.Contains(hamletsByWord[w], hamlet.String) {
				all = false
				break
			}
		}
		if all {
			keys = append(keys, listKey{id: id, hamlet: hamlet.String, head: head.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search households: %w", err)
	}
	rows.Close()
	return r.sortedHouseholds(ctx, keys, o.Limit)
}

// VersionInfo is one value a field has had. HLC and Seq are strings in
// JSON (64-bit, beyond what JavaScript's numbers hold exactly).
type VersionInfo struct {
	Value   any       `json:"value"`
	At      time.Time `json:"at"`
	HLC     uint64    `json:"hlc,string"`
	Origin  string    `json:"origin"` // replica id that wrote it
	Seq     uint64    `json:"seq,string"`
	Mine    bool      `json:"mine"`    // written on this laptop
	Current bool      `json:"current"` // the field's value now
	Lost    bool      `json:"lost"`    // lost to a concurrent write (see conflicts)
	Pending bool      `json:"pending"` // not yet acknowledged by the server
}

// FieldHistory is every value a field has had on this replica, oldest first.
type FieldHistory struct {
	Field    string        `json:"field"`
	Versions []VersionInfo `json:"versions"`
}

// Detail is a row with its full field history and, for a household, its
// visits, tutoring records and reports.
type Detail struct {
	Record
	History  []FieldHistory `json:"history"`
	Visits   []Record       `json:"visits,omitempty"`
	Tutoring []Record       `json:"tutoring,omitempty"`
	Reports  []Record       `json:"reports,omitempty"`
}

// ParseID parses a row id as typed by a volunteer (a bad one is "not found").
func ParseID(table, s string) (syncproto.RowID, error) {
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return uuid.Nil, &NotFoundError{Table: table, ID: s}
	}
	return id, nil
}

// Show returns a row with its history. An id prefix of at least 8
// characters is accepted when it names exactly one row.
func (r *Replica) Show(ctx context.Context, table, id string) (*Detail, error) {
	rid, err := r.ResolveID(ctx, table, id)
	if err != nil {
		return nil, err
	}
	t, err := r.beginRead(ctx)
	if err != nil {
		return nil, err
	}
	st, err := t.get(rid)
	if err != nil {
		t.rollback()
		return nil, err
	}
	pending := map[uint64]bool{}
	rows, err := t.tx.QueryContext(ctx, `SELECT seq FROM outbox WHERE row_id = ? AND state = ?`, rid.String(), outboxPending)
	if err != nil {
		t.rollback()
		return nil, err
	}
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err == nil {
			pending[uint64(s)] = true
		}
	}
	rows.Close()
	es, err := t.rowEntries(`row_id = ? AND state = ?`, rid.String(), outboxPending)
	if err != nil {
		t.rollback()
		return nil, err
	}
	for _, e := range es {
		for s := e.seq; s <= e.last(); s++ {
			pending[s] = true
		}
	}
	t.rollback()
	if st == nil || (table != "" && st.table != table) {
		return nil, &NotFoundError{Table: table, ID: id}
	}
	d := &Detail{Record: st.record()}
	byField := map[string][]VersionInfo{}
	info := func(v syncproto.Version, cur, lost bool) VersionInfo {
		return VersionInfo{Value: v.Value.Any(), At: v.HLC.Time(), HLC: uint64(v.HLC), Origin: v.Dot.Replica.String(), Seq: v.Dot.Seq,
			Mine: r.mine(v.Dot.Replica), Current: cur, Lost: lost, Pending: v.Dot.Replica == r.id && pending[v.Dot.Seq]}
	}
	for _, h := range st.hist {
		byField[h.Field] = append(byField[h.Field], info(h.Ver, false, h.Lost))
	}
	for f, v := range st.cur {
		byField[f] = append(byField[f], info(*v, true, false))
	}
	for f, vs := range byField {
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].HLC < vs[j].HLC })
		d.History = append(d.History, FieldHistory{Field: f, Versions: vs})
	}
	sort.Slice(d.History, func(i, j int) bool { return d.History[i].Field < d.History[j].Field })
	if st.table == "households" {
		o := ListOptions{Household: rid.String()}
		if d.Visits, err = r.List(ctx, "visits", o); err != nil {
			return nil, err
		}
		if d.Tutoring, err = r.List(ctx, "tutoring_records", o); err != nil {
			return nil, err
		}
		if d.Reports, err = r.List(ctx, "field_reports", o); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ResolveID accepts a full id, or a unique prefix of at least 8 characters
// (what the readable tables print).
func (r *Replica) ResolveID(ctx context.Context, table, s string) (syncproto.RowID, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if id, err := uuid.Parse(s); err == nil {
		return id, nil
	}
	if len(s) < 8 || strings.ContainsAny(s, "%_\\'") {
		return uuid.Nil, &NotFoundError{Table: table, ID: s}
	}
	q := `SELECT id FROM row_state WHERE id >= ? AND id < ?`
	args := []any{s, s + "~"}
	if table != "" {
		q += ` AND tbl = ?`
		args = append(args, table)
	}
	rows, err := r.db.QueryContext(ctx, q+` LIMIT 2`, args...)
	if err != nil {
		return uuid.Nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return uuid.Nil, err
		}
		ids = append(ids, id)
	}
	if len(ids) != 1 {
		return uuid.Nil, &NotFoundError{Table: table, ID: s}
	}
	return uuid.Parse(ids[0])
}

// Status is what `hamlet-agent status` shows. The 64-bit Offset and Cursor
// are strings in JSON (a clock a year off is 3·10^16 ns, beyond 2^53).
type Status struct {
	ReplicaID  string      `json:"replica_id"`
	Path       string      `json:"path"`
	Enrolled   bool        `json:"enrolled"`
	Enrollment *Enrollment `json:"enrollment,omitempty"`
	// EnrollmentLeftOut: not enrolled because a repair left out the
	// enrollment (it did not read); the old device is to be revoked
	// before a new code enrolls (Replica.EnrollmentLeftOut).
	EnrollmentLeftOut bool          `json:"enrollment_left_out,omitempty"`
	Pending           int           `json:"pending"`
	Rejected          int           `json:"rejected"`
	Conflicts         int           `json:"conflicts"`
	Households        int           `json:"households"`
	LastSync          *time.Time    `json:"last_sync,omitempty"`
	Offset            time.Duration `json:"clock_offset_ns,string"`
	OffsetText        string        `json:"clock_offset"`
	ClockWarn         bool          `json:"clock_warning"`
	// ClockSetBack: the clock was set back since the last sync measured
	// it (Replica.ClockSetBack); new records are dated by it.
	ClockSetBack bool   `json:"clock_set_back"`
	Cursor       uint64 `json:"cursor,string"`
	LastSyncErr  string `json:"last_sync_error,omitempty"`
	Schema       int    `json:"schema"` // the data schema this agent runs
	// Damaged: the replica is marked damaged (damage.go); writes wait for
	// `hamlet-agent repair`.
	Damaged bool `json:"damaged,omitempty"`
	// CloneDone and CloneTotal, set while a clone is under way (cut, to be
	// resumed by the next sync), are the rows it stored and the rows of
	// the snapshot: until it ends the laptop holds only part of the team's
	// records, and a household not found here may be on the server.
	CloneDone  int `json:"clone_done,omitempty"`
	CloneTotal int `json:"clone_total,omitempty"`
}

// liveCountSQL counts table's rows that are not deleted: all rows less the
// deleted ones, since SQLite counts a whole index page by page (the cells
// each holds), where a count of _deleted = 0 steps through every entry and
// compares it (issue 20). _deleted is NOT NULL, so every row is below, at
// or above 0.
func liveCountSQL(table string) string {
	return `SELECT (SELECT count(*) FROM ` + table + `) - (SELECT count(*) FROM ` + table + ` WHERE _deleted < 0) - (SELECT count(*) FROM ` + table + ` WHERE _deleted > 0)`
}

// Status reports pending changes, last sync, clock offset and scope.
func (r *Replica) Status(ctx context.Context) (*Status, error) {
	s := &Status{ReplicaID: r.id.String(), Path: r.path, Schema: r.sch.Version()}
	s.Damaged, _ = r.Damaged()
	var err error
	if s.Enrollment, err = r.Enrollment(ctx); err != nil {
		return nil, err
	}
	s.Enrolled = s.Enrollment != nil
	s.EnrollmentLeftOut = !s.Enrolled && r.EnrollmentLeftOut(ctx)
	counts := []struct {
		q   string
		dst *int
	}{
		{`SELECT (SELECT count(*) FROM outbox WHERE state = 0 AND code NOT IN ('` + salvagedCode + `', '` + discardedCode + `')) + ` + rowEntriesPending, &s.Pending},
		{`SELECT count(*) FROM outbox WHERE state = 2`, &s.Rejected},
		{`SELECT count(*) FROM conflicts WHERE restored_at IS NULL`, &s.Conflicts},
		{liveCountSQL("households"), &s.Households},
	}
	for _, c := range counts {
		if err := r.db.QueryRowContext(ctx, c.q).Scan(c.dst); err != nil {
			return nil, err
		}
	}
	if ms, err := r.metaInt(ctx, r.db, "last_sync"); err != nil {
		return nil, err
	} else if ms > 0 {
		t := time.UnixMilli(ms)
		s.LastSync = &t
	}
	off, err := r.metaInt(ctx, r.db, "offset_ms")
	if err != nil {
		return nil, err
	}
	s.Offset = time.Duration(off) * time.Millisecond
	s.OffsetText = s.Offset.String()
	s.ClockWarn = s.Offset > syncproto.ClockWarnAfter || -s.Offset > syncproto.ClockWarnAfter
	wall, err := r.metaInt(ctx, r.db, "offset_wall_ms") // another process may have synced
	if err != nil {
		return nil, err
	}
	back, err := r.metaInt(ctx, r.db, metaClockSetBack)
	if err != nil {
		return nil, err
	}
	s.ClockSetBack = back != 0 || clockSetBack(r.now(), wall)
	cur, err := r.metaInt(ctx, r.db, "cursor")
	if err != nil {
		return nil, err
	}
	s.Cursor = uint64(cur)
	if s.LastSyncErr, err = r.meta(ctx, r.db, "last_sync_error"); err != nil {
		return nil, err
	}
	if s.CloneDone, s.CloneTotal, err = r.CloneUnderWay(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// CloneUnderWay tells a clone cut before its end (the next sync resumes
// it): the rows it stored and the snapshot's rows (total 0: none under
// way). Until it ends the laptop holds only part of the team's records.
func (r *Replica) CloneUnderWay(ctx context.Context) (done, total int, err error) {
	c, err := r.loadClone(ctx)
	if err != nil || c.head == 0 {
		return 0, 0, err
	}
	return int(c.done), int(max(c.total, c.done, 1)), nil
}

// Pending is the number of local changes not yet acknowledged by the server.
func (r *Replica) Pending(ctx context.Context) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox WHERE state = 0) + `+rowEntriesPending).Scan(&n)
	return n, err
}
