//go:build unix

package main

import (
	"context"
	"os"
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
			c, err := l.start(ctx, "sync")
			require.NoError(t, err)
			defer c.close()

			// It waits while the lock is held: until it says so, or (a
			// command that waits without a word) until commandTimeout
			// ends it.
			ended, said := false, false
			for !said && !ended {
				select {
				case <-c.exited:
					ended = true
				case <-time.After(20 * time.Millisecond):
				}
				said = strings.Contains(c.stderrNow(), tc.says)
			}
			require.True(t, said, "the waiting command said nothing of the wait (ended: %v):\n%s", ended, c.stderrNow())
			require.False(t, ended, "the command ended while the lock was held:\n%s", c.stderrNow())

			require.NoError(t, lock.Close()) // the first command ends
			r, err := c.wait()
			require.NoError(t, err)
			require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
			requireOnServer(t, ts, []string{id})
		})
	}
}
