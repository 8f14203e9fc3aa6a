package agent_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopyBehindTwiceLaterEditWins (helper 217): a copied folder on a
// laptop whose clock is a year off edits a household's address; the
// original edits it otherwise 10 s later and syncs. The copy's first sync
// finds it behind and is cut before it pushes anything (the link drops);
// the volunteer sets the clock right, as the sync's warning asks, and
// syncs again: behind again, it forks. The original's later edit must win
// on every replica: the copy's edit is stamped by the clock it was made
// under, not the one measured at the fork. And a phone the copy writes
// between its two syncs (a sequence the server holds from the original,
// so not restamped at the second) loses to the original's later phone.
func TestCopyBehindTwiceLaterEditWins(t *testing.T) {
	const year = 365 * 24 * time.Hour
	for _, off := range []time.Duration{0, year, -year} {
		t.Run(off.String(), func(t *testing.T) {
			ctx := context.Background()
			real := &fakeClock{t: time.Now()}
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
			dir := t.TempDir()
			origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
			openAt := func(path string, now func() time.Time) *agent.Replica {
				r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
				require.NoError(t, err)
				t.Cleanup(func() { r.Close() })
				return r
			}
			orig := openAt(origPath, real.now)
			tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
			require.NoError(t, err)
			hh, err := orig.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Nguyễn Văn Hai"})
			require.NoError(t, err)
			realSync(t, orig, ts, tok)
			require.NoError(t, orig.Close())
			restoreFile(t, origPath, copyPath)
			orig = openAt(origPath, real.now)

			var shift atomic.Int64
			shift.Store(int64(off))
			cp := openAt(copyPath, func() time.Time { return real.now().Add(time.Duration(shift.Load())) })
			real.advance(time.Minute)
			require.NoError(t, cp.Update(ctx, "households", hh, agent.Fields{"address": "ấp Hai, bản sao (trước)"}))
			real.advance(10 * time.Second)
			require.NoError(t, orig.Update(ctx, "households", hh, agent.Fields{"address": "ấp Hai, bản gốc (sau)"}))
			require.NoError(t, orig.Update(ctx, "households", hh, agent.Fields{"head_name": "Nguyễn Văn Hai (gốc)"}))
			realSync(t, orig, ts, tok)

			// The copy's first sync: behind, cut before its push.
			real.advance(time.Minute)
			cctx, cancel := context.WithCancel(ctx)
			undo := agent.AfterBatchRead(cancel)
			_, err = cp.Sync(cctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
			undo()
			cancel()
			require.Error(t, err, "the first sync is cut")
			ts.WaitSessionsEnded(t)
			if off == 0 {
				real.advance(time.Minute)
				require.NoError(t, cp.Update(ctx, "households", hh, agent.Fields{"phone": "0911000001"}))
				real.advance(10 * time.Second)
				require.NoError(t, orig.Update(ctx, "households", hh, agent.Fields{"phone": "0922000002"}))
				realSync(t, orig, ts, tok)
			}

			// The clock set right; the next sync forks.
			shift.Store(0)
			real.advance(time.Minute)
			s := realSync(t, cp, ts, tok)
			require.NotNil(t, s.Fork, "the copy takes a new id")
			realSync(t, orig, ts, tok)
			realSync(t, cp, ts, tok)
			fresh, tf := realAgent(t, ts, ts.TeamA)
			realSync(t, fresh, ts, tf)
			for name, r := range map[string]*agent.Replica{"the original": orig, "the copy": cp, "a fresh clone": fresh} {
				d, err := r.Show(ctx, "households", hh.String())
				require.NoError(t, err)
				require.Equal(t, "ấp Hai, bản gốc (sau)", d.Fields["address"], "%s: the later edit wins", name)
				if off == 0 {
					require.Equal(t, "0922000002", d.Fields["phone"], "%s: the later phone wins", name)
				}
			}
		})
	}
}
