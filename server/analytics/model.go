package analytics

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

// ErrResync tells the model its position in the log is gone: reload.
var ErrResync = errors.New("analytics: log position no longer available, reload")

// ErrUnknownUnit is returned for a unit code the tree does not have.
var ErrUnknownUnit = errors.New("unknown admin unit")

// day is a date as days since 2000-01-01: two bytes cover until 2179.
type day uint16

var dayEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func dayOf(t time.Time) day {
	d := int(t.Sub(dayEpoch).Hours() / 24)
	if d < 1 {
		return 1 // 0 means "no date"
	}
	if d > 65535 {
		return 65535
	}
	return day(d)
}

func parseDay(v any) day {
	s, _ := v.(string)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0
	}
	return dayOf(t)
}

func (d day) Time() time.Time { return dayEpoch.AddDate(0, 0, int(d)) }

type household struct {
	hamlet  int32 // index into Index.hamlets; -1 unknown
	active  bool
	deleted bool
}

type visit struct {
	hh        int32
	on        day
	volunteer int32
	deleted   bool
}

type tutoring struct {
	hh        int32
	on        day
	skill     uint8
	indep     bool
	volunteer int32
	deleted   bool
}

type report struct {
	id                              string
	hamlet                          int32
	category                        uint8
	status                          schema.ReportStatus
	submitted, dispatched, resolved time.Time
	agency, reason, description     string
	location                        string
	reporterName, reporterPhone     string
	consent                         bool
	satisfaction                    int
	volunteer                       int32
	deleted                         bool
	photos                          []string // digests, in the report's order
}

// Index is the read model. It is safe for concurrent use; Refresh takes the
// write lock only while it applies what changed.
type Index struct {
	src Source
	cal *workcal.Calendar

	refreshMu sync.Mutex // one refresh at a time
	mu        sync.RWMutex
	loaded    bool
	head      uint64

	tree     *tree
	treeAt   int64 // the units version tree was built at (UnitsVersioner)
	treeKept bool  // tree is kept while the version stays treeAt
	teams    []Team
	hamlets  []string
	hamletIx map[string]int32
	people   map[string]int32 // volunteer id → index (member ids)

	hh       []household
	hhIx     map[string]int32
	visits   []visit
	visitIx  map[string]int32
	tut      []tutoring
	tutIx    map[string]int32
	reports  []report
	reportIx map[string]int32

	skills  []schema.Skill
	skillIx map[string]uint8
	cats    []schema.ReportCategory
	catIx   map[string]uint8
}

// New makes an empty model; the first Refresh loads it.
func New(src Source, cal *workcal.Calendar) *Index {
	if cal == nil {
		cal = workcal.Default()
	}
	x := &Index{src: src, cal: cal, skills: schema.Skills(), cats: schema.ReportCategories()}
	x.skillIx = map[string]uint8{}
	for i, s := range x.skills {
		x.skillIx[s.Code] = uint8(i)
	}
	x.catIx = map[string]uint8{}
	for i, c := range x.cats {
		x.catIx[c.Code] = uint8(i)
	}
	x.reset()
	return x
}

func (x *Index) reset() {
	x.hamlets, x.hamletIx = nil, map[string]int32{}
	x.people = map[string]int32{}
	x.hh, x.hhIx = nil, map[string]int32{}
	x.visits, x.visitIx = nil, map[string]int32{}
	x.tut, x.tutIx = nil, map[string]int32{}
	x.reports, x.reportIx = nil, map[string]int32{}
	x.loaded = false
	x.head = 0
}

// Calendar is the working calendar deadlines are computed with.
func (x *Index) Calendar() *workcal.Calendar { return x.cal }

// Refresh brings the model up to the log head: a full load the first time
// (or after ErrResync), then only the rows changed since. Admin data (teams,
// members' last sync) is small and reloaded every time; the units too,
// unless the source tells they did not change (UnitsVersioner).
func (x *Index) Refresh(ctx context.Context) error {
	x.refreshMu.Lock()
	defer x.refreshMu.Unlock()
	if err := x.refreshAdmin(ctx); err != nil {
		return err
	}
	x.mu.RLock()
	loaded, head := x.loaded, x.head
	x.mu.RUnlock()

	if loaded {
		refs, to, err := x.src.Changed(ctx, head)
		if errors.Is(err, ErrResync) {
			loaded = false
		} else if err != nil {
			return fmt.Errorf("analytics: read changes after %d: %w", head, err)
		} else {
			return x.apply(ctx, refs, to)
		}
	}
	// Full load: take the head first, so changes racing the load are
	// re-read by the next refresh rather than missed.
	to, err := x.src.Head(ctx)
	if err != nil {
		return fmt.Errorf("analytics: read log head: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.reset()
	for _, table := range loadOrder {
		if err := x.src.Load(ctx, table, nil, func(id string, row map[string]any) error {
			x.put(table, id, row)
			return nil
		}); err != nil {
			return fmt.Errorf("analytics: load %s: %w", table, err)
		}
	}
	x.loaded, x.head = true, to
	return nil
}

// RefreshUnits reloads only the admin data (units, teams, members' last
// sync), for questions about the tree.
func (x *Index) RefreshUnits(ctx context.Context) error {
	x.refreshMu.Lock()
	defer x.refreshMu.Unlock()
	return x.refreshAdmin(ctx)
}

// refreshAdmin reloads the admin data; callers hold refreshMu. The units
// are read, and their tree built, only when their version moved: reading
// them at every question was a tenth of the simulation's CPU (issue 17).
// The version is read before the units, so a change made between the two
// reads is read again at the next refresh, never missed.
func (x *Index) refreshAdmin(ctx context.Context) error {
	vs, versioned := x.src.(UnitsVersioner)
	var at int64
	if versioned {
		var err error
		if at, err = vs.UnitsVersion(ctx); err != nil {
			return fmt.Errorf("analytics: read the units' version: %w", err)
		}
	}
	var t *tree
	if !versioned || !x.treeKept || at != x.treeAt {
		units, err := x.src.Units(ctx)
		if err != nil {
			return fmt.Errorf("analytics: load units: %w", err)
		}
		t = buildTree(units)
	}
	teams, err := x.src.Teams(ctx)
	if err != nil {
		return fmt.Errorf("analytics: load teams: %w", err)
	}
	x.mu.Lock()
	if t != nil {
		x.tree, x.treeAt, x.treeKept = t, at, versioned
	}
	x.teams = teams
	x.mu.Unlock()
	return nil
}

// Households come first so visits and tutoring find their household.
var loadOrder = []string{"households", "visits", "tutoring_records", "field_reports"}

func (x *Index) apply(ctx context.Context, refs []Ref, to uint64) error {
	byTable := map[string][]string{}
	for _, r := range refs {
		byTable[r.Table] = append(byTable[r.Table], r.ID)
	}
	type loadedRow struct {
		table, id string
		row       map[string]any
	}
	var rows []loadedRow
	found := map[Ref]bool{}
	for _, table := range loadOrder {
		ids := byTable[table]
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), 500)]
			ids = ids[len(chunk):]
			if err := x.src.Load(ctx, table, chunk, func(id string, row map[string]any) error {
				// Kept past fn until the write lock is taken: a copy, since
				// the source refills row for the next one (Source.Load).
				rows = append(rows, loadedRow{table, id, maps.Clone(row)})
				found[Ref{Table: table, ID: id}] = true
				return nil
			}); err != nil {
				return fmt.Errorf("analytics: reload %d %s rows: %w", len(chunk), table, err)
			}
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range rows {
		x.put(r.table, r.id, r.row)
	}
	// A row the log named that the tables no longer hold was collected
	// meanwhile (a deleted row whose tombstone every device acknowledged:
	// the server's GC, between Changed and Load). Kept as last seen, live,
	// it was counted for good, where a fresh load counts it nowhere (stop
	// 68, TestReadModelCollectionBetweenChangedAndLoad).
	for _, r := range refs {
		if !found[r] {
			x.gone(r.Table, r.ID)
		}
	}
	if to > x.head {
		x.head = to
	}
	return nil
}

func (x *Index) hamlet(v any) int32 {
	code, _ := v.(string)
	if code == "" {
		return -1
	}
	if i, ok := x.hamletIx[code]; ok {
		return i
	}
	i := int32(len(x.hamlets))
	x.hamlets = append(x.hamlets, code)
	x.hamletIx[code] = i
	return i
}

func (x *Index) person(v any) int32 {
	id, _ := v.(string)
	if i, ok := x.people[id]; ok {
		return i
	}
	i := int32(len(x.people))
	x.people[id] = i
	return i
}

// householdRef returns the household's index, making a placeholder for a
// household not seen yet (a visit can sync before its household).
func (x *Index) householdRef(v any) int32 {
	id, _ := v.(string)
	if i, ok := x.hhIx[id]; ok {
		return i
	}
	i := int32(len(x.hh))
	x.hh = append(x.hh, household{hamlet: -1, deleted: true})
	x.hhIx[id] = i
	return i
}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case int64:
		return t != 0
	case int:
		return t != 0
	}
	return false
}

func millis(v any) time.Time {
	if n, ok := v.(int64); ok && n > 0 {
		return time.UnixMilli(n)
	}
	return time.Time{}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// gone marks a row the tables no longer hold as a fresh load would find
// it: nowhere (a household others still name is a deleted placeholder,
// as householdRef makes one).
func (x *Index) gone(table, id string) {
	switch table {
	case "households":
		if i, ok := x.hhIx[id]; ok {
			x.hh[i] = household{hamlet: -1, deleted: true}
		}
	case "visits":
		if i, ok := x.visitIx[id]; ok {
			x.visits[i].deleted = true
		}
	case "tutoring_records":
		if i, ok := x.tutIx[id]; ok {
			x.tut[i].deleted = true
		}
	case "field_reports":
		if i, ok := x.reportIx[id]; ok {
			x.reports[i].deleted = true
		}
	}
}

// put upserts one row; callers hold the write lock.
func (x *Index) put(table, id string, row map[string]any) {
	deleted := truthy(row[schema.DeletedField])
	switch table {
	case "households":
		i := x.householdRef(id)
		x.hh[i] = household{hamlet: x.hamlet(row["hamlet_code"]), active: row["active"] == nil || truthy(row["active"]), deleted: deleted}
	case "visits":
		v := visit{hh: x.householdRef(row["household_id"]), on: parseDay(row["visited_on"]), volunteer: x.person(row["volunteer_id"]), deleted: deleted}
		if i, ok := x.visitIx[id]; ok {
			x.visits[i] = v
		} else {
			x.visitIx[id] = int32(len(x.visits))
			x.visits = append(x.visits, v)
		}
	case "tutoring_records":
		sk, ok := x.skillIx[str(row["skill"])]
		t := tutoring{hh: x.householdRef(row["household_id"]), on: parseDay(row["taught_on"]), skill: sk,
			indep: str(row["outcome"]) == string(schema.OutcomeIndependent), volunteer: x.person(row["volunteer_id"]), deleted: deleted || !ok}
		if i, ok := x.tutIx[id]; ok {
			x.tut[i] = t
		} else {
			x.tutIx[id] = int32(len(x.tut))
			x.tut = append(x.tut, t)
		}
	case "field_reports":
		r := report{id: id, hamlet: x.hamlet(row["hamlet_code"]), category: x.catIx[str(row["category"])],
			status: schema.ReportStatus(str(row["status"])), submitted: millis(row["submitted_at"]), dispatched: millis(row["dispatched_at"]),
			resolved: millis(row["resolved_at"]), agency: str(row["agency"]), reason: str(row["status_reason"]),
			description: str(row["description"]), location: str(row["location"]),
			reporterName: str(row["reporter_name"]), reporterPhone: str(row["reporter_phone"]), consent: truthy(row["consent_disclose"]),
			volunteer: x.person(row["volunteer_id"]), deleted: deleted, photos: schema.PhotoDigests(row[schema.PhotoDigestsField])}
		if n, ok := row["satisfaction"].(int64); ok {
			r.satisfaction = int(n)
		}
		if r.status == "" {
			r.status = schema.StatusSubmitted
		}
		if i, ok := x.reportIx[id]; ok {
			x.reports[i] = r
		} else {
			x.reportIx[id] = int32(len(x.reports))
			x.reports = append(x.reports, r)
		}
	}
}
