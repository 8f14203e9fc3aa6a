package app_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

var errCodeRE = regexp.MustCompile(`(?s)<p class="field-error" id="err-code">(.*?)</p>`)

// Helper 167: in the app, a code badly formed (xin ma, the placeholder
// XXXX-XXXX) was sent and counted as a wrong try, and a line with no one
// code in it (PasteCodeOnlyError) was told in the page's general problem
// box, not under the code field that is to be mended. Each is told under
// the code field, saying what a code looks like, and nothing is sent.
func TestAppEnrollBadCodeUnderTheCodeField(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1 }))
	h := newHarness(t, false)
	for _, in := range []string{"xin ma", "XXXX-XXXX", "V7YS/APKY7", "nhap ma cua toi la ma gi vay"} {
		st, body, _ := h.post("/enroll", url.Values{"server": {ts.URL}, "code": {in}, "label": {"máy thử"}})
		require.Equal(t, http.StatusUnprocessableEntity, st, "%q", in)
		m := errCodeRE.FindStringSubmatch(body)
		require.NotNil(t, m, "%q: no message under the code field: %s", in, html.UnescapeString(body))
		require.Contains(t, html.UnescapeString(m[1]), "XXXX-XXXX", "%q", in)
		require.Contains(t, html.UnescapeString(m[1]), "chưa được gửi đi", "%q", in)
	}
	st, body, _ := h.post("/enroll", url.Values{"server": {ts.URL}, "code": {"<" + ts.EnrollCode(t, ts.TeamA) + ">"}, "label": {"máy thử"}})
	require.Equal(t, http.StatusSeeOther, st, "the real code after the bad ones: %s", html.UnescapeString(body))
}
