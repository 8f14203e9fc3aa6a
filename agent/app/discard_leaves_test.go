package app_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Review 39d (helper 77): a household the server holds in a hamlet the
// team covers, refused a date (the laptop's clock five days ahead) and a
// move into a hamlet the team had lost; the team then loses the first
// hamlet too. «Drop this whole record» on its card drops both: the
// household, back in a hamlet the team no longer covers with nothing
// beside it, leaves the laptop. The page said only "Đã bỏ thay đổi bị từ
// chối.": it says the record left and that the server keeps it.
func TestDroppingTheCardOfAHouseholdInALostHamletSaysItLeaves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	kept, lost, third := ts.HamletsA[0], ts.HamletsA[1], ts.OtherHamletA
	_, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, third)
	require.NoError(t, err)
	var shift atomic.Int64
	l, err := agent.OpenWith(ctx, filepath.Join(t.TempDir(), "l.db"),
		agent.Options{Now: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	tok, _, err := l.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy")
	require.NoError(t, err)
	sync := func() agent.SyncSummary {
		s, err := l.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
		require.NoError(t, err)
		return s
	}
	h := newHarness(t, false, func(c *app.Config) { c.Replica = l })

	hh, err := l.AddHousehold(ctx, agent.Fields{"hamlet_code": kept, "head_name": "Lâm Thị Sáu"})
	require.NoError(t, err)
	sync()
	sync()
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, lost)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	shift.Store(int64(5 * 24 * time.Hour))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"registered_on": time.Now().AddDate(0, 0, 3).Format("2006-01-02")}))
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": lost}))
	sync()
	sync()
	_, err = ts.Admin.RemoveTeamHamlet(ctx, ts.TeamA, kept)
	require.NoError(t, err)
	require.NotNil(t, sync().ScopeChange)
	rej, err := l.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 2, "%+v", rej)
	first := strconv.FormatInt(rej[0].ID, 10)
	ids := first + "," + strconv.FormatInt(rej[1].ID, 10)
	_, body := h.get("/sync")
	require.Contains(t, body, `name="ids" value="`+ids+`"`, "one card, both refusals")

	status, body, loc := h.post("/sync/rejected/"+first+"/discard", url.Values{"ids": {ids}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?done=left#rejected", loc)
	_, body = h.get(loc)
	require.Contains(t, body, "Bản ghi này thuộc ấp/khóm mà tổ bạn không còn phụ trách (theo lần đồng bộ gần nhất) nên đã rời khỏi máy này; máy chủ vẫn giữ nó, không mất gì.")
	_, err = l.Show(ctx, "households", hh.String())
	require.Error(t, err, "the household left the laptop")
}
