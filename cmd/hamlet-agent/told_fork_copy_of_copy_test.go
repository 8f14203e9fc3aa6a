package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCopyOfACopyToldOnceEach (helper 221): a copy whose first sync forked
// and was cut (its fork not told yet) is itself copied before it syncs
// again; both then edit and sync. Each laptop tells, once, that its folder
// is a copy, in the volunteer's language, and not again after.
func TestCopyOfACopyToldOnceEach(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	for _, c := range []struct{ lang, copied string }{
		{"", "Thư mục dữ liệu này là bản sao"},
		{"en", "This data folder is a copy"},
	} {
		t.Run("lang="+c.lang, func(t *testing.T) {
			ts, b, _ := cutCopy(t)
			b.lang = c.lang
			cc := b.copyTo(filepath.Join(filepath.Dir(b.dir), "c"))
			b.mustAdd(ts.HamletsA[0], "Bản chép (b)")
			cc.mustAdd(ts.HamletsA[0], "Bản chép của bản chép (c)")
			told := map[string]string{}
			for _, l := range []*laptop{b, cc, b, cc} {
				r := l.must("sync")
				t.Logf("sync of %s:\n%s%s", filepath.Base(l.dir), r.stdout, r.stderr)
				told[l.dir] += r.stdout + r.stderr
			}
			for dir, out := range told {
				require.Equal(t, 1, strings.Count(out, c.copied), "%s: told once:\n%s", filepath.Base(dir), out)
			}
			require.Len(t, serverHouseholds(t, ts), 5, "every household reached the server")
		})
	}
}
