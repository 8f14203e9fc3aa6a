package agent

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// loadColumns records, per synced table, the columns its row table has (so
// the projection writes exactly those; fields without a column live only in
// row_state).
func (r *Replica) loadColumns(ctx context.Context) error {
	names := r.sch.Tables()
	args := make([]any, len(names))
	for i, t := range names {
		args[i] = t.Name
	}
	if len(args) == 0 {
		r.cols, r.colKinds = map[string][]string{}, map[string]map[string]syncproto.Kind{}
		return nil
	}
	// A table's columns are what its CREATE statement says (SQLite
	// rewrites it at each ALTER TABLE): the tables' statements, read
	// without parsing anything, name the answer a replica opened before
	// in this process got (issue 17's simulation opens its laptops'
	// replicas again and again; the table-valued pragma below is a
	// quarter of an open). A process's first open does not look: a
	// command opens its replica once, and the look would cost it a
	// statement more.
	key := ""
	if columnsOpens.Add(1) > 1 {
		var err error
		if key, err = tablesKey(ctx, r.db, args); err != nil {
			return err
		}
		if c, ok := columnsSeen.Load(key); ok {
			r.cols, r.colKinds = c.(*tableColumns).copy()
			return nil
		}
	}
	// One statement for every table: a statement is parsed on each new
	// connection, and the replica opens one at every start (issue 17).
	cols := map[string][]string{}
	kinds := map[string]map[string]syncproto.Kind{}
	for _, t := range names {
		kinds[t.Name] = map[string]syncproto.Kind{}
	}
	rows, err := r.db.QueryContext(ctx, `SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY m.name, p.cid`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return err
		}
		if c == "id" {
			continue
		}
		cols[t] = append(cols[t], c)
		if k, ok := columnKind(typ); ok {
			kinds[t][c] = k
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	seen := &tableColumns{cols: cols, kinds: kinds}
	if key != "" {
		columnsSeen.Store(key, seen)
	}
	r.cols, r.colKinds = seen.copy()
	return nil
}

// columnsSeen are the answers of loadColumns in this process, by
// tablesKey.
var columnsSeen sync.Map // string -> *tableColumns

// columnsOpens counts loadColumns' calls in this process.
var columnsOpens atomic.Int64

// tableColumns is one answer of loadColumns, kept: never changed.
type tableColumns struct {
	cols  map[string][]string
	kinds map[string]map[string]syncproto.Kind
}

// copy is the answer for one replica: its maps its own, the column lists
// shared but full (an append copies them).
func (c *tableColumns) copy() (map[string][]string, map[string]map[string]syncproto.Kind) {
	cols := make(map[string][]string, len(c.cols))
	for t, cs := range c.cols {
		cols[t] = slices.Clip(cs)
	}
	kinds := make(map[string]map[string]syncproto.Kind, len(c.kinds))
	for t, ks := range c.kinds {
		kinds[t] = maps.Clone(ks)
	}
	return cols, kinds
}

// tablesKey names the tables names (args) as the file defines them: each
// name asked and the CREATE statement of the table of that name, if any.
func tablesKey(ctx context.Context, db *sql.DB, names []any) (string, error) {
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?`+strings.Repeat(", ?", len(names)-1)+`) ORDER BY name`, names...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n.(string))
		b.WriteByte(0)
	}
	for rows.Next() {
		var name string
		var text sql.NullString
		if err := rows.Scan(&name, &text); err != nil {
			return "", err
		}
		b.WriteByte(1)
		b.WriteString(name)
		b.WriteByte(0)
		b.WriteString(text.String)
	}
	return b.String(), rows.Err()
}

// txn is one write transaction with its prepared statements.
type txn struct {
	r     *Replica
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// conn, when set, is the connection held for the transaction and the
	// pragmas around it (beginPulled); done releases it.
	conn *sql.Conn
	done bool
	// ro: a read transaction (beginRead), which commit does not count.
	ro bool
	// walEmpty: the write-ahead log held no frame when this write
	// transaction took the write lock, so the database file held every
	// transaction before it (walcheck.go).
	walEmpty bool
	// walSalt: the salts of the write-ahead log's header when this write
	// transaction took the write lock (0: none, or unknown); a log begun
	// anew since the last counted transaction has other salts
	// (walcheck.go).
	walSalt int64
	// changes0, schema0: SQLite's total_changes() and schema_version
	// when this write transaction took the write lock. Both unmoved at
	// commit, it changed nothing: it is not counted, and commits no page
	// (walcheck.go, wroteNothing).
	changes0, schema0 int64
	// carriedOut, set by a pull, says a row's non-own versions are from a
	// log this replica stopped following (carriedOut in scope.go).
	carriedOut func(st *rowState, c *syncproto.Change, cur *syncproto.Version) (bool, error)
}

// begin starts a write transaction. The DSN's _txlock=immediate makes it
// BEGIN IMMEDIATE: it takes the write lock first, waiting (busy_timeout) for
// another process's writer, instead of reading first and failing with
// SQLITE_BUSY when it then needs to write.
//
// A replica marked damaged takes no write (damage.go).
func (r *Replica) begin(ctx context.Context) (*txn, error) {
	if err := r.writable(); err != nil {
		return nil, err
	}
	return r.beginCounted(ctx)
}

// beginCounted is begin without the damage check: the write transaction
// of one statement that ran on r.db before it was counted (counted in
// walcheck.go).
func (r *Replica) beginCounted(ctx context.Context) (*txn, error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &txn{r: r, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
	if err := t.noteWriteStart(); err != nil {
		tx.Rollback() //nolint:errcheck // the error above is the one to report
		return nil, err
	}
	return t, nil
}

// beginRead starts a read transaction: deferred (the DSN's _txlock makes
// every other transaction BEGIN IMMEDIATE), so a long list or check takes no
// write lock and never makes another process's write wait.
func (r *Replica) beginRead(ctx context.Context) (*txn, error) {
	tx, err := r.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &txn{r: r, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, ro: true}, nil
}

// beginPulled starts the transaction of pulled batches on a connection held
// for it alone, with synchronous = NORMAL: such a batch can always be pulled
// again (its cursor commits with it), so it skips the fsync that local
// writes pay for. Holding the connection means no local write can slip in
// between the pragma and its reset and be committed without fsync. It also
// turns off automatic checkpoints, which would copy the log into the
// database after every batch of a long clone; the pull checkpoints once at
// its end (Replica.checkpoint).
func (r *Replica) beginPulled(ctx context.Context) (*txn, error) {
	if err := r.writable(); err != nil {
		return nil, err
	}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0`); err != nil {
		conn.Close()
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t := &txn{r: r, ctx: ctx, conn: conn}
		t.release()
		return nil, err
	}
	t := &txn{r: r, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, conn: conn}
	if err := t.noteWriteStart(); err != nil {
		t.rollback()
		return nil, err
	}
	return t, nil
}

// release puts a held connection back with its durable setting.
func (t *txn) release() {
	if t.conn == nil || t.done {
		return
	}
	t.done = true
	if _, err := t.conn.ExecContext(context.WithoutCancel(t.ctx), `PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 1000`); err != nil {
		// Never hand back a connection that would commit without fsync.
		_ = t.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	t.conn.Close()
}

func (t *txn) rollback() {
	for _, s := range t.stmts {
		s.Close()
	}
	t.tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	t.release()
}

func (t *txn) commit() error {
	if !t.ro {
		if err := t.countCommit(); err != nil {
			t.rollback()
			return err
		}
	}
	for _, s := range t.stmts {
		s.Close()
	}
	t.stmts = nil
	err := t.tx.Commit()
	t.release()
	if err == nil {
		t.r.commits.Add(1)
	}
	return err
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
	out, err := t.r.decodeRows(t.ctx, t.q(), []rawState{{id: id, table: table, scope: scope, blob: blob}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// getMany loads the states of many rows at once (missing ones are absent):
// one prepared statement for the whole batch, the ids passed as one JSON
// array.
func (t *txn) getMany(ids []syncproto.RowID) (map[syncproto.RowID]*rowState, error) {
	out := make(map[syncproto.RowID]*rowState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	st, err := t.stmt(`SELECT r.id, r.tbl, r.scope, r.state FROM json_each(?) j JOIN row_state r ON r.id = j.value`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, jsonIDs(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var idText, table, scope string
	var raws []rawState
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
			return nil, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return nil, err
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	states, err := t.r.decodeRows(t.ctx, t.q(), raws)
	if err != nil {
		return nil, err
	}
	for _, s := range states {
		out[s.id] = s
	}
	return out, nil
}

// jsonIDs is ids as a JSON array of their texts, the one argument of a
// query that reads many rows through json_each.
func jsonIDs(ids []syncproto.RowID) string {
	arg := make([]byte, 0, len(ids)*39+2)
	arg = append(arg, '[')
	for i, id := range ids {
		if i > 0 {
			arg = append(arg, ',')
		}
		arg = append(arg, '"')
		arg = appendUUID(arg, id)
		arg = append(arg, '"')
	}
	return string(append(arg, ']'))
}

// appendUUID appends id in its canonical text form (what id.String() makes)
// without allocating.
func appendUUID(b []byte, id syncproto.RowID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], id[10:])
	return append(b, buf[:]...)
}

// save writes the state and its projection into the row table.
func (t *txn) save(s *rowState) error {
	blob, err := s.encode(t.r.stored(s))
	if err != nil {
		return err
	}
	if sc := s.str(schema.ScopeField); sc != "" {
		s.scope = sc
	}
	if err := t.exec(`INSERT INTO row_state (id, tbl, scope, state) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET tbl = excluded.tbl, scope = excluded.scope, state = excluded.state`,
		s.id.String(), s.table, s.scope, blob); err != nil {
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
	return t.exec(q, s.projectArgs(cols, make([]any, 0, len(cols)+1))...)
}

// saveChunk is how many rows one multi-row INSERT writes: few statements
// per batch, far below SQLite's 32,766 parameters.
const saveChunk = 64

// saveMany writes the states of many rows and their projections with
// multi-row INSERTs, in id order (the B-trees are keyed by the random ids,
// so sorted inserts touch each page once).
func (t *txn) saveMany(states []*rowState) error {
	slices.SortFunc(states, func(a, b *rowState) int { return bytes.Compare(a.id[:], b.id[:]) })
	args := make([]any, 0, saveChunk*4)
	for i := 0; i < len(states); i += saveChunk {
		part := states[i:min(i+saveChunk, len(states))]
		args = args[:0]
		for _, s := range part {
			blob, err := s.encode(t.r.stored(s))
			if err != nil {
				return err
			}
			if sc := s.str(schema.ScopeField); sc != "" {
				s.scope = sc
			}
			args = append(args, s.idText(), s.table, s.scope, blob)
		}
		if err := t.insertStates(args, len(part)); err != nil {
			return err
		}
	}
	// Projections, table by table (states are in id order within each).
	byTable := map[string][]*rowState{}
	var tables []string
	for _, s := range states {
		if len(t.r.cols[s.table]) == 0 {
			continue // a table this build does not know: row_state keeps it
		}
		if _, ok := byTable[s.table]; !ok {
			tables = append(tables, s.table)
		}
		byTable[s.table] = append(byTable[s.table], s)
	}
	sort.Strings(tables)
	for _, table := range tables {
		cols := t.r.cols[table]
		rows := byTable[table]
		for i := 0; i < len(rows); i += saveChunk {
			part := rows[i:min(i+saveChunk, len(rows))]
			args = args[:0]
			for _, s := range part {
				args = s.projectArgs(cols, args)
			}
			if err := t.insertProjections(table, cols, args, len(part)); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertStates writes n row_state rows, args holding (id, tbl, scope,
// state) of each.
func (t *txn) insertStates(args []any, n int) error {
	return t.execBatched(args, n, 4, func(k int) string {
		return `INSERT INTO row_state (id, tbl, scope, state) VALUES (?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?)`, k-1) + `
		ON CONFLICT (id) DO UPDATE SET tbl = excluded.tbl, scope = excluded.scope, state = excluded.state`
	})
}

// insertProjections writes n rows of the row table table, args holding
// each row's id and cols (projectArgs).
func (t *txn) insertProjections(table string, cols []string, args []any, n int) error {
	one := `(?` + strings.Repeat(", ?", len(cols)) + `)`
	return t.execBatched(args, n, len(cols)+1, func(k int) string {
		return `INSERT OR REPLACE INTO ` + table + ` (id, ` + strings.Join(cols, ", ") + `) VALUES ` + one + strings.Repeat(", "+one, k-1)
	})
}

// batchSizes are the row counts of the multi-row statements execBatched
// runs, largest first. A statement of each row count is a text of its
// own, prepared on each connection that runs it: with any count from 1
// to saveChunk, short-lived connections (a command, a laptop of issue
// 17's simulation opening its replica again) prepared a new variant at
// almost every batch. With these few, n rows take at most three
// statements of each size below saveChunk (the server's store cuts its
// runs the same way: chunkSizes in server/sqlitestore).
var batchSizes = [...]int{saveChunk, 16, 4, 1}

// execBatched runs the multi-row statement text(k) over n rows of width
// arguments each (args, in row order), k taken from batchSizes: the rows
// are written in the same order, as one statement of n rows would.
func (t *txn) execBatched(args []any, n, width int, text func(k int) string) error {
	for _, k := range batchSizes {
		for ; n >= k; n -= k {
			if err := t.exec(text(k), args[:k*width]...); err != nil {
				return err
			}
			args = args[k*width:]
		}
	}
	return nil
}

// idText is the row id as its tables key it, made once per row.
func (s *rowState) idText() string {
	if s.text == "" {
		s.text = s.id.String()
	}
	return s.text
}

// projectArgs appends the row-table values of s: its id, then cols.
func (s *rowState) projectArgs(cols []string, args []any) []any {
	args = append(args, s.idText())
	for _, c := range cols {
		if v := s.cur[c]; v != nil {
			args = append(args, columnValue(v.Value))
		} else if c == syncproto.TombstoneField {
			args = append(args, int64(0))
		} else {
			args = append(args, nil)
		}
	}
	return args
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
// st is the row's state as the transaction holds it (nil: as stored).
func (t *txn) drop(table string, id syncproto.RowID, st *rowState) error {
	return t.dropNoting(table, id, st, true)
}

// dropNoting is drop; note says whether the drop notes the row's own
// versions the server took (keepRowAway): not for a row no snapshot or
// move can bring back (a tombstone collected, gc.go).
func (t *txn) dropNoting(table string, id syncproto.RowID, st *rowState, note bool) error {
	if err := t.keepRowAway(id, st, note); err != nil {
		return fmt.Errorf("keep the unpushed writes of a dropped row: %w", err)
	}
	if table == "field_reports" {
		if err := t.keepPhotosAway(`id = ?`, id.String()); err != nil {
			return err
		}
	}
	if err := t.exec(`DELETE FROM row_state WHERE id = ?`, id.String()); err != nil {
		return err
	}
	if err := t.exec(`DELETE FROM tombs WHERE id = ?`, id.String()); err != nil {
		return err
	}
	if len(t.r.cols[table]) == 0 {
		return nil
	}
	return t.exec(`DELETE FROM `+table+` WHERE id = ?`, id.String())
}

func (t *txn) metaInt(key string) (int64, error) { return t.r.metaInt(t.ctx, t.tx, key) }
func (t *txn) setMeta(key string, v any) error   { return setMeta(t.ctx, t.tx, key, v) }
func (t *txn) setMetas(kv ...any) error          { return setMetas(t.ctx, t.tx, kv...) }

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
