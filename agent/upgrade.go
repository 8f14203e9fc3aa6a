package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// projectedKey in agent_meta is the schema version the row tables were last
// filled for. A replica made before the key existed ran schema 1.
const projectedKey = "projected_schema"

// backfill fills the columns a schema upgrade just added from the row
// states. While the replica ran the older schema, the fields it did not
// know arrived and stayed in row_state (apply installs every field; the
// projection writes only the columns it has): the upgrade's ADD COLUMN
// (schema's migrations) makes the column, this puts those values in it. It
// writes only the row tables' new columns and projectedKey: the row states,
// the cursor, the outbox and the clock stay as they were, so nothing is
// pulled or pushed again. One transaction: a crash before it commits leaves
// projectedKey behind, and the next Open fills again.
func (r *Replica) backfill(ctx context.Context, fresh bool) error {
	want := max(r.sch.Version(), 1)
	have, err := r.metaInt(ctx, r.db, projectedKey)
	if err != nil {
		return err
	}
	if have == 0 && !fresh {
		have = 1
	}
	if fresh || int(have) >= want {
		if fresh || int(have) < want {
			return setMeta(ctx, r.writer(), projectedKey, int64(want))
		}
		return nil // a newer version filled them; never move the mark back
	}
	added := map[string][]string{} // table -> columns added after have
	for _, t := range r.sch.Tables() {
		for _, f := range t.Fields {
			if f.Since > int(have) && f.Since <= want && r.hasColumn(t.Name, f.Name) {
				added[t.Name] = append(added[t.Name], f.Name)
			}
		}
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	for table, cols := range added {
		if err := t.fillColumns(table, cols); err != nil {
			return fmt.Errorf("%s (%s): %w", table, strings.Join(cols, ", "), err)
		}
	}
	if err := t.setMeta(projectedKey, int64(want)); err != nil {
		return err
	}
	return t.commit()
}

func (r *Replica) hasColumn(table, col string) bool {
	for _, c := range r.cols[table] {
		if c == col {
			return true
		}
	}
	return false
}

// fillColumns sets cols of every row of table from its row state, only
// where the state holds one of them (the rest stay NULL, as they were).
func (t *txn) fillColumns(table string, cols []string) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, scope, state FROM row_state WHERE tbl = ?`, table)
	if err != nil {
		return err
	}
	type fill struct {
		id   string
		args []any
	}
	var raws []rawState
	for rows.Next() {
		var idText, scope string
		var blob []byte
		if err := rows.Scan(&idText, &scope, &blob); err != nil {
			rows.Close()
			return err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			rows.Close()
			return err
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	states, err := t.r.decodeRows(t.ctx, t.q(), raws)
	if err != nil {
		return err
	}
	var fills []fill
	for _, st := range states {
		held := false
		args := make([]any, 0, len(cols)+1)
		for _, c := range cols {
			if v := st.cur[c]; v != nil {
				args = append(args, columnValue(v.Value))
				held = true
			} else {
				args = append(args, nil)
			}
		}
		if held {
			fills = append(fills, fill{st.idText(), append(args, st.idText())})
		}
	}
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = c + " = ?"
	}
	q := `UPDATE ` + table + ` SET ` + strings.Join(set, ", ") + ` WHERE id = ?`
	for _, f := range fills {
		if err := t.exec(q, f.args...); err != nil {
			return err
		}
	}
	return nil
}
