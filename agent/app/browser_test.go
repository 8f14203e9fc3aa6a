package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// Debian's chromium package, as the dashboard's browser tests use it.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where the test writes its screenshots: not committed,
// for a reviewer to look at (README says where).
func screenshotDir(t *testing.T) string {
	d := os.Getenv("HAMLET_SCREENSHOTS")
	if d == "" {
		d = filepath.Join(os.TempDir(), "hamlet-app-screenshots")
	}
	require.NoError(t, os.MkdirAll(d, 0o755))
	old, _ := filepath.Glob(filepath.Join(d, "*.png"))
	for _, f := range old {
		os.Remove(f) // a reviewer sees this run's pages only
	}
	return d
}

// newBrowser starts headless Chromium from Debian's package: never a
// download. Without it the test skips locally and fails in CI.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: CI must install Debian's chromium package (scripts/ensure-chromium.sh)", chromiumPath)
		}
		t.Skipf("%s is missing: install Debian's chromium package to run the browser tests", chromiumPath)
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
		chromedp.Flag("lang", "vi-VN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(bctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelB(); cancelA() })
	require.NoError(t, chromedp.Do(ctx))
	return ctx
}

// page drives one browser tab against the app.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string // screenshots
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	// Each step gets 30 s: a missing element fails the step, not the run.
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

// open goes to a page of the app and waits for sel.
func (p *page) open(path, sel string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base+path), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// until waits for a JavaScript condition on a loaded page (after a click
// that navigates, or while app.js updates the page).
func (p *page) until(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !!(`+cond+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.shot("failure")
			p.t.Fatalf("waited 30 s for %s (%s): %v", what, cond, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reloadUntil reloads the page until cond holds (what only a new render
// shows, such as a roster name fetched in the background).
func (p *page) reloadUntil(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.readyState === 'complete' && !!(`+cond+`)`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.shot("failure")
			p.t.Fatalf("reloaded 30 s for %s (%s): %v", what, cond, err)
		}
		time.Sleep(300 * time.Millisecond)
		_ = chromedp.Do(p.ctx, chromedp.Reload())
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(p.t, err, "text of %s", sel)
	return strings.TrimSpace(s)
}

func (p *page) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	require.NoError(p.t, err, js)
	return s
}

func (p *page) path() string { return p.eval(`location.pathname + location.search`) }

// set fills a field (text, textarea or select) by its id.
func (p *page) set(id, value string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS("#"+id), value))
}

// click clicks an element and, when it submits a form, waits for the
// next page to load.
func (p *page) click(sel string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

// submit clicks a form's button and waits for the page it leads to.
func (p *page) submit(sel, thenSel string) {
	p.t.Helper()
	before := p.eval(`String(performance.timeOrigin)`)
	p.click(sel)
	p.until("the next page after "+sel, `String(performance.timeOrigin) !== `+fmt.Sprintf("%q", before)+` && document.querySelector(`+fmt.Sprintf("%q", thenSel)+`)`)
}

// shot writes the page at 1366×768 and at 390 px wide, and checks that
// nothing scrolls sideways on the narrow screen.
func (p *page) shot(name string) {
	p.t.Helper()
	for _, size := range []struct {
		w, h   int64
		suffix string
	}{{1366, 768, ""}, {390, 844, "-390"}} {
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			p.t.Logf("screenshot %s: %v", name, err)
			return
		}
		png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			p.t.Logf("screenshot %s: %v", name, err)
			return
		}
		require.NoError(p.t, os.WriteFile(filepath.Join(p.dir, name+size.suffix+".png"), png, 0o644))
		if size.w == 390 && name != "failure" {
			fits, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`))
			require.NoError(p.t, err)
			require.True(p.t, fits, "%s scrolls sideways at 390 px", name)
		}
	}
	p.do(chromedp.EmulateViewport(1366, 768))
}

// laptopClock is the volunteer's laptop clock, which the test can set
// wrong.
type laptopClock struct{ off atomic.Int64 }

func (c *laptopClock) now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

// A volunteer's day in Chromium against a real hamlet-server: enroll with
// a code; add three households (one with the keyboard only); search
// without diacritics; record a visit with two skills; file a report; stop
// the server and keep working; start it again and watch the sync finish;
// a same-field edit made on another agent shows as a conflict and is
// restored from the page; a change the server refuses (the laptop's clock
// jumped three days ahead) is fixed from the page. Every page is
// photographed at 1366×768 and 390 px wide.
func TestVolunteerDayInBrowser(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs hamlet-server and Chromium")
	}
	ctx := newBrowser(t)
	bg := context.Background()

	// The operator's side: the demo's team (32002-01, 32002-02) with its
	// leader's code, and a second member, Lê Văn Tám, with another.
	srv := newServerProc(t)
	code := srv.demo()
	srv.stop()
	otherCode := srv.newMember("Lê Văn Tám")
	const coordPassword = "mat-khau-dieu-phoi-18"
	srv.coordinator("dieu-phoi", coordPassword)
	srv.start("serve")

	// The volunteer's laptop: the app as hamlet-agent app wires it, its
	// clock one the test can set wrong.
	dir := t.TempDir()
	clk := &laptopClock{}
	r := agenttest.Open(t, filepath.Join(dir, "replica.db"), agent.Options{Now: clk.now})
	a, err := app.New(app.Config{Replica: r, TokenPath: filepath.Join(dir, "token"), Server: srv.URL(), Label: "Laptop tổ Khóm 1",
		Sync: agent.SyncOptions{PollInterval: 300 * time.Millisecond, MinBackoff: 200 * time.Millisecond, MaxBackoff: time.Second}})
	require.NoError(t, err)
	launch, err := a.Listen("127.0.0.1:0")
	require.NoError(t, err)
	actx, stopApp := context.WithCancel(bg)
	appDone := make(chan error, 1)
	go func() { appDone <- a.Run(actx) }()
	t.Cleanup(func() {
		stopApp()
		require.NoError(t, <-appDone)
	})
	p := &page{t: t, ctx: ctx, base: a.BaseURL(), dir: screenshotDir(t)}
	t.Logf("screenshots in %s", p.dir)

	households := map[string]string{} // head -> id

	t.Run("enroll with the code from the team leader", func(t *testing.T) {
		p.t = t
		p.do(chromedp.Navigate(launch), chromedp.WaitVisible(chromedp.CSS("#enroll-form")))
		require.Equal(t, "/enroll", p.path(), "the secret left the address bar; not enrolled: the first-run page")
		require.Contains(t, p.text("h1"), "Đăng ký máy này")
		p.shot("enroll")
		p.submit("#enroll", "#err-code")
		require.Contains(t, p.text("#err-code"), "Chưa nhập mã đăng ký")
		p.set("code", "ZZZZ-2345")
		p.submit("#enroll", "#err-code")
		require.Contains(t, p.text("#err-code"), "Mã đăng ký không đúng")
		p.shot("enroll-error")
		p.set("code", strings.ToLower(code)) // typed as it comes
		p.submit("#enroll", "#coverage")
		require.Equal(t, "/?done=enrolled", p.path())
		require.Contains(t, p.text(".lead"), "Tổ CNSCĐ Khóm 1")
		p.reloadUntil("the leader's name from the roster", `document.querySelector('h1').textContent.includes('Thành viên thử')`)
	})

	t.Run("add three households, one with the keyboard only", func(t *testing.T) {
		p.t = t
		for _, hh := range []struct{ hamlet, head, phone string }{
			{"32002-01", "Nguyễn Văn An", "0912345678"},
			{"32002-02", "Đỗ Thị Bình", "0987654321"},
		} {
			p.open("/households/new", "#household-form")
			p.set("hamlet_code", hh.hamlet)
			p.set("head_name", hh.head)
			p.set("phone", "12345")
			p.click("#vneid_installed")
			p.submit("#save", "#household-form")
			require.Contains(t, p.text("#err-phone"), "Số điện thoại không hợp lệ", "the message next to the field")
			require.Equal(t, hh.head, p.eval(`document.querySelector('#head_name').value`), "what was typed is kept")
			if hh.head == "Nguyễn Văn An" {
				p.shot("household-form-error")
			}
			p.set("phone", hh.phone)
			p.submit("#save", "#household-name")
			require.Equal(t, hh.head, p.text("#household-name"))
			require.Contains(t, p.text("#notice"), "Đã lưu trên máy")
			households[hh.head] = strings.TrimPrefix(p.eval(`location.pathname`), "/households/")
		}
		// The third: Tab from the top of the page, type, Space, Enter.
		p.open("/households/new", "#household-form")
		p.do(chromedp.KeyEvent("\t"))
		require.Equal(t, "skip", p.eval(`document.activeElement.className`), "the first Tab reaches the skip link")
		for i := 0; i < 12 && p.eval(`document.activeElement.id`) != "hamlet_code"; i++ {
			p.do(chromedp.KeyEvent("\t"))
		}
		require.Equal(t, "hamlet_code", p.eval(`document.activeElement.id`), "Tab reaches the form")
		p.do(chromedp.KeyEvent("K")) // the first hamlet starting with K: Khóm 1
		require.Equal(t, "32002-01", p.eval(`document.activeElement.value`))
		p.do(chromedp.KeyEvent("\t"), chromedp.KeyEvent("Ngô Bảo Châu"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("Số 12, đường Lý Thường Kiệt"),
			chromedp.KeyEvent("\t"), chromedp.KeyEvent("0901234567"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("4"), chromedp.KeyEvent("\t"))
		require.Equal(t, "has_smartphone", p.eval(`document.activeElement.id`))
		p.do(chromedp.KeyEvent(" "), chromedp.KeyEvent("\t"), chromedp.KeyEvent(" "))
		for i := 0; i < 12 && p.eval(`document.activeElement.id`) != "registered_on"; i++ {
			p.do(chromedp.KeyEvent("\t"))
		}
		require.Equal(t, "registered_on", p.eval(`document.activeElement.id`))
		before := p.eval(`String(performance.timeOrigin)`)
		p.do(chromedp.KeyEvent("\r"))
		p.until("the saved household", `String(performance.timeOrigin) !== `+fmt.Sprintf("%q", before)+` && document.querySelector('#household-name')`)
		require.Equal(t, "Ngô Bảo Châu", p.text("#household-name"))
		fields := p.text("#fields")
		require.Contains(t, fields, "Số 12, đường Lý Thường Kiệt")
		require.Contains(t, fields, "0901234567")
		require.Contains(t, fields, "Có điện thoại thông minh")
		households["Ngô Bảo Châu"] = strings.TrimPrefix(p.eval(`location.pathname`), "/households/")
	})

	t.Run("search as you type, without diacritics, in Vietnamese order", func(t *testing.T) {
		p.t = t
		p.open("/households", "#q")
		require.Equal(t, "Đỗ Thị Bình,Ngô Bảo Châu,Nguyễn Văn An", p.eval(`[...document.querySelectorAll('#household-list tbody th a')].map(a => a.textContent).join(',')`))
		p.do(chromedp.Focus(chromedp.CSS("#q")), chromedp.KeyEvent("nguyen"))
		p.until("the results for nguyen", `document.querySelector('#results').dataset.q === 'nguyen'`)
		require.Equal(t, "Nguyễn Văn An", p.eval(`[...document.querySelectorAll('#household-list tbody th a')].map(a => a.textContent).join(',')`))
		require.Contains(t, p.path(), "q=nguyen", "the address follows the search")
		p.shot("households-search")
		p.do(chromedp.Focus(chromedp.CSS("#q")), chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.KeyEvent("\b"), chromedp.KeyEvent("d"))
		p.until("the results for d", `document.querySelector('#results').dataset.q === 'd'`)
		// Đỗ by her name, Ngô by his street (đường): đ is d.
		require.Equal(t, "Đỗ Thị Bình,Ngô Bảo Châu", p.eval(`[...document.querySelectorAll('#household-list tbody th a')].map(a => a.textContent).join(',')`))
	})

	t.Run("record a visit with two skills", func(t *testing.T) {
		p.t = t
		p.open("/households/"+households["Nguyễn Văn An"], "#record-visit")
		p.shot("household")
		p.submit("#record-visit", "#visit-form")
		require.Equal(t, i18n.DateText(r.Today(), "vi"), p.eval(`document.querySelector('#visited_on').value`), "today by default, dd/mm/yyyy")
		p.click("#skill-vneid_install")
		p.click("#skill-ehealth_record")
		p.click(`input[name="outcome-vneid_install"][value="independent"]`)
		p.set("notes", "Hướng dẫn cài VNeID và sổ sức khỏe điện tử")
		p.submit("#save", "#visit-form")
		require.Contains(t, p.text("#err-outcome-ehealth_record"), "Hãy chọn kết quả hướng dẫn «Sổ sức khỏe điện tử»")
		p.shot("visit-form")
		p.click(`input[name="outcome-ehealth_record"][value="needs_help"]`)
		p.submit("#save", "#visits")
		require.Contains(t, p.text("#notice"), "Đã lưu lượt thăm hộ")
		require.Contains(t, p.text("#visits"), "Hướng dẫn cài VNeID")
		tut := p.text("#tutoring")
		require.Contains(t, tut, "Cài đặt ứng dụng VNeID")
		require.Contains(t, tut, "Tự làm được")
		require.Contains(t, tut, "Sổ sức khỏe điện tử")
		require.Contains(t, tut, "Cần hỗ trợ thêm")
		require.Contains(t, tut, "Bạn (máy này)")
	})

	t.Run("file a report", func(t *testing.T) {
		p.t = t
		p.submit("#file-report", "#report-form")
		p.set("category", "dien_chieu_sang")
		p.set("description", "Đèn đường trước nhà văn hóa khóm hỏng ba ngày")
		p.set("location", "Trước nhà văn hóa Khóm 1")
		p.set("reporter_name", "Nguyễn Văn An")
		p.set("reporter_phone", "0912345678")
		p.submit("#save", "#report-form")
		require.Contains(t, p.text("#err-consent_disclose"), "Hãy hỏi người dân")
		p.shot("report-form")
		p.click("#consent-no")
		p.submit("#save", "#household-reports")
		require.Contains(t, p.text("#household-reports"), "Mới tiếp nhận")
		p.open("/reports", "#report-list")
		card := p.text("#report-list")
		require.Contains(t, card, "Điện – chiếu sáng")
		require.Contains(t, card, "Mới tiếp nhận")
		require.Contains(t, card, "Hạn xử lý (dự kiến)")
		require.Contains(t, card, "giữ kín")
	})

	t.Run("the sync finishes in the background", func(t *testing.T) {
		p.t = t
		p.open("/sync", "#sync-status")
		p.until("everything sent", `document.querySelector('#sync-state').dataset.class === 'ok' && document.querySelector('#pending').textContent === '0'`)
		p.shot("sync")
		p.open("/", "#coverage")
		require.Equal(t, "50,0 %", p.text(`#coverage tr[data-code="32002-01"] .cov-pct`), "1 of 2 households of Khóm 1 reached this month")
		require.Equal(t, "33,3 %", p.text(`#coverage-total`), "1 of 3 in all")
		require.Contains(t, p.text("#worklist-count"), "2 hộ chưa được thăm")
		p.shot("home")
		p.open("/?list=skill&skill=vneid_install", "#worklist")
		require.Contains(t, p.text("#worklist-count"), "2 hộ chưa được hướng dẫn «Cài đặt ứng dụng VNeID»")
	})

	t.Run("the report's status and deadline come back from the server", func(t *testing.T) {
		p.t = t
		p.open("/reports", "#report-list")
		id := strings.TrimPrefix(p.eval(`document.querySelector('#report-list li.report').id`), "r-")
		before := p.text("#r-" + id + " .deadline")
		srv.dispatch("dieu-phoi", coordPassword, id, "Điện lực Cà Mau")
		p.reloadUntil("the dispatched status", `document.querySelector('#r-`+id+`').dataset.status === 'dispatched'`)
		card := p.text("#r-" + id)
		require.Contains(t, card, "Đã chuyển xử lý")
		require.Contains(t, card, "Điện lực Cà Mau")
		require.NotEqual(t, before, p.text("#r-"+id+" .deadline"), "the agency's deadline replaces the dispatch deadline")
		p.shot("reports")
	})

	// Another member's laptop, Lê Văn Tám's, with the team's households.
	other := agenttest.New(t)
	otherToken, _, err := other.Enroll(bg, srv.URL(), otherCode, "máy của Tám")
	require.NoError(t, err)
	_, err = other.Sync(bg, srv.URL(), otherToken, agent.SyncOptions{})
	require.NoError(t, err)
	an := households["Nguyễn Văn An"]
	d, err := other.Show(bg, "households", an)
	require.NoError(t, err, "the other laptop has the volunteer's households")
	require.Equal(t, "0912345678", d.Fields["phone"])

	t.Run("the server stops: work goes on", func(t *testing.T) {
		p.t = t
		srv.stop()
		p.open("/sync", "#sync-status")
		p.until("offline", `document.querySelector('#sync-state').dataset.class === 'offline'`)
		// Both edit An's phone offline: this laptop first, then Tám.
		p.open("/households/"+an+"/edit", "#household-form")
		p.set("phone", "0911111111")
		p.submit("#save", "#household-name")
		require.Contains(t, p.text("#f-phone"), "0911111111")
		require.Contains(t, p.text("#f-phone .value"), "chờ gửi", "not sent yet")
		time.Sleep(20 * time.Millisecond)
		id, _ := agent.ParseID("households", an)
		require.NoError(t, other.EditHousehold(bg, id, agent.Fields{"phone": "0922222222"}))
		p.open("/households/new", "#household-form")
		p.set("hamlet_code", "32002-02")
		p.set("head_name", "Trần Văn Tư")
		p.submit("#save", "#household-name")
		p.open("/sync", "#sync-status")
		p.until("offline", `document.querySelector('#sync-state').dataset.class === 'offline'`)
		require.NotEqual(t, "0", p.text("#pending"))
		require.Contains(t, p.text("#sync-detail"), "vẫn làm việc bình thường")
		p.shot("sync-offline")
	})

	t.Run("the server is back: watch the sync finish", func(t *testing.T) {
		p.t = t
		srv.start("serve")
		p.click("#sync-now")
		p.until("everything sent again", `document.querySelector('#sync-state').dataset.class === 'ok' && document.querySelector('#pending').textContent === '0'`)
		require.NotEmpty(t, p.text("#last-sync"))
	})

	t.Run("a conflict with another laptop is restored from the page", func(t *testing.T) {
		p.t = t
		// Tám syncs: his edit, made later, wins on the server.
		_, err := other.Sync(bg, srv.URL(), otherToken, agent.SyncOptions{})
		require.NoError(t, err)
		p.open("/sync", "#sync-status")
		p.reloadUntil("the conflict, named", `document.querySelector('#conflicts .conflict') && document.querySelector('#conflicts').textContent.includes('Lê Văn Tám')`)
		card := p.text("#conflicts .conflict")
		require.Contains(t, card, "Nguyễn Văn An")
		require.Contains(t, card, "Số điện thoại")
		require.Contains(t, p.text("#conflicts .side.kept"), "0922222222")
		require.Contains(t, p.text("#conflicts .side.kept"), "Lê Văn Tám")
		require.Contains(t, p.text("#conflicts .side.lost"), "0911111111")
		require.Contains(t, p.text("#conflicts .side.lost"), "Bạn (máy này)")
		require.NotEmpty(t, p.text("#nav-attention"))
		p.shot("sync-conflict")
		p.submit("#conflicts .restore", "#sync-status")
		require.Contains(t, p.text("#notice"), "Đã khôi phục")
		require.Contains(t, p.text("#conflicts"), "Không có giá trị nào bị ghi đè")
		p.until("the restore sent", `document.querySelector('#pending').textContent === '0' && document.querySelector('#sync-state').dataset.class === 'ok'`)
		_, err = other.Sync(bg, srv.URL(), otherToken, agent.SyncOptions{})
		require.NoError(t, err)
		d, err := other.Show(bg, "households", an)
		require.NoError(t, err)
		require.Equal(t, "0911111111", d.Fields["phone"], "the restored value reached the other laptop")
	})

	t.Run("a refused change is fixed from the page", func(t *testing.T) {
		p.t = t
		// The laptop's clock jumps three days ahead while the app runs: a
		// visit dated by it is after the server's tomorrow.
		clk.off.Store(int64(72 * time.Hour))
		p.open("/households/"+households["Đỗ Thị Bình"]+"/visit", "#visit-form")
		p.submit("#save", "#visits")
		p.open("/sync", "#sync-status")
		p.reloadUntil("the refusal", `document.querySelector('#rejected .rejected')`)
		// A new connection learns the clock's offset (the server's time).
		p.submit("#sync-now", "#sync-status")
		p.reloadUntil("the clock warning", `document.querySelector('#clock-warning')`)
		require.Contains(t, p.text("#clock-warning"), "Đồng hồ của máy này bị sai")
		require.Contains(t, p.text("#clock-warning"), "3 ngày")
		card := p.text("#rejected .rejected")
		require.Contains(t, card, "Lượt thăm hộ · Đỗ Thị Bình")
		require.Contains(t, card, "Ngày thăm hộ ở tương lai")
		p.shot("sync-refused")
		require.Equal(t, 1, int(p.evalInt(`document.querySelectorAll('#rejected form.fix').length`)), "one field to fix: the date")
		fix := p.eval(`document.querySelector('#rejected form.fix input[type=text]').id`)
		require.Equal(t, i18n.DateText(time.Now().Add(72*time.Hour).In(i18n.Zone).Format(time.DateOnly), "vi"), p.eval(`document.querySelector('#`+fix+`').value`))
		p.set(fix, i18n.DateText(r.Today(), "vi")) // today, by the corrected clock
		p.submit("#rejected form.fix button", "#sync-status")
		require.Contains(t, p.text("#notice"), "Đã sửa")
		p.reloadUntil("the fix accepted", `document.querySelector('#rejected .empty') && document.querySelector('#pending').textContent === '0'`)
		_, err := other.Sync(bg, srv.URL(), otherToken, agent.SyncOptions{})
		require.NoError(t, err)
		d, err := other.Show(bg, "households", households["Đỗ Thị Bình"])
		require.NoError(t, err)
		require.Len(t, d.Visits, 1, "the fixed visit reached the server")
		require.Equal(t, r.Today(), d.Visits[0].Fields["visited_on"])
	})

	t.Run("every page in both sizes and in English", func(t *testing.T) {
		p.t = t
		for _, pg := range []struct{ name, path, sel string }{
			{"households", "/households", "#household-list"},
			{"household-edit", "/households/" + an + "/edit", "#household-form"},
			{"household-new", "/households/new", "#household-form"},
			{"report-place", "/reports/new", "#report-form"},
			{"enrolled", "/enroll", "#enrolled"},
			{"household-history", "/households/" + an, "#fields"},
		} {
			p.open(pg.path, pg.sel)
			if pg.name == "household-history" {
				p.click("#f-phone summary")
				require.Contains(t, p.text("#f-phone"), "Lê Văn Tám", "the history names who wrote")
			}
			p.shot(pg.name)
		}
		p.submit("#lang-toggle", "#fields")
		require.Contains(t, p.text("#visits-h"), "Visits")
		require.Equal(t, "en", p.eval(`document.documentElement.lang`))
		p.shot("household-en")
		p.open("/sync", "#sync-status")
		require.Contains(t, p.text("h1"), "Sync with the server")
		p.shot("sync-en")
		p.submit("#lang-toggle", "#sync-status")
		require.Contains(t, p.text("h1"), "Đồng bộ với máy chủ")
	})
}

func (p *page) evalInt(js string) float64 {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[float64](js))
	require.NoError(p.t, err, js)
	return n
}

// The command opens the browser on the launch page it writes in the data
// folder (a file, so the secret stays off the browser's command line):
// the browser lands on the app, signed in, at an address without the
// secret, as when the launch URL is typed.
func TestLaunchFromTheDataFolder(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t)
	h := newHarness(t, false)
	file := filepath.Join(h.dir, "open-hamlet.html")
	require.NoError(t, h.a.WriteLaunchPage(file))
	fi, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	p := &page{t: t, ctx: ctx, base: h.base, dir: t.TempDir()} // the day test's screenshots stay
	p.do(chromedp.Navigate("file://" + file))
	p.until("the app's first page", `location.origin === `+fmt.Sprintf("%q", h.base)+` && (document.querySelector('#enroll-form') || document.querySelector('#refused'))`)
	require.Equal(t, "", p.eval(`document.querySelector('#refused') ? document.querySelector('#refused').textContent : ''`), "the app refused the browser it was opened in")
	require.Equal(t, "/enroll", p.path(), "signed in, and the secret left the address bar")
}
