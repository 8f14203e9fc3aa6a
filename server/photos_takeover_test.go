package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// appendGate holds the first AppendUpload until released: the cut
// request's handler is storing a chunk when the client comes back.
type appendGate struct {
	server.Store
	entered, release chan struct{}
	once             sync.Once
}

// AppendUpload holds the first call only. The channels are never changed:
// a gate that set entered to nil once it had closed it left a test that
// came to wait after that waiting on a nil channel for good (a hang seen
// under load).
func (s *appendGate) AppendUpload(ctx context.Context, key string, at int64, data []byte, now time.Time) (int64, error) {
	first := false
	s.once.Do(func() { first = true })
	if first {
		close(s.entered)
		<-s.release
	}
	return s.Store.AppendUpload(ctx, key, at, data, now)
}

// openPut starts a PUT of data on a raw connection and sends its first
// chunk only: the rest is never sent (a link that died without a word, or
// one still sending).
func openPut(t *testing.T, ts *servertest.TS, tok, digest string, data []byte, chunk int) net.Conn {
	t.Helper()
	body := chunks(data, 0, chunk)
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT /v1/photos/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nUpload-Length: %d\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n",
		digest, tok, len(data), len(body))
	_, err = conn.Write(body[:36+chunk])
	require.NoError(t, err)
	return conn
}

// TestUploadTakeOverWhileStoringAChunk: the client back after a cut asks
// where to resume while the cut request's handler is storing a chunk. The
// takeover's read deadline is then replaced by the loop's own for the next
// chunk: the cut request lives on (a minute on a dead link) and the state
// query waits its full 5 s.
func TestUploadTakeOverWhileStoringAChunk(t *testing.T) {
	dir := t.TempDir()
	lite, err := servertest.OpenStore(context.Background(), dir, "")
	require.NoError(t, err)
	gate := &appendGate{Store: lite, entered: make(chan struct{}), release: make(chan struct{})}
	ts := servertest.Start(t, servertest.WithDataDir(dir), servertest.WithStore(gate))
	a := newPhotoDevice(t, ts, ts.TeamA)
	data := testJPEG(41)
	dg := photo.Digest(data)
	a.report(t, ts.HamletsA[0], dg)

	openPut(t, ts, a.Token, dg, data, 4<<10)
	<-gate.entered // the first chunk is being stored
	go func() { time.Sleep(300 * time.Millisecond); close(gate.release) }()
	start := time.Now()
	code, _ := get(t, ts, a.Token, "/v1/photos/"+dg+"/upload")
	took := time.Since(start)
	require.Equal(t, http.StatusOK, code)
	require.Less(t, took, 2*time.Second, "the state query waited for a cut request it did not end")
}

// TestUploadStateOfAnotherDeviceLeavesALiveUpload: device B asking where
// the photo stands (the first thing its own upload does) ends device A's
// healthy upload of the same photo; A's resume then ends B's, and so on.
func TestUploadStateOfAnotherDeviceLeavesALiveUpload(t *testing.T) {
	ts := servertest.Start(t)
	a := newPhotoDevice(t, ts, ts.TeamA)
	b := newPhotoDevice(t, ts, ts.TeamA)
	data := testJPEG(42)
	dg := photo.Digest(data)
	a.report(t, ts.HamletsA[0], dg)

	conn := openPut(t, ts, a.Token, dg, data, 4<<10)
	time.Sleep(300 * time.Millisecond) // A's first chunk stored; A keeps sending
	code, _ := get(t, ts, b.Token, "/v1/photos/"+dg+"/upload")
	require.Equal(t, http.StatusOK, code)
	// A's request must still be under way: no answer yet.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		defer resp.Body.Close()
		var ans [512]byte
		n, _ := resp.Body.Read(ans[:])
		t.Fatalf("device B's state query ended device A's live upload: HTTP %d %s", resp.StatusCode, ans[:n])
	}
}
