package server

import (
	"context"
	"errors"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// BlobStore is what photos need of a store (photos.go): content-addressed
// blobs written once and never replaced, uploads that grow chunk by chunk
// and survive a cut (any process of a deployment continues one another
// began), and the field reports that name a photo. On SQLite blobs are
// files under the data directory; on PostgreSQL rows of the database, so
// every server process on it serves every photo.
//
// Keys are what BlobKey makes: a photo's hex SHA-256, or that followed by
// a suffix for a thumbnail. Stores refuse any other key (they are file
// names on SQLite).
type BlobStore interface {
	// PutBlob stores data under key; a key that holds a blob already keeps
	// it (same key, same content).
	PutBlob(ctx context.Context, key string, data []byte, at time.Time) error
	// Blob returns a blob's bytes (ErrNotFound).
	Blob(ctx context.Context, key string) ([]byte, error)
	// StatBlob describes a stored blob (ErrNotFound).
	StatBlob(ctx context.Context, key string) (BlobInfo, error)
	// UploadLength is the length of key's unfinished upload: 0 for none.
	UploadLength(ctx context.Context, key string) (int64, error)
	// AppendUpload adds data at offset at of key's upload and returns the
	// new length. at must be the length stored (ErrUploadOffset, wrapped
	// in an *UploadOffsetError saying it, otherwise): two processes
	// continuing one upload cannot interleave.
	AppendUpload(ctx context.Context, key string, at int64, data []byte, now time.Time) (int64, error)
	// FinishUpload hands the upload's bytes to check. When check passes
	// they become the blob key, at once (a blob is never seen
	// half-written), and the upload is dropped; when it fails the upload
	// is dropped and check's error returned. A blob already stored under
	// key is kept and the upload dropped.
	FinishUpload(ctx context.Context, key string, check func([]byte) error, now time.Time) error
	// Blobs calls fn for every blob and every unfinished upload.
	Blobs(ctx context.Context, fn func(BlobInfo) error) error
	// MarkBlob records since when a blob is unreferenced (nil: it is
	// referenced again).
	MarkBlob(ctx context.Context, key string, since *time.Time) error
	// DeleteBlob removes key's blob and upload; a key with neither is no
	// error.
	DeleteBlob(ctx context.Context, key string) error
	// PhotoReports lists the field reports whose photo_digests names
	// digest, deleted ones included.
	PhotoReports(ctx context.Context, digest string) ([]PhotoReport, error)
	// PhotoDigestsInUse is every digest a field report names, or a
	// conflict's losing value of photo_digests does (restoring the loser
	// brings its photos back, so they are kept).
	PhotoDigestsInUse(ctx context.Context) (map[string]bool, error)
	// ReportWriters are the replicas that wrote a field report as the
	// server holds it: the origins of its current versions, and of the
	// photo_digests value the current one was written over (its base).
	// None for a report the server does not hold. The server takes a
	// photo from their devices even after the report left their scope
	// (photos.go mayHavePhoto).
	ReportWriters(ctx context.Context, report syncproto.RowID) ([]syncproto.ReplicaID, error)
}

// BlobInfo is one stored blob or unfinished upload.
type BlobInfo struct {
	Key  string
	Size int64
	// Upload: an unfinished upload of Size bytes so far, last written at
	// Updated.
	Upload  bool
	Created time.Time
	Updated time.Time
	// Unreferenced is since when collection found no report naming it.
	Unreferenced *time.Time
}

// PhotoReport is a field report that names a photo.
type PhotoReport struct {
	ID      string // the report's row id
	Hamlet  string
	Deleted bool
}

// ErrUploadOffset: an upload chunk's offset is not the stored length.
var ErrUploadOffset = errors.New("upload offset is not the stored length")

// UploadOffsetError is ErrUploadOffset with the length stored.
type UploadOffsetError struct{ Stored int64 }

func (e *UploadOffsetError) Error() string { return ErrUploadOffset.Error() }
func (e *UploadOffsetError) Unwrap() error { return ErrUploadOffset }

// Blob key suffixes: a photo's key is its digest alone.
const thumbSuffix = ".thumb"

// BlobKey is the key of a photo (thumb false) or of its thumbnail.
func BlobKey(digest string, thumb bool) string {
	if thumb {
		return digest + thumbSuffix
	}
	return digest
}

// ValidBlobKey reports whether key is one BlobKey makes; stores check it
// before using a key (on SQLite it names a file).
func ValidBlobKey(key string) bool {
	d := key
	if len(key) == 64+len(thumbSuffix) && key[64:] == thumbSuffix {
		d = key[:64]
	}
	if len(d) != 64 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if c := d[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// BlobDigest is the photo digest a key belongs to.
func BlobDigest(key string) string {
	if len(key) > 64 {
		return key[:64]
	}
	return key
}
