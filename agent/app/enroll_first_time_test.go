package app_test

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The app's first enrollment agrees with the CLI's (helper 157): a pasted
// code is cleaned, a Telex code is not sent and says why, a throttled
// address is told to wait, a plain-HTTP server's address without a scheme
// is shown with http://, and a laptop enrolled and working is told so.
func TestAppEnrollFirstTime(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 3 }))
	enroll := func(h *harness, server, code string) (int, string) {
		st, body, _ := h.post("/enroll", url.Values{"server": {server}, "code": {code}, "label": {"máy thử"}})
		return st, html.UnescapeString(body)
	}
	notSaved := func(h *harness) {
		t.Helper()
		en, err := h.r.Enrollment(t.Context())
		require.NoError(t, err)
		assert.Nil(t, en, "an enrollment was saved")
		_, err = os.Stat(filepath.Join(h.dir, "token"))
		assert.True(t, os.IsNotExist(err), "a token was saved")
	}

	t.Run("Telex code not sent", func(t *testing.T) {
		h := newHarness(t, false)
		for i := 0; i < 5; i++ { // more than the server's limit: none reaches it
			st, body := enroll(h, ts.URL, "ĐƯ3Á-K7MN")
			require.Equal(t, http.StatusUnprocessableEntity, st)
			require.Contains(t, body, "bộ gõ tiếng Việt")
		}
		notSaved(h)
		st, body := enroll(h, ts.URL, "“"+ts.EnrollCode(t, ts.TeamA)+"\u200b”.")
		require.Equal(t, http.StatusSeeOther, st, "the pasted code after Telex tries: %s", body)
	})
	t.Run("address without scheme", func(t *testing.T) {
		h := newHarness(t, false)
		hostport := strings.TrimPrefix(ts.URL, "http://")
		st, body := enroll(h, hostport, ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, http.StatusUnprocessableEntity, st)
		assert.Contains(t, body, "http://"+hostport+" ")
		notSaved(h)
	})
	t.Run("already enrolled", func(t *testing.T) {
		h := newHarness(t, false)
		st, body := enroll(h, ts.URL, ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, http.StatusSeeOther, st, body)
		st, body = enroll(h, ts.URL, ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, http.StatusUnprocessableEntity, st)
		assert.Contains(t, body, "đã được đăng ký")
		assert.NotContains(t, body, "thu hồi thiết bị cũ")
	})
	t.Run("throttled", func(t *testing.T) {
		h := newHarness(t, false)
		for i := 0; i < 3; i++ {
			enroll(h, ts.URL, "ABCD-EFGH")
		}
		st, body := enroll(h, ts.URL, ts.EnrollCode(t, ts.TeamA))
		require.Equal(t, http.StatusUnprocessableEntity, st)
		assert.Contains(t, body, "Hãy đợi khoảng 10 phút")
		assert.NotContains(t, body, "Mã đăng ký không đúng")
		notSaved(h)
	})
}
