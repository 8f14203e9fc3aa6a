package dashboard_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func leaderGet(t *testing.T, c *http.Client, u string) (int, http.Header, string) {
	resp, err := c.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// leaderSite: servertest's two communes, a coordinator of the province, a
// leader of CommuneB (no data at all), one report with one photo in CommuneA.
func leaderSite(t *testing.T) (ts *servertest.TS, report uuid.UUID, digest string) {
	ts = servertest.Start(t)
	ctx := context.Background()
	for _, u := range []server.NewUser{
		{Username: "dieu-phoi", DisplayName: "Coord", Role: analytics.RoleCoordinator, UnitCode: schema.ProvinceCodeCaMau},
		{Username: "lanh-dao-b", DisplayName: "LeaderB", Role: analytics.RoleCommuneLeader, UnitCode: servertest.CommuneB},
	} {
		u.Password = webPassword
		_, err := ts.Admin.AddUser(ctx, u)
		require.NoError(t, err)
	}
	report, digest, _ = reportWithPhoto(t, ts)
	return ts, report, digest
}

// Helper 145's hunt, as leaders use the dashboard. 1. English report pages
// showed the category's code ("ve_sinh_moi_truong"), not its English name.
func TestLeaderUseEnglishReportShowsCategoryName(t *testing.T) {
	ts, report, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	for _, p := range []string{"/reports?lang=en", "/reports/" + report.String() + "?lang=en"} {
		_, _, body := leaderGet(t, c, ts.URL+p)
		require.Contains(t, body, "Environmental sanitation") // the filter's <option> has it
		require.NotContains(t, body, `<span class="cat">ve_sinh_moi_truong</span>`, "%s: the card shows the raw code", p)
		require.NotContains(t, body, `Field report: ve_sinh_moi_truong`, "%s: the heading shows the raw code", p)
	}
}

// 2. The trend chart's y axis labelled its middle gridline (at top/2) with
// a rounded number: 0, 1, 1 for an empty or small commune.
func TestLeaderUseTrendAxisMiddleLabel(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "lanh-dao-b") // a brand-new commune: no visits
	_, _, body := leaderGet(t, c, ts.URL+"/teams?lang=en")
	svg := body[strings.Index(body, `<svg class="chart line"`):]
	svg = svg[:strings.Index(svg, `</svg>`)]
	var ticks []string
	for _, m := range regexp.MustCompile(`<text class="axis"[^>]*>([^<]*)</text>`).FindAllStringSubmatch(svg, -1) {
		ticks = append(ticks, m[1])
	}
	require.Len(t, ticks, 3)
	require.NotEqual(t, ticks[1], ticks[2], "the ½ gridline and the top one carry the same number: %q", ticks)
}

// 3. An English page's chart wrote days as dd/mm (30/11) while every
// other English date is yyyy-mm-dd.
func TestLeaderUseEnglishTrendLabelsAreISO(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	_, _, body := leaderGet(t, c, ts.URL+"/teams?lang=en")
	require.Contains(t, body, `name="from" id="period-from" value="20`, "English period inputs are yyyy-mm-dd")
	m := regexp.MustCompile(`<text class="axis[^"]*"[^>]*>(\d\d/\d\d)</text>`).FindStringSubmatch(body)
	require.Nil(t, m, "an English x label in Vietnamese day/month order: %q", m)
}

// 4. There was no skip link: a keyboard user tabbed through brand, menu,
// language and sign-out (and, on coverage, every sortable heading) before
// the content.
func TestLeaderUseSkipLink(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	_, _, body := leaderGet(t, c, ts.URL+"/coverage")
	require.Regexp(t, `<main[^>]* id="([^"]+)"`, body, "main has no id to skip to")
	require.Regexp(t, `<a [^>]*href="#[^"]+"`, body[:strings.Index(body, `<nav class="nav"`)], "no skip link before the menu")
}

// 5. A signed-in user on an unknown address got an error page with no
// menu, no sign-out and a "Sign in" button, as if signed out.
func TestLeaderUseNotFoundSignedIn(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	st, _, body := leaderGet(t, c, ts.URL+"/coverag")
	require.Equal(t, 404, st)
	require.Contains(t, body, `id="sign-out"`, "a signed-in user's 404 page has no sign-out button")
	require.NotContains(t, body, `<a class="btn" href="/login">`, "and offers to sign in")
}

// 6. A report's photo from the dashboard was cached by the browser for a
// year ("private, max-age=31536000, immutable"): after sign-out on a shared
// office PC, the back button or history still showed it without asking the
// server. Every page is no-store; now the photo is too.
func TestLeaderUsePhotoNotCachedAfterSignOut(t *testing.T) {
	ts, report, digest := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	for _, p := range []string{"/reports/" + report.String() + "/photos/" + digest, "/reports/" + report.String() + "/photos/" + digest + "/thumb"} {
		st, h, _ := leaderGet(t, c, ts.URL+p)
		require.Equal(t, 200, st)
		cc := h.Get("Cache-Control")
		require.False(t, strings.Contains(cc, "immutable") || strings.Contains(cc, "max-age=31536000"),
			"%s: Cache-Control %q lets the browser show it after sign-out", p, cc)
	}
}

// reportWithPhoto has a volunteer's device in team A file a report with
// one photo in the team's first hamlet, and upload the photo as the agent
// does (chunks of 16 KiB with their digests).
func reportWithPhoto(t *testing.T, ts *servertest.TS) (report uuid.UUID, digest string, jpg []byte) {
	t.Helper()
	d := ts.NewDevice(t, ts.TeamA)
	c := ts.Connect(t, d)
	w := servertest.NewWriter(d.Replica, nil)
	jpg = phototest.JPEG(phototest.Image(900, 600, true, 1), 85)
	digest = photo.Digest(jpg)
	report, h := uuid.New(), ts.HamletsA[0]
	str := func(s string) syncproto.Value { return syncproto.String(s) }
	ack, err := c.Push(1, []syncproto.Change{
		w.Write("field_reports", report, "hamlet_code", str(h), h),
		w.Write("field_reports", report, "volunteer_id", str(d.Enroll.MemberID), h),
		w.Write("field_reports", report, "category", str("ve_sinh_moi_truong"), h),
		w.Write("field_reports", report, "description", str("Rác thải ven kênh"), h),
		w.Write("field_reports", report, "status", str("submitted"), h),
		w.Write("field_reports", report, schema.PhotoDigestsField, str(schema.PhotoDigestsValue([]string{digest}).(string)), h),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	req, _ := http.NewRequest(http.MethodPut, ts.URL+"/v1/photos/"+digest, bytes.NewReader(servertest.PhotoFrames(jpg, 16<<10)))
	req.Header.Set("Authorization", "Bearer "+d.Token)
	req.Header.Set("Upload-Length", fmt.Sprint(len(jpg)))
	req.Header.Set("Upload-Offset", "0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return report, digest, jpg
}

// A report with one photo was listed as "1 photos" in English.
func TestLeaderUseOnePhotoIsSingular(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "dieu-phoi")
	_, _, body := leaderGet(t, c, ts.URL+"/reports?lang=en")
	require.Contains(t, body, `<span class="small muted photos-count">1 photo</span>`)
	_, _, body = leaderGet(t, c, ts.URL+"/reports?lang=vi")
	require.Contains(t, body, `<span class="small muted photos-count">1 ảnh</span>`)
}

// A commune with no households listed showed "0.0%" everywhere and
// "Ấp 1: 0.0% (0/0)" in the chart: as if no household had been reached,
// where there is no list to reach.
func TestLeaderUseNoHouseholdsIsNoShare(t *testing.T) {
	ts, _, _ := leaderSite(t)
	c := loginHTTP(t, ts.URL, "lanh-dao-b") // a brand-new commune: no households
	_, _, body := leaderGet(t, c, ts.URL+"/coverage?lang=en")
	require.Contains(t, body, `<div class="v" id="unit-households">0</div>`)
	require.NotContains(t, body, "0.0%")
	require.NotContains(t, body, "(0/0)")
	require.Contains(t, body, "Ấp 1: no households listed yet")
	require.Contains(t, body, `<div class="v" id="unit-coverage"><span class="pct none" title="no households listed yet">–`)
}

// A refused sign-in said why in a role=alert paragraph, but the fields it
// is about did not point at it: a screen reader moving back to the
// username field heard nothing of it.
func TestSignInErrorIsTiedToItsFields(t *testing.T) {
	ts, _, _ := leaderSite(t)
	jar, _ := cookiejar.New(nil)
	anon := &http.Client{Jar: jar}
	resp, err := anon.Get(ts.URL + "/login")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(b), "aria-invalid", "no error yet")
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	require.NotNil(t, m)
	resp, err = anon.PostForm(ts.URL+"/login", url.Values{"csrf": {string(m[1])}, "username": {"dieu-phoi"}, "password": {"sai-mat-khau"}})
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	require.Contains(t, body, `id="login-error"`)
	for _, id := range []string{"username", "password"} {
		require.Regexp(t, `id="`+id+`"[^>]* aria-describedby="login-error" aria-invalid="true"`, body)
	}
}
