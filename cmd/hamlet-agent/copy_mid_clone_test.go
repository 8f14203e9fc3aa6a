package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopiedFolderMidClone: a volunteer's first sync (10,400 rows: a bulk
// clone, the row tables' indexes dropped) is killed mid-clone, and her
// data folder is copied to a second laptop then. Both copies work offline
// (each adds households and visits, edits a household the clone brought;
// what was written between the cut and the copy both hold), then sync, in
// either order or at once. Each must finish its clone, the
// server must hold every record either copy made, once, and each copy must
// end equal to a fresh clone of the server, with no conflict between a
// write and its own copy; what the volunteer reads is
// Vietnamese and says what to do.
func TestCopiedFolderMidClone(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"original-first", "copy-first", "together"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			ts, _ := seededCommune(t)
			home := ts.HamletsA[0]
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			before := a.mustAdd(home, "Hộ ghi trước lần đồng bộ đầu")
			killSyncMidClone(t, a, 1)
			require.NotEmpty(t, replicaMeta(t, a.dir, "clone_head"))
			require.NotEmpty(t, replicaMeta(t, a.dir, "clone_indexes"))
			var cloned, corrected string
			for _, h := range a.list() {
				switch {
				case h.ID == before:
				case cloned == "":
					cloned = h.ID
				case corrected == "":
					corrected = h.ID
				}
			}
			require.NotEmpty(t, corrected)
			// Written after the cut and before the copy: both copies hold
			// these writes, under the old id, and push them.
			shared := a.mustAdd(home, "Hộ ghi sau lần cắt, trước khi chép")
			a.must("household", "edit", corrected, "--set", "phone=0966666666")
			b := a.copyTo(filepath.Join(root, "b"))
			want := map[string]bool{}
			for _, l := range []struct {
				l    *laptop
				name string
			}{{a, "a"}, {b, "b"}} {
				for i := 0; i < 3; i++ {
					head := fmt.Sprintf("Hộ mới bản %s số %d", l.name, i)
					id := l.l.mustAdd(home, head)
					want[head] = true
					l.l.must("visit", "add", "--household", id, "--notes", "thăm "+head)
				}
			}
			a.must("household", "edit", cloned, "--set", "phone=0911111111")
			b.must("household", "edit", cloned, "--set", "address=Số 1 đường mới")
			// The household recorded before the first sync: the clone
			// replaces it when its chunk comes, or keeps what was written
			// since.
			a.must("household", "edit", before, "--set", "phone=0933333333")
			b.must("household", "edit", before, "--set", "members_count=4")

			var out []result
			switch order {
			case "original-first":
				out = append(out, a.run("sync"), b.run("sync"))
			case "copy-first":
				out = append(out, b.run("sync"), a.run("sync"))
			case "together":
				res := make([]result, 2)
				var wg sync.WaitGroup
				for i, l := range []*laptop{a, b} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := l.exec("sync")
						if err != nil {
							r = result{-1, "", err.Error()}
						}
						res[i] = r
					}()
				}
				wg.Wait()
				out = res
			}
			for i, r := range out {
				t.Logf("first sync %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
				if r.code != 0 {
					require.NotContains(t, r.stderr, "Error:", "Vietnamese first")
				}
			}
			for _, l := range []*laptop{a, b, a, b} {
				r := l.run("sync")
				t.Logf("sync of %s: exit %d\n%s%s", filepath.Base(l.dir), r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code, "%s%s", r.stdout, r.stderr)
				// A copy whose download ended, in the first sync or this one,
				// does not download the team's data once more.
				if !strings.Contains(r.stdout, "Đã tải xong dữ liệu của tổ") {
					require.NotContains(t, r.stdout, fmt.Sprintf("Đã tải về máy %d.", cutRows/1000), "the team's data downloaded a second time")
				}
			}
			fresh := newLaptop(t, filepath.Join(root, "fresh"))
			fresh.enroll(ts)
			fresh.must("sync")
			heads := map[string]int{}
			for _, h := range fresh.list() {
				heads[h.Head]++
			}
			for h := range want {
				require.Equal(t, 1, heads[h], "household %q on the server once", h)
			}
			require.Equal(t, 1, heads["Hộ ghi trước lần đồng bộ đầu"])
			require.Equal(t, 1, heads["Hộ ghi sau lần cắt, trước khi chép"])
			require.Equal(t, "0966666666", fresh.household(corrected)["phone"])
			require.NotEmpty(t, fresh.household(shared))
			c := fresh.household(cloned)
			require.Equal(t, "0911111111", c["phone"])
			require.Equal(t, "Số 1 đường mới", c["address"])
			bf := fresh.household(before)
			require.Equal(t, "0933333333", bf["phone"])
			require.EqualValues(t, 4, bf["members_count"])
			var vs []struct{ Fields map[string]any }
			r := fresh.must("visit", "list", "--json")
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &vs))
			notes := map[string]int{}
			for _, v := range vs {
				if n, _ := v.Fields["notes"].(string); strings.HasPrefix(n, "thăm Hộ mới") {
					notes[n]++
				}
			}
			require.Len(t, notes, 6)
			for n, k := range notes {
				require.Equal(t, 1, k, n)
			}
			snap := snapshotOf(t, fresh.dir)
			for _, l := range []*laptop{a, b} {
				require.Empty(t, replicaMeta(t, l.dir, "clone_head"), "%s finished its clone", l.dir)
				require.Empty(t, replicaMeta(t, l.dir, "clone_indexes"), "%s rebuilt its indexes", l.dir)
				require.Empty(t, l.rejected())
				require.Zero(t, l.pending())
				// The writes both copies held are one write each: no
				// conflict of a value with itself (each copy stamped them
				// its own way, which the server once took for a fork).
				require.Empty(t, l.conflicts(), "%s: a conflict between a write and its own copy", l.dir)
				got := snapshotOf(t, l.dir)
				require.Equal(t, len(snap), len(got), "%s holds what the server holds", l.dir)
				requireSameSnapshot(t, snap, got, "%s equals a fresh clone", l.dir)
			}
			require.NotEqual(t, a.status()["replica_id"], b.status()["replica_id"])
		})
	}
}
