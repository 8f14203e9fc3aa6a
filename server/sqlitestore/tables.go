package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// ReadTables runs fn in one read transaction of the database, so that what
// it reads is one moment of it (migrate-store copies a deployment to
// PostgreSQL with it: pgstore.TableSource). read calls row with the values
// of cols of every row of table, as the driver gives them; vals is the
// row's only until row returns.
func (s *Store) ReadTables(ctx context.Context, fn func(read func(table string, cols []string, row func(vals []any) error) error) error) error {
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open the SQLite database: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read the SQLite database: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck
	return fn(func(table string, cols []string, row func([]any) error) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table)
		if err != nil {
			return fmt.Errorf("read SQLite (is it this release's schema? start this hamlet-server on it once): %w", err)
		}
		defer rows.Close()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			if err := row(vals); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
