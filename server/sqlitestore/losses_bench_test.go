package sqlitestore_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkSnapshotLosses: the conflicts of one chunk's 2,000 rows, on a
// server whose log holds 50,000 conflicts on other rows (every hamlet's,
// never archived). Read by the rows' ids; a range from the chunk's first
// id to its last (random ids) read nearly all 50,000: about 100 ms a
// chunk where this takes about 5 (stop 63, on 2 cores).
//
//	go test ./server/sqlitestore -run '^$' -bench SnapshotLosses
func BenchmarkSnapshotLosses(b *testing.B) {
	ctx := context.Background()
	s, err := sqlitestore.Open(ctx, filepath.Join(b.TempDir(), "hamlet.db"), sqlitestore.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	err = s.Update(ctx, func(tx server.Tx) error {
		for i := range 50000 {
			r := uuid.New()
			c := syncproto.Conflict{Key: syncproto.FieldKey{Table: "households", Row: r, Field: "phone"}, Scope: "32002-09",
				Loser:  syncproto.Version{Value: syncproto.String("0912000111"), HLC: 1, Dot: syncproto.Dot{Replica: r, Seq: uint64(i + 1)}},
				Winner: syncproto.Version{Value: syncproto.String("0912000222"), HLC: 2, Dot: syncproto.Dot{Replica: r, Seq: uint64(i + 2)}}}
			if err := tx.AddConflict(c, time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]uuid.UUID, 2000)
	for i := range chunk {
		chunk[i] = uuid.New()
	}
	slices.SortFunc(chunk, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for b.Loop() {
		if _, err := s.SnapshotLosses(ctx, "households", chunk); err != nil {
			b.Fatal(err)
		}
	}
}
