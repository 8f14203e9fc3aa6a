package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TableCopy is what CopyFromSQLite did to one table: the rows copied and
// the checksum both sides agreed on.
type TableCopy struct {
	Table    string `json:"table"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`
}

// valueColumns are the columns that hold a synced value, by the column
// that says its kind: the SQLite store keeps the value as a native SQLite
// value, this store as bytes (encodeValue). They are copied and compared
// as syncproto values.
var valueColumns = map[string]map[string]string{
	"sync_log":       {"val": "vkind"},
	"sync_conflicts": {"loser_val": "loser_kind"},
	"sync_refused":   {"val": "kind"},
}

// identityColumns are this store's identity columns: copied as they are,
// then their sequences moved past the highest value.
var identityColumns = map[string]string{"replicas": "idx", "sync_conflicts": "id", "sync_refused": "id"}

// TableSource is a deployment to copy (sqlitestore.Store is one): ReadTables
// runs fn in one read transaction, in which read calls row with the values
// of cols of every row of table, as its database's driver gives them (vals
// is the row's only until row returns).
//
// Blobs and Blob give the deployment's photos (kept outside its tables on
// SQLite, as files): each whole photo and thumbnail is copied with its
// bytes. Unfinished uploads are not: the server then answers that none
// of it is stored, and the laptop sends that photo again from its start.
type TableSource interface {
	ReadTables(ctx context.Context, fn func(read func(table string, cols []string, row func(vals []any) error) error) error) error
	Blobs(ctx context.Context, fn func(server.BlobInfo) error) error
	Blob(ctx context.Context, key string) ([]byte, error)
}

// ErrTargetNotEmpty refuses CopyFromSQLite into a database that already
// holds a deployment.
var ErrTargetNotEmpty = errors.New("the PostgreSQL database already holds a deployment: copy into a new, empty database (createdb)")

// CopyFromSQLite copies a SQLite deployment (src: the server's store,
// migrated to this release) into this store, which must hold no
// deployment yet: every table, in batches of batch rows (COPY), in one
// transaction, reading src in one read transaction so the copy is one
// moment of it. Devices keep their ids, token hashes and cursors; replicas
// their indexes; the log its seqs; the server its id: agents enrolled on
// SQLite go on syncing, nothing re-enrolls.
//
// Before committing it verifies each table: the row count and an
// order-independent checksum of every row's canonical text (synced values
// as syncproto values, others by the PostgreSQL column's type), computed
// from src as read and from this store as written. Any difference rolls
// the whole copy back. progress, if set, hears of each table copied.
func (s *Store) CopyFromSQLite(ctx context.Context, src TableSource, batch int, progress func(TableCopy)) ([]TableCopy, error) {
	if batch <= 0 {
		batch = 10_000
	}
	var used int64
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM sync_log) + (SELECT count(*) FROM teams) + (SELECT count(*) FROM devices)
		+ (SELECT count(*) FROM admin_units) + (SELECT count(*) FROM users) + (SELECT count(*) FROM replicas)`).Scan(&used); err != nil {
		return nil, fmt.Errorf("check the target database: %w", err)
	}
	if used > 0 {
		return nil, ErrTargetNotEmpty
	}
	tables, err := s.copyTables(ctx)
	if err != nil {
		return nil, err
	}
	var out []TableCopy
	err = src.ReadTables(ctx, func(read func(string, []string, func([]any) error) error) error {
		out, err = s.copyFrom(ctx, src, read, tables, batch, progress)
		return err
	})
	return out, err
}

// copyFrom is CopyFromSQLite within the read of the source.
func (s *Store) copyFrom(ctx context.Context, src TableSource, read func(string, []string, func([]any) error) error, tables []tableSpec, batch int,
	progress func(TableCopy)) ([]TableCopy, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	// Open wrote a server id: the source's replaces it.
	if _, err := tx.Exec(ctx, `DELETE FROM server_meta`); err != nil {
		return nil, fmt.Errorf("clear server_meta: %w", err)
	}
	var out []TableCopy
	for _, t := range tables {
		n, sum, err := copyTable(ctx, read, tx, t, batch)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		if afterCopy != nil {
			if err := afterCopy(ctx, tx, t.name); err != nil {
				return nil, err
			}
		}
		n2, sum2, err := checksumTarget(ctx, tx, t)
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", t.name, err)
		}
		if n != n2 || sum != sum2 {
			return nil, fmt.Errorf("verify %s: SQLite has %d rows (checksum %s), PostgreSQL %d (checksum %s): nothing was committed", t.name, n, sum, n2, sum2)
		}
		tc := TableCopy{Table: t.name, Rows: n, Checksum: sum}
		out = append(out, tc)
		if progress != nil {
			progress(tc)
		}
	}
	photos, err := copyBlobs(ctx, src, tx)
	if err != nil {
		return nil, err
	}
	out = append(out, photos)
	if progress != nil {
		progress(photos)
	}
	for tbl, col := range identityColumns {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), GREATEST((SELECT max(%s) FROM %s), 1), (SELECT max(%s) FROM %s) IS NOT NULL)`,
			tbl, col, col, tbl, col, tbl)); err != nil {
			return nil, fmt.Errorf("move the %s.%s sequence: %w", tbl, col, err)
		}
	}
	// The head: the highest seq the log, any device's cursor, the log
	// floors or the SQLite store's kept head (gc_head: GC removed the top
	// entries) has seen, so every cursor stays valid and no seq is handed
	// out twice.
	if _, err := tx.Exec(ctx, `UPDATE sync_log_head SET seq = GREATEST(
		(SELECT COALESCE(max(seq), 0) FROM sync_log),
		(SELECT COALESCE(max(cursor), 0) FROM devices),
		(SELECT COALESCE(max(seq), 0) FROM sync_log_floor),
		(SELECT COALESCE(max(value::bigint), 0) FROM server_meta WHERE key = 'gc_head'))`); err != nil {
		return nil, fmt.Errorf("set the log head: %w", err)
	}
	var id string
	if err := tx.QueryRow(ctx, `SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&id); err != nil {
		return nil, fmt.Errorf("the SQLite database has no server id: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return out, nil
}

// afterCopy, set by tests, runs between copying a table and verifying it
// (to show that a value changed in between is caught).
var afterCopy func(ctx context.Context, tx pgx.Tx, table string) error

type tableSpec struct {
	name  string
	cols  []string
	types []string // PostgreSQL data_type per column
}

// copyTables lists this store's tables and columns, but for its own
// bookkeeping: migrations (each store records its own), the log head
// (set from the log afterwards) and the units' version (its triggers move
// it as admin_units is copied), and the photos' tables, whose bytes the
// SQLite store keeps as files (copyBlobs).
func (s *Store) copyTables(ctx context.Context) ([]tableSpec, error) {
	rows, err := s.pool.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name NOT IN ('schema_migrations', 'sync_log_head', 'admin_units_version')
			AND table_name NOT IN ('blobs', 'blob_uploads', 'blob_upload_chunks')
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	var out []tableSpec
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].name != t {
			out = append(out, tableSpec{name: t})
		}
		last := &out[len(out)-1]
		last.cols = append(last.cols, c)
		last.types = append(last.types, typ)
	}
	return out, rows.Err()
}

func copyTable(ctx context.Context, read func(string, []string, func([]any) error) error, tx pgx.Tx, t tableSpec, batch int) (int64, string, error) {
	kindOf := kindColumns(t)
	var sum checksum
	var n int64
	buf := make([][]any, 0, batch)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(buf)); err != nil {
			return err
		}
		buf = buf[:0]
		return nil
	}
	err := read(t.name, t.cols, func(vals []any) error {
		row := make([]any, len(vals))
		canon := make([]string, len(vals))
		for i, v := range vals {
			if k := kindOf[i]; k >= 0 {
				kind, _ := vals[k].(int64)
				sv, err := versions.FromSQL(kind, v)
				if err != nil {
					return fmt.Errorf("column %s: %w", t.cols[i], err)
				}
				_, row[i] = encodeValue(sv)
				canon[i] = canonValue(sv)
				continue
			}
			var err error
			if row[i], err = toPG(v, t.types[i]); err != nil {
				return fmt.Errorf("column %s: %w", t.cols[i], err)
			}
			canon[i] = canonical(row[i])
		}
		sum.add(canon)
		n++
		buf = append(buf, row)
		if len(buf) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	if err := flush(); err != nil {
		return 0, "", err
	}
	return n, sum.String(), nil
}

// kindColumns gives, per column of t, the index of the column holding its
// value kind, or -1 for an ordinary column.
func kindColumns(t tableSpec) []int {
	out := make([]int, len(t.cols))
	for i, c := range t.cols {
		out[i] = -1
		if k, ok := valueColumns[t.name][c]; ok {
			for j, c2 := range t.cols {
				if c2 == k {
					out[i] = j
				}
			}
		}
	}
	return out
}

func checksumTarget(ctx context.Context, tx pgx.Tx, t tableSpec) (int64, string, error) {
	rows, err := tx.Query(ctx, "SELECT "+strings.Join(t.cols, ", ")+" FROM "+t.name)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	kindOf := kindColumns(t)
	var sum checksum
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, "", err
		}
		canon := make([]string, len(vals))
		for i, v := range vals {
			if k := kindOf[i]; k >= 0 {
				b, _ := v.([]byte)
				sv, err := decodeValue(int16(asInt(vals[k])), b)
				if err != nil {
					return 0, "", err
				}
				canon[i] = canonValue(sv)
				continue
			}
			canon[i] = canonical(v)
		}
		sum.add(canon)
		n++
	}
	return n, sum.String(), rows.Err()
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case float64:
		return int64(x)
	}
	return 0
}

// toPG converts a SQLite value to the Go value of a PostgreSQL column type.
func toPG(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "double precision", "real":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a SQLite %T cannot go into a PostgreSQL %s column", v, typ)
}

// canonical is a column value's text for the checksum: the same for the
// value read from SQLite (after toPG) and read back from PostgreSQL.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return `\N`
	case bool:
		if x {
			return "t"
		}
		return "f"
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case []byte:
		return `\x` + hex.EncodeToString(x)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

func canonValue(v syncproto.Value) string {
	switch v.Kind() {
	case syncproto.KindNull:
		return "null"
	case syncproto.KindBool:
		return strconv.FormatBool(v.AsBool())
	case syncproto.KindInt:
		return "i" + strconv.FormatInt(v.AsInt(), 10)
	case syncproto.KindFloat:
		return "f" + strconv.FormatFloat(v.AsFloat(), 'g', -1, 64)
	}
	return strconv.Quote(v.AsString())
}

// copyBlobs copies every whole photo and thumbnail of src, bytes
// included, and verifies them as copyTable does a table: the count and a
// checksum of each blob's key, size, times and SHA-256, the target's
// hashed by PostgreSQL from the bytes it stored.
func copyBlobs(ctx context.Context, src TableSource, tx pgx.Tx) (TableCopy, error) {
	var sum checksum
	var n int64
	err := src.Blobs(ctx, func(b server.BlobInfo) error {
		if b.Upload {
			return nil
		}
		data, err := src.Blob(ctx, b.Key)
		if err != nil {
			return err
		}
		var unref *int64
		if b.Unreferenced != nil {
			ms := b.Unreferenced.UnixMilli()
			unref = &ms
		}
		if _, err := tx.Exec(ctx, `INSERT INTO blobs (key, data, size, created_ms, unreferenced_ms) VALUES ($1, $2, $3, $4, $5)`,
			b.Key, data, int64(len(data)), b.Created.UnixMilli(), unref); err != nil {
			return err
		}
		h := sha256.Sum256(data)
		sum.add(blobRow(b.Key, int64(len(data)), b.Created.UnixMilli(), unref, hex.EncodeToString(h[:])))
		n++
		return nil
	})
	if err != nil {
		return TableCopy{}, fmt.Errorf("copy photos: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT key, size, created_ms, unreferenced_ms, encode(sha256(data), 'hex') FROM blobs`)
	if err != nil {
		return TableCopy{}, fmt.Errorf("verify photos: %w", err)
	}
	defer rows.Close()
	var got checksum
	var n2 int64
	for rows.Next() {
		var key, digest string
		var size, created int64
		var unref *int64
		if err := rows.Scan(&key, &size, &created, &unref, &digest); err != nil {
			return TableCopy{}, fmt.Errorf("verify photos: %w", err)
		}
		got.add(blobRow(key, size, created, unref, digest))
		n2++
	}
	if err := rows.Err(); err != nil {
		return TableCopy{}, fmt.Errorf("verify photos: %w", err)
	}
	if n != n2 || sum != got {
		return TableCopy{}, fmt.Errorf("verify photos: SQLite has %d (checksum %s), PostgreSQL %d (checksum %s): nothing was committed", n, sum.String(), n2, got.String())
	}
	return TableCopy{Table: "blobs", Rows: n, Checksum: sum.String()}, nil
}

func blobRow(key string, size, created int64, unref *int64, digest string) []string {
	u := "null"
	if unref != nil {
		u = strconv.FormatInt(*unref, 10)
	}
	return []string{key, strconv.FormatInt(size, 10), strconv.FormatInt(created, 10), u, digest}
}

// checksum is an order-independent digest of rows: the sums, modulo 2^64,
// of the two halves of each row's SHA-256 prefix. A row copied twice or
// lost, or one changed value, changes it.
type checksum struct{ a, b uint64 }

func (c *checksum) add(cols []string) {
	h := sha256.Sum256([]byte(strings.Join(cols, "\x1f")))
	c.a += binary.BigEndian.Uint64(h[0:8])
	c.b += binary.BigEndian.Uint64(h[8:16])
}

func (c *checksum) String() string { return fmt.Sprintf("%016x%016x", c.a, c.b) }
