package main

import (
	"database/sql"
	"fmt"
	"html"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairNotesWhileAppOpen (helper 227): the app is open when a note
// stops reading (the enrollment, the sequence counter); the volunteer
// runs repair in a terminal while it stays open. The app must not save
// into the file repair replaced, must say what to do, and opened again it
// must show the repaired file and, its enrollment left out, the steps to
// enroll again; every household saved before reaches the server.
func TestRepairNotesWhileAppOpen(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	a := startApp(t, l)
	var ids []string
	for i := 0; i < 3; i++ {
		id, st, why, err := a.addHH(ts.HamletsA[0], fmt.Sprintf("Hộ trong app %d", i))
		require.NotEmpty(t, id, "%d %s %v", st, why, err)
		ids = append(ids, id)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE agent_meta SET value = '{"member_name":"Trần Văn Bình","sco' WHERE key = 'enrollment'`)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE agent_meta SET value = 'Trần Văn Bình' WHERE key = 'seq'`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	add := func(head string) (string, int, string, error) {
		st, body, loc, err := a.postForm("/households/new", url.Values{"hamlet_code": {ts.HamletsA[0]}, "head_name": {head}, "active": {"on"}})
		if m := savedHH.FindStringSubmatch(loc); m != nil {
			return m[1], st, "", err
		}
		return "", st, mainText(body), err
	}
	id, st, why, err := add("Hộ lúc hỏng")
	t.Logf("app add on the damaged file: %q %d %s %v", id, st, why, err)
	require.Contains(t, why, "hamlet-agent repair", "the app says to repair the file")
	require.NoError(t, err)
	require.NotContains(t, why, "Trần Văn Bình")
	if id != "" {
		ids = append(ids, id)
	}
	r := l.run("repair")
	t.Logf("repair while the app is open: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	require.Equal(t, 0, r.code)
	require.NotContains(t, r.stdout+r.stderr, "Trần Văn Bình")
	id, st, why, err = add("Hộ sau sửa, app cũ")
	t.Logf("app add after repair: %q %d %s %v", id, st, why, err)
	require.Contains(t, why, "Hãy đóng Hamlet rồi mở lại", "the open app says what helps")
	require.NoError(t, err)
	require.Empty(t, id, "the open app does not save into the replaced file")
	require.NotContains(t, why, "Trần Văn Bình")
	a.stop()
	r = l.run("status")
	t.Logf("status after: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotContains(t, r.stdout+r.stderr, "bị hỏng", "the old app's read did not mark the repaired file damaged")
	require.NoFileExists(t, filepath.Join(l.dir, "replica.db.damaged"))

	a = startApp(t, l)
	_, page := a.get("/enroll")
	text := html.UnescapeString(page)
	require.Contains(t, text, "thu hồi thiết bị cũ", "opened again, the app says to revoke the old device")
	require.NotContains(t, text, "Trần Văn Bình")
	a.stop()
	require.Equal(t, len(ids), func() int {
		n, have := 0, l.households()
		for _, id := range ids {
			if have[id] {
				n++
			}
		}
		return n
	}(), "every household saved is kept")
}

// mainText is the text of a page's <main>, without its tags.
func mainText(page string) string {
	if i := strings.Index(page, "<main"); i >= 0 {
		page = page[i:]
	}
	if i := strings.Index(page, "</main>"); i >= 0 {
		page = page[:i]
	}
	return strings.Join(strings.Fields(html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))), " ")
}
