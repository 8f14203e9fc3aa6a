package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// pullCutProxy forwards TCP to target. On a WebSocket connection it reads
// the agent's messages, and while cuts is above 0 it cuts the connection
// (both ways, taking one off cuts) when the agent sends a Pull: what came
// before it (a clone's or a back-fill's last chunk, stored) stays, the
// pull after it is not answered, as on a link that drops just then. The
// other connections (enroll, roster) pass untouched.
func pullCutProxy(t *testing.T, target string, cuts *atomic.Int32) string {
	t.Helper()
	return cutProxy(t, target, func(m syncproto.Message) bool {
		_, pull := m.(*syncproto.Pull)
		return pull && cuts.Add(-1) >= 0
	})
}

// cutProxy forwards TCP to target, and cuts a WebSocket connection (both
// ways) when the agent sends a message cut says to cut at, before the
// server reads it. The other connections pass untouched.
func cutProxy(t *testing.T, target string, cut func(syncproto.Message) bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { io.Copy(c, s); c.Close() }()
				forwardCutting(s, c, cut)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// forwardCutting copies the agent's side c to the server s, frame by
// frame once the request is a WebSocket upgrade, and returns without the
// message it cuts at.
func forwardCutting(s io.Writer, c io.Reader, cut func(syncproto.Message) bool) {
	br := bufio.NewReader(c)
	var head bytes.Buffer
	for !bytes.HasSuffix(head.Bytes(), []byte("\r\n\r\n")) {
		b, err := br.ReadByte()
		if err != nil {
			return
		}
		head.WriteByte(b)
	}
	if _, err := s.Write(head.Bytes()); err != nil {
		return
	}
	if !strings.Contains(strings.ToLower(head.String()), "upgrade: websocket") {
		io.Copy(s, br)
		return
	}
	for {
		h := make([]byte, 2)
		if _, err := io.ReadFull(br, h); err != nil {
			return
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			x := make([]byte, 2)
			if _, err := io.ReadFull(br, x); err != nil {
				return
			}
			h, n = append(h, x...), uint64(binary.BigEndian.Uint16(x))
		case 127:
			x := make([]byte, 8)
			if _, err := io.ReadFull(br, x); err != nil {
				return
			}
			h, n = append(h, x...), binary.BigEndian.Uint64(x)
		}
		var mask []byte
		if h[1]&0x80 != 0 { // the agent's frames are masked
			mask = make([]byte, 4)
			if _, err := io.ReadFull(br, mask); err != nil {
				return
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		if h[0]&0x40 == 0 && h[0]&0x0f == 2 && mask != nil { // a binary frame, not compressed
			plain := make([]byte, len(body))
			for i := range body {
				plain[i] = body[i] ^ mask[i%4]
			}
			if m, err := syncproto.Decode(plain, syncproto.Limits{}); err == nil {
				if cut(m) {
					return
				}
			}
		}
		if _, err := s.Write(append(append(h, mask...), body...)); err != nil {
			return
		}
	}
}

// TestCloneEndedInACutSyncToldByTheNext: a first clone over a link that
// drops stores its last chunk, and the pull after it is cut in every
// attempt of that sync (exit 1, the drop told). The next sync, run by the
// volunteer as the message says, had nothing left to fetch and said only
// "nhận 0": never that the download had finished, nor what the laptop
// holds. 9f2415e tells it with the next session only within one
// sync --watch; a sync run again, or a watch started again, is another
// process.
func TestCloneEndedInACutSyncToldByTheNext(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	seedCommune(t, ts, 30)
	for _, lang := range []string{"", "en"} {
		t.Run("lang="+lang, func(t *testing.T) {
			var cuts atomic.Int32
			url := pullCutProxy(t, ts.URL[len("http://"):], &cuts)
			l := newLaptop(t, t.TempDir())
			l.lang = lang
			l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
			cuts.Store(3) // every attempt of the first sync
			first := l.run("sync")
			t.Logf("first sync: exit %d\n%s%s", first.code, first.stdout, first.stderr)
			require.NotEqual(t, 0, first.code, "the first sync was cut")
			require.Len(t, l.households(), 30, "the clone was stored")

			second := l.must("sync")
			t.Logf("second sync:\n%s%s", second.stdout, second.stderr)
			want, held, none := "Đã tải xong dữ liệu của tổ về máy", "30 hộ", "tải 0 bản ghi"
			if lang == "en" {
				want, held, none = "Finished downloading the team's data", "30 households", "fetched the last 0"
			}
			require.Contains(t, second.stdout, want, "the sync after the cut says the download finished")
			require.Contains(t, second.stdout, held, "and what the laptop holds")
			require.NotContains(t, second.stdout, none, "a sync that fetched nothing does not say it fetched the last 0 records")
			require.NotContains(t, l.must("sync").stdout, want, "told once")
		})
	}
}

// TestCloneEndedInACutWatchSessionTold: in sync --watch, the session that
// stores the clone's last chunk is cut before its pull; the next session
// tells the clone (9f2415e). It said "lần đồng bộ này tải 0 bản ghi cuối
// cùng" (this sync fetched the last 0 records): it fetched none.
func TestCloneEndedInACutWatchSessionTold(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	seedCommune(t, ts, 30)
	var cuts atomic.Int32
	url := pullCutProxy(t, ts.URL[len("http://"):], &cuts)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	cuts.Store(1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := l.command(ctx, "sync", "--watch")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // Ctrl+C
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Start())
	done := func() bool { return strings.Contains(out.String(), "30 hộ") }
	for !done() && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	_ = cmd.Wait()
	t.Logf("stdout:\n%s\nstderr:\n%s", &out, &errOut)
	require.True(t, done(), "the clone was told")
	require.Contains(t, out.String(), "Đã tải xong dữ liệu của tổ về máy")
	require.NotContains(t, out.String(), "tải 0 bản ghi", "a session that fetched nothing does not say it fetched the last 0 records")
}

// TestBackfillEndedInACutSyncToldByTheNext: 1563b2d and 3dbb55f through a
// real cut: the back-fill of a hamlet gained ends, the pull after it is
// cut in every attempt of that sync, and the next sync names the hamlet
// and what it brought, once.
func TestBackfillEndedInACutSyncToldByTheNext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	otherTeamHolds(t, ts, []string{gained}, 30)
	var cuts atomic.Int32
	url := pullCutProxy(t, ts.URL[len("http://"):], &cuts)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)
	seedCommune(t, ts, 1) // a teammate's household since: the sync pulls after the back-fill

	cuts.Store(3)
	first := l.run("sync")
	t.Logf("first sync: exit %d\n%s%s", first.code, first.stdout, first.stderr)
	require.NotEqual(t, 0, first.code)
	require.Len(t, l.households(), 30, "the back-fill was stored, the pull after it cut")
	second := l.must("sync")
	t.Logf("second sync:\n%s", second.stdout)
	require.Contains(t, second.stdout, "Tổ được giao thêm ấp/khóm "+gained+": đã tải 300 thay đổi")
	require.Len(t, l.households(), 31)
	require.NotContains(t, l.must("sync").stdout, gained, "told once")
}

// TestBackfillByLogCutNamesItsHamlets: a laptop that met a server of an
// earlier release (no snapshots: snapshot_unsupported, as agent/clone.go
// notes it) back-fills a gained hamlet from its log. The first attempt's
// back-fill pull is cut; the sync goes on and ends the back-fill in its
// next attempt, which said "Tổ được giao thêm ấp/khóm : đã tải 300 thay
// đổi": no hamlet named (the log's back-fill never set Filled, which
// 1563b2d and 3dbb55f tell by).
func TestBackfillByLogCutNamesItsHamlets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	gained := ts.OtherHamletA
	otherTeamHolds(t, ts, []string{gained}, 30)
	var cuts atomic.Int32
	url := pullCutProxy(t, ts.URL[len("http://"):], &cuts)
	l := newLaptop(t, t.TempDir())
	l.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	l.must("sync")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(l.dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	require.NoError(t, err)
	_, err = db.Exec(`INSERT OR REPLACE INTO agent_meta (key, value) VALUES ('snapshot_unsupported', '1')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, gained)
	require.NoError(t, err)
	require.True(t, changed)

	cuts.Store(1)
	r := l.must("sync")
	t.Logf("sync:\n%s%s", r.stdout, r.stderr)
	require.Len(t, l.households(), 30, "the back-fill was stored")
	require.Contains(t, r.stdout, "Tổ được giao thêm ấp/khóm "+gained+": đã tải 300 thay đổi")
	require.NotContains(t, l.must("sync").stdout, "Tổ được giao thêm", "told once")
}
