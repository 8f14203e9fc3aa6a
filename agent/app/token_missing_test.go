package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Helper 142: an enrolled laptop whose token file is gone (deleted, a data
// folder copied without it): the sync stops with "not enrolled … run
// hamlet-agent enroll"; enrolling again with a new code is the only
// remedy, and e8ea263 took away the app's button for it.
// An enrolled laptop whose token file is gone can only enroll again: the
// button was shown for any stop, then e8ea263 kept it for a refused token
// only and hid it here, beside a message telling a terminal command
// (helper 142). The button shows, and the message points at it.
func TestTokenFileGoneOffersEnrollAgain(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := openSyncLaptop(t, ts, ts.TeamA, time.Now)
	h := newHarness(t, false, func(c *app.Config) {
		c.Replica = l.l // no token file written
		c.Sync.MinBackoff = 50 * time.Millisecond
	})
	var page string
	require.Eventually(t, func() bool {
		_, page = h.get("/sync")
		return strings.Contains(page, `data-class="stopped"`)
	}, 60*time.Second, 100*time.Millisecond)
	i := strings.Index(page, `id="sync-error"`)
	require.True(t, i >= 0)
	require.Contains(t, page, `id="enroll-again" href="/enroll">`,
		"token file gone: no enroll-again button; the page says: %.400s", page[i:])
	require.Contains(t, page[i:], "bấm «Đăng ký lại bằng mã mới»")
	require.NotContains(t, page[i:i+600], "hamlet-agent enroll")
}
