package dashboard

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/api"
)

// Every message key the templates use has both languages, and so has
// every table the export buttons name ("Tải về …").
func TestDashboardMessagesComplete(t *testing.T) {
	for _, name := range api.ExportTables {
		require.True(t, messageKnown(name), "export %q has no name", name)
	}
	keyRE := regexp.MustCompile(`\.T "([a-z_]+)"`)
	entries, err := os.ReadDir("web/templates")
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile("web/templates/" + e.Name())
		require.NoError(t, err)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			require.True(t, messageKnown(m[1]), "%s: message %q has no translation", e.Name(), m[1])
		}
	}
}
