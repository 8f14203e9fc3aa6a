package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairFirstFindsUnreadableEnrollment (helper 224): repair run as the
// first command on a file whose enrollment is no longer JSON (a torn page
// the database still reads) said "Tệp dữ liệu không bị hỏng: không cần
// sửa."; then enroll and sync said the file was damaged and to run repair,
// and only a second repair repaired it. Its check before repairing read
// the file's pages (quick_check), not the enrollment every other command
// reads. Repair must find the damage the other commands refuse the file
// for, at its first run, and repair it.
func TestRepairFirstFindsUnreadableEnrollment(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, notDamaged, damaged, revoke string }{
		{"", "không bị hỏng", "bị hỏng", "thu hồi thiết bị cũ"},
		{"en", "not damaged", "is damaged", "revoke this laptop's old device"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.enroll(ts)
			l.mustAdd(ts.HamletsA[0], "Đã gửi")
			l.must("sync")
			unsent := l.mustAdd(ts.HamletsA[0], "Chưa gửi")

			db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			_, err = db.Exec(`UPDATE agent_meta SET value = '{"server": "http://127.0.0.1:1", "sco' WHERE key = 'enrollment'`)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			r := l.run("repair") // the first command since the damage
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotContains(t, r.stdout, c.notDamaged, "repair finds the damage")
			require.Contains(t, r.stderr, c.revoke, "repair says to revoke the old device and enroll again")

			r = l.run("status")
			t.Logf("status after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			require.NotContains(t, r.stdout+r.stderr, c.damaged, "the repaired file is not damaged")
			require.True(t, l.households()[unsent], "the unsent household is kept")
			require.Contains(t, r.stdout, c.revoke, "status says the old device is to be revoked before a new code")

			r = l.run("sync")
			t.Logf("sync after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, c.revoke, "so does sync's refusal")

			devs, err := ts.Admin.ListDevices(context.Background())
			require.NoError(t, err)
			require.Len(t, devs, 1)
			require.NoError(t, ts.Admin.RevokeDevice(context.Background(), devs[0].ID))
			r = l.run("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			t.Logf("enroll: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			l.must("sync")
			require.True(t, serverHouseholds(t, ts)[unsent], "the household kept reaches the server")
			r = l.must("status")
			require.NotContains(t, r.stdout, c.revoke, "enrolled again, status says no more of it")
		})
	}
}

// TestRepairFirstFindsUnreadableScopeNote (helper 224): a note other than
// the enrollment that sync refuses the file for when it does not read (the
// hamlets the laptop holds, scope_held). Repair run first said the file
// was not damaged; run after sync had marked it, it took the note over
// into the repaired file, and sync refused that again, for good.
func TestRepairFirstFindsUnreadableScopeNote(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, notDamaged, damaged string }{
		{"", "không bị hỏng", "bị hỏng"},
		{"en", "not damaged", "is damaged"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts := servertest.Start(t)
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.enroll(ts)
			l.mustAdd(ts.HamletsA[0], "Đã gửi")
			l.must("sync")
			unsent := l.mustAdd(ts.HamletsA[0], "Chưa gửi")

			db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO agent_meta (key, value) VALUES ('scope_held', '["32002-0') ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
			require.NoError(t, err)
			require.NoError(t, db.Close())

			r := l.run("repair")
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotContains(t, r.stdout, c.notDamaged, "repair finds the damage")

			r = l.run("sync")
			t.Logf("sync after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotContains(t, r.stdout+r.stderr, c.damaged, "the repaired file is not damaged")
			require.Equal(t, 0, r.code)
			require.True(t, serverHouseholds(t, ts)[unsent], "the household kept reaches the server")
		})
	}
}
