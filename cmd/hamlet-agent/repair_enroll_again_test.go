package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairSaysToRevokeBeforeEnrollingAgain (helper 223): repair left out
// an enrollment it could not read and told the volunteer only to ask IT
// staff for a new code and enroll again. The server refuses that code
// while the laptop's old device is active (replica_active): she went back
// to IT staff a second time, and the refusal did not say which device to
// revoke. Repair must say both (revoke the old device, and a new code),
// and enroll's refusal must name the device to revoke; once revoked, the
// same code enrolls and the records repair saved reach the server.
func TestRepairSaysToRevokeBeforeEnrollingAgain(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, revoke, newCode, revokeDevice string }{
		{"", "thu hồi thiết bị cũ", "mã đăng ký mới", "hamlet-server device revoke --device "},
		{"en", "revoke this laptop's old device", "new enrollment code", "hamlet-server device revoke --device "},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ctx := context.Background()
			ts := servertest.Start(t)
			l := newLaptop(t, t.TempDir())
			l.lang = c.lang
			l.enroll(ts)
			l.mustAdd(ts.HamletsA[0], "Đã gửi")
			l.must("sync")
			unsent := l.mustAdd(ts.HamletsA[0], "Chưa gửi")
			devs, err := ts.Admin.ListDevices(ctx)
			require.NoError(t, err)
			require.Len(t, devs, 1)
			old := devs[0].ID

			db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			_, err = db.Exec(`UPDATE agent_meta SET value = '{"server": "http://127.0.0.1:1", "sco' WHERE key = 'enrollment'`)
			require.NoError(t, err)
			require.NoError(t, db.Close())
			l.run("status") // finds the damage

			r := l.run("repair")
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Contains(t, r.stderr, c.revoke, "repair says the old device is to be revoked")
			require.Contains(t, r.stderr, c.newCode, "and to get a new code")

			// Run again (a repair killed before it told): the same.
			r = l.run("repair")
			t.Logf("repair again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Contains(t, r.stderr, c.revoke)
			require.Contains(t, r.stderr, c.newCode)

			// She got only the code: the refusal names the device to revoke.
			code := ts.EnrollCode(t, ts.TeamA)
			r = l.run("enroll", "--server", ts.URL, "--code", code)
			t.Logf("enroll before the revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, c.revokeDevice+old, "the refusal names the device to revoke")

			require.NoError(t, ts.Admin.RevokeDevice(ctx, old))
			l.must("enroll", "--server", ts.URL, "--code", code)
			r = l.must("sync")
			t.Logf("sync after enrolling again:\n%s%s", r.stdout, r.stderr)
			require.True(t, serverHouseholds(t, ts)[unsent], "the household repair kept reaches the server")
			require.Len(t, serverHouseholds(t, ts), 2)
		})
	}
}
