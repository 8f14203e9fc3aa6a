package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestForkedCopyDoesNotBringBackACollectedRow (issue 17: the simulation's
// wide and silent worlds together, seeds 5029, 5186, 5241 and 5277): a
// volunteer adds a household and, before syncing, the laptop's data folder
// is copied to a second laptop. The copy deletes the household and syncs;
// every device covering the hamlet acknowledges the delete (the copy is
// the same device as the original, so the server counts the original as
// having it too) and the server collects the row. The original laptop
// then syncs, its clock a year behind (the copy's, on another laptop, is
// right).
//
// The server once took the original's creation, pushed again under a new
// replica id, for a new household: live on the server and on every laptop
// that clones, while the teammate and the copy held it deleted, for good.
// Every replica must agree the household is gone, two ways:
//
//   - the original's waiting writes are the copy's own, taken already
//     (the same writes under the same sequences, whatever stamps each copy
//     gave them): the server answers them duplicate, and the original's
//     clone under its new id leaves the household out;
//   - the original also edited the household after the copy: that edit
//     is its own, pushed under its new id, and refused row_collected (its
//     rejected list says so): a row id the server collected is never
//     born again.
func TestForkedCopyDoesNotBringBackACollectedRow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		editOnCopy  bool // the original edits the household after the folder was copied
		renumbered  bool
		refusedEdit bool
	}{
		{name: "only the copy's writes", editOnCopy: false},
		{name: "an edit after the copy", editOnCopy: true, renumbered: true, refusedEdit: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			real := &fakeClock{t: time.Now()}
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
			hamlet := ts.HamletsA[0]
			dir := t.TempDir()
			origPath, copyPath := filepath.Join(dir, "original.db"), filepath.Join(dir, "copy.db")
			openAt := func(path string, now func() time.Time) *agent.Replica {
				r, err := agent.OpenWith(ctx, path, agent.Options{Now: now})
				require.NoError(t, err)
				t.Cleanup(func() { r.Close() })
				return r
			}

			behind := func() time.Time { return real.now().Add(-365 * 24 * time.Hour) }
			orig := openAt(origPath, behind)
			tok, _, err := orig.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy gốc")
			require.NoError(t, err)
			mate, tm := realAgent(t, ts, ts.TeamA)
			realSync(t, orig, ts, tok)
			realSync(t, mate, ts, tm)

			_, err = orig.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Thị Hoa"})
			require.NoError(t, err)
			hh, err := orig.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trần Văn Nam", "phone": "0912000111"})
			require.NoError(t, err)
			require.NoError(t, orig.Close())
			restoreFile(t, origPath, copyPath)

			// The copy deletes the household and syncs; everyone
			// acknowledges the delete; the server collects it.
			cp := openAt(copyPath, real.now)
			require.NoError(t, cp.Delete(ctx, "households", hh))
			realSync(t, cp, ts, tok)
			for range 2 {
				realSync(t, mate, ts, tm)
				realSync(t, cp, ts, tok)
			}
			gc, err := ts.Server.GC(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, gc.Rows, "the deleted household is collected")

			// The original laptop syncs.
			real.advance(10 * time.Minute)
			orig = openAt(origPath, behind)
			if tc.editOnCopy {
				require.NoError(t, orig.Update(ctx, "households", hh, agent.Fields{"phone": "0912000222"}))
			}
			s := realSync(t, orig, ts, tok)
			require.NotNil(t, s.Fork, "the original laptop learns it is one of two copies")
			require.Equal(t, tc.renumbered, s.Fork.Renumbered > 0, "renumbered %d", s.Fork.Renumbered)
			realSync(t, orig, ts, tok)

			rows, _, data := serverHolds(t, ts, hh)
			require.Equal(t, [2]int{0, 0}, [2]int{rows, data}, "the server made the collected household again")
			rej, err := orig.Rejected(ctx)
			require.NoError(t, err)
			var refused []string
			for _, r := range rej {
				if r.Row == hh.String() {
					refused = append(refused, r.Code)
				}
			}
			require.Equal(t, tc.refusedEdit, len(refused) > 0, "the original laptop's rejected list: %v", refused)
			for _, code := range refused {
				require.Equal(t, string(syncproto.CodeRowCollected), code)
			}

			// Every replica agrees with the server (a fresh clone): nobody
			// holds the household live, and once the server's next
			// collection has seen the original's new device acknowledge,
			// the horizon it sends lets the teammate and the copy drop the
			// tombstone too.
			_, err = ts.Server.GC(ctx)
			require.NoError(t, err)
			for range 2 {
				realSync(t, mate, ts, tm)
				realSync(t, cp, ts, tok)
			}
			fresh, tf := realAgent(t, ts, ts.TeamA)
			realSync(t, fresh, ts, tf)
			want, err := fresh.Snapshot(ctx)
			require.NoError(t, err)
			for name, rep := range map[string]*agent.Replica{"the teammate": mate, "the copy": cp} {
				got, err := rep.Snapshot(ctx)
				require.NoError(t, err)
				require.Equal(t, want, got, "%s equals the server\n%s", name, diffSnap(want, got))
			}
			for name, rep := range map[string]*agent.Replica{"the original": orig, "the teammate": mate, "the copy": cp} {
				_, err := rep.Show(ctx, "households", hh.String())
				require.ErrorIs(t, err, agent.ErrNotFound, "%s shows the deleted household", name)
			}
		})
	}
}
