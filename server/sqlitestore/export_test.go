package sqlitestore

import (
	"context"
	"fmt"
)

// FillDatabase makes the store's file unable to grow past its size
// (SQLite's max_page_count), as a full disk does to the writes that need
// space; the returned func lifts it. It first packs the file (VACUUM), so
// no free page or half-empty page is left to take a write: a full disk
// leaves none either, and what fits in it then does not hang on how much
// an earlier write left free. For tests in package sqlitestore_test.
func FillDatabase(st *Store) (undo func() error, err error) {
	set := func(pages string) error {
		st.mu.Lock()
		defer st.mu.Unlock()
		ctx := context.Background()
		if pages == "" {
			if _, err := st.wconn.ExecContext(ctx, "VACUUM"); err != nil {
				return err
			}
			if err := st.wconn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
				return err
			}
		}
		_, err := st.wconn.ExecContext(ctx, "PRAGMA max_page_count = "+pages)
		return err
	}
	if err := set(""); err != nil {
		return nil, fmt.Errorf("fill database: %w", err)
	}
	return func() error { return set("1073741823") }, nil
}
