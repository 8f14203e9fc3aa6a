package loader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

const password = "mat-khau-thu-nghiem"

type client struct {
	t     *testing.T
	base  string
	token string
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}

func signIn(t *testing.T, base, user string) *client {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := apitest.Client(t).Post(base+"/api/v1/login", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	var lr api.LoginResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&lr))
	return &client{t: t, base: base, token: lr.Token}
}

func (c *client) get(path string, v any) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := apitest.Client(c.t).Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(c.t, 200, resp.StatusCode, "%s: %s", path, b)
	require.NoError(c.t, json.Unmarshal(b, v))
}

// The province the seeds describe, loaded through the push path into a real
// server on loopback and read back through the HTTP API, gives exactly the
// seeds' figures; the 2025 merger does not change provincial coverage.
func TestSeedFiguresThroughTheAPI(t *testing.T) {
	ctx := context.Background()
	// 1 August 2022, 09:00: the day after CaMau-G's first month.
	now := time.Date(2022, 8, 1, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	srv, err := servertest.Open(ctx, t.TempDir(), "NORMAL", server.Config{Logger: servertest.Logger(), GCInterval: -1, Now: func() time.Time { return now }})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	res, err := loader.Load(ctx, srv, camau.Seed2023(), loader.Options{})
	require.NoError(t, err)
	t.Logf("loaded %d households, %d visits, %d tutoring records, %d reports as %d changes in %s (%.0f changes/s)",
		res.Counts.Households, res.Counts.Visits, res.Counts.Tutoring, res.Counts.Reports, res.Changes, res.RowsTime.Round(time.Millisecond), res.ChangesPerSecond())
	hs := httptest.NewServer(httpapp.Handler(srv))
	t.Cleanup(hs.Close)

	a := srv.Admin()
	leaderCommune := res.Structure.Teams[0].CommuneCode
	for _, u := range []server.NewUser{
		{Username: "so-tttt", Role: analytics.RoleProvincial, UnitCode: schema.ProvinceCodeCaMau},
		{Username: "lanh-dao-xa", Role: analytics.RoleCommuneLeader, UnitCode: leaderCommune},
		{Username: "dieu-phoi", Role: analytics.RoleCoordinator, UnitCode: schema.ProvinceCodeCaMau},
		{Username: "cntt", Role: analytics.RoleOperator, UnitCode: schema.ProvinceCodeCaMau},
	} {
		u.DisplayName, u.Password = "Cán bộ thử", password
		_, err := a.AddUser(ctx, u)
		require.NoError(t, err)
	}
	prov := signIn(t, hs.URL, "so-tttt")
	july := "from=2022-07-01&to=2022-07-31"

	t.Run("seed 004: teams and members", func(t *testing.T) {
		var st analytics.TeamStats
		prov.get("/api/v1/stats?unit=96&"+july, &st)
		require.Equal(t, 101, st.Communes)
		require.Equal(t, 45, st.CommunesWithTeams)
		require.Equal(t, 343, st.Teams)
		require.Equal(t, 1610, st.Members)
	})
	t.Run("seed 002: one month of field reports", func(t *testing.T) {
		var st analytics.TeamStats
		prov.get("/api/v1/stats?unit=96&by=month&"+july, &st)
		require.Equal(t, 142, st.ReportsTotal)
		require.Equal(t, 97, st.ReportsByStatus["resolved"])
		require.Equal(t, 45, st.ReportsByStatus["returned"])
		var june analytics.TeamStats
		prov.get("/api/v1/stats?unit=96&from=2022-06-01&to=2022-06-30", &june)
		require.Zero(t, june.ReportsTotal)
	})

	// Find one report with consent and one without, in the leader's commune.
	coord := signIn(t, hs.URL, "dieu-phoi")
	var all api.ReportList
	coord.get("/api/v1/reports?unit="+leaderCommune+"&limit=5000", &all)
	require.NotEmpty(t, all.Reports)
	var secret, open *analytics.ReportView
	for i := range all.Reports {
		r := &all.Reports[i]
		if r.ConsentDisclose && open == nil {
			open = r
		}
		if !r.ConsentDisclose && secret == nil {
			secret = r
		}
	}
	require.NotNil(t, secret, "a report without consent in commune %s", leaderCommune)

	t.Run("each role's view of a report", func(t *testing.T) {
		for _, tc := range []struct {
			user  string
			sees  bool
			scope string
		}{{"dieu-phoi", true, "coordinator"}, {"so-tttt", false, "provincial"}, {"lanh-dao-xa", false, "commune leader"}, {"cntt", false, "operator"}} {
			c := signIn(t, hs.URL, tc.user)
			var v analytics.ReportView
			c.get("/api/v1/reports/"+secret.ID, &v)
			require.Equal(t, secret.Status, v.Status, tc.scope)
			require.Equal(t, secret.Description, v.Description, tc.scope)
			if tc.sees {
				require.NotEmpty(t, v.ReporterName, tc.scope)
				require.NotEmpty(t, v.ReporterPhone, tc.scope)
				require.False(t, v.ReporterHidden, tc.scope)
			} else {
				require.Empty(t, v.ReporterName, tc.scope)
				require.Empty(t, v.ReporterPhone, tc.scope)
				require.True(t, v.ReporterHidden, tc.scope)
			}
			if open != nil { // consent: everyone sees who reported
				var o analytics.ReportView
				c.get("/api/v1/reports/"+open.ID, &o)
				require.NotEmpty(t, o.ReporterName, tc.scope)
			}
		}
	})

	t.Run("deadlines: open reports past their deadline are flagged", func(t *testing.T) {
		var l api.ReportList
		prov.get("/api/v1/reports?unit=96&limit=5000", &l)
		require.Equal(t, 142, l.Total)
		open := 0
		for _, r := range l.Reports {
			switch r.Status {
			case "resolved", "returned":
				require.Nil(t, r.Deadline, r.ID)
			default:
				open++
				require.NotNil(t, r.Deadline, r.ID)
				// Every July report's deadline has passed by 1 August.
				require.True(t, r.Deadline.Overdue, "%s due %s", r.ID, r.Deadline.Due)
				require.True(t, r.Deadline.Due.Before(now))
			}
		}
		require.Equal(t, open, l.Overdue)
		require.Equal(t, 142-97-45, open) // no open report in the seed's month
		var st analytics.TeamStats
		prov.get("/api/v1/stats?unit=96&"+july, &st)
		require.Equal(t, open, st.OnTime.Overdue)
	})

	t.Run("2025 merger: same households, same provincial coverage", func(t *testing.T) {
		var before analytics.Coverage
		prov.get("/api/v1/coverage?unit=96&"+july, &before)
		// Reached counts active households only; the generator reaches some
		// of the 1 in 50 it registers inactive.
		require.InDelta(t, res.Counts.Reached, before.Unit.Reached, float64(res.Counts.Reached)/20)
		rs, err := a.ApplyReorganisation(ctx, res.Structure.Units2025, res.Structure.Hamlet2025)
		require.NoError(t, err)
		require.Equal(t, 64, rs.CommunesAfter)
		var after analytics.Coverage
		prov.get("/api/v1/coverage?unit=96&"+july, &after)
		require.Equal(t, before.Unit.Households, after.Unit.Households)
		require.Equal(t, before.Unit.Reached, after.Unit.Reached)
		require.Equal(t, before.Unit.Coverage, after.Unit.Coverage)
		require.Equal(t, before.Unit.Skills, after.Unit.Skills)
		// The breakdown changed: districts in 2022, the 64 communes after.
		require.Equal(t, "district", before.Children[0].Level)
		require.Len(t, after.Children, 64)
		sum := 0
		for _, c := range after.Children {
			sum += c.Households
		}
		require.Equal(t, after.Unit.Households, sum)
		// Teams, members and reports are where they were.
		var st analytics.TeamStats
		prov.get("/api/v1/stats?unit=96&"+july, &st)
		require.Equal(t, 64, st.Communes)
		require.Equal(t, 343, st.Teams)
		require.Equal(t, 1610, st.Members)
		require.Equal(t, 142, st.ReportsTotal)
	})
}
