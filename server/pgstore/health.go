package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hamlet-vn/hamlet/server"
)

// ProbeWrite is server.Store's: a committed write to the health row of
// server_meta. A full disk on PostgreSQL fails any commit (its WAL needs
// room), so size only makes the row that large for a moment.
func (s *Store) ProbeWrite(ctx context.Context, size int) error {
	return trouble(s.probeWrite(ctx, size))
}

func (s *Store) probeWrite(ctx context.Context, size int) error {
	c, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	defer s.release(c)
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	const upsert = `INSERT INTO server_meta (key, value) VALUES ('health_probe', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`
	if size > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO server_meta (key, value) VALUES ('health_probe', repeat('0', $1))
			ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, size); err != nil {
			return fmt.Errorf("probe write: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, upsert, strconv.FormatInt(time.Now().UnixMilli(), 10)); err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("probe write: %w", err)
	}
	return nil
}

// trouble marks a failed write whose cause the server reports on /healthz
// (server.ErrStoreFull, server.ErrStoreReadOnly), by its SQLSTATE.
func trouble(err error) error {
	var pe interface{ SQLState() string }
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.SQLState() {
	case "53100": // disk_full
		return fmt.Errorf("%w: %w", server.ErrStoreFull, err)
	case "25006": // read_only_sql_transaction
		return fmt.Errorf("%w: %w", server.ErrStoreReadOnly, err)
	}
	return err
}
