package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestNumberNoteUnreadIsDamage (helper 226): a note kept as a number (the
// clock's offset, the pull position, the sequence counter, what was sent)
// whose text is no longer a number (a torn page the database still reads)
// made status and sync fail with the parse error itself ("strconv.ParseInt:
// parsing ...: invalid syntax"), in English only and saying nothing of
// what to do, and repair said the file was not damaged. They must say the
// file is damaged and to run repair, as for an unreadable enrollment;
// repair must find it at its first run, and the repaired file work: the
// household not yet sent reaches the server, and what a teammate sent
// meanwhile reaches the laptop.
func TestNumberNoteUnreadIsDamage(t *testing.T) {
	t.Parallel() // its own servers, proxy and laptops
	// Up to the damage every case did the same through the binaries (the
	// language is only how the commands speak; the folder keeps none):
	// built once, frozen, and thawed for each case
	// (repair_fixture_test.go).
	ts := servertest.Start(t)
	rel := newSwitchProxy(t, ts.URL)
	built := newLaptop(t, t.TempDir())
	built.must("enroll", "--server", rel.srv.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	sent := built.mustAdd(ts.HamletsA[0], "Đã gửi")
	built.must("sync")
	unsent := built.mustAdd(ts.HamletsA[0], "Chưa gửi")

	mate := newLaptop(t, t.TempDir())
	mate.enroll(ts)
	theirs := mate.mustAdd(ts.HamletsA[0], "Của bạn")
	mate.must("sync")
	w := freeze(rel, ts, built)

	for _, c := range []struct {
		note, lang  string
		repairFirst bool // repair is the first command since the damage
	}{
		{"offset_ms", "", false},
		{"offset_ms", "en", false},
		{"seq", "", false},
		{"seq", "en", true},
		{"sent_seq", "", false},
		{"sent_seq", "en", true},
		{"clock_last", "", true},
		{"cursor", "", false},
		{"last_sync", "en", false},
	} {
		t.Run(fmt.Sprintf("%s/lang=%s/repairFirst=%v", c.note, c.lang, c.repairFirst), func(t *testing.T) {
			notDamaged, damaged := "không bị hỏng", "bị hỏng"
			if c.lang == "en" {
				notDamaged, damaged = "not damaged", "is damaged"
			}
			ts, ls := w.thaw(t, t.TempDir())
			l := ls[0]
			l.lang = c.lang

			db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO agent_meta (key, value) VALUES (?, '1733-0') ON CONFLICT (key) DO UPDATE SET value = excluded.value`, c.note)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			// Status need not read every note; what it reads and does
			// not read is damage. Sync reads them all.
			saved := []string{sent, unsent}
			for _, cmd := range [][]string{{"status"}, {"household", "add", "--hamlet", ts.HamletsA[0], "--head", "Lúc hỏng", "--json"}, {"sync"}} {
				if c.repairFirst {
					break
				}
				r := l.run(cmd...)
				t.Logf("%v: exit %d\n%s%s", cmd, r.code, r.stdout, r.stderr)
				require.NotContains(t, r.stdout+r.stderr, "strconv", "%v says no parse error", cmd)
				if r.code == 0 && cmd[0] != "sync" {
					if cmd[0] == "household" {
						var rec struct{ ID string }
						require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
						saved = append(saved, rec.ID)
					}
					continue
				}
				require.NotEqual(t, 0, r.code, "%v", cmd)
				require.Contains(t, r.stderr, damaged, "%v says the file is damaged", cmd)
				require.Contains(t, r.stderr, "hamlet-agent repair", "%v says to repair it", cmd)
			}

			r := l.run("repair")
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, notDamaged, "repair finds the damage")

			r = l.run("status")
			t.Logf("status after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, damaged, "the repaired file is not damaged")

			r = l.run("sync")
			t.Logf("sync after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, damaged)
			after := l.mustAdd(ts.HamletsA[0], "Sau khi sửa")
			l.must("sync")
			have := l.households()
			saved = append(saved, after)
			for _, id := range append(saved, theirs) {
				require.True(t, have[id], "the laptop holds %s", id)
			}
			on := serverHouseholds(t, ts)
			for _, id := range saved {
				require.True(t, on[id], "the server holds %s", id)
			}
		})
	}
}
