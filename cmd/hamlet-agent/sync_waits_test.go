//go:build unix

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A second hamlet-agent sync of a data folder waits for the first, which
// holds the sync lock (agent/synclock.go). Waiting without a word, it
// looked hung to the volunteer who started it in another window, for as
// long as the first ran (a clone on a slow link: minutes), and she closed
// it. It says that it waits, in her language, then syncs. The test holds
// the lock itself, as the first command would (flock: Unix only), and
// lets it go once the waiting command has said so.
func TestSyncWaitingForAnotherSaysSo(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	for _, tc := range []struct{ lang, says string }{
		{"vi", "Một lệnh đồng bộ khác của thư mục dữ liệu này đang chạy"},
		{"en", "Another sync of this data folder is running"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			l := enrolledAt(t, ts, ts.URL, ts.TeamA, "Laptop "+tc.lang)
			l.lang = tc.lang
			id := l.mustAdd(ts.HamletsA[0], "Hộ Chờ "+tc.lang)

			lock, err := os.OpenFile(filepath.Join(l.dir, "replica.db.sync-lock"), os.O_RDWR|os.O_CREATE, 0o600)
			require.NoError(t, err)
			defer lock.Close()
			require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			defer cancel()
			cmd := l.command(ctx, "sync")
			// Files, not pipes (laptop.exec says why).
			out, err := os.CreateTemp("", "hamlet-agent-stdout-")
			require.NoError(t, err)
			defer os.Remove(out.Name())
			defer out.Close()
			errf, err := os.CreateTemp("", "hamlet-agent-stderr-")
			require.NoError(t, err)
			defer os.Remove(errf.Name())
			defer errf.Close()
			cmd.Stdout, cmd.Stderr = out, errf
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()

			// It waits while the lock is held: until it says so, or (a
			// command that waits without a word) until commandTimeout
			// ends it.
			var ended error
			said := false
			for !said && ended == nil {
				select {
				case err := <-done:
					ended = errors.Join(err, errors.New("ended"))
				case <-time.After(20 * time.Millisecond):
				}
				b, err := os.ReadFile(errf.Name())
				require.NoError(t, err)
				said = strings.Contains(string(b), tc.says)
			}
			stderr, _ := os.ReadFile(errf.Name())
			require.True(t, said, "the waiting command said nothing of the wait (%v):\n%s", ended, stderr)
			require.NoError(t, ended, "the command ended while the lock was held:\n%s", stderr)

			require.NoError(t, lock.Close()) // the first command ends
			err = <-done
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				err = nil
			}
			require.NoError(t, err)
			stdout, _ := os.ReadFile(out.Name())
			stderr, _ = os.ReadFile(errf.Name())
			require.Equal(t, 0, cmd.ProcessState.ExitCode(), "%s%s", stdout, stderr)
			requireOnServer(t, ts, []string{id})
		})
	}
}
