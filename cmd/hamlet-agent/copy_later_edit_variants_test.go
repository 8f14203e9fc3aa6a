package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestCopiedFolderLaterEditWinsVariants (helper 221): as
// TestCopiedFolderLaterEditWins, in the orders a volunteer meets: the copy
// syncs first (the original is then the one behind), the original had an
// edit not sent yet when the folder was copied, the copy's own edit is
// the later one, and a copy of the copy. Whatever the order of the syncs
// and the copy's clock, the edit made last wins on every replica, and the
// others are listed lost in the conflicts of the laptop that made them
// (helper 222: the original, found behind, listed nothing when the
// copy's edit was the later one), or of some laptop where that laptop
// wrote over its own edit later.
func TestCopiedFolderLaterEditWinsVariants(t *testing.T) {
	t.Parallel()
	type edit struct{ who, value string }
	cases := []struct {
		name    string
		unsent  bool     // a edits the field, unsent, before the copy
		copyOfB bool     // c is copied from b (before b's first sync)
		edits   []edit   // in this order, 3 s apart
		syncs   []string // laptops, in this order
		shift   string   // b's (and c's) clock
	}{
		{name: "copy syncs first", edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy syncs first, copy a year ahead", shift: "+8760h", edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy syncs first, copy's time zone 7 h ahead", shift: "+7h", edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy syncs first, copy a year behind", shift: "-8760h", edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy's edit later, copy syncs first, a year ahead", shift: "+8760h", edits: []edit{{"a", "bản gốc (trước)"}, {"b", "bản sao (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy's edit later", edits: []edit{{"a", "bản gốc (trước)"}, {"b", "bản sao (sau)"}}, syncs: []string{"a", "b", "a", "b"}},
		{name: "copy's edit later, copy a year behind", shift: "-8760h", edits: []edit{{"a", "bản gốc (trước)"}, {"b", "bản sao (sau)"}}, syncs: []string{"a", "b", "a", "b"}},
		{name: "original's unsent edit", unsent: true, edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"a", "b", "a", "b"}},
		{name: "original's unsent edit, copy first", unsent: true, edits: []edit{{"b", "bản sao (trước)"}, {"a", "bản gốc (sau)"}}, syncs: []string{"b", "a", "b", "a"}},
		{name: "copy edits before and after", edits: []edit{{"b", "bản sao (1)"}, {"a", "bản gốc (2)"}, {"b", "bản sao (3)"}}, syncs: []string{"a", "b", "a", "b"}},
		{name: "copy of a copy", copyOfB: true, edits: []edit{{"b", "bản sao (1)"}, {"c", "bản sao của bản sao (2)"}, {"a", "bản gốc (3)"}}, syncs: []string{"a", "b", "c", "a", "b", "c"}},
		{name: "copy of a copy, c last", copyOfB: true, edits: []edit{{"a", "bản gốc (1)"}, {"b", "bản sao (2)"}, {"c", "bản sao của bản sao (3)"}}, syncs: []string{"c", "b", "a", "c", "b", "a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := servertest.Start(t)
			root := t.TempDir()
			a := newLaptop(t, filepath.Join(root, "a"))
			a.enroll(ts)
			h := a.mustAdd(ts.HamletsA[0], "Nguyễn Văn Hai")
			a.must("sync")
			if c.unsent {
				a.must("household", "edit", h, "--set", "address=bản gốc (chưa gửi)")
			}
			ls := map[string]*laptop{"a": a}
			ls["b"] = a.copyTo(filepath.Join(root, "b"))
			if c.copyOfB {
				ls["c"] = ls["b"].copyTo(filepath.Join(root, "c"))
			}
			if c.shift != "" {
				for _, k := range []string{"b", "c"} {
					if l := ls[k]; l != nil {
						l.env = []string{"HAMLET_CLOCK_SHIFT=" + c.shift, "HAMLET_TEST=1"}
					}
				}
			}
			for i, e := range c.edits {
				if i > 0 {
					time.Sleep(3 * time.Second) // more than the clock bound ε = 2 s
				}
				ls[e.who].must("household", "edit", h, "--set", "address="+e.value)
			}
			for _, k := range c.syncs {
				r := ls[k].run("sync")
				t.Logf("sync of %s: exit %d\n%s%s", k, r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code)
			}
			want := c.edits[len(c.edits)-1].value
			fresh := freshClone(t, ts, filepath.Join(root, "fresh"))
			ls["fresh"] = fresh
			losers := map[string]map[any]bool{} // per laptop
			for k, l := range ls {
				cs := l.conflicts()
				t.Logf("%s: conflicts %+v", k, cs)
				losers[k] = map[any]bool{}
				for _, x := range cs {
					if x.Row == h && x.Field == "address" {
						losers[k][x.Loser.Value] = true
					}
				}
				require.Equal(t, want, l.household(h)["address"], "%s: the edit made last wins", k)
			}
			for i, e := range c.edits[:len(c.edits)-1] {
				// Her laptop lists it, unless she wrote over it herself
				// later (then, as between two laptops, her own later edit
				// is what met the other's): some laptop does.
				own := true
				for _, later := range c.edits[i+1:] {
					own = own && later.who != e.who
				}
				if own {
					require.True(t, losers[e.who][e.value], "the earlier edit %q is listed lost on %s, the laptop that made it: %v", e.value, e.who, losers)
					continue
				}
				some := false
				for _, l := range losers {
					some = some || l[e.value]
				}
				require.True(t, some, "the earlier edit %q is listed lost on some laptop: %v", e.value, losers)
			}
		})
	}
}
