package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

func (s *Store) ProbeWrite(ctx context.Context, size int) error {
	err := s.write(ctx, func(w *writeTx) error {
		if size > 0 {
			// hex() of a zeroblob is size bytes of text: pages SQLite must
			// find room for (overflow pages), freed by the update below.
			if _, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('health_probe', hex(zeroblob(?)))
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, size/2); err != nil {
				return err
			}
		}
		_, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('health_probe', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatInt(time.Now().UnixMilli(), 10))
		return err
	})
	if err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	return nil
}

// trouble marks a failed write whose cause the server reports on /healthz
// (server.ErrStoreFull, server.ErrStoreReadOnly), by SQLite's result code.
func trouble(err error) error {
	var se interface{ Code() int } // modernc.org/sqlite
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case 13: // SQLITE_FULL
		return fmt.Errorf("%w: %w", server.ErrStoreFull, err)
	case 8: // SQLITE_READONLY
		return fmt.Errorf("%w: %w", server.ErrStoreReadOnly, err)
	}
	return err
}
