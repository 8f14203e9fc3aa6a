package app_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent/app"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// formKey is the rid of a new record's form as the page gives it.
func ridOfForm(t *testing.T, page string) string {
	m := regexp.MustCompile(`name="rid" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, m)
	return m[1]
}

func errorText(body string) string {
	var out []string
	for _, m := range regexp.MustCompile(`class="field-error" id="([^"]+)">([^<]*)<`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return strings.Join(out, "; ")
}

// A note of several lines, within the box's own limit (maxlength="2000":
// the box counts a line break as one character, the browser sends it as
// CR LF), is refused as "quá dài: tối đa 2000 ký tự": CR LF counts two.
// Household form and visit form alike.
func TestNotesWithLineBreaksWithinTheBoxLimitAreSaved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	lines := make([]string, 40)
	for i := range lines {
		lines[i] = strings.Repeat("ă", 49)
	}
	require.Equal(t, 1999, len([]rune(strings.Join(lines, "\n"))), "what the box counts")
	sent := strings.Join(lines, "\r\n") // what the browser sends

	_, page := h.get("/households/new")
	require.Contains(t, page, `<textarea id="notes" name="notes" rows="3" maxlength="2000">`)
	status, body, _ := h.post("/households/new", url.Values{"rid": {ridOfForm(t, page)}, "hamlet_code": {hamlet1},
		"head_name": {"Nguyễn Văn A"}, "notes": {sent}, "active": {"on"}})
	require.Equal(t, http.StatusSeeOther, status, "household refused: %s", errorText(body))
}

func TestVisitNotesWithLineBreaksWithinTheBoxLimitAreSaved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn A", "")
	sent := strings.TrimSuffix(strings.Repeat(strings.Repeat("ơ", 49)+"\r\n", 40), "\r\n")
	_, page := h.get("/households/" + id + "/visit")
	vo := regexp.MustCompile(`name="visited_on" type="text" value="([^"]+)"`).FindStringSubmatch(page)
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"rid": {ridOfForm(t, page)}, "visited_on": {vo[1]}, "notes": {sent}})
	require.Equal(t, http.StatusSeeOther, status, "visit refused: %s", errorText(body))
}

// When the only field with a problem is a notes box, or a skill's outcome
// in the visit form, no field of the page takes the cursor (only text
// inputs get autofocus): a keyboard or screen-reader user lands at the top.
func TestTheCursorGoesToTheFieldInError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn A", "")
	note := strings.TrimSuffix(strings.Repeat(strings.Repeat("a", 49)+"\r\n", 41), "\r\n")
	_, page := h.get("/households/new")
	status, body, _ := h.post("/households/new", url.Values{"rid": {ridOfForm(t, page)}, "hamlet_code": {hamlet1}, "head_name": {"Lê Thị B"}, "notes": {note}, "active": {"on"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "err-notes", strings.SplitN(errorText(body), ":", 2)[0])
	assert.True(t, strings.Contains(body, "autofocus"), "household form, notes in error: nothing takes the cursor (%s)", errorText(body))

	_, page = h.get("/households/" + id + "/visit")
	vo := regexp.MustCompile(`name="visited_on" type="text" value="([^"]+)"`).FindStringSubmatch(page)
	status, body, _ = h.post("/households/"+id+"/visit", url.Values{"rid": {ridOfForm(t, page)}, "visited_on": {vo[1]}, "skill": {"vneid_install"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	assert.True(t, strings.Contains(body, "autofocus"), "visit form, an outcome not chosen: nothing takes the cursor (%s)", errorText(body))
}

// The app stopped by a token the server does not know offers its own
// "Đăng ký lại" button, yet its message tells the volunteer to run a
// terminal command (hamlet-agent enroll --server … --code <MÃ MỚI>).
func TestATokenRefusedIsToldAsTheAppsOwnStep(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := openSyncLaptop(t, ts, ts.TeamA, time.Now)
	h := newHarness(t, false, func(c *app.Config) {
		c.Replica = l.l
		require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(c.TokenPath), "token"), []byte("hm_wrongtokenwrongtokenwrongtoken\n"), 0o600))
		c.Sync.MinBackoff = 50 * time.Millisecond
	})
	var body string
	require.Eventually(t, func() bool {
		_, body = h.get("/sync")
		return strings.Contains(body, `id="enroll-again" href="/enroll">`) // shown: the sync stopped
	}, 60*time.Second, 100*time.Millisecond)
	resp, err := h.c.Get(h.base + "/sync/status")
	require.NoError(t, err)
	js, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(js), "hamlet-agent enroll", "the app's sync status tells a terminal command: %s", js)
}
