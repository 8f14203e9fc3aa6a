package main

import (
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExampleProvinceOnlyForDemo: the example province's generator
// (examples/camau) is linked into hamlet-server for the demo command only:
// no other file of the command imports it, and no package the server links
// reaches it on its own (a test helper imported by non-test code, say).
func TestExampleProvinceOnlyForDemo(t *testing.T) {
	const mod = "github.com/hamlet-vn/hamlet/"
	examples := func(p string) bool { return strings.HasPrefix(p, mod+"examples") }
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			require.NoError(t, err)
			if examples(p) {
				require.Equal(t, "demo.go", name, "%s imports %s: only demo needs the example province", name, p)
			}
		}
	}

	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found: this command's imports checked, its packages' not")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"cmd/hamlet-server").Output()
	require.NoError(t, err)
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == mod+"cmd/hamlet-server" || examples(f[0]) {
			continue
		}
		for _, p := range f[1:] {
			if examples(p) {
				bad = append(bad, f[0]+" imports "+p)
			}
		}
	}
	require.Empty(t, bad, "packages of hamlet-server that link the example province")
}
