package dashboard_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Debian's chromium package (.ci/run installs it: scripts/ensure-chromium.sh).
const chromiumPath = "/usr/bin/chromium"

const webPassword = "mat-khau-thu-nghiem"

// site is a real server on loopback with the small Cà Mau province
// loaded through the push path and reorganised as in 2025 (province →
// commune → hamlet), and dashboard users.
type site struct {
	URL      string
	Srv      *server.Server
	X        *analytics.Index
	Commune  string // the commune leader's commune: the one with most households reached
	Other    string // another commune with figures
	From, To string // the generated period
}

func startDashboard(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	srv, err := servertest.Open(ctx, t.TempDir(), "NORMAL", server.Config{Logger: servertest.Logger(), GCInterval: -1})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	t0 := time.Now()
	res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{Reorganise: true})
	require.NoError(t, err)
	t.Logf("loaded camau.Small: %d households, %d visits, %d tutoring, %d reports in %s",
		res.Counts.Households, res.Counts.Visits, res.Counts.Tutoring, res.Counts.Reports, time.Since(t0).Round(time.Millisecond))
	hs := httptest.NewServer(httpapp.Handler(srv))
	t.Cleanup(hs.Close)
	x, err := srv.Analytics()
	require.NoError(t, err)
	d := &site{URL: hs.URL, Srv: srv, X: x, From: camau.Small().From, To: camau.Small().To}
	from, _ := time.Parse(time.DateOnly, d.From)
	to, _ := time.Parse(time.DateOnly, d.To)
	cov, err := x.Coverage(ctx, schema.ProvinceCodeCaMau, analytics.Period{From: from, To: to})
	require.NoError(t, err)
	for _, c := range cov.Children {
		if c.Reached == 0 {
			continue
		}
		if d.Commune == "" || c.Reached > reachedOf(cov, d.Commune) {
			d.Commune = c.Code
		}
	}
	for _, c := range cov.Children {
		if c.Code != d.Commune && c.Households > 0 {
			d.Other = c.Code
			break
		}
	}
	require.NotEmpty(t, d.Commune)
	require.NotEmpty(t, d.Other)
	a := srv.Admin()
	for _, u := range []server.NewUser{
		{Username: "lanh-dao-xa", DisplayName: "Lãnh đạo xã (thử)", Role: analytics.RoleCommuneLeader, UnitCode: d.Commune},
		{Username: "dieu-phoi", DisplayName: "Điều phối (thử)", Role: analytics.RoleCoordinator, UnitCode: schema.ProvinceCodeCaMau},
		{Username: "so-tttt", DisplayName: "Sở KH&CN (thử)", Role: analytics.RoleProvincial, UnitCode: schema.ProvinceCodeCaMau},
	} {
		u.Password = webPassword
		_, err := a.AddUser(ctx, u)
		require.NoError(t, err)
	}
	return d
}

func reachedOf(c *analytics.Coverage, code string) int {
	for _, r := range c.Children {
		if r.Code == code {
			return r.Reached
		}
	}
	return -1
}

func artifactDir(t *testing.T) string {
	if d := os.Getenv("HAMLET_TEST_ARTIFACTS"); d != "" {
		require.NoError(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.ArtifactDir()
}

// newBrowser starts headless Chromium from Debian's package: never a
// download. Without it the test skips locally and fails in CI.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install Debian's chromium package (scripts/ensure-chromium.sh)", chromiumPath)
		}
		t.Skipf("%s is missing: install Debian's chromium package (scripts/ensure-chromium.sh) to run the browser tests", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, 150*time.Second)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	require.NoError(t, chromedp.Do(ctx)) // start the browser
	return ctx
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func signInBrowser(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#username")),
		chromedp.SetValue(chromedp.CSS("#username"), user),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
	))
	settle(t, ctx, `location.pathname !== '/login' || !!document.querySelector('#login-error')`)
}

// settle waits until cond holds on a fully loaded page (after a click that
// navigates).
func settle(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	// Evaluate again and again: a navigation in flight fails an evaluation.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && (`+cond+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", cond, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// cookieClient is a Go HTTP client holding the browser's cookies, to check
// status codes and download files exactly as the browser would.
func cookieClient(t *testing.T, ctx context.Context, base string) *http.Client {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	require.NoError(t, err)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(base)
	var cs []*http.Cookie
	for _, c := range res.Cookies {
		cs = append(cs, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/"})
	}
	jar.SetCookies(u, cs)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var digits = regexp.MustCompile(`[^0-9]`)

func atoiText(s string) int {
	var n int
	fmt.Sscan(digits.ReplaceAllString(s, ""), &n)
	return n
}

// TestDashboardInBrowser drives the dashboard in headless Chromium against
// a real server on loopback: a commune leader signs in, sees only their
// commune, drills down to a hamlet, checks a figure against the API and
// downloads the XLSX; a coordinator dispatches a report; wrong passwords and
// forged CSRF tokens are refused.
func TestDashboardInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	d := startDashboard(t)
	art := artifactDir(t)
	period := "from=" + d.From + "&to=" + d.To
	bg := context.Background()

	t.Run("wrong password is refused", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage")))
		require.Equal(t, "/login", location(t, ctx).Path, "a page without a session goes to sign-in")
		signInBrowser(t, ctx, d.URL, "lanh-dao-xa", "mat-khau-sai-roi")
		require.Contains(t, text(t, ctx, "#login-error"), "Sai tên đăng nhập hoặc mật khẩu")
		require.Equal(t, "/login", location(t, ctx).Path)
	})

	t.Run("commune leader sees only their commune", func(t *testing.T) {
		signInBrowser(t, ctx, d.URL, "lanh-dao-xa", webPassword)
		require.Equal(t, "/coverage", location(t, ctx).Path)
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage?"+period), chromedp.WaitVisible(chromedp.CSS("#coverage-table"))))
		u, err := d.X.Unit(bg, d.Commune)
		require.NoError(t, err)
		require.Contains(t, text(t, ctx, "h1"), u.Unit.Name)
		codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#coverage-table tbody tr')].map(r => r.dataset.code)`))
		require.NoError(t, err)
		require.NotEmpty(t, codes)
		for _, c := range codes {
			require.True(t, d.X.Within(c, d.Commune), "row %s lies outside commune %s", c, d.Commune)
		}
		// The page fits a phone: no horizontal scrolling of the page.
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#coverage-table"))))
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
		require.NoError(t, err)
		require.True(t, fits, "the coverage page scrolls sideways on a 390px phone")
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(art, "coverage-commune-phone.png"), png, 0o644))
		_ = os.WriteFile("/tmp/hamlet-coverage-phone.png", png, 0o644)
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#coverage-table"))))
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(art, "coverage-commune.png"), png, 0o644))
		_ = os.WriteFile("/tmp/hamlet-coverage.png", png, 0o644)
		t.Logf("screenshots in %s and /tmp/hamlet-coverage.png", art)

		// Another commune's unit, and the province, are refused.
		for _, unit := range []string{d.Other, schema.ProvinceCodeCaMau} {
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage?unit="+unit+"&"+period), chromedp.WaitVisible(chromedp.CSS("#error-hint"))))
			require.Contains(t, text(t, ctx, "#error-hint"), "nằm ngoài địa bàn")
			resp, err := cookieClient(t, ctx, d.URL).Get(d.URL + "/coverage?unit=" + unit)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
		}
	})

	t.Run("drill down to a hamlet and check the figures against the API", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(d.URL+"/coverage?"+period+"&sort=reached&dir=desc"),
			chromedp.WaitVisible(chromedp.CSS("#coverage-table")),
		))
		hamlet, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#coverage-table tbody tr').dataset.code`))
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#coverage-table tbody tr a.drill")),
			chromedp.WaitNotPresent(chromedp.CSS("#coverage-table")),
			chromedp.WaitVisible(chromedp.CSS("#unit-coverage")),
		))
		loc := location(t, ctx)
		require.Equal(t, hamlet, loc.Query().Get("unit"))
		require.Equal(t, d.From, loc.Query().Get("from"), "the drill-down keeps the period")
		pageCov, pageHH, pageReached := text(t, ctx, "#unit-coverage"), text(t, ctx, "#unit-households"), text(t, ctx, "#unit-reached")
		// The API, read by the same browser with the same cookie session.
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/api/v1/coverage?unit="+hamlet+"&"+period)))
		body := text(t, ctx, "body")
		var api analytics.Coverage
		require.NoError(t, json.Unmarshal([]byte(body), &api), body)
		require.Equal(t, hamlet, api.Unit.Code)
		require.Positive(t, api.Unit.Households)
		require.Equal(t, api.Unit.Households, atoiText(pageHH))
		require.Equal(t, api.Unit.Reached, atoiText(pageReached))
		want := fmt.Sprintf("%.1f", api.Unit.Coverage*100)
		require.Equal(t, strings.Replace(want, ".", ",", 1)+" %", pageCov)
		t.Logf("hamlet %s: page says %s households, %s reached, %s; API %d, %d, %.4f", hamlet, pageHH, pageReached, pageCov,
			api.Unit.Households, api.Unit.Reached, api.Unit.Coverage)
	})

	t.Run("English switch is remembered", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/teams?lang=en&"+period), chromedp.WaitVisible(chromedp.CSS("#teams-count"))))
		require.Contains(t, text(t, ctx, "h1"), "Community digital technology teams")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/reports"), chromedp.WaitVisible(chromedp.CSS("h1"))))
		require.Contains(t, text(t, ctx, "h1"), "Field reports")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage?lang=vi&"+period), chromedp.WaitVisible(chromedp.CSS("h1"))))
		require.Contains(t, text(t, ctx, "h1"), "Độ phủ")
	})

	t.Run("download the XLSX and open it", func(t *testing.T) {
		dl := t.TempDir()
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl})
		require.NoError(t, err)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(d.URL+"/coverage?"+period),
			chromedp.WaitVisible(chromedp.CSS(`a[data-export="coverage.xlsx"]`)),
			chromedp.Click(chromedp.CSS(`a[data-export="coverage.xlsx"]`)),
		))
		var file string
		require.Eventually(t, func() bool {
			m, _ := filepath.Glob(filepath.Join(dl, "*.xlsx"))
			if len(m) == 1 {
				file = m[0]
				return true
			}
			return false
		}, 20*time.Second, 100*time.Millisecond, "the browser saved no .xlsx in %s", dl)
		f, err := excelize.OpenFile(file)
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows(f.GetSheetName(0))
		require.NoError(t, err)
		require.Greater(t, len(rows), 2, "%v", rows)
		from, _ := time.Parse(time.DateOnly, d.From)
		to, _ := time.Parse(time.DateOnly, d.To)
		cov, err := d.X.Coverage(bg, d.Commune, analytics.Period{From: from, To: to})
		require.NoError(t, err)
		found := false
		for _, r := range rows {
			for i, cell := range r {
				if cell == cov.Children[0].Code {
					found = true
					require.Contains(t, r[i:], fmt.Sprint(cov.Children[0].Households), "row %v", r)
				}
			}
		}
		require.True(t, found, "hamlet %s is not in %s: %v", cov.Children[0].Code, filepath.Base(file), rows[:3])
		t.Logf("downloaded %s: %d rows", filepath.Base(file), len(rows))
	})

	t.Run("sign out", func(t *testing.T) {
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage"), chromedp.WaitVisible(chromedp.CSS("#sign-out")),
			chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#username"))))
		require.Equal(t, "/login", location(t, ctx).Path)
		require.Contains(t, text(t, ctx, ".notice"), "đăng xuất")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/coverage"), chromedp.WaitVisible(chromedp.CSS("#username"))))
		require.Equal(t, "/login", location(t, ctx).Path, "signed out: pages go to sign-in again")
	})

	t.Run("coordinator dispatches a report; a forged CSRF token is refused", func(t *testing.T) {
		signInBrowser(t, ctx, d.URL, "dieu-phoi", webPassword)
		sub, err := d.X.Reports(bg, schema.ProvinceCodeCaMau, analytics.ReportFilter{Status: "submitted"}, analytics.RoleCoordinator, time.Now())
		require.NoError(t, err)
		require.NotEmpty(t, sub, "the small province has submitted reports")
		list := d.URL + "/reports?unit=96&status=submitted"
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS("form.act-dispatched"))))
		id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.report').id.replace('report-', '')`))
		require.NoError(t, err)
		// Forge the token: refused with a Vietnamese page, nothing changes.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(".report form.act-dispatched input[name=csrf]"), "forged-token"),
			chromedp.Click(chromedp.CSS(".report form.act-dispatched button")),
			chromedp.WaitVisible(chromedp.CSS("#error-hint")),
		))
		require.Contains(t, text(t, ctx, "#error-hint"), "mã bảo vệ biểu mẫu (CSRF)")
		v, _, err := d.X.Report(bg, id, analytics.RoleCoordinator, time.Now())
		require.NoError(t, err)
		require.Equal(t, "submitted", v.Status)
		// A form posted from elsewhere, without the token: 403.
		resp, err := cookieClient(t, ctx, d.URL).PostForm(d.URL+"/reports/"+id+"/transition", url.Values{"to": {"dispatched"}})
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, string(b), "CSRF")

		// The real form dispatches it.
		agency := "UBND xã (thử nghiệm trình duyệt)"
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(list), chromedp.WaitVisible(chromedp.CSS("#report-"+id+" form.act-dispatched")),
			chromedp.SetValue(chromedp.CSS("#report-"+id+" form.act-dispatched input[name=agency]"), agency),
			chromedp.Click(chromedp.CSS("#report-"+id+" form.act-dispatched button")),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		))
		require.Contains(t, text(t, ctx, ".notice"), "Đã cập nhật")
		v, _, err = d.X.Report(bg, id, analytics.RoleCoordinator, time.Now())
		require.NoError(t, err)
		require.Equal(t, "dispatched", v.Status)
		require.Equal(t, agency, v.Agency)
		// Returning needs a reason: the browser's required field and the server.
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(d.URL+"/reports?unit=96&status=dispatched"),
			chromedp.WaitVisible(chromedp.CSS("#report-"+id+" form.act-returned")),
			chromedp.SetValue(chromedp.CSS("#report-"+id+" form.act-returned input[name=reason]"), "Khiếu nại, không thuộc phản ánh hiện trường"),
			chromedp.Click(chromedp.CSS("#report-"+id+" form.act-returned button")),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		))
		v, _, err = d.X.Report(bg, id, analytics.RoleCoordinator, time.Now())
		require.NoError(t, err)
		require.Equal(t, "returned", v.Status)
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#username"))))
	})

	t.Run("issue 21: the first hour", func(t *testing.T) { firstHour(t, ctx, d, art) })

	t.Run("page weight: coverage HTML and assets under 300 KB gzipped", func(t *testing.T) {
		c := loginHTTP(t, d.URL, "so-tttt")
		total := 0
		for _, p := range []string{"/coverage?unit=96&" + period, "/coverage?unit=96&level=hamlet&" + period} {
			html, gz := fetchGzip(t, c, d.URL+p)
			size := gz
			for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(html, -1) {
				_, g := fetchGzip(t, c, d.URL+strings.ReplaceAll(m[1], "&amp;", "&"))
				size += g
			}
			t.Logf("%s: %d bytes HTML, %d bytes gzipped with its assets", p, len(html), size)
			require.Less(t, size, 300<<10)
			total += size
		}
	})
}

// loginHTTP signs in through the HTML form with a plain HTTP client.
func loginHTTP(t *testing.T, base, user string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.NotNil(t, m)
	resp, err = c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {webPassword}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "/coverage", resp.Request.URL.Path)
	return c
}

// fetchGzip GETs a URL asking for gzip and returns the body and the size
// on the wire.
func fetchGzip(t *testing.T, c *http.Client, u string) (string, int) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(withCookies(c, req)) // no transparent decompression
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, u)
	raw, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Encoding") != "gzip" {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		return string(raw), buf.Len()
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	body, _ := io.ReadAll(zr)
	return string(body), len(raw)
}

func withCookies(c *http.Client, req *http.Request) *http.Request {
	for _, ck := range c.Jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return req
}
