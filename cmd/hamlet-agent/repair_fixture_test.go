package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

// relay is the address the laptops of a world are enrolled with: the
// enrollment keeps the server's address, and each thawed server listens on
// a port of its own. It forwards every connection, untouched, to the
// server of the case running (the cases of a test run one at a time).
type relay struct {
	addr   string
	target atomic.Value // host:port
}

func newRelay(t testing.TB) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	r := &relay{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.forward(c)
		}
	}()
	return r
}

func (r *relay) forward(c net.Conn) {
	defer c.Close()
	target, _ := r.target.Load().(string)
	s, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer s.Close()
	go func() { io.Copy(c, s); c.Close() }()
	_, _ = io.Copy(s, c)
}

// URL is the address to enroll with.
func (r *relay) URL() string { return "http://" + r.addr }

// to sends the connections from now on to ts.
func (r *relay) to(ts *servertest.TS) { r.target.Store(strings.TrimPrefix(ts.URL, "http://")) }

// world is a frozen history: a server's data folder no server runs on, and
// laptops' folders no command has open.
type world struct {
	rel     *relay
	server  string
	laptops []*laptop
}

// freeze stops ts and keeps its folder and the laptops'.
func freeze(rel *relay, ts *servertest.TS, ls ...*laptop) *world {
	ts.Close()
	return &world{rel: rel, server: ts.DataDir, laptops: ls}
}

// thaw starts a server on a copy of the world's server folder, behind the
// relay, and copies every laptop's folder into root (by its folder's
// name); the laptops are t's.
func (w *world) thaw(t *testing.T, root string) (*servertest.TS, []*laptop) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(w.server)), "copy the server's folder")
	ts := servertest.Start(t, servertest.WithDataDir(dir))
	w.rel.to(ts)
	var ls []*laptop
	for _, l := range w.laptops {
		own := &laptop{t: t, bin: l.bin, dir: l.dir, lang: l.lang, env: l.env}
		c := own.copyTo(filepath.Join(root, filepath.Base(l.dir)))
		c.env = l.env
		ls = append(ls, c)
	}
	return ts, ls
}
