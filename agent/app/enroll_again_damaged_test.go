package app_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A sync that stops because the data file is damaged (marker beside it):
// the sync page tells the volunteer to run a repair. It must not offer
// «Đăng ký lại bằng mã mới»: a new code cannot help, and the enroll page
// refuses on the damaged file anyway.
// A sync stopped for a damaged file told the volunteer to run repair, with
// «Đăng ký lại bằng mã mới» shown beside it: a new code cannot help there,
// and enrolling is refused on a damaged file (helper 141). The button is
// offered only when the server refuses the laptop's token.
func TestDamagedStopDoesNotOfferEnrollAgain(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := openSyncLaptop(t, ts, ts.TeamA, time.Now)
	h := newHarness(t, false, func(c *app.Config) {
		c.Replica = l.l
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(c.TokenPath), "token"), []byte(l.tok+"\n"), 0o600))
		c.Sync.MinBackoff = 50 * time.Millisecond
	})
	require.Eventually(t, func() bool {
		_, page := h.get("/sync")
		return strings.Contains(page, `data-class="ok"`)
	}, 60*time.Second, 100*time.Millisecond)
	require.NoError(t, os.WriteFile(l.l.Path()+".damaged", []byte(`{"reason":"test"}`), 0o600))
	var page string
	require.Eventually(t, func() bool {
		_, _, _ = h.post("/sync", url.Values{})
		_, page = h.get("/sync")
		return strings.Contains(page, `data-class="stopped"`)
	}, 60*time.Second, 300*time.Millisecond)
	i := strings.Index(page, `id="sync-error"`)
	require.True(t, i >= 0)
	t.Logf("sync-error: %.300s", page[i:])
	require.Contains(t, page, `id="enroll-again" href="/enroll" hidden>`,
		"a stop for a damaged file shows the enroll-again button")
}
