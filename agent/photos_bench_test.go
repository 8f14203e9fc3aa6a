package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/linktest"
	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// phonePhotos are two 4000 × 3000 phone JPEGs of about 4 MB each, with GPS,
// processed as attaching them does (made once: seconds of work).
var phonePhotos = sync.OnceValues(func() ([2][]byte, [2]photo.Photo) {
	var src [2][]byte
	var out [2]photo.Photo
	for i := range src {
		src[i] = phototest.PhoneJPEG(uint64(10+i), phototest.EXIF(6, &caMau))
		p, err := agent.PreparePhoto("IMG.jpg", src[i], photo.Limits{})
		if err != nil {
			panic(err)
		}
		out[i] = p
	}
	return src, out
})

// recordArrives waits until the server holds a report naming digest and
// says how long after start.
func recordArrives(ctx context.Context, ts *servertest.TS, digest string, start time.Time) <-chan time.Duration {
	got := make(chan time.Duration, 1)
	go func() {
		for ctx.Err() == nil {
			if refs, err := ts.Store.PhotoReports(ctx, digest); err == nil && len(refs) > 0 {
				got <- time.Since(start)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return got
}

// BenchmarkPhotos3G is issue 19's figures over a 3G-like link (1 Mbit/s
// each way shared by every connection, 300 ms round trip, 1% of segments
// lost and resent a round trip later; link3G): a report with two phone
// photos (4 MB each before scaling) filed offline and synced: when its
// record reaches the server, what the photos cost on the link after
// scaling, and when they are there; a report filed while those photos are
// still on their way (sync --watch): when its record reaches the server;
// and an upload cut at 60% of a photo: what the resumed transfer sends.
func BenchmarkPhotos3G(b *testing.B) {
	src, ps := phonePhotos()
	ctx := context.Background()
	for b.Loop() {
		ts := servertest.Start(b, servertest.WithSynchronous("NORMAL"))
		a := agenttest.New(b)
		tok, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(b, ts.TeamA), "máy thử")
		require.NoError(b, err)
		_, err = a.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
		h := ts.HamletsA[0]

		// 1. One report, two photos, one sync over the link.
		rep := addReport(b, a, h, nil)
		for _, p := range ps {
			_, err := a.AttachPhoto(ctx, rep, p, false)
			require.NoError(b, err)
		}
		link := link3G(b, ts.URL[len("http://"):], 0)
		start := time.Now()
		arrived := recordArrives(ctx, ts, ps[0].Digest, start)
		s, err := a.Sync(ctx, link.URL(), tok, agent.SyncOptions{IOTimeout: 30 * time.Second})
		require.NoError(b, err)
		total := time.Since(start)
		rec := <-arrived
		require.NotNil(b, s.Photos)
		require.Equal(b, 2, s.Photos.Uploaded)
		b.ReportMetric(rec.Seconds(), "record-s")
		b.ReportMetric(total.Seconds(), "photos-done-s")
		b.ReportMetric(float64(len(src[0])+len(src[1])), "source-bytes")
		b.ReportMetric(float64(s.Photos.Sent), "photo-bytes")
		b.ReportMetric(float64(link.Up()), "uplink-bytes")
		b.Logf("a report with two phone photos (%d and %d bytes before scaling, %d and %d after): record on the server after %v, photos after %v; %d photo bytes sent, %d bytes up the link in all",
			len(src[0]), len(src[1]), len(ps[0].JPEG), len(ps[1].JPEG), rec.Round(time.Millisecond), total.Round(time.Millisecond), s.Photos.Sent, link.Up())

		// 2. sync --watch: two photos on their way, a new report meanwhile.
		rep2 := addReport(b, a, h, nil)
		q1, q2 := photoVariant(b, 21), photoVariant(b, 22)
		for _, p := range []photo.Photo{q1, q2} {
			_, err := a.AttachPhoto(ctx, rep2, p, false)
			require.NoError(b, err)
		}
		link = link3G(b, ts.URL[len("http://"):], 0)
		wctx, stop := context.WithCancel(ctx)
		photosDone := make(chan agent.PhotoSummary, 4)
		done := make(chan error, 1)
		go func() {
			done <- a.Watch(wctx, link.URL(), tok, agent.SyncOptions{IOTimeout: 30 * time.Second, PollInterval: 200 * time.Millisecond,
				OnPhotos: func(ps agent.PhotoSummary, err error) { photosDone <- ps }})
		}()
		// Wait until the photos are under way, then file a report.
		for link.Up() < int64(len(q1.JPEG))/4 {
			time.Sleep(20 * time.Millisecond)
		}
		rep3 := addReport(b, a, h, nil)
		third := photoVariant(b, 23)
		_, err = a.AttachPhoto(ctx, rep3, third, false)
		require.NoError(b, err)
		start = time.Now()
		rec = <-recordArrives(ctx, ts, third.Digest, start)
		inFlight := len(photosDone) == 0
		b.ReportMetric(rec.Seconds(), "record-during-photos-s")
		b.Logf("sync --watch: a report filed while two photos were on their way (still uploading: %v) reached the server after %v", inFlight, rec.Round(time.Millisecond))
		for n := 0; n < 3; {
			n += (<-photosDone).Uploaded
		}
		stop()
		require.NoError(b, <-done)

		// 3. A cut at 60% of a photo, then the resumed transfer.
		rep4 := addReport(b, a, h, nil)
		cutPhoto := photoVariant(b, 24)
		_, err = a.AttachPhoto(ctx, rep4, cutPhoto, false)
		require.NoError(b, err)
		_, err = a.Sync(ctx, ts.URL, tok, agent.SyncOptions{NoPhotos: true})
		require.NoError(b, err)
		cutAt := int64(len(cutPhoto.JPEG)) * 6 / 10
		link = link3G(b, ts.URL[len("http://"):], cutAt)
		s2, err := a.SyncPhotos(ctx, link.URL(), tok, agent.SyncOptions{IOTimeout: 30 * time.Second})
		require.NoError(b, err)
		require.Len(b, s2.Resumes, 1)
		r := s2.Resumes[0]
		b.ReportMetric(float64(len(cutPhoto.JPEG)), "cut-photo-bytes")
		b.ReportMetric(float64(r.From), "kept-before-cut-bytes")
		b.ReportMetric(float64(r.Sent), "resumed-sent-bytes")
		b.Logf("a cut at 60%% of a %d-byte photo (%d bytes in): %d bytes kept by the server, the resumed upload sent %d bytes (the rest: %d)",
			len(cutPhoto.JPEG), cutAt, r.From, r.Sent, int64(len(cutPhoto.JPEG))-r.From)
		ts.Close()
	}
}

// link3G is the benchmark's mobile link: 1 Mbit/s each way, 150 ms one
// way, one segment in a hundred lost, half a second of queue; its first
// connection is cut once cutUp bytes went up (0: never).
func link3G(tb testing.TB, target string, cutUp int64) *linktest.Link {
	l := linktest.New(tb, target, 1e6/8, 150*time.Millisecond)
	l.Loss, l.MaxQueue, l.CutUp = 0.01, 500*time.Millisecond, cutUp
	return l
}

// photoVariant is another phone photo (a different picture, so a different
// digest), processed.
func photoVariant(tb testing.TB, seed uint64) photo.Photo {
	p, err := agent.PreparePhoto("IMG.jpg", phototest.PhoneJPEG(seed, phototest.EXIF(1, &caMau)), photo.Limits{})
	require.NoError(tb, err)
	return p
}
