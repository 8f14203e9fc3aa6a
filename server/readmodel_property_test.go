package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
	"github.com/hamlet-vn/hamlet/workcal"
)

var (
	flagReadModelSequences = flag.Int("readmodel-sequences", 500, "random sequences of synced batches the read-model equivalence test runs on each store")
	flagReadModelSeed      = flag.Uint64("readmodel-seed", 0, "run only the read-model sequence with this seed (printed on failure)")
)

// The read model follows the log: after every synced batch, a model
// refreshed incrementally from the log (built as the server builds its own)
// answers every leader's question exactly as a model freshly loaded from
// the same store. Each sequence is a few random batches (households added,
// edited, moved between hamlets, marked inactive, deleted and restored;
// visits; tutoring on several skills; reports and their status
// transitions), written through the server's push path and its
// coordinators' transitions, then deleted and collected, so every sequence
// starts from an empty store; the server's own model, which asked once in
// between, must then agree too.
func TestReadModelEquivalenceProperty(t *testing.T) {
	for _, store := range testStores {
		t.Run(store.name, func(t *testing.T) {
			// The two stores share nothing: each has its own server, store
			// and models, so they run side by side (half the wall time).
			t.Parallel()
			ts, src := store.start(t, servertest.WithConfig(func(c *server.Config) {
				c.Now = func() time.Time { return fixedNow }
			}), servertest.WithSynchronous("NORMAL")) // the property is about the model, not durability
			w := newModelWorld(t, ts, src)
			if *flagReadModelSeed != 0 {
				require.NoError(t, w.sequence(*flagReadModelSeed), "seed %d", *flagReadModelSeed)
				return
			}
			base := uint64(time.Now().UnixNano())
			for i := 0; i < *flagReadModelSequences; i++ {
				seed := base + uint64(i)
				if err := w.sequence(seed); err != nil {
					t.Fatalf("sequence %d failed (reproduce with: go test ./server -run 'TestReadModelEquivalenceProperty/%s' -readmodel-seed %d): %v",
						i+1, store.name, seed, err)
				}
			}
			t.Logf("%d sequences, %d batches, %d changes, %d transitions, %d comparisons", *flagReadModelSequences, w.batches, w.changes, w.transitions, w.compared)
		})
	}
}

// heldSource is the server's read-model source with two conveniences that
// change no answer: the admin tables, which the test never changes after
// setup, are read once, and their version never moves, so a model builds
// its unit tree once rather than at every question (that rebuilding was
// two fifths of the test's CPU); and the log is followed only when the
// test refreshes after a batch, so the many questions asked of one state
// read nothing. Rows are loaded by the store's source itself.
type heldSource struct {
	analytics.Source
	units  []schema.AdminUnit
	teams  []analytics.Team
	follow bool
}

func (h *heldSource) Units(context.Context) ([]schema.AdminUnit, error) { return h.units, nil }
func (h *heldSource) Teams(context.Context) ([]analytics.Team, error)   { return h.teams, nil }
func (h *heldSource) UnitsVersion(context.Context) (int64, error)       { return 0, nil }
func (h *heldSource) Changed(ctx context.Context, after uint64) ([]analytics.Ref, uint64, error) {
	if !h.follow {
		return nil, after, nil
	}
	return h.Source.Changed(ctx, after)
}

// modelWorld is one server and what every sequence draws from.
type modelWorld struct {
	ts         *servertest.TS
	src        *heldSource
	hamlets    []string // two teams' hamlets and one no team covers
	volunteers []string // members of both teams and one who is not
	viewers    []viewer
	skills     []string
	outcomes   []string
	categories []string
	statuses   []schema.ReportStatus
	cal        *workcal.Calendar // the server's, with the schedules it holds

	batches, changes, transitions, compared int
}

// viewer is a signed-in user as the API authorises them: a role bound to a unit.
type viewer struct {
	role analytics.Role
	unit string
}

func newModelWorld(t *testing.T, ts *servertest.TS, src analytics.Source) *modelWorld {
	ctx := context.Background()
	w := &modelWorld{ts: ts, outcomes: schema.EnumValues(schema.EnumTutoringOutcome)}
	w.hamlets = append(append(slices.Clone(ts.HamletsA), ts.OtherHamletA), ts.HamletsB...)
	for _, team := range []string{ts.TeamA, ts.TeamA, ts.TeamB, ts.TeamB} {
		m, err := ts.Admin.AddMember(ctx, team, "Tình nguyện viên", "member", "")
		require.NoError(t, err)
		w.volunteers = append(w.volunteers, m.ID)
	}
	w.volunteers = append(w.volunteers, uuid.NewString())
	w.viewers = []viewer{{analytics.RoleProvincial, schema.ProvinceCodeCaMau}, {analytics.RoleCommuneLeader, servertest.CommuneA},
		{analytics.RoleCommuneLeader, servertest.CommuneB}, {analytics.RoleCoordinator, servertest.CommuneA}}
	for _, s := range schema.Skills()[:5] {
		w.skills = append(w.skills, s.Code)
	}
	for _, c := range schema.ReportCategories()[:3] {
		w.categories = append(w.categories, c.Code)
	}
	for _, s := range schema.EnumValues(schema.EnumReportStatus) {
		w.statuses = append(w.statuses, schema.ReportStatus(s))
	}
	srv, err := ts.Server.Analytics()
	require.NoError(t, err)
	w.cal = srv.Calendar()
	w.src = &heldSource{Source: src}
	w.src.units, err = src.Units(ctx)
	require.NoError(t, err)
	w.src.teams, err = src.Teams(ctx)
	require.NoError(t, err)
	return w
}

// seqRow is what a sequence knows of a row it wrote.
type seqRow struct {
	table   string
	id      uuid.UUID
	hamlet  string // its scope as the sequence last set it
	hh      int    // its household (visits, tutoring)
	status  schema.ReportStatus
	deleted bool
	pending bool // a transition waits for the batch's push
}

// seq is one random sequence.
type seq struct {
	*modelWorld
	rng    *rand.Rand
	w      *servertest.Writer
	rows   []*seqRow
	byKind map[string][]int // table → indexes into rows
	ops    []syncproto.Change
	trans  []func() error
}

func (s *seq) uuid() uuid.UUID {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], s.rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], s.rng.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (s *seq) date() syncproto.Value {
	return syncproto.String(fixedNow.AddDate(0, 0, -s.rng.IntN(50)).Format(time.DateOnly))
}

func (s *seq) write(r *seqRow, fields map[string]syncproto.Value) {
	s.ops = append(s.ops, rowWrites(s.w, r.table, r.id, r.hamlet, fields)...)
}

func (s *seq) add(table, hamlet string, hh int) *seqRow {
	r := &seqRow{table: table, id: s.uuid(), hamlet: hamlet, hh: hh, status: schema.StatusSubmitted}
	s.byKind[table] = append(s.byKind[table], len(s.rows))
	s.rows = append(s.rows, r)
	return r
}

// some returns a row of table the sequence wrote (nil if none), live ones
// when live is set.
func (s *seq) some(table string, live bool) *seqRow {
	var cands []*seqRow
	for _, i := range s.byKind[table] {
		if r := s.rows[i]; !live || !r.deleted {
			cands = append(cands, r)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return pick(s.rng, cands)
}

func (s *seq) tomb(r *seqRow, deleted bool) {
	r.deleted = deleted
	s.write(r, map[string]syncproto.Value{syncproto.TombstoneField: syncproto.Bool(deleted)})
}

// op adds one random operation to the batch.
func (s *seq) op() {
	switch k := s.rng.IntN(18); {
	case k == 0 || s.some("households", false) == nil:
		r := s.add("households", pick(s.rng, s.hamlets), -1)
		f := map[string]syncproto.Value{"hamlet_code": syncproto.String(r.hamlet), "head_name": syncproto.String(pick(s.rng, []string{"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"})),
			"members_count": syncproto.Int(int64(1 + s.rng.IntN(6)))}
		if s.rng.IntN(4) == 0 {
			f["active"] = syncproto.Bool(s.rng.IntN(2) == 0)
		}
		s.write(r, f)
	case k == 1: // edit what coverage does not read
		s.write(s.some("households", false), map[string]syncproto.Value{"members_count": syncproto.Int(int64(1 + s.rng.IntN(6))), "notes": syncproto.String("đã sửa")})
	case k == 2: // move to another hamlet
		r := s.some("households", false)
		to := pick(s.rng, s.hamlets)
		s.write(r, map[string]syncproto.Value{"hamlet_code": syncproto.String(to)})
		r.hamlet = to
		for _, i := range append(slices.Clone(s.byKind["visits"]), s.byKind["tutoring_records"]...) {
			if c := s.rows[i]; s.rows[c.hh] == r {
				c.hamlet = to // the server moves them with it
			}
		}
	case k == 3:
		s.write(s.some("households", false), map[string]syncproto.Value{"active": syncproto.Bool(s.rng.IntN(2) == 0)})
	case k == 4:
		r := s.some("households", false)
		s.tomb(r, !r.deleted)
	case k <= 7: // visits and tutoring, for any household the sequence wrote
		hi := pick(s.rng, s.byKind["households"])
		hh := s.rows[hi]
		f := map[string]syncproto.Value{"hamlet_code": syncproto.String(hh.hamlet), "household_id": syncproto.String(hh.id.String()),
			"volunteer_id": syncproto.String(pick(s.rng, s.volunteers))}
		if k == 5 {
			f["visited_on"] = s.date()
			s.write(s.add("visits", hh.hamlet, hi), f)
		} else {
			f["taught_on"], f["skill"], f["outcome"] = s.date(), syncproto.String(pick(s.rng, s.skills)), syncproto.String(pick(s.rng, s.outcomes))
			s.write(s.add("tutoring_records", hh.hamlet, hi), f)
		}
	case k == 8:
		if r := s.some("visits", false); r != nil {
			s.write(r, map[string]syncproto.Value{"visited_on": s.date()})
		}
	case k == 9:
		if r := s.some("tutoring_records", false); r != nil {
			s.write(r, map[string]syncproto.Value{"skill": syncproto.String(pick(s.rng, s.skills)), "outcome": syncproto.String(pick(s.rng, s.outcomes))})
		}
	case k == 10:
		if r := s.some(pick(s.rng, []string{"visits", "tutoring_records"}), false); r != nil {
			s.tomb(r, !r.deleted)
		}
	case k <= 12:
		r := s.add("field_reports", pick(s.rng, s.hamlets), -1)
		f := map[string]syncproto.Value{"hamlet_code": syncproto.String(r.hamlet), "volunteer_id": syncproto.String(pick(s.rng, s.volunteers)),
			"category": syncproto.String(pick(s.rng, s.categories)), "description": syncproto.String(pick(s.rng, []string{"Đèn đường hỏng", "Cống bị tắc", "Cây đổ chắn đường"})),
			"submitted_at": syncproto.Int(fixedNow.Add(-time.Duration(s.rng.IntN(24*14)) * time.Hour).UnixMilli())}
		if s.rng.IntN(2) == 0 {
			f["reporter_name"], f["reporter_phone"] = syncproto.String("Phạm Thị Dung"), syncproto.String("0912345678")
			f["consent_disclose"] = syncproto.Bool(s.rng.IntN(2) == 0)
		}
		s.write(r, f)
	case k == 13:
		if r := s.some("field_reports", false); r != nil {
			s.write(r, map[string]syncproto.Value{"description": syncproto.String(pick(s.rng, []string{"Đã bổ sung ảnh", "Nước ngập sâu hơn"})),
				"location": syncproto.String("Gần chợ")})
		}
	case k == 14:
		if r := s.some("field_reports", false); r != nil && !r.pending {
			s.tomb(r, !r.deleted)
		}
	default: // a coordinator moves a live report on
		r := s.some("field_reports", true)
		if r == nil {
			return
		}
		var next []schema.ReportStatus
		for _, to := range s.statuses {
			if schema.CanTransition(r.status, to) {
				next = append(next, to)
			}
		}
		if len(next) == 0 {
			return
		}
		req := server.TransitionRequest{To: string(pick(s.rng, next)), Agency: "UBND phường", Reason: "Không thuộc thẩm quyền"}
		r.status, r.pending = schema.ReportStatus(req.To), true
		id := r.id
		s.trans = append(s.trans, func() error {
			_, err := s.ts.Server.Transition(context.Background(), id, req)
			return err
		})
	}
}

// sequence runs one seeded sequence: a fresh model, a few random batches,
// a comparison after each, then everything deleted and collected.
func (w *modelWorld) sequence(seedValue uint64) error {
	ctx := context.Background()
	s := &seq{modelWorld: w, rng: rand.New(rand.NewPCG(seedValue, seedValue^0x9e3779b97f4a7c15)), byKind: map[string][]int{}}
	s.w = servertest.NewWriter(s.uuid(), func() time.Time { return fixedNow })
	inc := analytics.New(w.src, w.cal)
	if err := w.refresh(ctx, inc); err != nil {
		return err
	}
	srv, err := w.ts.Server.Analytics()
	if err != nil {
		return err
	}
	n := 2 + s.rng.IntN(4)
	asks := 1 + s.rng.IntN(n) // the batch after which a leader asks the server
	for b := 1; b <= n+1; b++ {
		if b <= n {
			for range 1 + s.rng.IntN(6) {
				s.op()
			}
		} else { // the last batch deletes what is left
			for _, r := range s.rows {
				if !r.deleted {
					s.tomb(r, true)
				}
			}
		}
		if err := s.flush(ctx); err != nil {
			return fmt.Errorf("batch %d: %w", b, err)
		}
		if err := w.compare(ctx, []*analytics.Index{inc}, s.rows, s.rng); err != nil {
			return fmt.Errorf("after batch %d of %d: %w", b, n+1, err)
		}
		if b == asks {
			if err := srv.Refresh(ctx); err != nil {
				return err
			}
		}
	}
	// Collected rows leave the store; the models keep them as deleted.
	// The server's own (loaded at its first question, then following the
	// log over every sequence so far) has not read the tombstones, which
	// collection removed from the log: it must not keep the rows.
	st, err := w.ts.Admin.GC(ctx)
	if err != nil {
		return fmt.Errorf("collect: %w", err)
	}
	if st.Rows != len(s.rows) {
		return fmt.Errorf("collection dropped %d rows of the %d the sequence wrote", st.Rows, len(s.rows))
	}
	if err := w.compare(ctx, []*analytics.Index{inc, srv}, s.rows, s.rng); err != nil {
		return fmt.Errorf("after collection: %w", err)
	}
	return nil
}

// flush pushes the batch's changes through the server's push path, then
// runs its transitions.
func (s *seq) flush(ctx context.Context) error {
	if len(s.ops) > 0 {
		st, err := s.ts.Admin.ApplyChanges(ctx, s.w.Replica, s.ops)
		if err != nil {
			return err
		}
		if st.Refused > 0 {
			return fmt.Errorf("%d of %d changes refused, the first: %s", st.Refused, len(s.ops), st.FirstRefusal)
		}
		s.changes += len(s.ops)
		s.ops = s.ops[:0]
	}
	for _, f := range s.trans {
		if err := f(); err != nil {
			return fmt.Errorf("transition: %w", err)
		}
		s.transitions++
	}
	s.trans = s.trans[:0]
	for _, r := range s.rows {
		r.pending = false
	}
	s.batches++
	return nil
}

func (w *modelWorld) refresh(ctx context.Context, x *analytics.Index) error {
	w.src.follow = true
	defer func() { w.src.follow = false }()
	return x.Refresh(ctx)
}

// captured is an assert.TestingT that keeps testify's message (with its diff).
type captured struct{ msg string }

func (c *captured) Errorf(format string, args ...any) { c.msg = fmt.Sprintf(format, args...) }

// compare refreshes the incremental models (the sequence's first, which
// follows the log when the test says) and asks them and a freshly loaded
// model the leaders' questions: coverage per unit and skill, team
// statistics, report lists and details, and what authorisation reads (each
// report's hamlet and whether it lies within each viewer's unit).
func (w *modelWorld) compare(ctx context.Context, incs []*analytics.Index, rows []*seqRow, rng *rand.Rand) error {
	w.compared++
	if err := w.refresh(ctx, incs[0]); err != nil {
		return err
	}
	fresh := analytics.New(w.src, w.cal)
	if err := w.refresh(ctx, fresh); err != nil {
		return err
	}
	var errs []error
	// same asks a question of the fresh model and of the incremental ones;
	// the server's own (after the first) is asked only the core questions,
	// which read every row: each of its questions reads the admin tables.
	same := func(what string, core bool, f func(x *analytics.Index) (any, error)) {
		want, err1 := f(fresh)
		models := incs
		if !core {
			models = incs[:1]
		}
		for i, inc := range models {
			got, err2 := f(inc)
			var c captured
			switch {
			case err1 != nil || err2 != nil:
				errs = append(errs, fmt.Errorf("%s: fresh load: %v, model %d: %v", what, err1, i+1, err2))
			case !assert.Equal(&c, want, got, "%s: %s (actual) against a fresh load (expected)", what, []string{"the incremental model", "the server's model"}[i]):
				errs = append(errs, errors.New(c.msg))
			}
		}
	}
	all := analytics.Period{From: fixedNow.AddDate(0, 0, -60), To: fixedNow}
	week := analytics.Period{From: fixedNow.AddDate(0, 0, -7), To: fixedNow}
	province := schema.ProvinceCodeCaMau
	same("coverage of every hamlet", true, func(x *analytics.Index) (any, error) { return x.CoverageBy(ctx, province, all, schema.LevelHamlet) })
	same("coverage by commune, last week", false, func(x *analytics.Index) (any, error) { return x.CoverageBy(ctx, province, week, "") })
	same("team statistics", true, func(x *analytics.Index) (any, error) {
		return x.TeamStats(ctx, province, all, analytics.Weekly, fixedNow)
	})
	same("team statistics of commune A, last week", false, func(x *analytics.Index) (any, error) {
		return x.TeamStats(ctx, servertest.CommuneA, week, analytics.Monthly, fixedNow)
	})
	filters := []struct {
		name string
		f    analytics.ReportFilter
	}{{"none", analytics.ReportFilter{}}, {"status", analytics.ReportFilter{Status: string(pick(rng, w.statuses))}},
		{"category", analytics.ReportFilter{Category: pick(rng, w.categories)}}, {"last week", analytics.ReportFilter{Period: &week}}}
	for i, v := range w.viewers {
		f := pick(rng, filters)
		same(fmt.Sprintf("reports of %s for a %s, filter %s %+v", v.unit, v.role, f.name, f.f), i == 0, func(x *analytics.Index) (any, error) {
			return x.Reports(ctx, v.unit, f.f, v.role, fixedNow)
		})
	}
	for _, r := range rows {
		if r.table != "field_reports" {
			continue
		}
		v := pick(rng, w.viewers)
		same(fmt.Sprintf("report %s for a %s, and who may see it", r.id, v.role), false, func(x *analytics.Index) (any, error) {
			view, found, err := x.Report(ctx, r.id.String(), v.role, fixedNow)
			if err != nil {
				return nil, err
			}
			hamlet, err := x.UnitOf(ctx, r.id.String())
			may := map[viewer]bool{}
			for _, v := range w.viewers {
				may[v] = hamlet != "" && x.Within(hamlet, v.unit)
			}
			return struct {
				View   analytics.ReportView
				Found  bool
				Hamlet string
				May    map[viewer]bool
			}{view, found, hamlet, may}, err
		})
	}
	return errors.Join(errs[:min(len(errs), 1)]...)
}
