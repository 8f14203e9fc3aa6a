package dashboard_test

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
)

// A coordinator whose session ended while a form was open (expired, or
// signed out in another tab) is told to sign in again and brought back,
// not told that the request may come from another site.
func TestTransitionAfterSessionEndedAsksToSignInAgain(t *testing.T) {
	d := startDashboard(t)
	c := loginHTTP(t, d.URL, "dieu-phoi")
	resp, err := c.Get(d.URL + "/reports?lang=en")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`action="(/reports/[^/"]+/transition)"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)">`).FindStringSubmatch(string(b))
	require.NotNil(t, m, "a coordinator sees a status form")
	base, _ := url.Parse(d.URL)
	var tok string
	for _, ck := range c.Jar.Cookies(base) {
		if ck.Name == server.SessionCookie {
			tok = ck.Value
		}
	}
	require.NotEmpty(t, tok)
	require.NoError(t, d.Srv.SignOut(context.Background(), tok)) // the session ends meanwhile

	resp, err = c.PostForm(d.URL+m[1], url.Values{"csrf": {m[2]}, "to": {"returned"}, "reason": {"Không thuộc phản ánh hiện trường"}, "back": {"/reports"}})
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(b), "CSRF", "status %d at %s", resp.StatusCode, resp.Request.URL)
	require.Equal(t, "/login", resp.Request.URL.Path, "status %d: sent to sign in again", resp.StatusCode)
}
