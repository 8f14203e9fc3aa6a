package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLostHamletToldByNameAfterEnrollingAgain: a laptop whose device was
// revoked (handed to another member, a stolen token) is enrolled again
// with a new code while its team no longer covers one of its hamlets. The
// new enrollment's list of hamlets is the server's, without that one; the
// next sync drops its records (the old enrollment's hamlets were noted,
// enroll.go) and must tell the hamlet by the name the volunteer knows it
// by, as any other sync that loses a hamlet does, not by its code alone.
func TestLostHamletToldByNameAfterEnrollingAgain(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, lost string }{
		{"", "Tổ không còn phụ trách ấp/khóm "},
		{"en", "Your team no longer covers hamlet(s) "},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ctx := context.Background()
			ts, l, named := lostWorld(t, c.lang)
			devs, err := ts.Admin.ListDevices(ctx)
			require.NoError(t, err)
			require.Len(t, devs, 1)
			require.NoError(t, ts.Admin.RevokeDevice(ctx, devs[0].ID))
			l.must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))

			r := l.must("sync")
			t.Logf("the sync after enrolling again:\n%s%s", r.stdout, r.stderr)
			require.Len(t, l.households(), 1, "the lost hamlet's households left the laptop")
			i := strings.Index(r.stdout, c.lost)
			require.GreaterOrEqual(t, i, 0, "the hamlet lost is told")
			line, _, _ := strings.Cut(r.stdout[i:], "\n")
			require.Contains(t, line, c.lost+named, "told by its name")
		})
	}
}
