package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The repair tests damage a laptop's folder in several ways after the same
// history (an enrollment, tens of households, syncs, a copied folder): each
// case built it again through the binary, a process per household, for most
// of the test's CPU. A world is that history built once, by the same
// binaries against a real server, then frozen: the server stopped, its data
// folder and the laptops' folders kept. Each case thaws its own copy: a
// server started on a copy of the server's folder (a restart the server
// must take in any case) and copies of the laptops' folders, every file, so
// that what a case does reaches no other case.

// world is a frozen history: a server's data folder no server runs on, and
// laptops' folders no command has open.
type world struct {
	// rel is the address the laptops are enrolled with: each thawed
	// server listens on a port of its own, and rel forwards to the one
	// of the case running (the cases of a test run one at a time).
	rel     *switchProxy
	server  string
	laptops []*laptop
}

// freeze stops ts and keeps its folder and the laptops'.
func freeze(rel *switchProxy, ts *servertest.TS, ls ...*laptop) *world {
	ts.Close()
	return &world{rel: rel, server: ts.DataDir, laptops: ls}
}

// startOnCopy starts a server of t's on a copy of a stopped server's data
// folder: what t's server writes reaches no other test's.
func startOnCopy(t *testing.T, dataDir string) *servertest.TS {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(dataDir)), "copy the server's folder")
	return servertest.Start(t, servertest.WithDataDir(dir))
}

// thaw starts a server on a copy of the world's server folder, behind the
// proxy, and copies every laptop's folder into root (by its folder's
// name); the laptops are t's.
func (w *world) thaw(t *testing.T, root string) (*servertest.TS, []*laptop) {
	t.Helper()
	ts := startOnCopy(t, w.server)
	w.rel.point(t, ts.URL)
	var ls []*laptop
	for _, l := range w.laptops {
		own := &laptop{t: t, bin: l.bin, dir: l.dir, lang: l.lang, env: l.env}
		c := own.copyTo(filepath.Join(root, filepath.Base(l.dir)))
		c.env = l.env
		ls = append(ls, c)
	}
	return ts, ls
}
