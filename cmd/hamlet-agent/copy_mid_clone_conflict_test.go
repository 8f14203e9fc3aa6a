package main

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopiedFolderMidCloneSameFieldAndTeammate: as TestCopiedFolderMidClone,
// a folder copied while its first clone was cut, but both copies now
// correct the same field of the same households (one the stored chunks
// brought, one recorded before the first sync), and a teammate whose
// laptop finished its clone edits, after the snapshot's head, a household
// the chunks stored before the copy brought and one they had not reached.
// The copy that takes a new id resumes its clone without cloning again:
// it must still get the teammate's edits and the other copy's, each
// contested field must be a conflict on a laptop that met both writes,
// and no field edited by one writer only may be.
func TestCopiedFolderMidCloneSameFieldAndTeammate(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"original-first", "copy-first", "together"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			ts, seeded := seededCommune(t)
			home := ts.HamletsA[0]
			root := t.TempDir()
			mate := newLaptop(t, filepath.Join(root, "mate"))
			mate.enroll(ts)
			mate.must("sync")

			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			before := a.mustAdd(home, "Hộ ghi trước lần đồng bộ đầu")
			killSyncMidClone(t, a, 1)
			require.NotEmpty(t, replicaMeta(t, a.dir, "clone_head"))
			b := a.copyTo(filepath.Join(root, "b"))

			held := a.households()
			var cloned, far string
			for _, id := range seeded {
				if held[id] && cloned == "" {
					cloned = id
				}
				if !held[id] && far == "" {
					far = id
				}
			}
			require.NotEmpty(t, cloned)
			require.NotEmpty(t, far, "the clone was cut before every household")

			a.must("household", "edit", cloned, "--set", "phone=0911111111")
			b.must("household", "edit", cloned, "--set", "phone=0922222222")
			a.must("household", "edit", before, "--set", "phone=0933333333")
			b.must("household", "edit", before, "--set", "phone=0944444444")
			b.must("household", "edit", before, "--set", "members_count=4")

			// The teammate edits after the snapshot's head.
			mate.must("sync")
			mate.must("household", "edit", cloned, "--set", "address=Địa chỉ do bạn cùng tổ sửa")
			mate.must("household", "edit", far, "--set", "phone=0955555555")
			mate.must("sync")

			switch order {
			case "original-first":
				a.run("sync")
				b.run("sync")
			case "copy-first":
				b.run("sync")
				a.run("sync")
			case "together":
				var wg sync.WaitGroup
				for _, l := range []*laptop{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, _ = l.exec("sync")
					}()
				}
				wg.Wait()
			}
			syncInTurn(t, a, b, a, b, mate)

			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			c := fresh.household(cloned)
			require.Equal(t, "Địa chỉ do bạn cùng tổ sửa", c["address"])
			require.Contains(t, []any{"0911111111", "0922222222"}, c["phone"])
			require.Equal(t, "0955555555", fresh.household(far)["phone"])
			bf := fresh.household(before)
			require.Contains(t, []any{"0933333333", "0944444444"}, bf["phone"])
			require.EqualValues(t, 4, bf["members_count"])

			snap := snapshotOf(t, fresh.dir)
			contested := map[string]int{}
			for _, l := range []*laptop{a, b, mate} {
				require.Empty(t, replicaMeta(t, l.dir, "clone_head"), "%s finished its clone", l.dir)
				require.Zero(t, l.pending())
				got := snapshotOf(t, l.dir)
				require.Equal(t, len(snap), len(got), "%s holds what the server holds", l.dir)
				requireSameSnapshot(t, snap, got, "%s equals a fresh clone", l.dir)
				for _, cf := range l.conflicts() {
					t.Logf("%s: conflict %s.%s: %v over %v", filepath.Base(l.dir), cf.Row, cf.Field, cf.Winner.Value, cf.Loser.Value)
					switch {
					case cf.Row == cloned && cf.Field == "phone", cf.Row == before && cf.Field == "phone":
						contested[cf.Row]++
					default:
						t.Errorf("%s: a conflict no one had: %s.%s", filepath.Base(l.dir), cf.Row, cf.Field)
					}
				}
			}
			require.Positive(t, contested[cloned], "the two copies' phones of the cloned household competed")
			require.Positive(t, contested[before], "the two copies' phones of the household recorded first competed")
		})
	}
}
