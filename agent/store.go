package agent

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// loadColumns records, per synced table, the columns its row table has (so
// the projection writes exactly those; fields without a column live only in
// row_state).
func (r *Replica) loadColumns(ctx context.Context) error {
	r.cols = map[string][]string{}
	for _, t := range schema.SyncedTables() {
		rows, err := r.db.QueryContext(ctx, fmt.Sprintf(`SELECT name FROM pragma_table_info('%s')`, t.Name))
		if err != nil {
			return err
		}
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			if c != "id" {
				cols = append(cols, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(cols) > 0 {
			r.cols[t.Name] = cols
		}
	}
	return nil
}

// txn is one write transaction with its prepared statements.
type txn struct {
	r     *Replica
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (r *Replica) begin(ctx context.Context) (*txn, error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &txn{r: r, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}, nil
}

func (t *txn) rollback() {
	for _, s := range t.stmts {
		s.Close()
	}
	t.tx.Rollback() //nolint:errcheck // after Commit it is a no-op
}

func (t *txn) commit() error {
	for _, s := range t.stmts {
		s.Close()
	}
	t.stmts = nil
	return t.tx.Commit()
}

func (t *txn) stmt(query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = s
	return s, nil
}

func (t *txn) exec(query string, args ...any) error {
	s, err := t.stmt(query)
	if err != nil {
		return err
	}
	_, err = s.ExecContext(t.ctx, args...)
	return err
}

// get loads one row's state, nil if the replica does not hold it.
func (t *txn) get(id syncproto.RowID) (*rowState, error) {
	s, err := t.stmt(`SELECT tbl, scope, state FROM row_state WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	var table, scope string
	var blob []byte
	err = s.QueryRowContext(t.ctx, id.String()).Scan(&table, &scope, &blob)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeState(table, id, scope, blob)
}

// getMany loads the states of many rows at once (missing ones are absent).
func (t *txn) getMany(ids []syncproto.RowID) (map[syncproto.RowID]*rowState, error) {
	out := make(map[syncproto.RowID]*rowState, len(ids))
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		args := make([]any, len(part))
		for j, id := range part {
			args[j] = id.String()
		}
		q := `SELECT id, tbl, scope, state FROM row_state WHERE id IN (?` + strings.Repeat(",?", len(part)-1) + `)`
		rows, err := t.tx.QueryContext(t.ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var idText, table, scope string
			var blob []byte
			if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
				rows.Close()
				return nil, err
			}
			id, err := uuid.Parse(idText)
			if err != nil {
				rows.Close()
				return nil, err
			}
			s, err := decodeState(table, id, scope, blob)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = s
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// folded is the search text of a row.
func folded(s *rowState) string {
	if s.table != "households" {
		return ""
	}
	return Fold(strings.Join([]string{s.str("head_name"), s.str("address"), s.str("phone"), s.str(schema.ScopeField)}, " "))
}

// save writes the state and its projection into the row table.
func (t *txn) save(s *rowState) error {
	blob, err := s.encode()
	if err != nil {
		return err
	}
	if sc := s.str(schema.ScopeField); sc != "" {
		s.scope = sc
	}
	if err := t.exec(`INSERT INTO row_state (id, tbl, scope, folded, state) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET tbl = excluded.tbl, scope = excluded.scope, folded = excluded.folded, state = excluded.state`,
		s.id.String(), s.table, s.scope, folded(s), blob); err != nil {
		return err
	}
	return t.project(s)
}

func (t *txn) project(s *rowState) error {
	cols := t.r.cols[s.table]
	if len(cols) == 0 {
		return nil // a table this build does not know: row_state keeps it
	}
	q := `INSERT OR REPLACE INTO ` + s.table + ` (id, ` + strings.Join(cols, ", ") + `) VALUES (?` + strings.Repeat(", ?", len(cols)) + `)`
	args := make([]any, 0, len(cols)+1)
	args = append(args, s.id.String())
	for _, c := range cols {
		if v := s.cur[c]; v != nil {
			args = append(args, columnValue(v.Value))
		} else if c == syncproto.TombstoneField {
			args = append(args, 0)
		} else {
			args = append(args, nil)
		}
	}
	return t.exec(q, args...)
}

func columnValue(v syncproto.Value) any {
	if v.Kind() == syncproto.KindBool {
		if v.AsBool() {
			return int64(1)
		}
		return int64(0)
	}
	return v.Any()
}

// drop removes a row (eviction): state and projection, not its outbox.
func (t *txn) drop(table string, id syncproto.RowID) error {
	if err := t.exec(`DELETE FROM row_state WHERE id = ?`, id.String()); err != nil {
		return err
	}
	if len(t.r.cols[table]) == 0 {
		return nil
	}
	return t.exec(`DELETE FROM `+table+` WHERE id = ?`, id.String())
}

func (t *txn) metaInt(key string) (int64, error) { return t.r.metaInt(t.ctx, t.tx, key) }
func (t *txn) setMeta(key string, v any) error   { return setMeta(t.ctx, t.tx, key, v) }

// valueArgs splits a value into the (kind, value) columns.
func valueArgs(v syncproto.Value) (int64, any) { return int64(v.Kind()), columnValue(v) }

// valueFrom rebuilds a value from its (kind, value) columns.
func valueFrom(kind int64, x any) syncproto.Value {
	switch syncproto.Kind(kind) {
	case syncproto.KindBool:
		n, _ := x.(int64)
		return syncproto.Bool(n != 0)
	case syncproto.KindInt:
		n, _ := x.(int64)
		return syncproto.Int(n)
	case syncproto.KindFloat:
		switch f := x.(type) {
		case float64:
			return syncproto.Float(f)
		case int64:
			return syncproto.Float(float64(f))
		}
	case syncproto.KindString:
		switch s := x.(type) {
		case string:
			return syncproto.String(s)
		case []byte:
			return syncproto.String(string(s))
		}
	}
	return syncproto.Null()
}

func replicaBytes(d syncproto.Dot) any {
	if d.IsZero() {
		return nil
	}
	return d.Replica[:]
}

func dotFrom(b []byte, seq int64) syncproto.Dot {
	var d syncproto.Dot
	if len(b) == 16 && seq > 0 {
		copy(d.Replica[:], b)
		d.Seq = uint64(seq)
	}
	return d
}
