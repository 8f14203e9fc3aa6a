package agent_test

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

var caMau = [2]float64{9.176944, 105.150278}

// aPhoto is a processed phone-like photo (noisy, so its JPEG weighs what a
// real one does) of w × h with a GPS tag.
func aPhoto(t testing.TB, seed uint64, w, h int) photo.Photo {
	t.Helper()
	src := phototest.WithEXIF(phototest.JPEG(phototest.Image(w, h, true, seed), 85), phototest.EXIF(1, &caMau))
	p, err := agent.PreparePhoto("anh.jpg", src, photo.Limits{})
	require.NoError(t, err)
	return p
}

func addReport(t testing.TB, r *agent.Replica, hamlet string, fs agent.Fields) uuid.UUID {
	t.Helper()
	f := agent.Fields{"hamlet_code": hamlet, "category": "ha_tang_do_thi", "description": "Đường ngập sau mưa"}
	for k, v := range fs {
		f[k] = v
	}
	id, err := r.AddReport(context.Background(), uuid.Nil, f)
	require.NoError(t, err)
	return id
}

// TestPhotosAttachSyncAndFetch: a photo attached on one laptop reaches the
// server after its report, the teammate's laptop receives the thumbnail
// at its sync and the full photo when it opens it, and the GPS position
// is the report's place only when the volunteer agreed.
func TestPhotosAttachSyncAndFetch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	h := ts.HamletsA[0]
	rep := addReport(t, a, h, nil)
	p := aPhoto(t, 1, 1200, 900)
	att, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	require.NotNil(t, att.GPS, "the photo's position is offered")
	require.False(t, att.UsedGPS)
	d, err := a.Show(ctx, "field_reports", rep.String())
	require.NoError(t, err)
	require.Nil(t, d.Fields["lat"], "not taken without the volunteer's yes")

	// Attaching the same image again changes nothing.
	again, err := a.AttachPhoto(ctx, rep, p, true)
	require.NoError(t, err)
	require.True(t, again.Already)
	require.True(t, again.UsedGPS)
	d, _ = a.Show(ctx, "field_reports", rep.String())
	require.InDelta(t, caMau[0], d.Fields["lat"], 1e-5, "the volunteer agreed this time")

	s := realSync(t, a, ts, ta)
	require.NotNil(t, s.Photos)
	require.Equal(t, 1, s.Photos.Uploaded)
	require.EqualValues(t, len(p.JPEG), s.Photos.Sent)
	got, err := ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, err)
	require.Equal(t, p.JPEG, got, "the server holds the photo, byte for byte")
	s = realSync(t, a, ts, ta)
	require.Nil(t, s.Photos, "a photo the server confirmed is not offered again")

	s = realSync(t, b, ts, tb)
	require.NotNil(t, s.Photos)
	require.Equal(t, 1, s.Photos.Thumbs)
	require.True(t, b.HasPhoto(p.Digest, true))
	require.False(t, b.HasPhoto(p.Digest, false), "the full photo waits until it is opened")
	ps, err := b.ReportPhotos(ctx, rep)
	require.NoError(t, err)
	require.Equal(t, []agent.ReportPhoto{{Digest: p.Digest, Thumb: true}}, ps)
	full, ok, err := b.FetchPhoto(ctx, ts.URL, tb, p.Digest, agent.SyncOptions{})
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, p.JPEG, full)
	require.True(t, b.HasPhoto(p.Digest, false), "kept once opened")
	kept, err := os.ReadFile(b.PhotoPath(p.Digest, false))
	require.NoError(t, err)
	require.Equal(t, p.JPEG, kept)
}

// TestPhotoDedup: two laptops attach the same photo to two reports; the
// server stores it once, and the second laptop sends none of its bytes.
func TestPhotoDedup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	p := aPhoto(t, 2, 800, 600)
	for _, r := range []*agent.Replica{a, b} {
		_, err := r.AttachPhoto(ctx, addReport(t, r, ts.HamletsA[0], nil), p, false)
		require.NoError(t, err)
	}
	sa := realSync(t, a, ts, ta)
	require.EqualValues(t, len(p.JPEG), sa.Photos.Sent)
	sb := realSync(t, b, ts, tb)
	require.Zero(t, sb.Photos.Sent, "the server had it: nothing sent again")
	require.EqualValues(t, len(p.JPEG), sb.Photos.Skipped)
	require.Equal(t, 1, sb.Photos.Uploaded)
	n := 0
	require.NoError(t, ts.Store.Blobs(ctx, func(bi server.BlobInfo) error { n++; return nil }))
	require.Equal(t, 1, n, "one blob for the one photo")
}

// cutAfterProxy forwards TCP to target; the first connection whose
// client sent more than n bytes is cut there (the client's bytes past n
// never reach the server), later ones pass. It counts the bytes each
// direction carried.
func cutAfterProxy(t *testing.T, target string, n int64) (url string, cuts *atomic.Int32, up *atomic.Int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	cuts, up = &atomic.Int32{}, &atomic.Int64{}
	var armed atomic.Bool
	armed.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); io.Copy(c, s); c.Close() }()
				buf := make([]byte, 32<<10)
				var sent int64
				for {
					k, err := c.Read(buf)
					if k > 0 {
						if armed.Load() && sent+int64(k) > n {
							if armed.CompareAndSwap(true, false) {
								s.Write(buf[:n-sent])
								up.Add(n - sent)
								cuts.Add(1)
								s.Close()
								c.Close()
								break
							}
						}
						sent += int64(k)
						up.Add(int64(k))
						if _, werr := s.Write(buf[:k]); werr != nil {
							break
						}
					}
					if err != nil {
						s.(*net.TCPConn).CloseWrite()
						break
					}
				}
				wg.Wait()
			}(c)
		}
	}()
	return "http://" + ln.Addr().String(), cuts, up
}

// TestPhotoUploadResumesAfterCut: the link is cut at 60% of a photo; the
// next transfer sends only what the server did not store, and the server
// ends with the exact photo.
func TestPhotoUploadResumesAfterCut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, ta := realAgent(t, ts, ts.TeamA)
	rep := addReport(t, a, ts.HamletsA[0], nil)
	p := aPhoto(t, 3, 1600, 1200)
	_, err := a.AttachPhoto(ctx, rep, p, false)
	require.NoError(t, err)
	// Records first, without photos: the cut must land in the photo.
	_, err = a.Sync(ctx, ts.URL, ta, agent.SyncOptions{NoPhotos: true})
	require.NoError(t, err)

	cutAt := int64(len(p.JPEG)) * 6 / 10
	proxy, cuts, _ := cutAfterProxy(t, ts.URL[len("http://"):], cutAt)
	s, err := a.SyncPhotos(ctx, proxy, ta, agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.NoError(t, err, "the transfer resumes on a new connection by itself")
	require.EqualValues(t, 1, cuts.Load())
	require.Equal(t, 1, s.Uploaded)
	require.Len(t, s.Resumes, 1)
	res := s.Resumes[0]
	require.Greater(t, res.From, cutAt-2*64<<10, "every whole chunk before the cut was kept")
	require.LessOrEqual(t, res.From, cutAt)
	require.EqualValues(t, int64(len(p.JPEG))-res.From, res.Sent, "the resumed upload sends only the rest")
	t.Logf("photo %d bytes, cut at %d: %d kept before the cut, the resumed upload sent %d", len(p.JPEG), cutAt, res.From, res.Sent)
	got, err := ts.Store.Blob(ctx, p.Digest)
	require.NoError(t, err)
	require.Equal(t, p.JPEG, got)
}
