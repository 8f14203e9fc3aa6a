package stmtcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"
)

func open(t testing.TB, conns int) (*sql.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sql.Open(DriverName, "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	db.SetMaxOpenConns(conns)
	t.Cleanup(func() { db.Close() })
	_, err = db.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)`)
	require.NoError(t, err)
	return db, path
}

// A text runs prepared once per connection, in and out of transactions.
func TestPreparedOnce(t *testing.T) {
	db, _ := open(t, 1)
	ctx := context.Background()
	before := prepares.Load()
	for i := range 50 {
		_, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, fmt.Sprint(i), i)
		require.NoError(t, err)
		var v int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ?`, fmt.Sprint(i)).Scan(&v))
		require.Equal(t, i, v)
	}
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, "tx", 1)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	// The agent's way: each transaction prepares what it runs.
	for i := range 5 {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		st, err := tx.PrepareContext(ctx, `UPDATE kv SET v = v + ? WHERE k = ?`)
		require.NoError(t, err)
		_, err = st.ExecContext(ctx, i, "1")
		require.NoError(t, err)
		require.NoError(t, st.Close())
		require.NoError(t, tx.Commit())
	}
	require.Equal(t, int64(3), prepares.Load()-before, "three texts, one connection")
	var v int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ?`, "1").Scan(&v))
	require.Equal(t, 1+0+1+2+3+4, v)
	var n int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM kv WHERE k = 'tx'`).Scan(&n))
	require.Zero(t, n, "the rolled back insert")
}

// A query inside the loop over the rows of the same text works: the kept
// statement is busy, so the inner one is prepared apart.
func TestNestedSameText(t *testing.T) {
	db, _ := open(t, 1)
	ctx := context.Background()
	for i := range 5 {
		_, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, ?)`, fmt.Sprint(i), i)
		require.NoError(t, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	const q = `SELECT k, v FROM kv WHERE v >= ? ORDER BY v`
	rows, err := tx.QueryContext(ctx, q, 0)
	require.NoError(t, err)
	sum := 0
	for rows.Next() {
		var k string
		var v int
		require.NoError(t, rows.Scan(&k, &v))
		inner, err := tx.QueryContext(ctx, q, v)
		require.NoError(t, err)
		for inner.Next() {
			sum++
		}
		require.NoError(t, inner.Close())
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, 5+4+3+2+1, sum)
}

// More texts than the cache keeps: the oldest go, even one whose rows are
// open (it is closed with them), and every query still answers.
func TestEviction(t *testing.T) {
	db, _ := open(t, 1)
	ctx := context.Background()
	_, err := db.Exec(`INSERT INTO kv (k, v) VALUES ('a', 1), ('b', 2)`)
	require.NoError(t, err)
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	defer c.Close()
	held, err := c.QueryContext(ctx, `SELECT v FROM kv ORDER BY k`)
	require.NoError(t, err)
	require.True(t, held.Next())
	for i := range Size + 10 {
		var v int
		require.NoError(t, c.QueryRowContext(ctx, fmt.Sprintf(`SELECT v + %d FROM kv WHERE k = 'a'`, i)).Scan(&v))
		require.Equal(t, 1+i, v)
	}
	var v int
	require.NoError(t, held.Scan(&v))
	require.Equal(t, 1, v)
	require.True(t, held.Next())
	require.NoError(t, held.Scan(&v))
	require.Equal(t, 2, v)
	require.False(t, held.Next())
	require.NoError(t, held.Close())
	var kept int
	require.NoError(t, c.Raw(func(dc any) error { kept = len(dc.(*conn).kept); return nil }))
	require.Equal(t, Size, kept)
}

// Closing the database finalizes the kept statements: the last connection
// of a WAL database then checkpoints and removes the -wal file, which
// SQLite does not do while statements are left (it keeps the connection
// open as a zombie).
func TestCloseFinalizes(t *testing.T) {
	db, path := open(t, 2)
	ctx := context.Background()
	for i := range 10 {
		_, err := db.ExecContext(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, fmt.Sprint(i), i)
		require.NoError(t, err)
		var n int
		require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM kv`).Scan(&n))
	}
	_, err := os.Stat(path + "-wal")
	require.NoError(t, err, "a -wal file while open")
	require.NoError(t, db.Close())
	_, err = os.Stat(path + "-wal")
	require.True(t, errors.Is(err, os.ErrNotExist), "the -wal file after Close: %v", err)
}

// Driver statements a caller holds past its connection's life (the
// store's log statements, when database/sql drops a connection a cut
// pull interrupted) are finalized with the connection; closing them
// afterwards is a no-op, not a crash in the sqlite driver.
func TestHeldPastConnection(t *testing.T) {
	db, _ := open(t, 1)
	ctx := context.Background()
	c, err := db.Conn(ctx)
	require.NoError(t, err)
	var held []driver.Stmt
	require.ErrorIs(t, c.Raw(func(dc any) error {
		p := dc.(driver.ConnPrepareContext)
		for range 2 { // the second is prepared outside the cache: the first is held
			st, err := p.PrepareContext(ctx, `SELECT v FROM kv WHERE k = ?`)
			if err != nil {
				return err
			}
			held = append(held, st)
		}
		return driver.ErrBadConn // database/sql closes the connection
	}), driver.ErrBadConn)
	_ = c.Close() // already closed by database/sql
	require.NoError(t, db.Close())
	for _, st := range held {
		require.NoError(t, st.Close())
	}
}

// A kept statement follows the schema (SQLite prepares it again), errors
// are the sqlite driver's, and a statement that failed runs again.
func TestSchemaChangeAndErrors(t *testing.T) {
	db, _ := open(t, 1)
	ctx := context.Background()
	_, err := db.Exec(`INSERT INTO kv (k, v) VALUES ('a', 1)`)
	require.NoError(t, err)
	cols := func() []string {
		rows, err := db.QueryContext(ctx, `SELECT * FROM kv`)
		require.NoError(t, err)
		defer rows.Close()
		c, err := rows.Columns()
		require.NoError(t, err)
		return c
	}
	require.Equal(t, []string{"k", "v"}, cols())
	_, err = db.Exec(`ALTER TABLE kv ADD COLUMN w TEXT`)
	require.NoError(t, err)
	require.Equal(t, []string{"k", "v", "w"}, cols())

	const ins = `INSERT INTO kv (k, v) VALUES (?, ?)`
	_, err = db.ExecContext(ctx, ins, "a", 2)
	var se *sqlite.Error
	require.True(t, errors.As(err, &se), "%T %v", err, err)
	_, err = db.ExecContext(ctx, ins, "b", 2)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `SELECT nope FROM kv`)
	require.True(t, errors.As(err, &se), "%T %v", err, err)
}

func BenchmarkPointQuery(b *testing.B) {
	for _, drv := range []string{"sqlite", DriverName} {
		b.Run(drv, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "t.db")
			db, err := sql.Open(drv, "file:"+path+"?_pragma=journal_mode(WAL)")
			require.NoError(b, err)
			defer db.Close()
			db.SetMaxOpenConns(1)
			_, err = db.Exec(`CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)`)
			require.NoError(b, err)
			_, err = db.Exec(`INSERT INTO kv (k, v) VALUES ('a', 1)`)
			require.NoError(b, err)
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				var v int
				if err := db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ? AND v IS NOT NULL ORDER BY k LIMIT 1`, "a").Scan(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The read-only pragmas are kept, and a kept one answers as a new one
// would: data_version sees another connection's commit, quick_check sees
// a table created after it was prepared and still finds the file sound.
// A pragma that acts is still parsed at every run.
func TestReadOnlyPragmasKept(t *testing.T) {
	db, path := open(t, 1)
	ctx := context.Background()
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer other.Close()

	dataVersion := func() int64 {
		var v int64
		require.NoError(t, db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v))
		return v
	}
	quickCheck := func() []string {
		rows, err := db.QueryContext(ctx, `PRAGMA main.quick_check`)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}
	before := prepares.Load()
	v0 := dataVersion()
	require.Equal(t, []string{"ok"}, quickCheck())
	require.Equal(t, int64(2), prepares.Load()-before, "both prepared by the cache")

	require.Equal(t, v0, dataVersion(), "nothing committed elsewhere")
	_, err = other.Exec(`INSERT INTO kv (k, v) VALUES ('x', 1)`)
	require.NoError(t, err)
	require.NotEqual(t, v0, dataVersion(), "the kept statement sees the other connection's commit")
	_, err = other.Exec(`CREATE TABLE t2 (a INTEGER PRIMARY KEY, b TEXT UNIQUE)`)
	require.NoError(t, err)
	_, err = other.Exec(`INSERT INTO t2 (b) VALUES ('y')`)
	require.NoError(t, err)
	require.Equal(t, []string{"ok"}, quickCheck())
	require.Equal(t, int64(2), prepares.Load()-before, "both kept, not prepared again")

	for range 3 {
		_, err = db.ExecContext(ctx, `PRAGMA cache_size = -1000`)
		require.NoError(t, err)
	}
	require.Equal(t, int64(2), prepares.Load()-before, "a pragma that acts is never kept")
}
