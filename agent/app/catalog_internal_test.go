package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// englishMayQuote are the Vietnamese words the English texts quote on
// purpose (what to type, what the search finds).
var englishMayQuote = []string{"“Nguyễn”"}

// Every Vietnamese string has its English one, with the same blanks; the
// English holds no Vietnamese; the Vietnamese follows the glossary.
func TestCatalogComplete(t *testing.T) {
	t.Parallel()
	verbs := regexp.MustCompile(`%[a-z]`)
	for key, txt := range catalog() {
		require.NotEmpty(t, strings.TrimSpace(txt.VI), "%s has no Vietnamese", key)
		require.NotEmpty(t, strings.TrimSpace(txt.EN), "%s has no English", key)
		en := txt.EN
		for _, q := range englishMayQuote {
			en = strings.ReplaceAll(en, q, "")
		}
		require.False(t, i18n.HasVietnamese(en), "%s: the English holds Vietnamese: %q", key, txt.EN)
		require.Empty(t, i18n.Find(txt.VI), "%s: %q uses a wording the glossary replaced", key, txt.VI)
		require.Equal(t, verbs.FindAllString(txt.VI, -1), verbs.FindAllString(txt.EN, -1), "%s: the blanks differ between the languages", key)
	}
}

// Every key the templates and the code ask for is in the catalog, and
// every entry is used.
func TestCatalogKeysUsed(t *testing.T) {
	t.Parallel()
	tmplKey := regexp.MustCompile(`\b(?:t|tf)\s+"([a-z0-9_]+)"`)
	codeKey := regexp.MustCompile(`\btrf?\([a-zA-Z.]+,\s*"([a-z0-9_]+)"\s*[,)]`)
	used := map[string]bool{}
	require.NoError(t, fs.WalkDir(webFS, "web/templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(webFS, p)
		require.NoError(t, err)
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			_, ok := catalog()[m[1]]
			require.True(t, ok, "%s asks for %q", p, m[1])
			used[m[1]] = true
		}
		return nil
	}))
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "catalog.go" {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range codeKey.FindAllStringSubmatch(string(b), -1) {
			_, ok := catalog()[m[1]]
			require.True(t, ok, "%s asks for %q", f, m[1])
			used[m[1]] = true
		}
		// Keys handed to tr through a variable, or named in a table.
		for key := range catalog() {
			if strings.Contains(string(b), `"`+key+`"`) {
				used[key] = true
			}
		}
	}
	// Keys built from a name: a page's title, a form's own field's label,
	// a field's hint, a sync phase.
	for _, name := range pageNames {
		_, ok := catalog()["title_"+name]
		require.True(t, ok, "no title for page %s", name)
		used["title_"+name] = true
	}
	for key := range catalog() {
		for _, prefix := range []string{"label_", "hint_", "progress_"} {
			if strings.HasPrefix(key, prefix) {
				used[key] = true
			}
		}
		require.True(t, used[key], "catalog entry %q is used nowhere", key)
	}
}
