package agent

import (
	"context"
	"database/sql"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// What the volunteer's web app (agent/app) asks the replica besides what
// the CLI does: a cheap "did anything change" for the indexes it keeps in
// memory, the households without decoding their states, which households
// were reached in a period or taught a skill, and a visit recorded with the
// skills taught during it in one transaction.

// Mark tells whether the replica may have changed: it moves with every
// write transaction this process commits and with every commit another
// process (a CLI command beside the app) makes to the file. Equal marks
// mean no row changed in between.
type Mark struct {
	local uint64 // write transactions committed through this Replica
	file  int64  // SQLite's data_version: commits by other connections
}

// Mark reads the replica's change mark.
func (r *Replica) Mark(ctx context.Context) (Mark, error) {
	var dv int64
	if err := r.db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&dv); err != nil {
		return Mark{}, err
	}
	return Mark{local: r.commits.Load(), file: dv}, nil
}

// Today is the date in Vietnam ("YYYY-MM-DD") by this replica's clock,
// corrected by the offset the server gave at the last sync: the date a new
// record takes by default and the bound CheckWrite puts on dates.
func (r *Replica) Today() string { return r.today() }

// Schema is the data model this replica runs.
func (r *Replica) Schema() *schema.Registry { return r.sch }

// HouseholdEntry is one household as a list or a search shows it, read
// from the projection without decoding its versions.
type HouseholdEntry struct {
	// Pos is where the row's last write stands in the table's order of
	// writes (HouseholdsWritten).
	Pos     int64
	ID      string
	Hamlet  string
	Head    string
	Address string
	Phone   string
	// Active: not marked as moved away or dissolved. A household whose
	// flag was never set counts as active, as coverage counts it.
	Active  bool
	Deleted bool
}

// Written rows. Every write of a row's projection gives the row a new
// SQLite rowid above every rowid in its table, its own old one included
// (save writes it with INSERT OR REPLACE, which takes the new rowid
// before it removes the old row), so a reader that keeps the highest
// position it has read asks again only for what was written since, here
// or by another process. A row removed for good (an eviction, a
// re-clone, a collected tombstone) leaves no trace there; the table's
// Written tells the reader, who knows the positions it holds, that the
// table holds other rows than it thinks.

// Written sums up a table's rows: how many, and the sum of their
// positions.
type Written struct {
	Rows   int
	PosSum int64
}

// HouseholdsWritten returns the households written after position from
// (0: all of them), deleted ones included, and the table's Written, read
// in the same transaction.
func (r *Replica) HouseholdsWritten(ctx context.Context, from int64) ([]HouseholdEntry, Written, error) {
	var w Written
	t, err := r.beginRead(ctx)
	if err != nil {
		return nil, w, err
	}
	defer t.rollback()
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(rowid), 0) FROM households`).Scan(&w.Rows, &w.PosSum); err != nil {
		return nil, w, err
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT rowid, id, hamlet_code, head_name, address, phone, active, _deleted
		FROM households WHERE rowid > ? ORDER BY rowid`, from)
	if err != nil {
		return nil, w, err
	}
	defer rows.Close()
	var out []HouseholdEntry
	for rows.Next() {
		var e HouseholdEntry
		var hamlet, head, addr, phone sql.NullString
		var active sql.NullInt64
		if err := rows.Scan(&e.Pos, &e.ID, &hamlet, &head, &addr, &phone, &active, &e.Deleted); err != nil {
			return nil, w, err
		}
		e.Hamlet, e.Head, e.Address, e.Phone = hamlet.String, head.String, addr.String, phone.String
		e.Active = !active.Valid || active.Int64 != 0
		out = append(out, e)
	}
	return out, w, rows.Err()
}

// Activity is a visit or a tutoring record as coverage counts it.
type Activity struct {
	Pos       int64 // as HouseholdEntry.Pos
	Household string
	Hamlet    string
	Date      string // visited_on, taught_on
	Skill     string // a tutoring record's
	Deleted   bool
}

// ActivityWritten returns the visits (table "visits") or the tutoring
// records ("tutoring_records") written after position from, and how many
// rows the table holds.
func (r *Replica) ActivityWritten(ctx context.Context, table string, from int64) ([]Activity, int, error) {
	var q string
	switch table {
	case "visits":
		q = `SELECT rowid, household_id, hamlet_code, visited_on, '', _deleted FROM visits WHERE rowid > ? ORDER BY rowid`
	case "tutoring_records":
		q = `SELECT rowid, household_id, hamlet_code, taught_on, skill, _deleted FROM tutoring_records WHERE rowid > ? ORDER BY rowid`
	default:
		return nil, 0, &schema.ValidationError{Table: table, Code: schema.CodeUnknownTable}
	}
	t, err := r.beginRead(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer t.rollback()
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		return nil, 0, err
	}
	rows, err := t.tx.QueryContext(ctx, q, from)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Activity
	for rows.Next() {
		var a Activity
		var hh, hamlet, date, skill sql.NullString
		if err := rows.Scan(&a.Pos, &hh, &hamlet, &date, &skill, &a.Deleted); err != nil {
			return nil, 0, err
		}
		a.Household, a.Hamlet, a.Date, a.Skill = hh.String, hamlet.String, date.String, skill.String
		out = append(out, a)
	}
	return out, n, rows.Err()
}

// LastWritten is the highest write position of a synced table and how
// many rows it holds: where a reader of its writes starts after it read
// the table another way (HouseholdsReached, HouseholdsTaught).
func (r *Replica) LastWritten(ctx context.Context, table string) (pos int64, n int, err error) {
	if _, ok := r.cols[table]; !ok {
		return 0, 0, &schema.ValidationError{Table: table, Code: schema.CodeUnknownTable}
	}
	var p sql.NullInt64
	err = r.db.QueryRowContext(ctx, `SELECT (SELECT max(rowid) FROM `+table+`), (SELECT count(*) FROM `+table+`)`).Scan(&p, &n)
	return p.Int64, n, err
}

// FoldHousehold is a household's search text: its head, address, phone
// and hamlet as Fold makes them, what Search compares words with.
func FoldHousehold(head, address, phone, hamlet string) string {
	return Fold(head + " " + address + " " + phone + " " + hamlet)
}

// HouseholdsReached returns the households of the given hamlets with a
// live visit or tutoring record dated from..to ("YYYY-MM-DD", inclusive):
// the numerator of coverage (DESIGN.md, "What leaders see").
func (r *Replica) HouseholdsReached(ctx context.Context, hamlets []string, from, to string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(hamlets) == 0 {
		return out, nil
	}
	in := `(?` + strings.Repeat(",?", len(hamlets)-1) + `)`
	// By hamlet and date: the indexes (hamlet_code, visited_on) and
	// (hamlet_code, taught_on) answer it without a scan of the table.
	q := `SELECT household_id FROM visits WHERE hamlet_code IN ` + in + ` AND visited_on BETWEEN ? AND ? AND _deleted = 0
		UNION SELECT household_id FROM tutoring_records WHERE hamlet_code IN ` + in + ` AND taught_on BETWEEN ? AND ? AND _deleted = 0`
	args := make([]any, 0, 2*len(hamlets)+4)
	for range 2 {
		for _, h := range hamlets {
			args = append(args, h)
		}
		args = append(args, from, to)
	}
	return r.idSet(ctx, q, args...)
}

// HouseholdsTaught returns the households with a live tutoring record of
// skill, whatever its date and outcome.
func (r *Replica) HouseholdsTaught(ctx context.Context, skill string) (map[string]bool, error) {
	return r.idSet(ctx, `SELECT DISTINCT household_id FROM tutoring_records WHERE skill = ? AND _deleted = 0`, skill)
}

func (r *Replica) idSet(ctx context.Context, q string, args ...any) (map[string]bool, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id sql.NullString
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if id.Valid {
			out[id.String] = true
		}
	}
	return out, rows.Err()
}

// AddVisitWithTutoring records a visit and the skills taught during it in
// one transaction: all of them are saved, or none (a form that records a
// visit and two skills never leaves the visit without its skills). visit
// takes the fields AddVisit takes; each of tutoring those AddTutoring
// takes, with the visit's date unless it says otherwise.
//
// With WithID, the id is the visit's: a save that arrives again finds
// the visit (and the skills saved with it) and adds nothing.
func (r *Replica) AddVisitWithTutoring(ctx context.Context, household syncproto.RowID, visit Fields, tutoring []Fields, opts ...AddOption) (syncproto.RowID, []syncproto.RowID, error) {
	h, err := r.household(ctx, household)
	if err != nil {
		return uuid.Nil, nil, err
	}
	d := Fields{"household_id": household.String(), schema.ScopeField: h.scope}
	if e, err := r.Enrollment(ctx); err != nil {
		return uuid.Nil, nil, err
	} else if e != nil && e.MemberID != "" {
		d["volunteer_id"] = e.MemberID
	} else if visit["volunteer_id"] == nil {
		return uuid.Nil, nil, r.NotEnrolled(ctx)
	}
	if err := r.checkScope(ctx, h.scope); err != nil {
		return uuid.Nil, nil, err
	}
	type row struct {
		table string
		id    syncproto.RowID
		ws    []fieldWrite
	}
	vf := withDefaults(visit, withDefaults(d, Fields{"visited_on": r.today()}))
	vt, err := r.lookup("visits")
	if err != nil {
		return uuid.Nil, nil, err
	}
	ws, err := r.normalize(vt, vf, true)
	if err != nil {
		return uuid.Nil, nil, err
	}
	visitID := uuid.New()
	if o := addOptionsOf(opts); o.id != uuid.Nil {
		visitID = o.id
	}
	rows := []row{{"visits", visitID, ws}}
	tt, err := r.lookup("tutoring_records")
	if err != nil {
		return uuid.Nil, nil, err
	}
	for _, fs := range tutoring {
		if s, ok := fs["skill"].(string); ok {
			if _, known := schema.SkillByCode(s); !known {
				return uuid.Nil, nil, &schema.ValidationError{Table: "tutoring_records", Field: "skill", Code: schema.CodeUnknownEnum}
			}
		}
		ws, err := r.normalize(tt, withDefaults(fs, withDefaults(d, Fields{"taught_on": vf["visited_on"]})), true)
		if err != nil {
			return uuid.Nil, nil, err
		}
		rows = append(rows, row{"tutoring_records", uuid.New(), ws})
	}
	t, err := r.begin(ctx)
	if err != nil {
		return uuid.Nil, nil, err
	}
	defer t.rollback()
	switch st, err := t.get(visitID); {
	case err != nil:
		return uuid.Nil, nil, err
	case st != nil && st.table != "visits":
		return uuid.Nil, nil, &NotFoundError{Table: "visits", ID: visitID.String()}
	case st != nil:
		return visitID, nil, nil // saved before (WithID)
	}
	for _, x := range rows {
		if _, err := r.writeFields(t, newRowState(x.table, x.id, ""), x.ws); err != nil {
			return uuid.Nil, nil, err
		}
	}
	if err := t.commit(); err != nil {
		return uuid.Nil, nil, err
	}
	ids := make([]syncproto.RowID, 0, len(rows)-1)
	for _, x := range rows[1:] {
		ids = append(ids, x.id)
	}
	return rows[0].id, ids, nil
}
