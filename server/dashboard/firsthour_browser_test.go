package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The first hour of a leader, a coordinator and provincial staff on the
// dashboard (issue 21, items 10, 13–24): what each page says, read in
// Chromium, with screenshots of each page at desktop and phone sizes in
// the artifact directory (HAMLET_TEST_ARTIFACTS, or go test -artifacts).

// viewports are the sizes the layout checks and screenshots use.
var viewports = []struct {
	name string
	w, h int64
}{{"desktop", 1366, 768}, {"phone", 390, 844}}

// shoot saves a full-page screenshot of the current page at each
// viewport, as <name>-desktop.png and <name>-phone.png, and leaves the
// browser at desktop size.
func shoot(t *testing.T, ctx context.Context, art, name string) {
	t.Helper()
	for _, vp := range viewports {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(vp.w, vp.h)))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(art, name+"-"+vp.name+".png"), png, 0o644))
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(viewports[0].w, viewports[0].h)))
}

// open navigates and waits for sel (not for ever: a page that fails
// should fail its check, not the checks after it).
func open(t *testing.T, ctx context.Context, url, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(wctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel))), "open %s, wait for %s", url, sel)
}

// textOf is text, not waiting for ever for an element a failed page lacks.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return text(t, wctx, sel)
}

// bodyText is what a person reads on the page.
func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	require.NoError(t, err)
	return s
}

// englishInVietnamese are words of the server's own English that a
// Vietnamese page showed before ("not_found: no such page", "Tham số
// "status" không hợp lệ: unknown status").
var englishInVietnamese = regexp.MustCompile(`\b(unknown|not_found|no such|want|parameter|bad_parameter|is not a|out_of_unit|online)\b`)

// readsVietnamese checks a Vietnamese page holds none of the wordings the
// glossary replaced and no English of the server's.
func readsVietnamese(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	text := bodyText(t, ctx)
	require.Empty(t, i18n.Find(text), "%s: wordings the glossary replaced", page)
	require.Empty(t, englishInVietnamese.FindAllString(text, -1), "%s: English inside Vietnamese:\n%s", page, text)
}

// tableLayout is how a data table sits in its box at the current size.
type tableLayout struct {
	Clipped []string `json:"clipped"` // headings cut inside their cell
	Fits    bool     `json:"fits"`    // no column outside the box
	Stuck   bool     `json:"stuck"`   // scrolled to the end, the first column is still in view
	Hint    bool     `json:"hint"`    // the "scroll sideways" hint is shown
	Page    bool     `json:"page"`    // the page itself does not scroll sideways
}

func layoutOf(t *testing.T, ctx context.Context, sel string) tableLayout {
	t.Helper()
	l, err := chromedp.Run(ctx, chromedp.Evaluate[tableLayout](`(() => {
		const tb = document.querySelector(`+"`"+sel+"`"+`), box = tb.closest('.scroll');
		const clipped = [...tb.querySelectorAll('thead th')].filter(th => th.scrollWidth > th.clientWidth + 1 || th.textContent.includes('…')).map(th => th.textContent.trim());
		const fits = box.scrollWidth <= box.clientWidth + 1;
		box.scrollLeft = box.scrollWidth;
		const first = tb.querySelector('tbody th').getBoundingClientRect();
		const stuck = first.left >= box.getBoundingClientRect().left - 1 && first.right > first.left;
		box.scrollLeft = 0;
		const hint = box.previousElementSibling && box.previousElementSibling.matches('.scroll-hint') ? box.previousElementSibling : null;
		return {clipped, fits, stuck, hint: !!hint && hint.offsetParent !== null,
			page: document.documentElement.scrollWidth <= window.innerWidth};
	})()`))
	require.NoError(t, err)
	return l
}

// checkTable: headings whole, and the table fits its box or scrolls in it
// with its first column in view and a hint that it scrolls (item 16).
func checkTable(t *testing.T, ctx context.Context, sel string, mustFitDesktop bool) {
	t.Helper()
	for _, vp := range viewports {
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(vp.w, vp.h)))
		l := layoutOf(t, ctx, sel)
		t.Logf("%s at %s: %+v", sel, vp.name, l)
		require.Empty(t, l.Clipped, "%s at %s: headings cut", sel, vp.name)
		require.True(t, l.Page, "%s at %s: the page scrolls sideways", sel, vp.name)
		if vp.name == "desktop" && mustFitDesktop {
			require.True(t, l.Fits, "%s at %s: columns are cut off at the box's edge", sel, vp.name)
		}
		if !l.Fits {
			require.True(t, l.Stuck, "%s at %s: scrolled sideways, the first column leaves the view", sel, vp.name)
			require.True(t, l.Hint, "%s at %s: the table scrolls and nothing says so", sel, vp.name)
		}
	}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(viewports[0].w, viewports[0].h)))
}

// switchUser signs out whoever is signed in and signs user in.
func switchUser(t *testing.T, ctx context.Context, base, user, password string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(base+"/login")))
	settle(t, ctx, `!!document.querySelector('#username, #sign-out')`)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('#sign-out')`))
	require.NoError(t, err)
	if out {
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#username"))))
	}
	signInBrowser(t, ctx, base, user, password)
	require.NotEqual(t, "/login", location(t, ctx).Path, "signed in as %s", user)
}

// vnToday is today's date in Vietnam, as the server's clock sees it.
func vnToday() string { return time.Now().In(i18n.Zone).Format(time.DateOnly) }

func firstHour(t *testing.T, ctx context.Context, d *site, art string) {
	bg := context.Background()
	// The sample's data ends on d.To; the month a leader's first view
	// shows is the one of the latest day with figures up to today.
	last := min(vnToday(), d.To)
	lastDay, _ := time.Parse(time.DateOnly, last)
	wantMonth := lastDay.Format("01/2006")

	t.Run("leader's first view: the latest month with figures, named (item 13)", func(t *testing.T) {
		switchUser(t, ctx, d.URL, "lanh-dao-xa", webPassword)
		open(t, ctx, d.URL+"/coverage", "#period-shown")
		shown := textOf(t, ctx, "#period-shown")
		require.Contains(t, shown, "Số liệu tháng "+wantMonth)
		require.Contains(t, shown, "tháng gần nhất có số liệu")
		require.Positive(t, atoiText(textOf(t, ctx, "#unit-reached")), "the first view shows figures, not an empty month")
		readsVietnamese(t, ctx, "/coverage")
		shoot(t, ctx, art, "coverage-leader-default")
	})

	t.Run("date inputs read dd/mm/yyyy (item 17)", func(t *testing.T) {
		type input struct {
			Type  string `json:"type"`
			Value string `json:"value"`
		}
		in, err := chromedp.Run(ctx, chromedp.Evaluate[[]input](`[...document.querySelectorAll('#period-from, #period-to')].map(i => ({type: i.type, value: i.value}))`))
		require.NoError(t, err)
		require.Len(t, in, 2)
		first := lastDay.AddDate(0, 0, 1-lastDay.Day())
		require.Equal(t, []input{{"text", first.Format("02/01/2006")}, {"text", first.AddDate(0, 1, -1).Format("02/01/2006")}}, in)
		// A leader types the period as they write dates.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#period-from"), "1/10/2026"),
			chromedp.SetValue(chromedp.CSS("#period-to"), "15/11/2026"),
			chromedp.Submit(chromedp.CSS("#period-from")),
		))
		settle(t, ctx, `location.search.includes('from=')`)
		require.Equal(t, "Số liệu từ 01/10/2026 đến 15/11/2026", textOf(t, ctx, "#period-shown"))
		shoot(t, ctx, art, "coverage-leader-period")
		// A day that does not exist: the page says which forms it reads.
		open(t, ctx, d.URL+"/coverage?from=31/02/2026&to=15/03/2026", "#error-hint")
		hint := textOf(t, ctx, "#error-hint")
		require.Contains(t, hint, "01/12/2026")
		readsVietnamese(t, ctx, "bad date")
	})

	t.Run("tables fit or scroll with their first column in view (item 16)", func(t *testing.T) {
		open(t, ctx, d.URL+"/coverage?from="+d.From+"&to="+d.To, "#coverage-table")
		heads, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#coverage-table thead th')].map(th => th.innerText.replace(/\s+/g, ' ').trim())`))
		require.NoError(t, err)
		for _, s := range schema.Skills() {
			require.Contains(t, heads, s.NameVI, "skills are headed by their official names, in full")
		}
		checkTable(t, ctx, "#coverage-table", true)
		shoot(t, ctx, art, "coverage-leader-table")
		open(t, ctx, d.URL+"/teams?from="+d.From+"&to="+d.To, "#teams-table")
		checkTable(t, ctx, "#teams-table", true)
	})

	t.Run("the weekly chart stops at today (item 14)", func(t *testing.T) {
		today := vnToday()
		month, _ := time.Parse(time.DateOnly, today)
		end := month.AddDate(0, 1, -month.Day()).Format(time.DateOnly) // the month's last day: weeks to come
		open(t, ctx, d.URL+"/teams?from="+d.From+"&to="+end, "svg.chart.line")
		xs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...new Set([...document.querySelectorAll('svg.chart.line circle')].map(c => c.dataset.x))]`))
		require.NoError(t, err)
		require.NotEmpty(t, xs)
		slices.Sort(xs)
		lastWeek := xs[len(xs)-1]
		require.LessOrEqual(t, lastWeek, today, "no week after today is drawn")
		weekAgo := month.AddDate(0, 0, -6).Format(time.DateOnly)
		require.GreaterOrEqual(t, lastWeek, weekAgo, "the chart reaches today's week")
		readsVietnamese(t, ctx, "/teams")
		shoot(t, ctx, art, "teams-leader")
	})

	t.Run("report list: counts and statuses as the glossary names them (items 20, 24)", func(t *testing.T) {
		open(t, ctx, d.URL+"/reports", "h1")
		require.Regexp(t, `^Hiển thị 1–\d+ trong tổng số \d+$`, textOf(t, ctx, "#showing"))
		tabs := textOf(t, ctx, "nav.tabs")
		for _, st := range schema.EnumValues(schema.EnumReportStatus) {
			require.Contains(t, tabs, schema.EnumLabel(schema.EnumReportStatus, st, "vi"))
		}
		nav := textOf(t, ctx, "nav.nav")
		require.Contains(t, nav, "Tổ công nghệ số cộng đồng")
		readsVietnamese(t, ctx, "/reports")
		shoot(t, ctx, art, "reports-leader")
		// A status that does not exist: a Vietnamese page naming the valid ones.
		open(t, ctx, d.URL+"/reports?status=xyz", "#error-hint")
		require.Contains(t, textOf(t, ctx, "#error-hint"), "Mới tiếp nhận")
		readsVietnamese(t, ctx, "bad status")
		open(t, ctx, d.URL+"/khong-co-trang-nay", "#error-hint")
		require.Contains(t, textOf(t, ctx, "#error-hint"), "Không có trang này")
		readsVietnamese(t, ctx, "404")
		shoot(t, ctx, art, "error-404")
	})

	t.Run("hamlets that share a name are told apart (item 15)", func(t *testing.T) {
		switchUser(t, ctx, d.URL, "so-tttt", webPassword)
		commune := communeWithTwin(t, d)
		open(t, ctx, d.URL+"/coverage?unit="+commune+"&from="+d.From+"&to="+d.To, "#coverage-table")
		names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#coverage-table tbody a.drill')].map(a => a.textContent.trim())`))
		require.NoError(t, err)
		seen := map[string]bool{}
		twins := 0
		for _, n := range names {
			require.False(t, seen[n], "two rows read %q", n)
			seen[n] = true
			if strings.HasSuffix(n, " cũ)") {
				twins++
			}
		}
		require.GreaterOrEqual(t, twins, 2, "rows: %v", names)
		want := slices.Clone(names)
		i18n.Sort(want)
		require.Equal(t, want, names, "rows in Vietnamese order by default (item 10)")
		labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('svg.chart.hbar.cov text.lbl')].map(t => t.textContent)`))
		require.NoError(t, err)
		require.ElementsMatch(t, names, labels, "the chart names them as the table does")
		checkTable(t, ctx, "#coverage-table", true)
		shoot(t, ctx, art, "coverage-twin-hamlets")
		// The API names them as the page does.
		c := cookieClient(t, ctx, d.URL)
		resp, err := c.Get(d.URL + "/api/v1/coverage?unit=" + commune + "&from=" + d.From + "&to=" + d.To)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for n := range seen {
			require.Contains(t, string(b), `"vi":"`+n+`"`)
		}
		// Team names sort as Vietnamese reads them.
		open(t, ctx, d.URL+"/teams?unit=96&from="+d.From+"&to="+d.To+"&sort=name&dir=asc", "#teams-table")
		teams, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#teams-table tbody th')].map(th => th.textContent.trim())`))
		require.NoError(t, err)
		sorted := slices.Clone(teams)
		i18n.Sort(sorted)
		require.Equal(t, sorted, teams)
	})

	t.Run("sync page: members by name, no lag for a device that just pushed (items 18, 24)", func(t *testing.T) {
		own, other := syncTwoLaptops(t, d)
		open(t, ctx, d.URL+"/sync", "#devices-table")
		type row struct {
			Who string `json:"who"`
			Lag string `json:"lag"`
		}
		rows, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]row](`Object.fromEntries([...document.querySelectorAll('#devices-table tbody tr')].map(r => [r.dataset.device, {who: r.querySelector('.who').textContent, lag: r.querySelector('.lag').textContent.trim()}]))`))
		require.NoError(t, err)
		require.Equal(t, row{Who: own.name, Lag: "0"}, rows[own.id], "the device that just pushed has nothing to receive")
		require.Equal(t, other.name, rows[other.id].Who)
		require.GreaterOrEqual(t, atoiText(rows[other.id].Lag), own.pushed, "the other laptop has its teammate's changes to receive")
		st, err := d.Srv.Admin().SyncStatus(bg)
		require.NoError(t, err)
		require.Greater(t, st.Head, uint64(999))
		require.Equal(t, i18n.Int(int64(st.Head), "vi"), textOf(t, ctx, "#server-head"), "thousands grouped")
		readsVietnamese(t, ctx, "/sync")
		shoot(t, ctx, art, "sync")
	})

	t.Run("one report's page: shared link, same authorisation as the API (item 24)", func(t *testing.T) {
		// The coordinator opens a report from the list and shares its link.
		switchUser(t, ctx, d.URL, "dieu-phoi", webPassword)
		open(t, ctx, d.URL+"/reports?unit=96&status=submitted", "a.report-link")
		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.report-link")), chromedp.WaitVisible(chromedp.CSS("h1"))))
		settle(t, ctx, `/^\/reports\/[0-9a-f-]{36}$/.test(location.pathname)`)
		id := strings.TrimPrefix(location(t, ctx).Path, "/reports/")
		v, ok, err := d.X.Report(bg, id, analytics.RoleCoordinator, time.Now())
		require.NoError(t, err)
		require.True(t, ok)
		require.Contains(t, textOf(t, ctx, ".desc"), v.Description)
		require.Contains(t, textOf(t, ctx, ".reporter"), v.ReporterName, "a coordinator sees who reported it")
		buttons := textOf(t, ctx, ".actions")
		require.Contains(t, buttons, "Chuyển cơ quan xử lý", "buttons say what they do (item 22)")
		readsVietnamese(t, ctx, "/reports/{id}")
		shoot(t, ctx, art, "report-coordinator")
		// Moved on from its own page, it comes back to it.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("form.act-dispatched input[name=agency]"), "UBND xã (thử nghiệm)"),
			chromedp.Click(chromedp.CSS("form.act-dispatched button")), chromedp.WaitVisible(chromedp.CSS(".notice"))))
		require.Equal(t, "/reports/"+id, location(t, ctx).Path)
		require.Contains(t, textOf(t, ctx, ".actions"), "Chuyển sang đang xử lý")

		// The leader of the report's commune reads it without the reporter
		// (unless consented); the leader of another commune gets a 403
		// that tells nothing of it, as the API does.
		hamletCommune := communeOf(t, d, v.HamletCode)
		own := loginHTTPAs(t, d, hamletCommune)
		status, body := get(t, own, d.URL+"/reports/"+id)
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, v.Description)
		if !v.ConsentDisclose && v.ReporterName != "" {
			require.NotContains(t, body, v.ReporterName)
			require.NotContains(t, body, v.ReporterPhone)
			require.Contains(t, body, "(được giữ bí mật)")
		}
		stranger := loginHTTPAs(t, d, otherCommune(t, d, hamletCommune))
		for _, u := range []string{"/reports/" + id, "/api/v1/reports/" + id} {
			status, body := get(t, stranger, d.URL+u)
			require.Equal(t, http.StatusForbidden, status, u)
			for _, secret := range []string{v.Description, v.HamletCode, v.Hamlet.VI} {
				require.NotContains(t, body, secret, "%s tells a stranger about the report", u)
			}
		}
		status, _ = get(t, stranger, d.URL+"/reports/"+uuid.NewString())
		require.Equal(t, http.StatusNotFound, status)
	})
}

// communeWithTwin is a commune in force with two hamlets of one name.
func communeWithTwin(t *testing.T, d *site) string {
	t.Helper()
	hs, err := d.Srv.Admin().Units(context.Background(), schema.LevelHamlet, "")
	require.NoError(t, err)
	seen := map[[2]string]bool{}
	for _, h := range hs {
		if h.RetiredOn != "" {
			continue
		}
		k := [2]string{h.ParentCode, h.Name}
		if seen[k] {
			return h.ParentCode
		}
		seen[k] = true
	}
	t.Fatal("the sample has no commune with two hamlets of one name")
	return ""
}

func communeOf(t *testing.T, d *site, hamlet string) string {
	t.Helper()
	u, err := d.X.Unit(context.Background(), hamlet)
	require.NoError(t, err)
	return u.Unit.ParentCode
}

func otherCommune(t *testing.T, d *site, not string) string {
	t.Helper()
	u, err := d.X.Unit(context.Background(), schema.ProvinceCodeCaMau)
	require.NoError(t, err)
	for _, c := range u.Children {
		if c.Code != not {
			return c.Code
		}
	}
	t.Fatal("one commune only")
	return ""
}

// loginHTTPAs signs in, over HTTP, a new commune leader of commune.
func loginHTTPAs(t *testing.T, d *site, commune string) *http.Client {
	t.Helper()
	name := "lanh-dao-" + commune
	_, err := d.Srv.Admin().AddUser(context.Background(), server.NewUser{Username: name, DisplayName: "Lãnh đạo " + commune,
		Role: analytics.RoleCommuneLeader, UnitCode: commune, Password: webPassword})
	require.NoError(t, err)
	return loginHTTP(t, d.URL, name)
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type laptop struct {
	id, name string
	pushed   int // changes pushed
}

// syncTwoLaptops enrolls two laptops of one team, both labelled "vm" as
// a host name is: the first pulls everything, tells the server so and
// pushes new households; the second has not synced since.
func syncTwoLaptops(t *testing.T, d *site) (own, other laptop) {
	t.Helper()
	ctx := context.Background()
	a := d.Srv.Admin()
	teams, err := a.Teams(ctx)
	require.NoError(t, err)
	var team server.Team
	for _, tm := range teams {
		if len(tm.Hamlets) > 0 {
			team = tm
			break
		}
	}
	enroll := func(name string) (laptop, servertest.Device) {
		m, err := a.AddMember(ctx, team.ID, name, "member", "")
		require.NoError(t, err)
		code, _, err := a.IssueCode(ctx, m.ID, time.Hour)
		require.NoError(t, err)
		replica := uuid.New()
		er, status, eb, err := servertest.Enroll(ctx, d.URL, code, replica, "vm")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%+v", eb)
		return laptop{id: er.DeviceID, name: name}, servertest.Device{Replica: replica, Token: er.Token, Enroll: er}
	}
	own, dev := enroll("Trương Thị Mỹ Hạnh")
	other, _ = enroll("Đỗ Văn Bình")
	cl, status, eb, err := servertest.Dial(ctx, d.URL, dev.Token)
	require.NoError(t, err, "dial: %d %+v", status, eb)
	defer cl.Close()
	_, err = cl.Hello(dev.Replica)
	require.NoError(t, err)
	seen, _, cursor, err := cl.PullAll(0)
	require.NoError(t, err)
	// The next pull carries what the laptop holds (Pull.Durable).
	require.NoError(t, cl.Send(&syncproto.Pull{Cursor: cursor, Durable: cursor}))
	_, err = cl.RecvAnswer()
	require.NoError(t, err)
	w := servertest.NewWriter(dev.Replica, nil)
	for _, c := range seen {
		w.Saw(c)
	}
	var changes []syncproto.Change
	for i := range 26 {
		changes = append(changes, w.Household(uuid.New(), team.Hamlets[0], fmt.Sprintf("Hộ thử %d", i))...)
	}
	ack, err := cl.Push(1, changes)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, "%+v", r)
	}
	own.pushed = len(changes)
	return own, other
}
