package server

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
)

// A photo store that cannot be written (a full disk, a folder it cannot
// make) refuses an upload only once the photo's first chunk is in: by
// then the laptop has put the whole photo on its link, hundreds of KB of
// a volunteer's mobile data thrown away at each retry of each laptop.
// After such a failure the server remembers it, and refuses the next
// uploads when they ask where to resume, before any photo byte is sent.
// Each question asked while it lasts first tries the store again, with a
// probe of one byte, one probe at a time (the questions asked meanwhile are
// refused at once): once a probe is stored the uploads go again, so a
// volunteer who syncs right after the operator freed the disk sends the
// photo, and a probe costs the server a byte's write, not the laptop its
// photo.

// blobsProbeKey is the probe's upload: a key of a digest no photo has
// (SHA-256 does not give 64 zeros), deleted at once, and by the photo
// collector as any upload no report names, were it left.
var blobsProbeKey = strings.Repeat("0", 64)

type blobsDown struct {
	mu      sync.Mutex
	err     error // the last failure; nil: the store works
	probing bool  // a request is probing the store now
}

// noteBlobsFailed remembers that storing a photo failed with err (a
// storeError's cause, not a refusal of the photo), unless the request
// ended or the store was only busy.
func (s *Server) noteBlobsFailed(ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, ErrBusy) {
		return // the client went away, or the store is busy: not down
	}
	d := &s.blobsDown
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// blobsWritable is nil when the photo store may take an upload: it has
// not failed, or a probe now stores a byte. Otherwise it is the store's
// error, for the upload to be refused before its bytes. The probe runs
// without the lock: the devices that ask meanwhile are refused at once,
// not held behind a store that may take long to answer.
func (s *Server) blobsWritable(ctx context.Context) error {
	d := &s.blobsDown
	d.mu.Lock()
	if d.err == nil {
		d.mu.Unlock()
		return nil
	}
	now := s.now()
	if d.probing {
		err := d.err
		d.mu.Unlock()
		return storeError("cannot store photos now", err)
	}
	d.probing = true
	d.mu.Unlock()
	err := s.probeBlobs(ctx, now)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.probing = false
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the next request probes
		}
		d.err = err
		return storeError("cannot store photos now", err)
	}
	if d.err != nil {
		s.log.Info("photo store writable again")
	}
	d.err = nil
	return nil
}

// probeBlobs stores a byte in the probe's upload and deletes it. It
// appends where the upload ends: a probe that stopped between its write
// and its delete (a server stopped then, a delete the full disk refused,
// another server process probing the same database) leaves bytes there,
// and a byte asked at offset 0 was refused as a failing store, for good.
func (s *Server) probeBlobs(ctx context.Context, now time.Time) error {
	at, err := s.store.UploadLength(ctx, blobsProbeKey)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		_, err = s.store.AppendUpload(ctx, blobsProbeKey, at, []byte{0}, now)
		var oe *UploadOffsetError
		if try == 0 && errors.As(err, &oe) { // moved meanwhile (another process's probe)
			at = oe.Stored
			continue
		}
		break
	}
	if err != nil {
		return err
	}
	return s.store.DeleteBlob(ctx, blobsProbeKey)
}

// blobsStored notes that the store took a write: whatever failed before
// works again.
func (s *Server) blobsStored() {
	d := &s.blobsDown
	d.mu.Lock()
	d.err = nil
	d.mu.Unlock()
}
