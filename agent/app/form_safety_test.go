package app_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
)

// formValues reads back the edit form as the browser would submit it.
func editFormValues(t *testing.T, body string) url.Values {
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if m[1] != "csrf" {
			v.Set(m[1], m[2])
		}
	}
	for _, m := range regexp.MustCompile(`<input type="checkbox"[^>]*name="([a-z_]+)"[^>]*checked`).FindAllStringSubmatch(body, -1) {
		v.Set(m[1], "on")
	}
	if m := regexp.MustCompile(`<option value="([^"]+)" selected`).FindStringSubmatch(body); m != nil {
		v.Set("hamlet_code", m[1])
	}
	return v
}

// The same visit form posted twice (a double click, a reload of the POST,
// a retry after a slow answer) records two visits.
// formKey is the id a new record's form was shown with.
func formKey(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`name="rid" value="([^"]+)"`).FindStringSubmatch(page)
	require.NotNil(t, m, "the form carries the id it saves under")
	return m[1]
}

// A form sent twice (a double click, the browser sending it again) adds
// one visit: each POST made a new id before (review 42, helper 94).
func TestAVisitFormSentTwiceAddsOneVisit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	_, page := h.get("/households/" + id + "/visit")
	form := url.Values{"visited_on": {"02/12/2026"}, "skill": {"ehealth_record"}, "outcome-ehealth_record": {"independent"}, "notes": {"lần 1"}, "rid": {formKey(t, page)}}
	form.Set("csrf", h.csrf())
	for i := 0; i < 2; i++ {
		f := url.Values{}
		for k, v := range form {
			f[k] = append([]string(nil), v...)
		}
		status, body, _ := h.post("/households/"+id+"/visit", f)
		require.Equal(t, http.StatusSeeOther, status, body)
	}
	d, err := h.r.Show(context.Background(), "households", id)
	require.NoError(t, err)
	require.Len(t, d.Visits, 1, "one visit typed once, posted twice")
	require.Len(t, d.Tutoring, 1, "its skill once")
}

func TestAHouseholdFormSentTwiceAddsOneHousehold(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	_, page := h.get("/households/new")
	form := url.Values{"hamlet_code": {hamlet1}, "head_name": {"Võ Thị Hai Lần"}, "active": {"on"}, "rid": {formKey(t, page)}}
	var at []string
	for range 2 {
		status, body, loc := h.post("/households/new", form)
		require.Equal(t, http.StatusSeeOther, status, body)
		at = append(at, loc)
	}
	require.Equal(t, at[0], at[1], "the second save leads to the household the first added")
	hs, err := h.r.Search(context.Background(), "Võ Thị Hai Lần", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, hs, 1)
}

// The edit form is opened; meanwhile the CLI (another process on the same
// replica) changes the phone; the volunteer changes only the address and
// saves: the CLI's phone must stay.
// Saving an edit form writes only what the volunteer changed in it: a
// field left as shown does not put its shown value back over what another
// command wrote while the form was open (review 42, helper 94).
func TestAnEditFormKeepsWhatAnotherCommandWroteWhileItWasOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	_, body := h.get("/households/" + id + "/edit")
	form := editFormValues(t, body)
	require.Equal(t, "0912345678", form.Get("phone"), "form read: %v", form)

	// The CLI: `hamlet-agent household edit <id> --phone 0987654321`, its
	// own open of the replica file.
	cli := agenttest.Open(t, filepath.Join(h.dir, "replica.db"))
	uid, _ := uuid.Parse(id)
	require.NoError(t, cli.EditHousehold(context.Background(), uid, agent.Fields{"phone": "0987654321"}))

	form.Set("address", "Số 5, đường Lê Lợi")
	status, body, _ := h.post("/households/"+id+"/edit", form)
	require.Equal(t, http.StatusSeeOther, status, body)
	d, err := h.r.Show(context.Background(), "households", id)
	require.NoError(t, err)
	require.Equal(t, "Số 5, đường Lê Lợi", d.Str("address"))
	require.Equal(t, "0987654321", d.Str("phone"), "the phone the CLI wrote while the form was open is kept")
}

// Another process holds the replica's write lock past the busy timeout:
// the new household's form comes back with what was typed.
// Another command holding the replica past the wait: the form comes back
// with all that was typed and says, in Vietnamese, to wait and try again
// (it showed SQLite's "database is locked" on a page with nothing of the
// form; review 42, helper 94).
func TestABusyReplicaKeepsWhatWasTypedAndSaysToWait(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	release := holdReplica(t, h)
	status, body, _ := h.post("/households/new", url.Values{"hamlet_code": {hamlet1}, "head_name": {"Lê Thị Hoa Dài"}, "address": {"Tổ 7, hẻm 12"}, "active": {"on"}})
	release()
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Contains(t, body, "Một lệnh Hamlet khác", "the busy message in Vietnamese")
	require.NotContains(t, body, "SQLITE_BUSY")
	require.Contains(t, body, "Lê Thị Hoa Dài", "what was typed is kept")
	require.Contains(t, body, "Tổ 7, hẻm 12", "what was typed is kept")
}

// A household deleted by a command while its visit form was open: the
// form comes back with what was typed and says what happened (it answered
// 500 and lost the notes; review 42, helper 94).
func TestAVisitForAHouseholdDeletedMeanwhileKeepsWhatWasTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	uid, _ := uuid.Parse(id)
	require.NoError(t, h.r.Delete(context.Background(), "households", uid))
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {"02/12/2026"}, "notes": {"Ghi chú dài của tôi"}})
	require.Equal(t, http.StatusConflict, status, "not a server error")
	require.Contains(t, body, "vừa bị xóa")
	require.Contains(t, body, "Ghi chú dài của tôi", "what was typed is kept")
}

// holdReplica holds the replica's write lock from another connection (as
// another Hamlet command would) until release: a save waits its 10 s and
// is refused as busy.
func holdReplica(t *testing.T, h *harness) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(h.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	return func() {
		_, err := conn.ExecContext(context.Background(), "ROLLBACK")
		require.NoError(t, err)
	}
}
