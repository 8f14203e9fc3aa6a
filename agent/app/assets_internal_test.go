package app

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Nothing comes from outside: no URL of another site in any embedded
// file, no inline script, no inline style or event handler (the CSP
// would block them anyway), every script and style the app's own.
func TestNoOutsideSources(t *testing.T) {
	t.Parallel()
	outside := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|\son[a-z]+\s*=|\sstyle\s*=|javascript:|<style`)
	n := 0
	require.NoError(t, fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(webFS, p)
		require.NoError(t, err)
		s := string(b)
		if strings.HasSuffix(p, ".svg") {
			s = strings.ReplaceAll(s, `xmlns="http://www.w3.org/2000/svg"`, "") // a namespace, not a fetch
		}
		require.Empty(t, outside.FindAllString(s, -1), "%s refers to another site", p)
		require.NotContains(t, s, "@import", p)
		if strings.HasSuffix(p, ".html") {
			require.NotRegexp(t, inline, s, "%s has inline script or style", p)
			for _, m := range regexp.MustCompile(`<(script|link)[^>]*>`).FindAllString(s, -1) {
				require.Regexp(t, `(src|href)="\{\{static "[a-z.]+"\}\}"`, m, "%s loads something that is not the app's own", p)
			}
		}
		n++
		return nil
	}))
	require.GreaterOrEqual(t, n, 12, "the embedded files were walked")
	// The catalog's words land in pages too.
	for k, txt := range catalog() {
		for _, s := range []string{txt.VI, txt.EN} {
			require.NotRegexp(t, inline, s, k)
		}
	}
}
