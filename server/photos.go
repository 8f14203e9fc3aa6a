package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Photos of field reports travel apart from the records
// (docs/PROTOCOL.md §19): a report names its photos by digest in the
// synced field photo_digests, and the photos follow over plain HTTP beside
// the sync socket, in chunks, resumed from the last stored chunk after a
// cut and never sent twice (a digest the server holds is done). A record
// never waits for a photo: the agent pushes its records first, and the
// server takes a photo only once a report in the device's scope names it.
//
// The stores keep the bytes (BlobStore); this file decides who may send
// and fetch what, checks every upload (each chunk's SHA-256, the whole
// photo's, a JPEG that decodes within limits), makes the thumbnails, and
// collects photos no report names any more.

// Photo transfer limits.
const (
	// MaxPhotoChunk bounds one chunk of an upload: big enough that a 3G
	// link spends its time on bytes, small enough that a cut loses little.
	MaxPhotoChunk = 256 << 10
	// DefaultMaxPhotoBytes bounds a stored photo. The agent scales to 1600
	// px (a few hundred kilobytes); this leaves room for a larger setting.
	DefaultMaxPhotoBytes = 8 << 20
	// DefaultPhotoGrace is how long a photo no report names is kept before
	// it is collected: an edit that drops a photo may be undone.
	DefaultPhotoGrace = 7 * 24 * time.Hour
	// photoChunkWait bounds the wait for each chunk of an upload (a read
	// deadline per chunk, not per upload: a slow link still finishes).
	photoChunkWait = time.Minute
)

// photoLimits is what the server accepts as a stored photo.
func (s *Server) photoLimits() photo.Limits {
	return photo.Limits{MaxBytes: s.cfg.MaxPhotoBytes, MaxSide: 8192, MaxPixels: 8192 * 8192}
}

// UploadState is the answer of the upload endpoints: how many bytes of
// the photo the server holds, and whether it holds it whole.
type UploadState struct {
	Stored   int64 `json:"stored"`
	Complete bool  `json:"complete"`
	// Chunk is the largest chunk the server takes.
	Chunk int `json:"chunk"`
}

// uploadError is an error answer that also says how much is stored, so
// the client resumes from there.
type uploadError struct {
	err    *syncproto.Error
	status int
	stored int64
}

func (e *uploadError) Error() string { return e.err.Error() }
func (e *uploadError) Unwrap() error { return e.err }

// writeUploadError writes the JSON error body with "stored" beside it.
func writeUploadError(w http.ResponseWriter, e *uploadError) {
	ae := HTTPError(e.err)
	if e.status != 0 {
		ae.Status = e.status
	}
	WriteJSON(w, ae.Status, struct {
		Error  ErrorDetail `json:"error"`
		Stored int64       `json:"stored"`
	}{ErrorDetail{Code: syncproto.Code(ae.Code), Message: ae.Message, Hint: ae.HintVI, HintEN: ae.HintEN}, e.stored})
}

func photoStatus(code syncproto.Code) int {
	switch code {
	case syncproto.CodePhotoUnreferenced, syncproto.CodePhotoMissing:
		return http.StatusNotFound
	case syncproto.CodeOutOfScope:
		return http.StatusForbidden
	case syncproto.CodeUploadOffset:
		return http.StatusConflict
	case syncproto.CodeChunkDigest, syncproto.CodeTruncated:
		return http.StatusBadRequest
	case syncproto.CodePhotoDigest, syncproto.CodeNotAnImage:
		return http.StatusUnprocessableEntity
	}
	return 0
}

// mayHavePhoto checks that a live report in the device's scope names
// digest: a photo no report names is nobody's to send or fetch, and a
// photo of another team's report is not this device's. An upload
// (upload) is also taken from a device whose replica wrote the report as
// the server holds it (ReportWriters), or continues such a replica as a
// fork (a copied data folder holds the same photos, and the other copy may
// be gone), when the report has left its scope since: the volunteer who
// took the photo is the only one who can ever send it, and refused, the
// report would name a photo lost for good. The writer of the photo list
// alone was not enough: a teammate who adds a photo of their own writes
// the whole list, still naming the first, and its taker was refused for
// good (helper 295). The bytes must hash to the digest, so an upload
// gives no other access: the device still cannot fetch the photo, nor see
// the report.
func (s *Server) mayHavePhoto(ctx context.Context, dev Device, digest string, upload bool) error {
	if !photo.ValidDigest(digest) {
		return syncproto.Errorf(syncproto.CodeInvalidValue, "a photo digest is 64 lowercase hex digits")
	}
	refs, err := s.store.PhotoReports(ctx, digest)
	if err != nil {
		return storeError("cannot read the reports of a photo", err)
	}
	scope, err := s.store.Scope(ctx, dev.MemberID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return storeError("cannot read the device's scope", err)
	}
	var away []PhotoReport // live, outside the device's scope
	for _, r := range refs {
		if r.Deleted {
			continue
		}
		if slices.Contains(scope, r.Hamlet) {
			return nil
		}
		away = append(away, r)
	}
	if upload {
		// The device's own replica, and those it continues as a fork of (a
		// copied data folder, POST /v1/fork): a photo named under the
		// copied folder's id before the copy took its own is this
		// folder's as much as the other copy's, which may be gone.
		var lineage map[syncproto.ReplicaID]bool
		mine := func(w syncproto.ReplicaID) (bool, error) {
			if w == (syncproto.ReplicaID{}) {
				return false, nil
			}
			if w == dev.Replica {
				return true, nil
			}
			if lineage == nil {
				lineage = map[syncproto.ReplicaID]bool{}
				err := s.store.Update(ctx, func(tx Tx) error {
					ps, err := tx.ForkParents(dev.Replica)
					for _, p := range ps {
						lineage[p] = true
					}
					return err
				})
				if err != nil {
					return false, err
				}
			}
			return lineage[w], nil
		}
		for _, r := range away {
			id, err := uuid.Parse(r.ID)
			if err != nil {
				continue
			}
			ws, err := s.store.ReportWriters(ctx, id)
			if err != nil {
				return storeError("cannot read who wrote a report", err)
			}
			for _, w := range ws {
				ok, err := mine(w)
				if err != nil {
					return storeError("cannot read the replicas a device was forked from", err)
				}
				if ok {
					return nil
				}
			}
		}
	}
	if len(away) > 0 {
		return syncproto.Errorf(syncproto.CodeOutOfScope, "the reports that name this photo are outside the device's hamlets")
	}
	return syncproto.Errorf(syncproto.CodePhotoUnreferenced, "no field report names this photo")
}

// photoRequest authenticates a device and checks the digest in the path.
func (s *Server) photoRequest(w http.ResponseWriter, r *http.Request, what string, upload bool) (Device, string, bool) {
	dev, err := s.authenticate(r)
	if err == nil {
		err = s.mayHavePhoto(r.Context(), dev, r.PathValue("digest"), upload)
	}
	if err != nil {
		code := protoError(err).Code
		s.log.Info(what+" refused", LogRemote, ClientAddr(r), LogDevice, dev.ID, LogCode, string(code))
		if st := photoStatus(code); st != 0 {
			writeUploadError(w, &uploadError{err: protoError(err), status: st})
			return dev, "", false
		}
		WriteHTTPError(w, err)
		return dev, "", false
	}
	return dev, r.PathValue("digest"), true
}

// uploadRun is a photo upload request under way.
type uploadRun struct {
	rc    *http.ResponseController
	done  chan struct{}
	taken atomic.Bool // a later request of the same device took over
}

// uploadKey names a device's upload of a photo: only the same device's
// return after a cut takes its request over. Another device sending the
// same photo is no stale answer to wait for (AppendUpload's offset check
// keeps the two apart); ending its live request would have each resume
// end the other's.
func uploadKey(device, digest string) string { return device + "/" + digest }

// takeOverUpload ends the upload of digest still under way, if any, and
// waits for it (a moment) before the caller reads where the upload
// stands. A client resumes after a cut by asking that at once, while the
// server may still be storing chunks of the cut request that reached it,
// or be waiting for more on a connection that died without a word: the
// answer would be stale, and the resumed upload, refused at its offset
// after its body had gone, would send the rest of the photo twice.
func (s *Server) takeOverUpload(key string) {
	v, ok := s.uploading.Load(key)
	if !ok {
		return
	}
	run := v.(*uploadRun)
	// Marked first: a handler storing a chunk sets its own deadline for
	// the next one, then sees the mark, so the one below is never undone.
	run.taken.Store(true)
	_ = run.rc.SetReadDeadline(time.Now())
	select {
	case <-run.done:
	case <-time.After(5 * time.Second):
	}
}

// handleUploadState answers GET /v1/photos/{digest}/upload: where to
// resume.
func (s *Server) handleUploadState(w http.ResponseWriter, r *http.Request) {
	dev, digest, ok := s.photoRequest(w, r, "photo upload state", true)
	if !ok {
		return
	}
	s.takeOverUpload(uploadKey(dev.ID, digest))
	st, err := s.uploadState(r.Context(), digest)
	if err == nil && !st.Complete {
		err = s.blobsWritable(r.Context()) // refused now, before the photo's bytes (photostore.go)
	}
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (s *Server) uploadState(ctx context.Context, digest string) (UploadState, error) {
	if info, err := s.store.StatBlob(ctx, BlobKey(digest, false)); err == nil {
		return UploadState{Stored: info.Size, Complete: true, Chunk: MaxPhotoChunk}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return UploadState{}, storeError("cannot read a photo", err)
	}
	n, err := s.store.UploadLength(ctx, BlobKey(digest, false))
	if err != nil {
		return UploadState{}, storeError("cannot read an upload", err)
	}
	return UploadState{Stored: n, Chunk: MaxPhotoChunk}, nil
}

// handleUpload takes PUT /v1/photos/{digest}: Upload-Offset (where the
// body's chunks start) and Upload-Length (the photo's size) headers, and
// a body of chunks, each a 4-byte big-endian length, the chunk's SHA-256
// and its bytes. Each chunk is stored as it arrives once its digest
// matches, so a cut keeps every whole chunk before it; the last one
// completes the photo if the whole hashes to the digest and is a JPEG the
// server can decode.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	dev, digest, ok := s.photoRequest(w, r, "photo upload", true)
	if !ok {
		return
	}
	st, err := s.upload(r.Context(), w, r, dev.ID, digest)
	if err != nil {
		var ue *uploadError
		if errors.As(err, &ue) {
			s.log.Info("photo upload refused", LogDevice, dev.ID, LogCode, string(ue.err.Code), "stored", ue.stored)
			writeUploadError(w, ue)
			return
		}
		WriteHTTPError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, st)
}

func (s *Server) upload(ctx context.Context, w http.ResponseWriter, r *http.Request, device, digest string) (UploadState, error) {
	key := BlobKey(digest, false)
	size, err1 := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
	at, err2 := strconv.ParseInt(r.Header.Get("Upload-Offset"), 10, 64)
	if err1 != nil || err2 != nil || size <= 0 || at < 0 || at > size {
		return UploadState{}, syncproto.Errorf(syncproto.CodeBadFrame, "an upload needs Upload-Length (the photo's size) and Upload-Offset (where the body starts)")
	}
	if size > int64(s.cfg.MaxPhotoBytes) {
		return UploadState{}, syncproto.Errorf(syncproto.CodeTooLarge, "a photo is at most %d bytes", s.cfg.MaxPhotoBytes)
	}
	rc := http.NewResponseController(w)
	ukey := uploadKey(device, digest)
	s.takeOverUpload(ukey)
	run := &uploadRun{rc: rc, done: make(chan struct{})}
	s.uploading.Store(ukey, run)
	defer func() {
		s.uploading.CompareAndDelete(ukey, run)
		close(run.done)
	}()
	st, err := s.uploadState(ctx, digest)
	if err != nil {
		return st, err
	}
	if st.Complete {
		return st, nil // sent before, by this device or another: never again
	}
	if err := s.blobsWritable(ctx); err != nil {
		return st, err // before the body is read (photostore.go)
	}
	if at != st.Stored {
		return st, &uploadError{err: syncproto.Errorf(syncproto.CodeUploadOffset, "the server holds %d bytes of this photo, the chunks start at %d", st.Stored, at), status: http.StatusConflict, stored: st.Stored}
	}
	body := r.Body
	var hdr [4 + sha256.Size]byte
	buf := make([]byte, MaxPhotoChunk)
	for st.Stored < size {
		_ = rc.SetReadDeadline(time.Now().Add(photoChunkWait))
		if run.taken.Load() {
			return st, truncated(st.Stored, errors.New("a later request of this upload took over"))
		}
		if _, err := io.ReadFull(body, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return st, nil // the sender stopped between chunks: resumable
			}
			return st, truncated(st.Stored, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4]))
		if n == 0 || n > MaxPhotoChunk || st.Stored+n > size {
			return st, &uploadError{err: syncproto.Errorf(syncproto.CodeBadFrame, "a chunk of %d bytes at %d of %d (at most %d a chunk)", n, st.Stored, size, MaxPhotoChunk), status: http.StatusBadRequest, stored: st.Stored}
		}
		chunk := buf[:n]
		if _, err := io.ReadFull(body, chunk); err != nil {
			return st, truncated(st.Stored, err)
		}
		if sum := sha256.Sum256(chunk); !bytes.Equal(sum[:], hdr[4:]) {
			return st, &uploadError{err: syncproto.Errorf(syncproto.CodeChunkDigest, "the chunk at %d does not match its SHA-256", st.Stored), status: http.StatusBadRequest, stored: st.Stored}
		}
		stored, err := s.store.AppendUpload(ctx, key, st.Stored, chunk, s.now())
		if err != nil {
			var oe *UploadOffsetError
			if errors.As(err, &oe) { // another request of the same photo got there first, or the store lost its bytes
				return st, &uploadError{err: syncproto.Errorf(syncproto.CodeUploadOffset, "the server holds %d bytes of this photo", oe.Stored), status: http.StatusConflict, stored: oe.Stored}
			}
			s.noteBlobsFailed(ctx, err)
			return st, storeError("cannot store a chunk of a photo", err)
		}
		st.Stored = stored
	}
	err = s.store.FinishUpload(ctx, key, func(b []byte) error {
		if photo.Digest(b) != digest {
			return &uploadError{err: syncproto.Errorf(syncproto.CodePhotoDigest, "the %d bytes sent do not hash to the photo's digest", len(b)), status: http.StatusUnprocessableEntity}
		}
		if _, err := photo.Check(b, s.photoLimits()); err != nil {
			return &uploadError{err: syncproto.Errorf(syncproto.CodeNotAnImage, "%v", err), status: http.StatusUnprocessableEntity}
		}
		return nil
	}, s.now())
	if err != nil {
		var ue *uploadError
		if errors.As(err, &ue) {
			return UploadState{Chunk: MaxPhotoChunk}, ue // the upload was dropped: stored 0
		}
		var oe *UploadOffsetError
		if errors.As(err, &oe) { // the store lost the bytes it held, and dropped them: sent again
			s.log.Warn("a photo upload's stored bytes were lost; the device sends the photo again", "stored", st.Stored)
			return UploadState{Stored: oe.Stored, Chunk: MaxPhotoChunk}, &uploadError{err: syncproto.Errorf(syncproto.CodeUploadOffset,
				"the server lost the %d bytes it held of this photo: send it again from byte %d", st.Stored, oe.Stored), status: http.StatusConflict, stored: oe.Stored}
		}
		s.noteBlobsFailed(ctx, err)
		return st, storeError("cannot store a photo", err)
	}
	s.blobsStored()
	s.log.Info("photo stored", "bytes", size)
	return UploadState{Stored: size, Complete: true, Chunk: MaxPhotoChunk}, nil
}

func truncated(stored int64, err error) error {
	return &uploadError{err: &syncproto.Error{Code: syncproto.CodeTruncated,
		Msg: fmt.Sprintf("the body ended inside the chunk at %d; the chunks before it are kept", stored), Err: err},
		status: http.StatusBadRequest, stored: stored}
}

// handlePhoto serves GET /v1/photos/{digest} (the photo) and
// GET /v1/photos/{digest}/thumb (its thumbnail) to a device whose scope
// holds a report naming it.
func (s *Server) handlePhoto(thumb bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, digest, ok := s.photoRequest(w, r, "photo download", false)
		if !ok {
			return
		}
		b, err := s.Photo(r.Context(), digest, thumb)
		if err != nil {
			if st := photoStatus(protoError(err).Code); st != 0 {
				writeUploadError(w, &uploadError{err: protoError(err), status: st})
				return
			}
			WriteHTTPError(w, err)
			return
		}
		ServePhoto(w, r, digest, thumb, b, PhotoCacheDevice)
	}
}

// PhotoCacheDevice lets a device keep a photo for good: its name is its
// content. PhotoCacheBrowser keeps it out of a shared office PC's browser
// after sign-out, as the dashboard's pages are.
const (
	PhotoCacheDevice  = "private, max-age=31536000, immutable"
	PhotoCacheBrowser = "private, no-store"
)

// ServePhoto writes a photo or thumbnail with the given Cache-Control,
// Range-capable so a cut download resumes.
func ServePhoto(w http.ResponseWriter, r *http.Request, digest string, thumb bool, b []byte, cache string) {
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", cache)
	etag := `"` + digest + `"`
	if thumb {
		etag = `"` + digest + `-thumb"`
	}
	w.Header().Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// Photo returns a stored photo, or its thumbnail (made on first use and
// kept, so every process of a deployment serves the same one). The caller
// has checked who asks: the device endpoints above, the dashboard's report
// page.
func (s *Server) Photo(ctx context.Context, digest string, thumb bool) ([]byte, error) {
	if !photo.ValidDigest(digest) {
		return nil, syncproto.Errorf(syncproto.CodeInvalidValue, "a photo digest is 64 lowercase hex digits")
	}
	if thumb {
		b, err := s.store.Blob(ctx, BlobKey(digest, true))
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, storeError("cannot read a thumbnail", err)
		}
	}
	b, err := s.store.Blob(ctx, BlobKey(digest, false))
	if errors.Is(err, ErrNotFound) {
		return nil, syncproto.Errorf(syncproto.CodePhotoMissing, "the server does not hold this photo yet")
	}
	if err != nil {
		return nil, storeError("cannot read a photo", err)
	}
	if !thumb {
		return b, nil
	}
	t, err := photo.Thumbnail(b, photo.ThumbSide, s.photoLimits())
	if err != nil {
		return nil, fmt.Errorf("make a thumbnail: %w", err)
	}
	if err := s.store.PutBlob(ctx, BlobKey(digest, true), t, s.now()); err != nil {
		s.log.Warn("keep a thumbnail", LogErr, err) // served all the same; made again next time
	}
	return t, nil
}

// PhotoGCStats counts what CollectPhotos did.
type PhotoGCStats struct {
	Marked    int // photos found unreferenced, kept for the grace period
	Collected int // photos (with their thumbnails) removed after it
	Uploads   int // unfinished uploads removed
	Kept      int // photos in use
}

// CollectPhotos removes the photos no report names any more (nor a
// conflict's losing value) once they have been unreferenced for the grace
// period, with their thumbnails, and unfinished uploads older than it.
// A photo named again before then is kept.
func (s *Server) CollectPhotos(ctx context.Context) (PhotoGCStats, error) {
	var st PhotoGCStats
	inUse, err := s.store.PhotoDigestsInUse(ctx)
	if err != nil {
		return st, err
	}
	now := s.now()
	grace := s.cfg.PhotoGrace
	err = s.store.Blobs(ctx, func(b BlobInfo) error {
		digest := BlobDigest(b.Key)
		used := inUse[digest]
		switch {
		case b.Upload:
			if !used || now.Sub(b.Updated) > grace {
				st.Uploads++
				return s.store.DeleteBlob(ctx, b.Key)
			}
		case b.Key != digest: // a thumbnail: goes with its photo
			if !used {
				if _, err := s.store.StatBlob(ctx, digest); errors.Is(err, ErrNotFound) {
					return s.store.DeleteBlob(ctx, b.Key)
				}
			}
		case used:
			st.Kept++
			if b.Unreferenced != nil {
				return s.store.MarkBlob(ctx, b.Key, nil)
			}
		case b.Unreferenced == nil:
			st.Marked++
			return s.store.MarkBlob(ctx, b.Key, &now)
		case now.Sub(*b.Unreferenced) >= grace:
			st.Collected++
			if err := s.store.DeleteBlob(ctx, BlobKey(digest, true)); err != nil {
				return err
			}
			return s.store.DeleteBlob(ctx, b.Key)
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("collect photos: %w", err)
	}
	return st, nil
}

// VersionWriters are the replicas of a row's versions, and of the base of
// its photo_digests version (the list a teammate's write kept photos of),
// each once, in byte order (ReportWriters).
func VersionWriters(vs map[string]syncproto.Version) []syncproto.ReplicaID {
	var out []syncproto.ReplicaID
	add := func(r syncproto.ReplicaID) {
		if r != (syncproto.ReplicaID{}) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, v := range vs {
		add(v.Dot.Replica)
	}
	if v, ok := vs[schema.PhotoDigestsField]; ok {
		add(v.Base.Replica)
	}
	slices.SortFunc(out, func(x, y syncproto.ReplicaID) int { return bytes.Compare(x[:], y[:]) })
	return out
}
