package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Behind a reverse proxy that terminates TLS and says so with
// X-Forwarded-Proto: https (the deployment server.BaseURL already
// honours for the export's photo links), the session cookie the
// dashboard sets at sign-in should be Secure. It is not: the flag is
// tied to r.TLS only, so a leader's session cookie is also sent over any
// plain-HTTP request to the same host.
// Helper 148: behind a reverse proxy that terminates TLS (the deployment
// server.BaseURL already expects, from X-Forwarded-Proto), the session
// cookie, the sign-in form's and the language cookie went without Secure,
// and HSTS was not sent: the cookie would travel over any plain-HTTP
// request to the host.
func TestSessionCookieSecureBehindTLSProxy(t *testing.T) {
	ts := servertest.Start(t)
	_, err := ts.Admin.AddUser(context.Background(), server.NewUser{Username: "lanh-dao", DisplayName: "Lãnh đạo",
		Role: analytics.RoleCommuneLeader, UnitCode: servertest.CommuneA, Password: "mat-khau-thu-nghiem"})
	require.NoError(t, err)

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get, _ := http.NewRequest("GET", ts.URL+"/login", nil)
	get.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.Do(get)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.NotNil(t, m)
	var loginCSRF *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "hamlet_login_csrf" {
			loginCSRF = ck
		}
	}
	require.NotNil(t, loginCSRF)

	form := url.Values{"csrf": {m[1]}, "username": {"lanh-dao"}, "password": {"mat-khau-thu-nghiem"}}
	post, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("X-Forwarded-Proto", "https")
	post.AddCookie(loginCSRF)
	resp, err = c.Do(post)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	// The same request, as the server itself reads it for links: https.
	probe := httptest.NewRequest("POST", "/login", nil)
	probe.Header.Set("X-Forwarded-Proto", "https")
	require.True(t, strings.HasPrefix(server.BaseURL(probe), "https://"), "BaseURL treats the request as HTTPS")

	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == server.SessionCookie {
			sess = ck
		}
	}
	require.NotNil(t, sess)
	require.True(t, sess.HttpOnly)
	require.True(t, sess.Secure, "session cookie set over a TLS-terminating proxy lacks Secure: %s", resp.Header.Values("Set-Cookie"))
	require.True(t, loginCSRF.Secure, "the sign-in form's cookie")
	require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	// The language cookie, as a leader switches language.
	lang, _ := http.NewRequest("GET", ts.URL+"/login?lang=en", nil)
	lang.Header.Set("X-Forwarded-Proto", "https")
	resp, err = c.Do(lang)
	require.NoError(t, err)
	resp.Body.Close()
	var langCk *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name != "hamlet_login_csrf" {
			langCk = ck
		}
	}
	require.NotNil(t, langCk, "%s", resp.Header.Values("Set-Cookie"))
	require.True(t, langCk.Secure, "the language cookie: %s", resp.Header.Values("Set-Cookie"))
	// Plain HTTP without the header: no Secure (the browser would drop the cookie).
	plain, _ := http.NewRequest("GET", ts.URL+"/login?lang=en", nil)
	resp, err = c.Do(plain)
	require.NoError(t, err)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		require.False(t, ck.Secure, ck.Name)
	}
	require.Empty(t, resp.Header.Get("Strict-Transport-Security"))
}
