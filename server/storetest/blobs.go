package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func digestOf(i int) string { return fmt.Sprintf("%064x", i+1) }

// testBlobs: a blob is written once and never replaced; an upload grows
// only at its stored length (a chunk at any other offset is refused and
// changes nothing), becomes a blob only when its check passes, and is
// dropped when it fails, leaving the stored blobs as they were.
func testBlobs(t *testing.T, s store) {
	now := time.UnixMilli(time.Now().UnixMilli())
	a, b := digestOf(1), digestOf(2)

	_, err := s.Blob(ctx, a)
	require.ErrorIs(t, err, server.ErrNotFound)
	require.NoError(t, s.PutBlob(ctx, a, []byte("photo a"), now))
	require.NoError(t, s.PutBlob(ctx, a, []byte("another"), now), "the same key again is no error")
	got, err := s.Blob(ctx, a)
	require.NoError(t, err)
	require.Equal(t, "photo a", string(got), "a stored blob is never replaced")
	info, err := s.StatBlob(ctx, a)
	require.NoError(t, err)
	require.EqualValues(t, 7, info.Size)
	require.Nil(t, info.Unreferenced)
	require.Error(t, s.PutBlob(ctx, "../../etc/passwd", []byte("x"), now), "a key is a digest, never a path")

	// An upload in chunks.
	n, err := s.UploadLength(ctx, b)
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = s.AppendUpload(ctx, b, 0, []byte("hello "), now)
	require.NoError(t, err)
	require.EqualValues(t, 6, n)
	_, err = s.AppendUpload(ctx, b, 3, []byte("XXX"), now)
	var oe *server.UploadOffsetError
	require.ErrorAs(t, err, &oe, "a chunk at another offset than the stored length")
	require.EqualValues(t, 6, oe.Stored)
	n, err = s.AppendUpload(ctx, b, 6, []byte("world"), now)
	require.NoError(t, err)
	require.EqualValues(t, 11, n)
	n, err = s.UploadLength(ctx, b)
	require.NoError(t, err)
	require.EqualValues(t, 11, n)
	var uploads []string
	require.NoError(t, s.Blobs(ctx, func(bi server.BlobInfo) error {
		if bi.Upload {
			uploads = append(uploads, bi.Key)
			require.EqualValues(t, 11, bi.Size)
		}
		return nil
	}))
	require.Equal(t, []string{b}, uploads)
	_, err = s.Blob(ctx, b)
	require.ErrorIs(t, err, server.ErrNotFound, "an unfinished upload is no blob")

	// A failing check drops the upload and keeps every blob.
	bad := errors.New("not a JPEG")
	err = s.FinishUpload(ctx, b, func(data []byte) error {
		require.Equal(t, "hello world", string(data))
		return bad
	}, now)
	require.ErrorIs(t, err, bad)
	n, err = s.UploadLength(ctx, b)
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = s.Blob(ctx, b)
	require.ErrorIs(t, err, server.ErrNotFound)
	got, err = s.Blob(ctx, a)
	require.NoError(t, err)
	require.Equal(t, "photo a", string(got))

	// Again, and this time it passes.
	for i, part := range []string{"hello ", "world"} {
		_, err = s.AppendUpload(ctx, b, int64(i*6), []byte(part), now)
		require.NoError(t, err)
	}
	require.NoError(t, s.FinishUpload(ctx, b, func([]byte) error { return nil }, now))
	got, err = s.Blob(ctx, b)
	require.NoError(t, err)
	require.Equal(t, "hello world", string(got))
	n, err = s.UploadLength(ctx, b)
	require.NoError(t, err)
	require.Zero(t, n)
	// An upload of a key already stored finishes as the stored blob.
	_, err = s.AppendUpload(ctx, a, 0, []byte("other bytes"), now)
	require.NoError(t, err)
	require.NoError(t, s.FinishUpload(ctx, a, func([]byte) error { return errors.New("not called") }, now))
	got, _ = s.Blob(ctx, a)
	require.Equal(t, "photo a", string(got))

	// Thumbnails are blobs of their own key.
	th := server.BlobKey(a, true)
	require.NoError(t, s.PutBlob(ctx, th, []byte("small"), now))

	// Marks, listing, deletion.
	since := now.Add(-time.Hour)
	require.NoError(t, s.MarkBlob(ctx, a, &since))
	info, err = s.StatBlob(ctx, a)
	require.NoError(t, err)
	require.NotNil(t, info.Unreferenced)
	require.True(t, since.Equal(*info.Unreferenced))
	require.NoError(t, s.MarkBlob(ctx, a, nil))
	info, _ = s.StatBlob(ctx, a)
	require.Nil(t, info.Unreferenced)
	var keys []string
	require.NoError(t, s.Blobs(ctx, func(bi server.BlobInfo) error {
		keys = append(keys, bi.Key)
		require.False(t, bi.Upload)
		return nil
	}))
	require.ElementsMatch(t, []string{a, th, b}, keys)
	require.NoError(t, s.DeleteBlob(ctx, a))
	require.NoError(t, s.DeleteBlob(ctx, a), "deleting what is gone is no error")
	_, err = s.Blob(ctx, a)
	require.ErrorIs(t, err, server.ErrNotFound)
	_, err = s.Blob(ctx, th)
	require.NoError(t, err, "a thumbnail goes with its own key")
}

// testConcurrentUpload: two writers continuing one upload at the same
// offset (two server processes, or two requests of one agent after a
// retry): exactly one chunk is taken.
func testConcurrentUpload(t *testing.T, s store) {
	key := digestOf(3)
	now := time.Now()
	var wg sync.WaitGroup
	var ok, refused int
	var mu sync.Mutex
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AppendUpload(ctx, key, 0, []byte(strings.Repeat("x", 100)), now)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if errors.Is(err, server.ErrUploadOffset) {
				refused++
			} else {
				t.Errorf("append: %v", err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, ok)
	require.Equal(t, 3, refused)
	n, err := s.UploadLength(ctx, key)
	require.NoError(t, err)
	require.EqualValues(t, 100, n)
}

// testPhotoReferences: the reports that name a photo, read from the
// materialised rows; and every photo in use, a conflict's losing list
// included.
func testPhotoReferences(t *testing.T, s store) {
	d1, d2, d3 := digestOf(10), digestOf(11), digestOf(12)
	r1, r2 := uuid.New(), uuid.New()
	origin, writer, first := uuid.New(), uuid.New(), uuid.New()
	list := func(ds ...string) syncproto.Value {
		return syncproto.String(schema.PhotoDigestsValue(ds).(string))
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		if err := tx.Materialize("field_reports", r1, map[string]syncproto.Value{"hamlet_code": syncproto.String("32002-01"),
			schema.PhotoDigestsField: list(d1, d2)}); err != nil {
			return err
		}
		if err := tx.Materialize("field_reports", r2, map[string]syncproto.Value{"hamlet_code": syncproto.String("32002-02"),
			schema.PhotoDigestsField: list(d1), "_deleted": syncproto.Bool(true)}); err != nil {
			return err
		}
		loser := syncproto.Version{Value: list(d3), HLC: 10, Dot: syncproto.Dot{Replica: origin, Seq: 1}}
		winner := syncproto.Version{Value: list(d1, d2), HLC: 20, Dot: syncproto.Dot{Replica: origin, Seq: 2}, Base: syncproto.Dot{Replica: first, Seq: 4}}
		if err := tx.PutRow("field_reports", r1, server.RowState{Scope: "32002-01", Versions: map[string]syncproto.Version{
			"hamlet_code":            {Value: syncproto.String("32002-01"), HLC: 10, Dot: syncproto.Dot{Replica: writer, Seq: 1}},
			schema.PhotoDigestsField: winner,
		}}); err != nil {
			return err
		}
		return tx.AddConflict(syncproto.Conflict{Key: syncproto.FieldKey{Table: "field_reports", Row: r1, Field: schema.PhotoDigestsField},
			Scope: "32002-01", Loser: loser, Winner: winner}, time.Now())
	}))
	// The replicas of the report's current versions, and of the list its
	// photo_digests was written over, each once; none for a row with no
	// versions.
	w, err := s.ReportWriters(ctx, r1)
	require.NoError(t, err)
	writers := []syncproto.ReplicaID{origin, writer, first}
	slices.SortFunc(writers, func(x, y syncproto.ReplicaID) int { return bytes.Compare(x[:], y[:]) })
	require.Equal(t, writers, w)
	w, err = s.ReportWriters(ctx, r2)
	require.NoError(t, err)
	require.Empty(t, w)
	got, err := s.PhotoReports(ctx, d1)
	require.NoError(t, err)
	want := []server.PhotoReport{{ID: r1.String(), Hamlet: "32002-01"}, {ID: r2.String(), Hamlet: "32002-02", Deleted: true}}
	if want[0].ID > want[1].ID {
		want[0], want[1] = want[1], want[0]
	}
	require.Equal(t, want, got)
	got, err = s.PhotoReports(ctx, d2)
	require.NoError(t, err)
	require.Len(t, got, 1)
	got, err = s.PhotoReports(ctx, digestOf(99))
	require.NoError(t, err)
	require.Empty(t, got)
	inUse, err := s.PhotoDigestsInUse(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{d1: true, d2: true, d3: true}, inUse)
}
