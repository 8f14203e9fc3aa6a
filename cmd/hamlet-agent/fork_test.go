package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Issue 14, defect 1: a copied data folder (a second laptop set up by
// copying, a restored backup) shares its replica id with the original. A
// household added in each copy and synced must reach the server and the
// other copy, whichever syncs first and also when both sync at once; a
// copy of a copy too.
func TestCopiedFolderLosesNothing(t *testing.T) {
	t.Parallel()
	for _, sc := range serverStores() {
		t.Run(sc.name, func(t *testing.T) {
			ts := sc.start(t)
			h := ts.HamletsA[0]
			root := t.TempDir()
			laptops := map[string]*laptop{}
			at := func(name string) *laptop {
				if laptops[name] == nil {
					laptops[name] = newLaptop(t, filepath.Join(root, name))
				}
				return laptops[name]
			}
			at("a").must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			want := []string{"Trước khi chép"}
			at("a").mustAdd(h, want[0])
			at("a").must("sync")

			rounds := []struct {
				from, to   string
				concurrent bool
				toWrites   bool
			}{
				{"a", "b", false, true},  // one after the other
				{"a", "c", true, true},   // both at once
				{"b", "d", true, true},   // a copy of a copy that was already told it is one
				{"c", "e", false, false}, // a restored backup with nothing new of its own
			}
			var forked []int // per round, how many copies took a new replica id
			var visits []string
			member := at("a").status()["enrollment"].(map[string]any)["member_id"].(string)
			for i, rd := range rounds {
				at(rd.from).copyTo(at(rd.to).dir)
				names := []string{fmt.Sprintf("Vòng %d bản %s", i+1, rd.from), fmt.Sprintf("Vòng %d bản %s", i+1, rd.to)}
				at(rd.from).mustAdd(h, names[0])
				want = append(want, names[0])
				if rd.toWrites {
					id := at(rd.to).mustAdd(h, names[1])
					want = append(want, names[1])
					// A record that names its author: it must keep its author.
					at(rd.to).must("visit", "add", "--household", id, "--notes", names[1])
					visits = append(visits, names[1])
				}
				forks := 0
				if !rd.concurrent {
					for _, d := range []string{rd.from, rd.to} {
						r := at(d).must("sync", "--lang", "en")
						t.Logf("round %d, sync of %s: %s%s", i+1, d, r.stdout, r.stderr)
						if strings.Contains(r.stderr, "This data folder is a copy") {
							forks++
						}
					}
					forked = append(forked, forks)
					continue
				}
				var wg sync.WaitGroup
				res := make([]result, 2)
				for j, d := range []string{rd.from, rd.to} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						r, err := at(d).exec("sync", "--lang", "en")
						if err != nil {
							r = result{-1, "", err.Error()}
						}
						res[j] = r
					}()
				}
				wg.Wait()
				for j, r := range res {
					d := []string{rd.from, rd.to}[j]
					t.Logf("round %d, sync of %s: %s%s", i+1, d, r.stdout, r.stderr)
					if r.code != 0 {
						// The copies hold one device's token: the second to
						// connect may replace the first's session (one
						// session per device). That copy is told so, and
						// its next sync finds the fork.
						require.Contains(t, r.stderr, "A newer sync session of this laptop started", "round %d, sync of %s", i+1, d)
						r = at(d).must("sync", "--lang", "en")
						t.Logf("round %d, sync of %s again: %s%s", i+1, d, r.stdout, r.stderr)
					}
					if strings.Contains(r.stderr, "This data folder is a copy") {
						forks++
					}
				}
				forked = append(forked, forks)
			}
			// Everyone syncs once more to receive what the others sent later.
			folders := []string{"a", "b", "c", "d", "e"}
			for _, f := range folders {
				at(f).must("sync")
			}
			at("t").must("enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
			at("t").must("sync")
			sort.Strings(want)
			for _, f := range append(folders, "t") {
				got := at(f).heads()
				var missing []string
				for _, w := range want {
					if !got[w] {
						missing = append(missing, w)
					}
				}
				require.Empty(t, missing, "folder %s lacks households (a teammate's folder t shows what reached the server)", f)
				if f != "t" {
					st := at(f).status()
					require.EqualValues(t, 0, st["pending"], "folder %s: nothing left to send", f)
					require.EqualValues(t, 0, st["rejected"], "folder %s: nothing refused", f)
				}
			}
			require.Equal(t, []int{1, 1, 1, 1}, forked, "in each round one of the two copies took a new replica id")
			r := at("t").must("visit", "list", "--json")
			var vs []struct{ Fields map[string]any }
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &vs), r.stdout)
			authors := map[string]any{}
			for _, v := range vs {
				authors[fmt.Sprint(v.Fields["notes"])] = v.Fields["volunteer_id"]
			}
			for _, v := range visits {
				require.Equal(t, member, authors[v], "the visit %q keeps its author", v)
			}
			ids := map[string]string{}
			for _, f := range folders {
				id := at(f).status()["replica_id"].(string)
				require.NotContains(t, ids, id, "folders %s and %s still share a replica id", ids[id], f)
				ids[id] = f
			}
		})
	}
}
