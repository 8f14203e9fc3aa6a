package app_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
)

// A visit moved out of this month by the CLI (another process on the same
// replica): the household is no longer reached this month and must come
// back on the home page's "not yet visited" list.
// Defects helper 102 found (stop 42) in the app's lists and report pages.

// The home page's cached "reached this month" set only ever added: a
// visit another command moved out of the month left its household off the
// list of those not yet visited.
func TestTheHomeListTakesBackAHouseholdWhoseVisitAnotherCommandMoved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	ctx := context.Background()
	id := h.addHousehold(hamlet1, "Lê Văn Dời", "0901234567")
	today, err := time.Parse("2006-01-02", h.r.Today())
	require.NoError(t, err)
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {today.Format("02/01/2006")}})
	require.Equal(t, http.StatusSeeOther, status, body)

	_, body = h.get("/")
	require.NotContains(t, body, "Lê Văn Dời", "visited today: not on the list")

	cli := agenttest.Open(t, filepath.Join(h.dir, "replica.db"))
	d, err := cli.Show(ctx, "households", id)
	require.NoError(t, err)
	require.Len(t, d.Visits, 1)
	vid := uuid.MustParse(d.Visits[0].ID)
	lastMonth := today.AddDate(0, -1, -today.Day()+1).Format("2006-01-02")
	require.NoError(t, cli.Update(ctx, "visits", vid, map[string]any{"visited_on": lastMonth}))

	fromDB, err := cli.HouseholdsReached(ctx, []string{hamlet1, hamlet2}, today.AddDate(0, 0, -today.Day()+1).Format("2006-01-02"), h.r.Today())
	require.NoError(t, err)
	require.False(t, fromDB[id], "control: the replica itself says not reached this month")
	_, body = h.get("/")
	require.Contains(t, body, "Lê Văn Dời", "its only visit is now last month: not reached this month")
}

// A tutoring record's skill changed by the CLI: the household is no
// longer taught the first skill.
// The same for a tutoring record changed to another skill.
func TestTheSkillListTakesBackAHouseholdWhoseSkillAnotherCommandChanged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	ctx := context.Background()
	id := h.addHousehold(hamlet1, "Lê Văn Dời", "0901234567")
	today, err := time.Parse("2006-01-02", h.r.Today())
	require.NoError(t, err)
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {today.Format("02/01/2006")}, "skill": {"vneid_install"}, "outcome-vneid_install": {"independent"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	_, body = h.get("/?list=skill&skill=vneid_install")
	require.NotContains(t, body, "Lê Văn Dời")

	cli := agenttest.Open(t, filepath.Join(h.dir, "replica.db"))
	d, err := cli.Show(ctx, "households", id)
	require.NoError(t, err)
	require.Len(t, d.Tutoring, 1)
	other := ""
	for _, s := range schema.Skills() {
		if s.Code != "vneid_install" {
			other = s.Code
			break
		}
	}
	require.NoError(t, cli.Update(ctx, "tutoring_records", uuid.MustParse(d.Tutoring[0].ID), map[string]any{"skill": other}))
	fromDB, err := cli.HouseholdsTaught(ctx, "vneid_install")
	require.NoError(t, err)
	require.False(t, fromDB[id], "control: the replica itself says not taught")
	_, body = h.get("/?list=skill&skill=vneid_install")
	require.Contains(t, body, "Lê Văn Dời", "its only tutoring record is now of "+other)
}

// A page number so large that (page-1)*50 overflows.
// page=9223372036854775807 overflowed the offset: the reports page
// panicked (no answer), the others showed page 1.
func TestAPageNumberPastAnyEndAnswersAnEmptyPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	for _, p := range []string{"0", "-1", "999999", "9223372036854775807"} {
		resp, err := h.c.Get(h.base + "/reports?page=" + p)
		require.NoError(t, err, "page=%s", p)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "page=%s", p)
	}
}

func TestAHugePageNumberListsNoHousehold(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	h.addHousehold(hamlet1, "Lê Văn Dời", "0901234567")
	_, body := h.get("/households?page=9223372036854775807")
	require.NotContains(t, body, "Lê Văn Dời", "page far past the end lists no household")
	_, body = h.get("/?page=9223372036854775807")
	require.NotContains(t, body, "Lê Văn Dời", "page far past the end lists no household")
}
