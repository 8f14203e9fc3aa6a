package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestRepairUnreadableEnrollment (helper 221): a damaged file whose
// enrollment is no longer JSON (a torn page the database itself still
// reads). Every command says the file is damaged and to run `hamlet-agent
// repair`; repair said "Đã sửa tệp dữ liệu" and then the same sentence
// again, and so did every command after it: the repaired file took the
// unreadable enrollment over, and the volunteer went round in a loop with
// an unsent household on the laptop. Repair must leave the enrollment out
// and say to enroll again, as for an enrollment it cannot find; enrolled
// again (the old device revoked), the household reaches the server.
func TestRepairUnreadableEnrollment(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, damaged, enrollAgain string }{
		{"", "bị hỏng", "cấp một mã đăng ký mới"},
		{"en", "is damaged", "and a new enrollment code"},
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

			r := l.run("status")
			require.NotEqual(t, 0, r.code)
			require.Contains(t, r.stderr, c.damaged)
			require.Contains(t, r.stderr, "hamlet-agent repair")

			r = l.run("repair")
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotContains(t, r.stdout+r.stderr, c.damaged, "repair does not end by asking for itself again")
			require.Contains(t, r.stdout+r.stderr, c.enrollAgain, "repair says to enroll again")

			r = l.run("status")
			t.Logf("status after repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.NotContains(t, r.stdout+r.stderr, c.damaged, "the repaired file is not damaged")
			require.True(t, l.households()[unsent], "the unsent household is kept")

			// As for any enrollment lost: IT staff revoke the laptop's old
			// device and give a new code.
			devs, err := ts.Admin.ListDevices(context.Background())
			require.NoError(t, err)
			require.Len(t, devs, 1)
			require.NoError(t, ts.Admin.RevokeDevice(context.Background(), devs[0].ID))
			l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			r = l.must("sync")
			t.Logf("sync after enrolling again:\n%s%s", r.stdout, r.stderr)
			require.True(t, serverHouseholds(t, ts)[unsent], "the household kept reaches the server")
			require.Len(t, serverHouseholds(t, ts), 2)
			require.False(t, strings.Contains(r.stderr, c.damaged))
		})
	}
}
