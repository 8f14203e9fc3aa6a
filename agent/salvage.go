package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/migration"
	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// salvaged is what could be read from a damaged replica.
type salvaged struct {
	meta       map[string]any
	states     []*rowState
	outbox     tableRows
	conflicts  tableRows
	filed      tableRows // record_filed
	superseded tableRows // superseded (superseded.go)
	unreadable map[string]int
	// undecodable is rows read whose state did not decode.
	undecodable int
	// values are the row tables' rows read, by table and id: the current
	// values the row states keep there (state_values.go).
	values map[string]map[syncproto.RowID]*rowValues
}

// tableRows are rows of one table with their column names.
type tableRows struct {
	cols []string
	rows [][]any
}

func (t tableRows) col(row []any, name string) any {
	for i, c := range t.cols {
		if c == name {
			return row[i]
		}
	}
	return nil
}

// salvageBudget bounds the probes spent finding where reading can go on
// past the damage in one table.
const salvageBudget = 4000

// salvageBatch is the rows one range query reads.
const salvageBatch = 512

func (sv *salvaged) read(ctx context.Context, file string) error {
	// writable_schema: SQLite then loads what it can read of a damaged
	// schema instead of refusing every table.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: file}).EscapedPath()+"?_pragma=busy_timeout(10000)&_pragma=writable_schema(1)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	s := &salvager{ctx: ctx, db: db, unreadable: sv.unreadable}
	// The settings (the replica id, the sequence counter, the
	// enrollment): a small table, read from both ends.
	s.ends("agent_meta", "key", []string{"key", "value"}, func(row []any) {
		if k, ok := row[0].(string); ok {
			sv.meta[k] = row[1]
		}
	})
	var raws []rawState
	s.keyed("row_state", "id", []string{"id", "tbl", "scope", "state"}, uuidSpace, func(row []any) {
		idText, _ := row[0].(string)
		table, _ := row[1].(string)
		scope, _ := row[2].(string)
		blob, _ := row[3].([]byte)
		id, err := uuid.Parse(idText)
		if err != nil || table == "" {
			sv.undecodable++
			return
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	})
	// The row tables hold the current values of the states that keep
	// them there: read them too, each as far as it can be read.
	sv.values = map[string]map[syncproto.RowID]*rowValues{}
	for _, raw := range raws {
		if _, ok := sv.values[raw.table]; ok || !needsColumns(raw.blob) || !migration.ValidName(raw.table) {
			continue
		}
		m := map[syncproto.RowID]*rowValues{}
		sv.values[raw.table] = m
		cols := s.columns(raw.table)
		if len(cols) < 2 || cols[0] != "id" {
			s.unreadable[raw.table]++
			continue
		}
		s.keyed(raw.table, "id", cols, uuidSpace, func(row []any) {
			idText, _ := row[0].(string)
			if id, err := uuid.Parse(idText); err == nil {
				m[id] = &rowValues{cols: cols[1:], vals: row[1:]}
			}
		})
	}
	for _, raw := range raws {
		if st := sv.decode(raw); st != nil {
			sv.states = append(sv.states, st)
		}
	}
	sv.outbox = s.rows("outbox", "seq")
	sv.conflicts = s.rows("conflicts", "id")
	// Absent from a replica older than the table: nothing to salvage.
	if cols := s.columns("record_filed"); len(cols) > 0 && cols[0] == "row_id" {
		sv.filed.cols = cols
		s.keyed("record_filed", "row_id", cols, uuidSpace, func(row []any) { sv.filed.rows = append(sv.filed.rows, row) })
	}
	// The writes the server answered superseded whose winner this replica
	// has not met: the clone after the repair lists those conflicts from
	// them (superseded.go). A small table, read from both ends; absent from
	// a replica older than agent migration 14.
	if cols := s.columns("superseded"); len(cols) > 0 {
		sv.superseded.cols = cols
		s.ends("superseded", "row_id", cols, func(row []any) { sv.superseded.rows = append(sv.superseded.rows, row) })
	}
	return ctx.Err()
}

// merge adds the rows read page by page that SQLite did not return.
// colsOf gives a row table's columns (without id) in declaration order, as
// this build makes them: a row-table record holds its fields in that
// order (a damaged file of another schema version holds fewer or more
// trailing ones), so a row state read page by page finds its values in it.
func (sv *salvaged) merge(raw *rawRows, colsOf map[string][]string) {
	for idText, rec := range raw.rows {
		id, err := uuid.Parse(idText)
		if err != nil {
			continue
		}
		for table, cols := range colsOf {
			// Ids are one space across tables: the state says which
			// table's columns the record has (decode picks by table).
			m := sv.values[table]
			if m == nil {
				m = map[syncproto.RowID]*rowValues{}
				if sv.values == nil {
					sv.values = map[string]map[syncproto.RowID]*rowValues{}
				}
				sv.values[table] = m
			}
			if _, ok := m[id]; ok {
				continue
			}
			vals := make([]any, len(cols))
			copy(vals, rec[1:])
			m[id] = &rowValues{cols: cols, vals: vals}
		}
	}
	for k, v := range raw.meta {
		if _, ok := sv.meta[k]; !ok {
			sv.meta[k] = v
		}
	}
	have := map[string]bool{}
	for _, st := range sv.states {
		have[st.id.String()] = true
	}
	for _, r := range raw.states {
		idText := r[0].(string)
		if have[idText] {
			continue
		}
		id, _ := uuid.Parse(idText)
		blob, _ := r[3].([]byte)
		st := sv.decode(rawState{id: id, table: r[1].(string), scope: r[2].(string), blob: blob})
		if st == nil {
			continue
		}
		have[idText] = true
		sv.states = append(sv.states, st)
	}
	sv.outbox = mergeRows(sv.outbox, raw.outbox, outboxBase)
	sv.conflicts = mergeRows(sv.conflicts, raw.conflicts, conflictsBase)
}

// decode decodes a salvaged row state with the row-table values read
// beside it; nil (counted undecodable) if it does not decode, or if it
// keeps a current value in a row-table row the damage took: that row comes
// back from the server with the re-clone (Repair), as does a state lost
// whole.
func (sv *salvaged) decode(raw rawState) *rowState {
	var cols versions.Columns
	if m := sv.values[raw.table]; m != nil {
		cols = m[raw.id].columns()
	}
	st, err := decodeState(raw.table, raw.id, raw.scope, raw.blob, cols)
	if err != nil {
		sv.undecodable++
		return nil
	}
	return st
}

// mergeRows adds raw records (fields in declaration order, key first) to
// rows read by SQLite, by key.
func mergeRows(t tableRows, raw [][]any, base []string) tableRows {
	if len(t.cols) == 0 {
		t.cols = base
	}
	have := map[int64]bool{}
	for _, r := range t.rows {
		if k, ok := r[0].(int64); ok {
			have[k] = true
		}
	}
	for _, r := range raw {
		k := r[0].(int64)
		if have[k] {
			continue
		}
		have[k] = true
		row := make([]any, len(t.cols))
		copy(row, r)
		t.rows = append(t.rows, row)
	}
	sort.Slice(t.rows, func(i, j int) bool {
		a, _ := t.rows[i][0].(int64)
		b, _ := t.rows[j][0].(int64)
		return a < b
	})
	return t
}

// salvager reads what it can of one damaged file.
type salvager struct {
	ctx        context.Context
	db         *sql.DB
	unreadable map[string]int
	probes     int // probes spent on the current table
}

// columns are a table's columns as the damaged file declares them (its
// schema may be older or newer than this build's; buildRepaired keeps the
// ones both know).
func (s *salvager) columns(table string) []string {
	rows, err := s.db.QueryContext(s.ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if rows.Scan(&c) != nil {
			return nil
		}
		cols = append(cols, c)
	}
	if rows.Err() != nil {
		return nil
	}
	return cols
}

// query runs one range query, handing each row to each; it returns the
// rows read, the last key read, and the error that stopped it.
func (s *salvager) query(q string, cols int, each func([]any), args ...any) (n int, last any, err error) {
	rows, err := s.db.QueryContext(s.ctx, q, args...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		row := make([]any, cols)
		ptrs := make([]any, cols)
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, last, err
		}
		n++
		last = row[0]
		each(row)
	}
	return n, last, rows.Err()
}

// rows reads a table keyed by its integer rowid (key), every column.
func (s *salvager) rows(table, key string) tableRows {
	out := tableRows{cols: s.columns(table)}
	if len(out.cols) == 0 || out.cols[0] != key {
		s.unreadable[table]++
		return out
	}
	s.keyed(table, key, out.cols, intSpace, func(row []any) { out.rows = append(out.rows, row) })
	sort.Slice(out.rows, func(i, j int) bool {
		a, _ := out.rows[i][0].(int64)
		b, _ := out.rows[j][0].(int64)
		return a < b
	})
	return out
}

// keySpace maps a table's keys to numbers in key order, so the salvager
// can jump past an unreadable range of keys.
type keySpace struct {
	lo, hi *big.Int
	arg    func(*big.Int) any         // the number as a query argument
	num    func(any) (*big.Int, bool) // a key read back as a number
}

var (
	// intSpace: sequences and conflict ids count from 1; 2^48 is far
	// above either.
	intSpace = keySpace{
		lo:  big.NewInt(-1 << 48),
		hi:  big.NewInt(1 << 48),
		arg: func(n *big.Int) any { return n.Int64() },
		num: func(v any) (*big.Int, bool) {
			k, ok := v.(int64)
			return big.NewInt(k), ok
		},
	}
	// uuidSpace: row ids in their canonical text, whose order is the
	// order of their 128-bit values.
	uuidSpace = keySpace{
		lo: new(big.Int),
		hi: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)),
		arg: func(n *big.Int) any {
			var id uuid.UUID
			n.FillBytes(id[:])
			return id.String()
		},
		num: func(v any) (*big.Int, bool) {
			s, _ := v.(string)
			id, err := uuid.Parse(s)
			return new(big.Int).SetBytes(id[:]), err == nil
		},
	}
)

var one = big.NewInt(1)

// keyed reads a table in key order. Where a read fails (a damaged page),
// it looks for the nearest key from which reading works again, galloping
// then bisecting, and goes on from there: what lies between is counted
// unreadable.
func (s *salvager) keyed(table, key string, cols []string, ks keySpace, each func([]any)) {
	s.probes = 0
	seen := map[string]bool{}
	once := func(row []any) {
		k := fmt.Sprint(row[0])
		if seen[k] {
			return
		}
		seen[k] = true
		each(row)
	}
	q := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table + ` WHERE ` + key + ` >= ? AND ` + key + ` <= ? ORDER BY ` + key + ` LIMIT ?`
	hi := ks.arg(ks.hi)
	// probe: can a read start at k?
	probe := func(k *big.Int) bool {
		s.probes++
		_, _, err := s.query(q, len(cols), func([]any) {}, ks.arg(k), hi, 1)
		return err == nil
	}
	cur := new(big.Int).Set(ks.lo)
	for cur.Cmp(ks.hi) <= 0 && s.ctx.Err() == nil {
		n, last, err := s.query(q, len(cols), once, ks.arg(cur), hi, salvageBatch)
		if n > 0 {
			k, ok := ks.num(last)
			if !ok || k.Cmp(cur) < 0 {
				// A key out of order: the page lies; skip past it.
				err = errors.New("key out of order")
			} else {
				cur = k.Add(k, one)
			}
		}
		if err == nil {
			if n < salvageBatch {
				return
			}
			continue
		}
		s.unreadable[table]++
		// Gallop: cur fails; try cur+1, cur+2, cur+4, ... until a read
		// works, then bisect back to the first key where it does.
		failed := new(big.Int).Set(cur)
		step := big.NewInt(1)
		var works *big.Int
		for s.probes < salvageBudget {
			p := new(big.Int).Add(failed, step)
			if p.Cmp(ks.hi) > 0 {
				break
			}
			if probe(p) {
				works = p
				break
			}
			failed = p
			step.Lsh(step, 1)
		}
		if works == nil {
			return // nothing readable after the damage
		}
		for s.probes < salvageBudget {
			gap := new(big.Int).Sub(works, failed)
			if gap.Cmp(one) <= 0 {
				break
			}
			m := new(big.Int).Add(failed, gap.Rsh(gap, 1))
			if probe(m) {
				works = m
			} else {
				failed = m
			}
		}
		cur = works
	}
}

// ends reads a small table keyed by text from its start until a read
// fails, then from its end backwards until one fails.
func (s *salvager) ends(table, key string, cols []string, each func([]any)) {
	sel := `SELECT ` + strings.Join(cols, ", ") + ` FROM ` + table
	_, _, err := s.query(sel+` ORDER BY `+key, len(cols), each)
	if err == nil {
		return
	}
	s.unreadable[table]++
	_, _, _ = s.query(sel+` ORDER BY `+key+` DESC`, len(cols), each)
}
