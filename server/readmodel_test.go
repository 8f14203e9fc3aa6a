package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// testStore starts a server on a fresh database of one store kind and
// returns it with the store's read-model source, the server's own (a
// fresh analytics.Index over it is a fresh load).
type testStore struct {
	name  string
	start func(t *testing.T, opts ...servertest.Option) (*servertest.TS, analytics.Source)
}

// testStores are SQLite in a temporary directory and PostgreSQL in a fresh
// database of the test cluster (skipped without one, outside CI).
var testStores = []testStore{
	{"sqlite", func(t *testing.T, opts ...servertest.Option) (*servertest.TS, analytics.Source) {
		ts := servertest.Start(t, opts...)
		return ts, ts.Store.AnalyticsSource()
	}},
	{"postgres", func(t *testing.T, opts ...servertest.Option) (*servertest.TS, analytics.Source) {
		st, err := pgstore.Open(context.Background(), pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 8, Logger: servertest.Logger()})
		require.NoError(t, err)
		ts := servertest.Start(t, append(opts, servertest.WithStore(st))...)
		return ts, ts.Store.AnalyticsSource()
	}},
}

// rowWrites makes one change per field of a row, in field order.
func rowWrites(w *servertest.Writer, table string, row uuid.UUID, scope string, fields map[string]syncproto.Value) []syncproto.Change {
	names := make([]string, 0, len(fields))
	for f := range fields {
		names = append(names, f)
	}
	slices.Sort(names)
	out := make([]syncproto.Change, 0, len(names))
	for _, f := range names {
		out = append(out, w.Write(table, row, f, fields[f], scope))
	}
	return out
}

// pushApplied pushes changes as one batch and fails unless all are applied.
func pushApplied(t *testing.T, cl *servertest.Client, batch uint64, changes []syncproto.Change) {
	t.Helper()
	ack, err := cl.Push(batch, changes)
	require.NoError(t, err)
	for i, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, "change %d (%s.%s): %s %s", i, changes[i].Table, changes[i].Field, r.Code, r.Reason)
	}
}

// Several rows of each table synced between two requests: each keeps its
// own values in the leaders' answers. The read model used to receive every
// row of a refresh in one map the source reused, so all of them took the
// values of the last row read: coverage counted one household reached, all
// tutoring under one skill, two communes' reports as one, and a leader was
// refused their own commune's report while the other commune's leader read
// it.
func TestReadModelRowsSyncedBetweenRequests(t *testing.T) {
	for _, store := range testStores {
		t.Run(store.name, func(t *testing.T) {
			ts, _ := store.start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
			addUser(t, ts.Admin, "tinh", analytics.RoleProvincial, schema.ProvinceCodeCaMau)
			addUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
			addUser(t, ts.Admin, "xa-b", analytics.RoleCommuneLeader, servertest.CommuneB)
			prov, leaderA, leaderB := login(t, ts.URL, "tinh"), login(t, ts.URL, "xa-a"), login(t, ts.URL, "xa-b")
			province := "/api/v1/coverage?unit=" + schema.ProvinceCodeCaMau

			// The first request loads the model; later ones follow the log.
			var cov analytics.Coverage
			require.Equal(t, 200, prov.Get(province, &cov))
			require.Zero(t, cov.Unit.Households)

			devA, devB := ts.NewDevice(t, ts.TeamA), ts.NewDevice(t, ts.TeamB)
			clA, clB := ts.Connect(t, devA), ts.Connect(t, devB)
			wA := servertest.NewWriter(devA.Replica, func() time.Time { return fixedNow })
			wB := servertest.NewWriter(devB.Replica, func() time.Time { return fixedNow })
			skills := schema.Skills()
			category := schema.ReportCategories()[0].Code

			// Four households (three in commune A, one in B), each visited
			// and taught a different skill, and one report per commune.
			type hh struct {
				id     uuid.UUID
				hamlet string
				w      *servertest.Writer
			}
			hhs := []hh{{uuid.New(), ts.HamletsA[0], wA}, {uuid.New(), ts.HamletsA[0], wA}, {uuid.New(), ts.HamletsA[1], wA}, {uuid.New(), ts.HamletsB[0], wB}}
			var pushA, pushB []syncproto.Change
			add := func(w *servertest.Writer, cs []syncproto.Change) {
				if w == wA {
					pushA = append(pushA, cs...)
				} else {
					pushB = append(pushB, cs...)
				}
			}
			for i, h := range hhs {
				add(h.w, rowWrites(h.w, "households", h.id, h.hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(h.hamlet), "head_name": syncproto.String("Chủ hộ thử"), "members_count": syncproto.Int(int64(2 + i))}))
			}
			for i, h := range hhs {
				on := syncproto.String(fixedNow.AddDate(0, 0, -1-i).Format(time.DateOnly))
				add(h.w, rowWrites(h.w, "visits", uuid.New(), h.hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(h.hamlet), "household_id": syncproto.String(h.id.String()),
					"volunteer_id": syncproto.String(uuid.NewString()), "visited_on": on}))
				add(h.w, rowWrites(h.w, "tutoring_records", uuid.New(), h.hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(h.hamlet), "household_id": syncproto.String(h.id.String()),
					"volunteer_id": syncproto.String(uuid.NewString()), "taught_on": on,
					"skill": syncproto.String(skills[i].Code), "outcome": syncproto.String(string(schema.OutcomeIndependent))}))
			}
			reportA, reportB := uuid.New(), uuid.New()
			report := func(w *servertest.Writer, id uuid.UUID, hamlet, description string, submitted time.Time) []syncproto.Change {
				return rowWrites(w, "field_reports", id, hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(hamlet), "volunteer_id": syncproto.String(uuid.NewString()),
					"category": syncproto.String(category), "description": syncproto.String(description),
					"submitted_at": syncproto.Int(submitted.UnixMilli())})
			}
			add(wA, report(wA, reportA, ts.HamletsA[0], "Đèn đường ấp 1 hỏng", fixedNow.Add(-2*time.Hour)))
			add(wB, report(wB, reportB, ts.HamletsB[0], "Cống Tân Thuận bị tắc", fixedNow.Add(-time.Hour)))
			pushApplied(t, clA, 1, pushA)
			pushApplied(t, clB, 1, pushB)

			// Coverage: every household reached, each skill counted once.
			require.Equal(t, 200, prov.Get(province, &cov))
			require.Equal(t, 4, cov.Unit.Households, "%+v", cov.Unit)
			require.Equal(t, 4, cov.Unit.Reached)
			for k, sc := range cov.Unit.Skills {
				want := 0
				if k < len(hhs) {
					want = 1
				}
				require.Equal(t, want, sc.Households, "households able to %s alone", sc.Skill)
			}
			require.Equal(t, 200, leaderA.Get("/api/v1/coverage", &cov))
			require.Equal(t, 3, cov.Unit.Households)
			require.Equal(t, 3, cov.Unit.Reached)
			var byHamlet analytics.Coverage
			require.Equal(t, 200, leaderA.Get("/api/v1/coverage?unit="+ts.HamletsA[1], &byHamlet))
			require.Equal(t, 1, byHamlet.Unit.Households)

			// Team statistics: tutoring under each skill taught.
			var st analytics.TeamStats
			require.Equal(t, 200, prov.Get("/api/v1/stats", &st))
			for k, sk := range st.TutoringBySkill {
				want := 0
				if k < len(hhs) {
					want = 1
				}
				require.Equal(t, want, sk.Records, "tutoring records of %s", sk.Skill)
			}
			require.Equal(t, 2, st.ReportsTotal)

			// Reports: two reports in two communes, each leader reads their
			// own and is refused the other's.
			checkReports := func(wantStatusA, wantStatusB, descB string) {
				t.Helper()
				var all api.ReportList
				require.Equal(t, 200, prov.Get("/api/v1/reports", &all))
				got := map[string]analytics.ReportView{}
				for _, r := range all.Reports {
					got[r.ID] = r
				}
				require.Len(t, got, 2)
				require.Equal(t, ts.HamletsA[0], got[reportA.String()].HamletCode)
				require.Equal(t, "Đèn đường ấp 1 hỏng", got[reportA.String()].Description)
				require.Equal(t, ts.HamletsB[0], got[reportB.String()].HamletCode)
				require.Equal(t, descB, got[reportB.String()].Description)
				for _, c := range []struct {
					leader     *apiClient
					own, other uuid.UUID
					hamlet     string
					status     string
				}{{leaderA, reportA, reportB, ts.HamletsA[0], wantStatusA}, {leaderB, reportB, reportA, ts.HamletsB[0], wantStatusB}} {
					var list api.ReportList
					require.Equal(t, 200, c.leader.Get("/api/v1/reports", &list))
					require.Len(t, list.Reports, 1)
					require.Equal(t, c.own.String(), list.Reports[0].ID)
					var v analytics.ReportView
					require.Equal(t, 200, c.leader.Get("/api/v1/reports/"+c.own.String(), &v), "a leader reads their own commune's report")
					require.Equal(t, c.hamlet, v.HamletCode)
					require.Equal(t, c.status, v.Status)
					st, b := c.leader.Do("GET", "/api/v1/reports/"+c.other.String(), nil)
					require.Equal(t, 403, st, "another commune's report: %s", b)
				}
			}
			checkReports("submitted", "submitted", "Cống Tân Thuận bị tắc")

			// Edits of several rows of one table between two requests: one
			// household moves to the team's other hamlet, one is marked
			// inactive, one deleted; both reports change status and one its
			// description.
			pushApplied(t, clA, 2, []syncproto.Change{
				wA.Write("households", hhs[0].id, "hamlet_code", syncproto.String(ts.HamletsA[1]), hhs[0].hamlet),
				wA.Write("households", hhs[1].id, "active", syncproto.Bool(false), hhs[1].hamlet),
				wA.Write("households", hhs[2].id, syncproto.TombstoneField, syncproto.Bool(true), hhs[2].hamlet),
			})
			pushApplied(t, clB, 2, []syncproto.Change{wB.Write("field_reports", reportB, "description", syncproto.String("Cống Tân Thuận bị tắc, nước tràn"), ts.HamletsB[0])})
			_, err := ts.Server.Transition(context.Background(), reportA, server.TransitionRequest{To: "dispatched", Agency: "Điện lực Cà Mau"})
			require.NoError(t, err)
			_, err = ts.Server.Transition(context.Background(), reportB, server.TransitionRequest{To: "returned", Reason: "Không thuộc phản ánh hiện trường"})
			require.NoError(t, err)

			require.Equal(t, 200, leaderA.Get("/api/v1/coverage", &cov))
			require.Equal(t, 1, cov.Unit.Households, "one household left active in commune A")
			require.Equal(t, 1, cov.Unit.Reached)
			require.Equal(t, 200, leaderA.Get("/api/v1/coverage?unit="+ts.HamletsA[1], &byHamlet))
			require.Equal(t, 1, byHamlet.Unit.Households, "the moved household counts in its new hamlet")
			require.Equal(t, 200, leaderA.Get("/api/v1/coverage?unit="+ts.HamletsA[0], &byHamlet))
			require.Zero(t, byHamlet.Unit.Households)
			checkReports("dispatched", "returned", "Cống Tân Thuận bị tắc, nước tràn")
		})
	}
}

// Rows deleted and collected between two requests leave the leaders'
// answers. Collection removes a dropped row's log entries, its tombstone
// included: a model that had not read the tombstone before kept counting
// the household and showing the report until a restart.
func TestReadModelRowsCollectedBetweenRequests(t *testing.T) {
	for _, store := range testStores {
		t.Run(store.name, func(t *testing.T) {
			ts, _ := store.start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
			addUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
			leader := login(t, ts.URL, "xa-a")
			dev := ts.NewDevice(t, ts.TeamA)
			cl := ts.Connect(t, dev)
			w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
			hamlet := ts.HamletsA[0]
			kept, gone, report := uuid.New(), uuid.New(), uuid.New()
			var cs []syncproto.Change
			for _, id := range []uuid.UUID{kept, gone} {
				cs = append(cs, rowWrites(w, "households", id, hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(hamlet), "head_name": syncproto.String("Chủ hộ thử")})...)
			}
			cs = append(cs, rowWrites(w, "field_reports", report, hamlet, map[string]syncproto.Value{
				"hamlet_code": syncproto.String(hamlet), "volunteer_id": syncproto.String(uuid.NewString()),
				"category": syncproto.String(schema.ReportCategories()[0].Code), "description": syncproto.String("Đèn đường hỏng"),
				"submitted_at": syncproto.Int(fixedNow.Add(-time.Hour).UnixMilli())})...)
			pushApplied(t, cl, 1, cs)

			var cov analytics.Coverage
			require.Equal(t, 200, leader.Get("/api/v1/coverage", &cov))
			require.Equal(t, 2, cov.Unit.Households)
			require.Equal(t, 200, leader.Get("/api/v1/reports/"+report.String(), nil))

			// Deleted on the laptop, pulled past by every device of the
			// team, collected.
			pushApplied(t, cl, 2, []syncproto.Change{
				w.Write("households", gone, syncproto.TombstoneField, syncproto.Bool(true), hamlet),
				w.Write("field_reports", report, syncproto.TombstoneField, syncproto.Bool(true), hamlet),
			})
			pullPast(t, cl, 0)
			st, err := ts.Server.GC(context.Background())
			require.NoError(t, err)
			require.Equal(t, 2, st.Rows)

			require.Equal(t, 200, leader.Get("/api/v1/coverage", &cov))
			require.Equal(t, 1, cov.Unit.Households, "a collected household still counted")
			var list api.ReportList
			require.Equal(t, 200, leader.Get("/api/v1/reports", &list))
			require.Empty(t, list.Reports)
			st2, _ := leader.Do("GET", "/api/v1/reports/"+report.String(), nil)
			require.Equal(t, 404, st2, "a collected report still shown")
		})
	}
}

// Reports that tie on the documented order (same status, deadline and
// submission time) come in one order however the model learned of them:
// by id. It used to be the order the model first saw them in, so a list
// paged by offset changed between a running server and a restarted one,
// or between two server processes on one database.
func TestReportListOrderTotal(t *testing.T) {
	for _, store := range testStores {
		t.Run(store.name, func(t *testing.T) {
			ts, _ := store.start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
			addUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
			leader := login(t, ts.URL, "xa-a")
			dev := ts.NewDevice(t, ts.TeamA)
			cl := ts.Connect(t, dev)
			w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
			hamlet := ts.HamletsA[0]
			submitted := fixedNow.Add(-time.Hour)
			first, second := uuid.MustParse("f0000000-0000-4000-8000-000000000001"), uuid.MustParse("00000000-0000-4000-8000-000000000002")
			ids := func() []string {
				var list api.ReportList
				require.Equal(t, 200, leader.Get("/api/v1/reports", &list))
				var out []string
				for _, r := range list.Reports {
					out = append(out, r.ID)
				}
				return out
			}
			require.Empty(t, ids())
			for i, id := range []uuid.UUID{first, second} { // the higher id reaches the model first
				pushApplied(t, cl, uint64(i+1), rowWrites(w, "field_reports", id, hamlet, map[string]syncproto.Value{
					"hamlet_code": syncproto.String(hamlet), "volunteer_id": syncproto.String(uuid.NewString()),
					"category": syncproto.String(schema.ReportCategories()[0].Code), "description": syncproto.String("Đèn đường hỏng"),
					"submitted_at": syncproto.Int(submitted.UnixMilli())}))
				ids()
			}
			require.Equal(t, []string{second.String(), first.String()}, ids())
		})
	}
}

// collectAfterChanged is the store's own read-model source; once armed, it
// lets the periodic collection run right after Changed has answered (and
// checked the log floor) and before the model loads the rows it named: the
// interleaving of a leader's request and the server's GC job, which share
// nothing but the database.
type collectAfterChanged struct {
	analytics.Source
	hook func()
}

func (c *collectAfterChanged) Changed(ctx context.Context, after uint64) ([]analytics.Ref, uint64, error) {
	refs, to, err := c.Source.Changed(ctx, after)
	if h := c.hook; err == nil && h != nil {
		c.hook = nil
		h()
	}
	return refs, to, err
}

// A household deleted on a laptop and collected by GC between the read
// model's Changed and its Load of the rows Changed named: the model kept
// the household as it last saw it, live, and counted it for good in the
// leaders' coverage, team statistics and exports; a fresh load counts it
// nowhere (stop 68, found by a review). A row Changed names that Load no
// longer finds is gone.
func TestReadModelCollectionBetweenChangedAndLoad(t *testing.T) {
	ctx := context.Background()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
	dev := ts.NewDevice(t, ts.TeamA)
	cl := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
	hamlet := ts.HamletsA[0]
	kept, gone := uuid.New(), uuid.New()
	var cs []syncproto.Change
	for _, id := range []uuid.UUID{kept, gone} {
		cs = append(cs, rowWrites(w, "households", id, hamlet, map[string]syncproto.Value{
			"hamlet_code": syncproto.String(hamlet), "head_name": syncproto.String("Chủ hộ thử")})...)
	}
	pushApplied(t, cl, 1, cs)

	src := &collectAfterChanged{Source: ts.Store.AnalyticsSource()}
	model := analytics.New(src, nil)
	p := analytics.Period{From: fixedNow.AddDate(0, -1, 0), To: fixedNow}
	cov, err := model.Coverage(ctx, servertest.CommuneA, p)
	require.NoError(t, err)
	require.Equal(t, 2, cov.Unit.Households)

	// Deleted on the laptop, pulled past by every device of the team.
	pushApplied(t, cl, 2, []syncproto.Change{w.Write("households", gone, syncproto.TombstoneField, syncproto.Bool(true), hamlet)})
	pullPast(t, cl, 0)

	// The GC job runs while a leader's request refreshes the model.
	var rows int
	src.hook = func() {
		st, err := ts.Server.GC(ctx)
		require.NoError(t, err)
		rows = st.Rows
	}
	_, err = model.Coverage(ctx, servertest.CommuneA, p)
	require.NoError(t, err)
	require.Equal(t, 1, rows, "GC collected the deleted household")

	fresh, err := analytics.New(ts.Store.AnalyticsSource(), nil).Coverage(ctx, servertest.CommuneA, p)
	require.NoError(t, err)
	require.Equal(t, 1, fresh.Unit.Households, "a fresh load")

	// Later requests, with more synced in between, never put it right.
	pushApplied(t, cl, 3, rowWrites(w, "households", uuid.New(), hamlet, map[string]syncproto.Value{
		"hamlet_code": syncproto.String(hamlet), "head_name": syncproto.String("Chủ hộ khác")}))
	cov, err = model.Coverage(ctx, servertest.CommuneA, p)
	require.NoError(t, err)
	fresh, err = analytics.New(ts.Store.AnalyticsSource(), nil).Coverage(ctx, servertest.CommuneA, p)
	require.NoError(t, err)
	require.Equal(t, 2, fresh.Unit.Households, "a fresh load")
	require.Equal(t, fresh.Unit.Households, cov.Unit.Households,
		"the read model still counts a household deleted and collected while it refreshed; a fresh load does not")
}
