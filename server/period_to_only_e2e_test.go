package server_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// openapi.yaml: from defaults to "first of the month of the unit's latest
// figures", to to "end of that month". A leader whose latest figures are of
// October asks for everything up to 31 October (to only): from became the
// first of the current month, after to, and every table and export said 400
// "the end of the period is before its start" (helper 127). It is to's month.
func TestPeriodWithOnlyToIsThatMonth(t *testing.T) {
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
	addUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
	dev := ts.NewDevice(t, ts.TeamA)
	cl := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
	hamlet := ts.HamletsA[0]
	hh, v := uuid.New(), uuid.New()
	changes := w.Household(hh, hamlet, "Nguyễn Văn A")
	changes = append(changes,
		w.Write("visits", v, schema.ScopeField, syncproto.String(hamlet), hamlet),
		w.Write("visits", v, "household_id", syncproto.String(hh.String()), hamlet),
		w.Write("visits", v, "volunteer_id", syncproto.String(dev.Enroll.MemberID), hamlet),
		w.Write("visits", v, "visited_on", syncproto.String("2026-10-10"), hamlet))
	ack, err := cl.Push(w.Seq, changes)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	leader := login(t, ts.URL, "xa-a")
	var def analytics.Coverage
	getJSON(t, leader, "/api/v1/coverage", &def)
	require.Equal(t, "2026-10-01", def.Period.From.Format(time.DateOnly), "default: the month of the latest figures")
	// The other end defaults as openapi.yaml says: the month of the latest
	// figures (October here; now is November), or the given end's month
	// when that is past it (helper 130).
	for _, tc := range []struct{ q, from, to string }{
		{"to=2026-10-31", "2026-10-01", "2026-10-31"},
		{"to=2026-09-15", "2026-09-01", "2026-09-15"},
		{"to=2026-11-20", "2026-10-01", "2026-11-20"},
		{"from=2026-10-05", "2026-10-05", "2026-10-31"},
		{"from=2026-11-05", "2026-11-05", "2026-11-30"},
	} {
		var got analytics.Coverage
		getJSON(t, leader, "/api/v1/coverage?"+tc.q, &got)
		require.Equal(t, tc.from+".."+tc.to, got.Period.From.Format(time.DateOnly)+".."+got.Period.To.Format(time.DateOnly), tc.q)
	}
	for _, path := range []string{"/api/v1/stats?to=2026-10-31", "/api/v1/reports?to=2026-10-31", "/api/v1/export/coverage.csv?to=2026-10-31"} {
		st, b := leader.Do("GET", path, nil)
		require.Equal(t, 200, st, "%s: %s", path, b)
	}
}
