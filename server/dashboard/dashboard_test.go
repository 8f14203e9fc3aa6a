package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The dashboard without a browser: sign-in refusals, CSRF on every form,
// roles, the language cookie, the security headers. The browser test
// (browser_test.go) drives the same pages in Chromium.
func TestDashboardForms(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	for _, u := range []server.NewUser{
		{Username: "lanh-dao", DisplayName: "Lãnh đạo", Role: analytics.RoleCommuneLeader, UnitCode: servertest.CommuneA},
		{Username: "cntt", DisplayName: "CNTT", Role: analytics.RoleOperator, UnitCode: "96"},
	} {
		u.Password = webPassword
		_, err := ts.Admin.AddUser(ctx, u)
		require.NoError(t, err)
	}
	noFollow := func(c *http.Client) *http.Client {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c
	}
	body := func(resp *http.Response) string {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)

	t.Run("pages need a session", func(t *testing.T) {
		for _, p := range []string{"/", "/coverage", "/teams", "/reports", "/sync"} {
			resp, err := noFollow(&http.Client{}).Get(ts.URL + p)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusSeeOther, resp.StatusCode, p)
			require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"), p)
		}
	})

	t.Run("sign-in form without its CSRF token is refused", func(t *testing.T) {
		resp, err := http.PostForm(ts.URL+"/login", url.Values{"username": {"lanh-dao"}, "password": {webPassword}})
		require.NoError(t, err)
		b := body(resp)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, b, "mã bảo vệ biểu mẫu (CSRF)")
		require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	})

	signIn := func(t *testing.T, user, pw string) (*http.Client, *http.Response) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Transport: apitest.Transport(t, nil)}
		resp, err := c.Get(ts.URL + "/login")
		require.NoError(t, err)
		m := csrfRE.FindStringSubmatch(body(resp))
		require.NotNil(t, m)
		resp, err = c.PostForm(ts.URL+"/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {pw}})
		require.NoError(t, err)
		return c, resp
	}

	t.Run("wrong password", func(t *testing.T) {
		_, resp := signIn(t, "lanh-dao", "sai-mat-khau-roi")
		b := body(resp)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, b, "Sai tên đăng nhập hoặc mật khẩu")
	})

	t.Run("commune leader: own commune only, no sync page, CSRF on sign-out", func(t *testing.T) {
		c, resp := signIn(t, "lanh-dao", webPassword)
		b := body(resp)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "/coverage", resp.Request.URL.Path)
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
		require.NotContains(t, b, `href="/sync"`)
		for _, p := range []string{"/coverage?unit=" + servertest.CommuneB, "/coverage?unit=96", "/teams?unit=" + servertest.CommuneB, "/reports?unit=" + servertest.CommuneB, "/sync"} {
			resp, err := c.Get(ts.URL + p)
			require.NoError(t, err)
			b := body(resp)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, p)
			require.Contains(t, b, "<html lang=\"vi\">", p)
		}
		resp, err := c.Get(ts.URL + "/coverage?unit=" + ts.HamletsA[0])
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, body(resp))
		// The export buttons' API works with the cookie session.
		resp, err = c.Get(ts.URL + "/api/v1/export/coverage.csv?unit=" + servertest.CommuneA)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, body(resp))
		// English, remembered.
		resp, err = c.Get(ts.URL + "/teams?lang=en")
		require.NoError(t, err)
		require.Contains(t, body(resp), `<html lang="en">`)
		resp, err = c.Get(ts.URL + "/reports")
		require.NoError(t, err)
		b = body(resp)
		require.Contains(t, b, "Field reports")
		// Sign-out with a forged token is refused; with the page's token it works.
		resp, err = c.PostForm(ts.URL+"/logout", url.Values{"csrf": {"forged"}})
		require.NoError(t, err)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, body(resp))
		tok := csrfRE.FindStringSubmatch(b)[1]
		resp, err = c.PostForm(ts.URL+"/logout", url.Values{"csrf": {tok}})
		require.NoError(t, err)
		body(resp)
		require.Equal(t, "/login", resp.Request.URL.Path)
		resp, err = noFollow(c).Get(ts.URL + "/coverage")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, "the session is gone")
	})

	t.Run("operator sees sync health", func(t *testing.T) {
		ts.NewDevice(t, ts.TeamA)
		c, resp := signIn(t, "cntt", webPassword)
		body(resp)
		resp, err := c.Get(ts.URL + "/sync")
		require.NoError(t, err)
		b := body(resp)
		require.Equal(t, http.StatusOK, resp.StatusCode, b)
		require.Contains(t, b, "máy thử")
		require.Contains(t, b, servertest.TeamAName)
	})

	// Issue 21, items 22 and 24: a crawler reads a text answer; an error
	// page in Vietnamese holds no English of the server's, and the
	// English page keeps it for IT staff.
	t.Run("robots.txt and the page that is not there", func(t *testing.T) {
		resp, err := http.Get(ts.URL + "/robots.txt")
		require.NoError(t, err)
		b := body(resp)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Equal(t, "User-agent: *\nDisallow: /\n", b)

		c, resp := signIn(t, "lanh-dao", webPassword)
		body(resp)
		for _, tc := range []struct {
			lang, want string
			not        []string
		}{
			{"vi", "Không có trang này", []string{"not_found", "no such page"}},
			{"en", "not_found: no such page", nil},
		} {
			resp, err := c.Get(ts.URL + "/khong-co?lang=" + tc.lang)
			require.NoError(t, err)
			b := body(resp)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			require.Contains(t, b, tc.want)
			for _, s := range tc.not {
				require.NotContains(t, b, s)
			}
		}
	})

	t.Run("static assets are embedded, cached and compressed", func(t *testing.T) {
		req, _ := http.NewRequest("GET", ts.URL+"/static/style.css?v=x", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		require.Contains(t, resp.Header.Get("Cache-Control"), "immutable")
	})
}
