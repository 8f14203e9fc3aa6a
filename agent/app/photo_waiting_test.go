package app_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestAppSaysPhotosWait: the server's photo store cannot be written. The
// app's own continuous sync (Watch) tries to send a report's photo; the
// sync page and the header say a photo waits and why, in the volunteer's
// language, and that the app retries by itself; the report's page marks
// the photo as waiting. Once the store works the same sync sends it: the
// count goes to 0, the reason leaves, the report's page says sent.
func TestAppSaysPhotosWait(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	blocked := filepath.Join(ts.DataDir, "blobs")
	require.NoError(t, os.WriteFile(blocked, []byte("x"), 0o600)) // the store cannot make its folder
	h := newHarness(t, false, func(c *app.Config) {
		c.Sync = agent.SyncOptions{PollInterval: 100 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, IOTimeout: 10 * time.Second}
	})
	tok, _, err := h.r.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy thử")
	require.NoError(t, err)
	require.NoError(t, agent.WriteToken(filepath.Join(h.dir, "token"), tok))

	jpg := phototest.JPEG(phototest.Image(1600, 1200, true, 5), 85)
	status, body, _ := h.postFiles("/reports/new", map[string]string{"hamlet_code": ts.HamletsA[0], "category": "ha_tang_do_thi",
		"description": "Cống bị tắc", "consent_disclose": "no"}, map[string][]byte{"IMG_0002.jpg": jpg})
	require.Equal(t, http.StatusSeeOther, status, body)
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	report := "/reports/" + recs[0].ID
	status, body, _ = h.post("/sync", url.Values{}) // "sync now"
	require.Equal(t, http.StatusSeeOther, status, body)

	waitPage := func(path, want string) string {
		t.Helper()
		var body string
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if _, body = h.get(path); strings.Contains(body, want) {
				return body
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("%s never showed %q:\n%s", path, want, stripTags(body))
		return ""
	}
	body = waitPage("/sync", "Máy chủ tạm thời không lưu được dữ liệu") // why the photo waits, in Vietnamese
	require.Contains(t, body, "1 ảnh chưa gửi")
	require.Contains(t, body, "tự thử lại, bạn không cần làm gì", "the app retries by itself")
	_, body = h.get("/")
	require.Contains(t, body, "1 ảnh chưa gửi", "the header's sync line on the home page")
	_, body = h.get(report)
	require.Contains(t, body, `class="photo-state waiting"`, "the report's photo is marked as waiting")
	require.Contains(t, body, "chưa gửi lên máy chủ")

	h.c.Jar.SetCookies(mustURL(t, h.base), []*http.Cookie{{Name: "hamlet_lang", Value: "en", Path: "/"}})
	_, body = h.get("/sync")
	require.Contains(t, body, "1 photo not sent yet")
	require.Contains(t, body, "The server cannot store data right now", "the reason in English")
	_, body = h.get(report)
	require.Contains(t, body, "not sent to the server yet")
	h.c.Jar.SetCookies(mustURL(t, h.base), []*http.Cookie{{Name: "hamlet_lang", Value: "vi", Path: "/"}})

	require.NoError(t, os.Remove(blocked)) // the store works again
	body = waitPage(report, `class="photo-state sent"`)
	require.Contains(t, body, "đã gửi lên máy chủ")
	body = waitPage("/sync", `id="photos-waiting" hidden`)
	require.NotContains(t, body, "ảnh chưa gửi")
	require.NotContains(t, body, "Máy chủ tạm thời không lưu được dữ liệu", "the reason left with the photo")
	_, body = h.get("/")
	require.NotContains(t, body, "ảnh chưa gửi")
	// The photo transfer's progress does not leave the page "syncing"
	// once it is over and the records are all sent.
	waitPage("/sync", `data-class="ok"`)
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
