package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Bulk loading. A first clone writes every row of the scope: a province
// is over a million rows, and each secondary index of the row tables
// (households by hamlet, visits by household and date, ...) takes its
// entries in random order, touching a different page for almost every
// row. So a clone of a large snapshot (bulkCloneRows) into a replica that
// holds no rows drops those indexes first and builds them again after the
// last chunk, from sorted data, in one pass each. The dropped indexes' SQL
// stays in agent_meta (clone_indexes) until they are rebuilt, so a clone
// cut and resumed (or a crash) still ends with every index; queries
// meanwhile are correct, only slower.

// bulkCloneRows is the smallest snapshot whose clone drops the indexes
// (SyncOptions.BulkCloneRows). The bulk path pays at the province's
// million rows; from 2,600 to 26,000 rows both ways took the same time
// within noise (medians of 3 runs of 5 clones), while dropping the indexes
// changes the schema twice, so the connection prepares every statement
// it kept again: the simulation's many small clones (issue 17).
const bulkCloneRows = 10000

// bulkCloneKept is the most rows a replica may hold outside clone_drop
// for a clone to drop its indexes: a laptop's own rows not taken yet and
// its refusals, not a scope's worth.
const bulkCloneKept = 1000

// dropIndexesForClone drops the row tables' secondary indexes of a
// replica that holds no rows but those the clone replaces (clone_drop,
// holdSynced: a re-clone, or a first clone of a laptop that recorded
// before it ever synced) and a few others (its own rows the server has
// not taken, rows with a refused change), remembering their SQL. It does
// nothing if the replica holds more rows the clone does not replace, or
// the indexes are already dropped.
func (r *Replica) dropIndexesForClone(ctx context.Context) error {
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM row_state WHERE id NOT IN (SELECT row_id FROM clone_drop) LIMIT ?)`,
		bulkCloneKept+1).Scan(&n); err != nil {
		return err
	}
	if n > bulkCloneKept {
		return nil
	}
	if saved, err := r.meta(ctx, r.db, "clone_indexes"); err != nil || saved != "" {
		return err
	}
	var tables []string
	for t, cols := range r.cols {
		if len(cols) > 0 {
			tables = append(tables, "'"+t+"'")
		}
	}
	if len(tables) == 0 {
		return nil
	}
	rows, err := r.db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (`+strings.Join(tables, ", ")+`)`)
	if err != nil {
		return err
	}
	var names, sqls []string
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			rows.Close()
			return err
		}
		names, sqls = append(names, name), append(sqls, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(sqls) == 0 {
		return err
	}
	blob, _ := json.Marshal(sqls)
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := t.setMeta("clone_indexes", string(blob)); err != nil {
		return err
	}
	for _, name := range names {
		if err := t.exec(`DROP INDEX IF EXISTS "` + name + `"`); err != nil {
			return fmt.Errorf("drop index %s for the clone: %w", name, err)
		}
	}
	return t.commit()
}

// restoreIndexes builds again the indexes a clone dropped.
func (r *Replica) restoreIndexes(ctx context.Context) error {
	saved, err := r.meta(ctx, r.db, "clone_indexes")
	if err != nil || saved == "" {
		return err
	}
	var sqls []string
	if err := json.Unmarshal([]byte(saved), &sqls); err != nil {
		return fmt.Errorf("indexes dropped for the clone: %w", err)
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	// Sort in temporary files, not in memory: an index of a million rows
	// would otherwise cost its size in RAM.
	if err := t.exec(`PRAGMA temp_store = FILE`); err != nil {
		return err
	}
	for _, q := range sqls {
		q = strings.Replace(q, "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
		if err := t.exec(q); err != nil {
			return fmt.Errorf("rebuild index after the clone: %w", err)
		}
	}
	if err := t.exec(`DELETE FROM agent_meta WHERE key = 'clone_indexes'`); err != nil {
		return err
	}
	if err := t.exec(`PRAGMA temp_store = MEMORY`); err != nil { // the connection's usual setting
		return err
	}
	return t.commit()
}
