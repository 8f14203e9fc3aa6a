package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
)

// Issue 14, defect 3: enrolling a folder that holds another server's data
// is refused, and the code stays unused with no device made for it: the
// same code then enrolls a new data folder.
func TestEnrollRefusedKeepsTheCode(t *testing.T) {
	t.Parallel()
	for _, sc := range serverStores() {
		t.Run(sc.name, func(t *testing.T) {
			ctx := context.Background()
			x, y := sc.start(t), sc.start(t)
			root := t.TempDir()
			held, fresh := newLaptop(t, filepath.Join(root, "x")), newLaptop(t, filepath.Join(root, "new"))
			held.must("enroll", "--server", x.URL, "--code", x.EnrollCode(t, x.TeamA))
			held.mustAdd(x.HamletsA[0], "Hộ của máy chủ X")
			held.must("sync")

			m, err := y.Admin.AddMember(ctx, y.TeamA, "Tình nguyện viên", "member", "")
			require.NoError(t, err)
			code, _, err := y.Admin.IssueCode(ctx, m.ID, time.Hour)
			require.NoError(t, err)
			for _, lang := range []struct{ lang, want string }{
				{"vi", "mã chưa bị dùng"},
				{"en", "the code is not used up"},
			} {
				r := held.run("enroll", "--server", y.URL, "--code", code, "--lang", lang.lang)
				require.Equal(t, exitError, r.code, r.stdout)
				require.Contains(t, r.stderr, lang.want)
				require.Contains(t, r.stderr, "--data-dir")
			}
			codes, err := y.Admin.ListCodes(ctx, server.DeviceFilter{MemberID: m.ID})
			require.NoError(t, err)
			require.Nil(t, codes[0].Used, "the code is not used up")
			devs, err := y.Admin.ListDevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
			require.NoError(t, err)
			require.Empty(t, devs, "no device on the dashboard")
			require.True(t, held.heads()["Hộ của máy chủ X"], "the folder is as it was")
			require.EqualValues(t, 0, held.status()["pending"])
			held.must("sync") // still enrolled with X

			fresh.must("enroll", "--server", y.URL, "--code", code)
			fresh.must("sync")
			devs, err = y.Admin.ListDevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
			require.NoError(t, err)
			require.Len(t, devs, 1)
		})
	}
}
