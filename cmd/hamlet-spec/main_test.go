package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// On a copy of the spec with a stale schema section and no vectors: -check
// names what is out of date and the command to run, writes nothing; a run
// writes them; -check then passes, and the result equals the committed files.
func TestCheckThenWrite(t *testing.T) {
	root := t.TempDir()
	doc, err := os.ReadFile("../../docs/PROTOCOL.md")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "docs"), 0o755))
	stale := bytes.Replace(doc, []byte("| `head_name` | `string` | yes |"), []byte("| `head_name` | `string` |  |"), 1)
	require.NotEqual(t, doc, stale)
	require.NoError(t, os.WriteFile(filepath.Join(root, "docs/PROTOCOL.md"), stale, 0o644))

	var out, errb bytes.Buffer
	require.Equal(t, 1, run([]string{"-root", root, "-check"}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "out of date: docs/PROTOCOL.md")
	require.Contains(t, out.String(), "out of date: docs/protocol-vectors/hello.json")
	require.Contains(t, out.String(), "run: go run ./cmd/hamlet-spec")
	_, err = os.Stat(filepath.Join(root, "docs/protocol-vectors"))
	require.True(t, os.IsNotExist(err), "-check wrote files")

	out.Reset()
	require.Equal(t, 0, run([]string{"-root", root}, &out, &errb), errb.String())
	require.Contains(t, out.String(), "wrote docs/PROTOCOL.md")
	out.Reset()
	require.Equal(t, 0, run([]string{"-root", root, "-check"}, &out, &errb), out.String())

	got, err := os.ReadFile(filepath.Join(root, "docs/PROTOCOL.md"))
	require.NoError(t, err)
	require.Equal(t, string(doc), string(got))
	want, err := filepath.Glob("../../docs/protocol-vectors/*.json")
	require.NoError(t, err)
	for _, p := range want {
		w, err := os.ReadFile(p)
		require.NoError(t, err)
		g, err := os.ReadFile(filepath.Join(root, "docs/protocol-vectors", filepath.Base(p)))
		require.NoError(t, err)
		require.Equal(t, string(w), string(g), p)
	}
}
