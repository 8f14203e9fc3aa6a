package dashboard_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// isOffSite reports whether a browser following Location from base would
// leave the site: browsers read '\' as '/' in http(s) URLs, so "/\host"
// is "//host".
func isOffSite(t *testing.T, base, loc string) bool {
	b, _ := url.Parse(base)
	u, err := b.Parse(strings.ReplaceAll(loc, `\`, "/"))
	require.NoError(t, err)
	return u.Host != b.Host
}

// A sign-in's way back (?next=, and the back of a form posted after the
// session ended) stays on this site, whatever dot-segments it carries.
func TestSignInNextStaysOnSite(t *testing.T) {
	d := startDashboard(t)
	const evil = `/reports/../\evil.example/x`

	// A signed-in user who opens a link to the sign-in page is sent to next.
	c := loginHTTP(t, d.URL, "dieu-phoi")
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(d.URL + "/login?next=" + url.QueryEscape(evil))
	require.NoError(t, err)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	require.False(t, isOffSite(t, d.URL, loc), "GET /login?next=%q: Location %q leaves the site", evil, loc)

	// The same through the sign-in form.
	c2 := &http.Client{Jar: c.Jar, CheckRedirect: c.CheckRedirect}
	c2.Jar.SetCookies(mustURL(d.URL), []*http.Cookie{{Name: "hamlet_session", Value: "", MaxAge: -1}})
	resp, err = http.Get(d.URL + "/login")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.NotNil(t, m)
	req, _ := http.NewRequest("POST", d.URL+"/login", strings.NewReader(url.Values{"csrf": {m[1]}, "username": {"dieu-phoi"}, "password": {webPassword}, "next": {evil}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc = resp.Header.Get("Location")
	require.False(t, isOffSite(t, d.URL, loc), "POST /login next=%q: Location %q leaves the site", evil, loc)
}

func mustURL(s string) *url.URL { u, _ := url.Parse(s); return u }
