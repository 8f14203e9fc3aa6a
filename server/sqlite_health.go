package server

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

func (s *sqliteStore) ProbeWrite(ctx context.Context, size int) error {
	err := s.write(ctx, func(w *sqliteTx) error {
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
