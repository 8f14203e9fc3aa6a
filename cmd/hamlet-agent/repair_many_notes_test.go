package main

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// serverDots is the dot of every household field the server holds, read
// through the protocol by a device of team A.
func serverDots(t testing.TB, ts *servertest.TS) map[string]syncproto.Change {
	t.Helper()
	c := ts.Connect(t, ts.NewDevice(t, ts.TeamA))
	defer c.Close()
	changes, _, _, err := c.PullAll(0)
	require.NoError(t, err)
	out := map[string]syncproto.Change{}
	for _, ch := range changes {
		if ch.Table == "households" {
			out[ch.Row.String()+"/"+ch.Field] = ch
		}
	}
	return out
}

// TestRepairManyNotesAndPages (helper 227): several notes that do not read
// at once (the enrollment, holding a name, the sequence counter, what was
// sent, the hamlets held, the clock's offset, a fork's bound), alone or with
// a torn page of the households' index or of the change log. Repair must
// repair it at its first run, a second repair find nothing, no command
// print a note's text, the app say to revoke the old device; once enrolled
// again, every household saved reaches the server exactly once: what was
// acknowledged keeps its dot on the server (not sent again as a new
// change), the edit not yet sent arrives, nothing is rejected or listed as
// a conflict.
func TestRepairManyNotesAndPages(t *testing.T) {
	t.Parallel() // its own servers, proxy and laptops
	const name = "Nguyễn Thị Lan"
	// Up to the damage every case did the same through the binary (the
	// language is only how the commands speak; the folder keeps none):
	// built once, frozen, and thawed for each case
	// (repair_fixture_test.go).
	ts := servertest.Start(t)
	rel := newSwitchProxy(t, ts.URL)
	built := newLaptop(t, t.TempDir())
	built.must("enroll", "--server", rel.srv.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	var sent []string
	for i := 0; i < 30; i++ {
		sent = append(sent, built.mustAdd(ts.HamletsA[0], fmt.Sprintf("Đã gửi %d", i)))
	}
	built.must("sync")
	built.must("household", "edit", sent[0], "--set", "address=Sửa chưa gửi")
	var unsent []string
	for i := 0; i < 3; i++ {
		unsent = append(unsent, built.mustAdd(ts.HamletsA[0], fmt.Sprintf("Chưa gửi %d", i)))
	}
	w := freeze(rel, ts, built)
	for _, c := range []struct {
		lang  string
		notes map[string]string
		page  string // "", "index" (households), "outbox"
	}{
		{"", map[string]string{"enrollment": `{"member_name":"` + name + `","ser`, "seq": name, "sent_seq": "x", "scope_held": "[", "offset_ms": "1e3", "fork_due": "-1"}, ""},
		{"en", map[string]string{"enrollment": `{"member_name":"` + name + `","ser`, "seq": name, "sent_seq": "x"}, "index"},
		{"", map[string]string{"sent_seq": name, "clock_last": "x"}, "outbox"},
		{"", map[string]string{"seq": name, "sent_seq": "x", "scope_held": "["}, "outbox"},
	} {
		t.Run(fmt.Sprintf("lang=%s/page=%s/%d", c.lang, c.page, len(c.notes)), func(t *testing.T) {
			damaged, notDamaged, revoke := "bị hỏng", "không bị hỏng", "thu hồi thiết bị cũ"
			if c.lang == "en" {
				damaged, notDamaged, revoke = "is damaged", "not damaged", "revoke this laptop's old device"
			}
			ts, ls := w.thaw(t, t.TempDir())
			l := ls[0]
			l.lang = c.lang
			// The server's dots of the sync, before the damage: the edit
			// and the households after it were not sent.
			before := serverDots(t, ts)

			file := filepath.Join(l.dir, "replica.db")
			db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			for k, v := range c.notes {
				_, err = db.Exec(`INSERT INTO agent_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
				require.NoError(t, err)
			}
			require.NoError(t, db.Close())
			switch c.page {
			case "index":
				idx := rowIndexes(t, l.dir)
				require.NotEmpty(t, idx)
				pages := pagesOf(t, file, idx[0], "leaf")
				require.NotEmpty(t, pages)
				damage(t, file, (pages[0]-1)*4096, 16)
			case "outbox":
				pages := pagesOf(t, file, "outbox", "leaf")
				if len(pages) == 0 {
					pages = pagesOf(t, file, "outbox", "internal")
				}
				require.NotEmpty(t, pages)
				for _, p := range pages {
					damage(t, file, (p-1)*4096, 4096)
				}
			}

			out := ""
			r := l.run("status")
			out += r.stdout + r.stderr
			t.Logf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			r = l.run("repair")
			out += r.stdout + r.stderr
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, notDamaged)
			r = l.run("repair")
			out += r.stdout + r.stderr
			t.Logf("repair again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Contains(t, r.stdout+r.stderr, notDamaged, "repaired once, it is sound")
			r = l.run("status")
			out += r.stdout + r.stderr
			t.Logf("status after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, damaged)

			_, leftOut := c.notes["enrollment"]
			if leftOut {
				require.Contains(t, r.stdout, revoke)
				a := startApp(t, l)
				id, st, why, err := a.addHH(ts.HamletsA[0], "Hộ trong app")
				t.Logf("app add: %q %d %s %v", id, st, why, err)
				out += why
				require.Empty(t, id, "not enrolled: the app does not save")
				if why == "/enroll" {
					_, page := a.get("/enroll")
					why = html.UnescapeString(problemText(page))
					if i := strings.Index(page, "<main"); i >= 0 {
						t.Logf("app /enroll page: %s", page[i:min(len(page), i+3000)])
					}
				}
				require.Contains(t, why, revoke, "the app says to revoke the old device")
				_, page := a.get("/sync")
				if i := strings.Index(page, "đăng ký"); i >= 0 {
					t.Logf("app sync page: …%s…", page[max(0, i-300):min(len(page), i+600)])
				}
				a.stop()
				devs, err := ts.Admin.ListDevices(context.Background())
				require.NoError(t, err)
				self := l.status()["replica_id"]
				n := 0
				for _, d := range devs {
					if d.Replica.String() == self {
						require.NoError(t, ts.Admin.RevokeDevice(context.Background(), d.ID))
						n++
					}
				}
				require.Equal(t, 1, n, "the laptop's old device, by its replica")
				r = l.run("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
				out += r.stdout + r.stderr
				t.Logf("enroll: exit %d\n%s%s", r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code)
			}
			r = l.run("sync")
			out += r.stdout + r.stderr
			t.Logf("sync: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			r = l.run("sync")
			out += r.stdout + r.stderr
			t.Logf("sync again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)

			require.NotContains(t, out, name, "no note's text in any message")
			require.NotContains(t, out, "strconv")
			require.Empty(t, l.rejected(), "nothing rejected")
			require.Empty(t, l.conflicts(), "no conflict")
			require.Zero(t, l.pending(), "nothing left to send")
			after := serverDots(t, ts)
			for _, id := range append(sent, unsent...) {
				require.Contains(t, after, id+"/head_name", "the server holds %s", id)
			}
			for k, ch := range before {
				require.Equal(t, ch.Dot, after[k].Dot, "%s acknowledged before the damage is not sent again as a new change", k)
			}
			require.Equal(t, "Sửa chưa gửi", l.household(sent[0])["address"])
			require.Equal(t, "Sửa chưa gửi", after[sent[0]+"/address"].Value.AsString(), "the unsent edit reached the server")
			have := l.households()
			for _, id := range append(sent, unsent...) {
				require.True(t, have[id], "the laptop holds %s", id)
			}
		})
	}
}
