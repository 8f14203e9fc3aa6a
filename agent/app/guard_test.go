package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
)

// raw sends one request with the given session cookie (none when ""),
// Host header and Origin, outside the harness's client.
func (h *harness) raw(method, path, cookie, host, origin string, form url.Values) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, h.base+path, body)
	require.NoError(h.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if host != "" {
		req.Host = host
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// session is the harness's cookie as a Cookie header.
func (h *harness) session() string {
	u, _ := url.Parse(h.base)
	var parts []string
	for _, c := range h.c.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// The launch secret guards every request; the Host must name the app
// (DNS rebinding); a POST needs the app's Origin and the form's CSRF
// token. Every refusal saves nothing and shows no data.
func TestGuardRefuses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	token := h.csrf()
	_, port, _ := strings.Cut(strings.TrimPrefix(h.base, "http://"), ":")
	ok := h.session()
	good := url.Values{"csrf": {token}, "hamlet_code": {hamlet1}, "head_name": {"Trần Thị Bình"}, "active": {"on"}}
	tests := []struct {
		name         string
		method, path string
		cookie, host string
		origin       string
		form         url.Values
		status       int
		text         string // in the refusal page
	}{
		{"no secret", "GET", "/households/" + id, "", "", "", nil, http.StatusForbidden, "Phiên làm việc không hợp lệ"},
		{"no secret, static", "GET", "/static/app.css", "", "", "", nil, http.StatusForbidden, "Phiên làm việc"},
		{"wrong secret in the URL", "GET", "/?k=not-the-secret", "", "", "", nil, http.StatusForbidden, "Phiên làm việc"},
		{"forged cookie", "GET", "/households/" + id, "hamlet_app_" + port + "=forged", "", "", nil, http.StatusForbidden, "Phiên làm việc"},
		{"foreign Host (DNS rebinding)", "GET", "/households/" + id, ok, "evil.example:" + port, "", nil, http.StatusMisdirectedRequest, "giả danh"},
		{"foreign Host, right port", "GET", "/", ok, "attacker.test", "", nil, http.StatusMisdirectedRequest, "giả danh"},
		{"foreign Host with the secret", "GET", "/?k=x", "", "evil.example:" + port, "", nil, http.StatusMisdirectedRequest, "giả danh"},
		{"POST from a foreign Origin", "POST", "/households/new", ok, "", "http://evil.example", good, http.StatusForbidden, "từ một trang khác"},
		{"POST from another port", "POST", "/households/new", ok, "", "http://127.0.0.1:1", good, http.StatusForbidden, "từ một trang khác"},
		{"POST with Origin null", "POST", "/households/new", ok, "", "null", good, http.StatusForbidden, "từ một trang khác"},
		{"POST without the CSRF token", "POST", "/households/new", ok, "", h.base, url.Values{"hamlet_code": {hamlet1}, "head_name": {"Trần Thị Bình"}}, http.StatusForbidden, "CSRF"},
		{"POST with a forged CSRF token", "POST", "/households/new", ok, "", h.base, url.Values{"csrf": {"forged"}, "hamlet_code": {hamlet1}, "head_name": {"Trần Thị Bình"}}, http.StatusForbidden, "CSRF"},
		{"POST without the secret", "POST", "/households/new", "", "", h.base, good, http.StatusForbidden, "Phiên làm việc"},
		{"PUT", "PUT", "/households/" + id, ok, "", h.base, url.Values{}, http.StatusMethodNotAllowed, "không nhận kiểu yêu cầu"},
	}
	before, err := h.r.Pending(t.Context())
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := h.raw(tt.method, tt.path, tt.cookie, tt.host, tt.origin, tt.form)
			require.Equal(t, tt.status, resp.StatusCode, body)
			require.Contains(t, body, tt.text)
			require.NotContains(t, body, "Nguyễn Văn An", "a refusal shows no data")
			require.Empty(t, resp.Header.Values("Set-Cookie"), "a refusal gives no session")
			require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
		})
	}
	after, err := h.r.Pending(t.Context())
	require.NoError(t, err)
	require.Equal(t, before, after, "no refused request saved anything")

	// The same requests with the session, the Host and the Origin pass.
	resp, _ := h.raw("GET", "/households/"+id, ok, "localhost:"+port, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, body := h.raw("POST", "/households/new", ok, "", h.base, good)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, body)
}

// The launch URL sets an HttpOnly, SameSite=Strict cookie and sends the
// browser on to the same address without the secret.
func TestLaunchURLGivesACookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	launch := h.a.LaunchURL()
	secret := launch[strings.Index(launch, "?k=")+3:]
	resp, body := h.raw("GET", "/households?q=an&k="+secret, "", "", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<meta http-equiv="refresh" content="0;url=/households?q=an">`, "on to the address without the secret")
	require.NotContains(t, body, secret)
	cs := resp.Cookies()
	require.Len(t, cs, 1)
	require.True(t, cs[0].HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, cs[0].SameSite)
	require.Equal(t, "/", cs[0].Path)
	require.NotContains(t, cs[0].Value, secret, "the cookie is not the URL's secret")
	resp, body = h.raw("GET", "/households?q=an", cs[0].Name+"="+cs[0].Value, "", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	for _, hdr := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		require.NotEmpty(t, resp.Header.Get(hdr), hdr)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "script-src 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.NotRegexp(t, `https?:|\*`, csp, "nothing from another site")
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"), "pages hold personal data")

	// Another app (another launch) does not take this one's cookie.
	other := newHarness(t, true)
	resp, _ = other.raw("GET", "/", cs[0].Name+"="+cs[0].Value, "", "", nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// The app listens on loopback only, and a request that reaches it from
// elsewhere (a forwarded port) is refused.
func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "[::]:0", "example.com:0"} {
		_, err := h.a.Listen(addr)
		require.ErrorIs(t, err, app.ErrNotLoopback, addr)
	}
	require.True(t, strings.HasPrefix(h.base, "http://127.0.0.1:"), h.base)
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = strings.TrimPrefix(h.base, "http://")
	req.RemoteAddr = "192.0.2.7:51000"
	req.Header.Set("Cookie", h.session())
	w := httptest.NewRecorder()
	h.a.Handler().ServeHTTP(w, req)
	require.Equal(t, http.StatusForbidden, w.Code)
	require.Contains(t, w.Body.String(), "chỉ mở được trên chính máy này")
}
