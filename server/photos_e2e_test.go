package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// photoDevice is an enrolled device with a session to push reports.
type photoDevice struct {
	servertest.Device
	c *servertest.Client
	w *servertest.Writer
}

func newPhotoDevice(t *testing.T, ts *servertest.TS, team string) *photoDevice {
	d := ts.NewDevice(t, team)
	return &photoDevice{Device: d, c: ts.Connect(t, d), w: servertest.NewWriter(d.Replica, nil)}
}

// report files a report in hamlet naming the digests, and checks the
// server took it.
func (d *photoDevice) report(t *testing.T, hamlet string, digests ...string) uuid.UUID {
	t.Helper()
	row := uuid.New()
	cs := []syncproto.Change{
		d.w.Write("field_reports", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		d.w.Write("field_reports", row, "volunteer_id", syncproto.String(d.Enroll.MemberID), hamlet),
		d.w.Write("field_reports", row, "category", syncproto.String("ha_tang_do_thi"), hamlet),
		d.w.Write("field_reports", row, "description", syncproto.String("Cột đèn gãy"), hamlet),
		d.w.Write("field_reports", row, "status", syncproto.String("submitted"), hamlet),
	}
	if len(digests) > 0 {
		cs = append(cs, d.w.Write("field_reports", row, schema.PhotoDigestsField, syncproto.String(schema.PhotoDigestsValue(digests).(string)), hamlet))
	}
	d.push(t, cs...)
	return row
}

func (d *photoDevice) push(t *testing.T, cs ...syncproto.Change) {
	t.Helper()
	d.w.Seq = max(d.w.Seq, 0)
	ack, err := d.c.Push(d.w.Seq, cs)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
}

// chunks frames data from offset at in chunks of size n.
func chunks(data []byte, at, n int) []byte { return servertest.PhotoFrames(data[at:], n) }

type answer struct {
	status   int
	code     string
	stored   int64
	complete bool
}

func put(t *testing.T, ts *servertest.TS, tok, digest string, size, at int, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, ts.URL+"/v1/photos/"+digest, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Upload-Length", fmt.Sprint(size))
	req.Header.Set("Upload-Offset", fmt.Sprint(at))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return readAnswer(t, resp)
}

func readAnswer(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	var a struct {
		Stored   int64 `json:"stored"`
		Complete bool  `json:"complete"`
		Error    *struct {
			Code string `json:"code"`
			Hint string `json:"hint"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	out := answer{status: resp.StatusCode, stored: a.Stored, complete: a.Complete}
	if a.Error != nil {
		out.code = a.Error.Code
		require.NotEmpty(t, a.Error.Hint, "every refusal says what to do")
	}
	return out
}

func get(t *testing.T, ts *servertest.TS, tok, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

func testJPEG(seed uint64) []byte { return phototest.JPEG(phototest.Image(400, 300, true, seed), 85) }

// bombJPEG is a real JPEG whose frame header claims w × h.
func bombJPEG(w, h int) []byte {
	b := testJPEG(9)
	for i := 2; i+9 < len(b); {
		if b[i] != 0xFF {
			break
		}
		m, n := b[i+1], int(binary.BigEndian.Uint16(b[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			binary.BigEndian.PutUint16(b[i+5:], uint16(h))
			binary.BigEndian.PutUint16(b[i+7:], uint16(w))
			return b
		}
		i += 2 + n
	}
	panic("no frame header")
}

// TestPhotoUploadBadInput: each bad upload gets a clear refusal, and
// nothing the server held is lost or replaced: a photo stored before
// every one of them is served byte for byte after.
func TestPhotoUploadBadInput(t *testing.T) {
	ts := servertest.Start(t)
	a := newPhotoDevice(t, ts, ts.TeamA)
	b := newPhotoDevice(t, ts, ts.TeamB)
	h := ts.HamletsA[0]

	good := testJPEG(1)
	gd := photo.Digest(good)
	a.report(t, h, gd)
	ok := put(t, ts, a.Token, gd, len(good), 0, chunks(good, 0, 8<<10))
	require.Equal(t, answer{status: 200, stored: int64(len(good)), complete: true}, ok)

	notJPEG := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte("not a photo "), 500)...)
	bomb := bombJPEG(30000, 30000)
	partial := testJPEG(2)
	badChunk := testJPEG(3)
	unref := testJPEG(4)
	a.report(t, h, photo.Digest(notJPEG), photo.Digest(bomb), photo.Digest(partial), photo.Digest(badChunk))
	// Another team's report: team B's device may neither send nor fetch it.
	a.report(t, ts.HamletsA[1], photo.Digest(testJPEG(5)))

	type tc struct {
		name   string
		run    func() answer
		status int
		code   syncproto.Code
		stored int64
	}
	cases := []tc{
		{"a file that claims to be a JPEG and is not", func() answer {
			return put(t, ts, a.Token, photo.Digest(notJPEG), len(notJPEG), 0, chunks(notJPEG, 0, 4<<10))
		}, 422, syncproto.CodeNotAnImage, 0},
		{"a 30,000 × 30,000 image", func() answer {
			return put(t, ts, a.Token, photo.Digest(bomb), len(bomb), 0, chunks(bomb, 0, 4<<10))
		}, 422, syncproto.CodeNotAnImage, 0},
		{"a chunk with a wrong digest", func() answer {
			body := chunks(badChunk, 0, 4<<10)
			body[2*(36+4<<10)+36+10] ^= 0xFF // a byte of the third chunk
			return put(t, ts, a.Token, photo.Digest(badChunk), len(badChunk), 0, body)
		}, 400, syncproto.CodeChunkDigest, 8 << 10},
		{"a digest no report names", func() answer {
			return put(t, ts, a.Token, photo.Digest(unref), len(unref), 0, chunks(unref, 0, 4<<10))
		}, 404, syncproto.CodePhotoUnreferenced, 0},
		{"a photo of a report outside the device's scope", func() answer {
			p := testJPEG(5)
			return put(t, ts, b.Token, photo.Digest(p), len(p), 0, chunks(p, 0, 4<<10))
		}, 403, syncproto.CodeOutOfScope, 0},
		{"chunks that do not continue the stored upload", func() answer {
			return put(t, ts, a.Token, photo.Digest(badChunk), len(badChunk), 100, chunks(badChunk, 100, 4<<10))
		}, 409, syncproto.CodeUploadOffset, 8 << 10},
		{"a truncated upload", func() answer {
			return truncatedPut(t, ts, a.Token, photo.Digest(partial), partial, 3*(36+4<<10)+500)
		}, 400, syncproto.CodeTruncated, 12 << 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.run()
			require.Equal(t, answer{status: c.status, code: string(c.code), stored: c.stored}, got)
		})
	}

	// What was refused is nowhere, what was kept is exactly the chunks
	// before the fault, and the good photo is as it was.
	for _, p := range [][]byte{notJPEG, bomb, unref} {
		_, err := ts.Store.Blob(context.Background(), photo.Digest(p))
		require.ErrorIs(t, err, server.ErrNotFound)
	}
	n, err := ts.Store.UploadLength(context.Background(), photo.Digest(partial))
	require.NoError(t, err)
	require.EqualValues(t, 12<<10, n, "the whole chunks before the cut")
	st, body := get(t, ts, a.Token, "/v1/photos/"+gd)
	require.Equal(t, 200, st)
	require.Equal(t, good, body)

	// The truncated upload resumes from what was kept, and completes.
	got := put(t, ts, a.Token, photo.Digest(partial), len(partial), 12<<10, chunks(partial, 12<<10, 4<<10))
	require.Equal(t, answer{status: 200, stored: int64(len(partial)), complete: true}, got)
	// A photo the server holds is not taken again: its bytes are not read.
	got = put(t, ts, a.Token, gd, len(good), 0, []byte("whatever"))
	require.Equal(t, answer{status: 200, stored: int64(len(good)), complete: true}, got)
	_, body = get(t, ts, a.Token, "/v1/photos/"+gd)
	require.Equal(t, good, body, "never replaced")

	// Downloads are authorised the same way.
	st, _ = get(t, ts, b.Token, "/v1/photos/"+gd)
	require.Equal(t, 403, st, "team B does not see team A's photos")
	st, _ = get(t, ts, a.Token, "/v1/photos/"+photo.Digest(unref))
	require.Equal(t, 404, st)
	st, _ = get(t, ts, a.Token, "/v1/photos/"+photo.Digest(testJPEG(5))+"/thumb")
	require.Equal(t, 404, st, "named, but nobody sent it yet")
	st, _ = get(t, ts, "hmt_wrong", "/v1/photos/"+gd)
	require.Equal(t, 401, st)
	st, th := get(t, ts, a.Token, "/v1/photos/"+gd+"/thumb")
	require.Equal(t, 200, st)
	cfg, err := photo.Inspect(th, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, photo.ThumbSide, max(cfg.Width, cfg.Height))
}

// truncatedPut sends the framed photo's first n body bytes under a
// Content-Length of the whole, then ends its half of the connection: the
// server reads a body cut inside a chunk.
func truncatedPut(t *testing.T, ts *servertest.TS, tok, digest string, data []byte, n int) answer {
	t.Helper()
	body := chunks(data, 0, 4<<10)
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	require.NoError(t, err)
	defer c.Close()
	fmt.Fprintf(c, "PUT /v1/photos/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nUpload-Length: %d\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n",
		digest, tok, len(data), len(body))
	_, err = c.Write(body[:n])
	require.NoError(t, err)
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	return readAnswer(t, resp)
}

// TestPhotoCollection: a photo no report names any more is kept through
// the grace period, then removed with its thumbnail; one named again
// within it stays.
func TestPhotoCollection(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clock; c.PhotoGrace = time.Hour }))
	a := newPhotoDevice(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	p1, p2 := testJPEG(11), testJPEG(12)
	d1, d2 := photo.Digest(p1), photo.Digest(p2)
	row := a.report(t, h, d1, d2)
	for _, p := range [][]byte{p1, p2} {
		require.True(t, put(t, ts, a.Token, photo.Digest(p), len(p), 0, chunks(p, 0, 8<<10)).complete)
	}
	st, _ := get(t, ts, a.Token, "/v1/photos/"+d1+"/thumb")
	require.Equal(t, 200, st)
	ctx := context.Background()
	gc := func() server.PhotoGCStats {
		s, err := ts.Server.CollectPhotos(ctx)
		require.NoError(t, err)
		return s
	}
	require.Equal(t, server.PhotoGCStats{Kept: 2}, gc())

	// The volunteer drops photo 1 from the report.
	a.push(t, a.w.Write("field_reports", row, schema.PhotoDigestsField, syncproto.String(schema.PhotoDigestsValue([]string{d2}).(string)), h))
	require.Equal(t, server.PhotoGCStats{Marked: 1, Kept: 1}, gc())
	advance(30 * time.Minute)
	require.Equal(t, server.PhotoGCStats{Kept: 1}, gc(), "within the grace period")
	_, err := ts.Store.Blob(ctx, d1)
	require.NoError(t, err)
	advance(31 * time.Minute)
	require.Equal(t, server.PhotoGCStats{Collected: 1, Kept: 1}, gc())
	for _, k := range []string{server.BlobKey(d1, false), server.BlobKey(d1, true)} {
		_, err = ts.Store.Blob(ctx, k)
		require.ErrorIs(t, err, server.ErrNotFound, k)
	}
	_, err = ts.Store.Blob(ctx, d2)
	require.NoError(t, err, "the photo still named is kept")

	// Dropped, then named again within the grace period: kept.
	a.push(t, a.w.Write("field_reports", row, schema.PhotoDigestsField, syncproto.Null(), h))
	require.Equal(t, server.PhotoGCStats{Marked: 1}, gc())
	advance(10 * time.Minute)
	a.push(t, a.w.Write("field_reports", row, schema.PhotoDigestsField, syncproto.String(schema.PhotoDigestsValue([]string{d2}).(string)), h))
	require.Equal(t, server.PhotoGCStats{Kept: 1}, gc())
	advance(2 * time.Hour)
	require.Equal(t, server.PhotoGCStats{Kept: 1}, gc())
	_, err = ts.Store.Blob(ctx, d2)
	require.NoError(t, err)
}
