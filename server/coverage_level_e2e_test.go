package server_test

import (
	"fmt"
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

// A unit's own coverage does not depend on how its table is broken down:
// ?level= naming a level the unit has no descendants of (districts in the
// 2025 two-tier tree, a commune under a hamlet: the dashboard's unit picker
// keeps ?level= when a leader jumps to another unit) must still show the
// unit's households and those reached, not 0 of 0.
func TestCoverageLevelWithoutDescendantsKeepsTheUnitsTotals(t *testing.T) {
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"),
		servertest.WithConfig(func(c *server.Config) { c.Now = func() time.Time { return fixedNow } }))
	addUser(t, ts.Admin, "tinh", analytics.RoleProvincial, schema.ProvinceCodeCaMau)
	dev := ts.NewDevice(t, ts.TeamA)
	cl := ts.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })

	// Hamlet A0: 3 households, 1 visited; hamlet A1: 2 households, both visited.
	var cs []syncproto.Change
	households := map[string]int{}
	reached := map[string]int{}
	add := func(hamlet string, n, visited int) {
		for i := range n {
			hh := uuid.New()
			cs = append(cs, w.Household(hh, hamlet, fmt.Sprintf("Chủ hộ %d", i))...)
			households[hamlet]++
			if i < visited {
				v := uuid.New()
				cs = append(cs,
					w.Write("visits", v, schema.ScopeField, syncproto.String(hamlet), hamlet),
					w.Write("visits", v, "household_id", syncproto.String(hh.String()), hamlet),
					w.Write("visits", v, "volunteer_id", syncproto.String(uuid.NewString()), hamlet),
					w.Write("visits", v, "visited_on", syncproto.String("2026-11-10"), hamlet))
				reached[hamlet]++
			}
		}
	}
	add(ts.HamletsA[0], 3, 1)
	add(ts.HamletsA[1], 2, 2)
	ack, err := cl.Push(1, cs)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}

	p := login(t, ts.URL, "tinh")
	period := "&from=2026-11-01&to=2026-11-30"
	for _, c := range []struct {
		unit, level         string
		households, reached int
	}{
		{schema.ProvinceCodeCaMau, "district", 5, 3}, // no districts since 1 July 2025
		{servertest.CommuneA, "district", 5, 3},      // a level above the unit
		{servertest.CommuneA, "commune", 5, 3},
		{ts.HamletsA[0], "commune", households[ts.HamletsA[0]], reached[ts.HamletsA[0]]},
		{ts.HamletsA[1], "district", households[ts.HamletsA[1]], reached[ts.HamletsA[1]]},
	} {
		var cov analytics.Coverage
		require.Equal(t, 200, p.Get("/api/v1/coverage?unit="+c.unit+"&level="+c.level+period, &cov))
		require.Equal(t, c.households, cov.Unit.Households, "unit %s level %s: households", c.unit, c.level)
		require.Equal(t, c.reached, cov.Unit.Reached, "unit %s level %s: reached", c.unit, c.level)
		require.InDelta(t, float64(c.reached)/float64(c.households), cov.Unit.Coverage, 1e-9, "unit %s level %s", c.unit, c.level)
	}
}
