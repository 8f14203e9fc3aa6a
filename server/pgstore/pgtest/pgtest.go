package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migration"
)

// Env is the variable that names the test cluster's database.
const Env = "HAMLET_TEST_POSTGRES"

// URL is the test cluster's database URL. It skips the test when Env is
// unset, unless CI is "true": then it fails the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set in CI: run the tests with `make test` (scripts/pg-test.sh starts PostgreSQL)", Env)
		}
		t.Skipf("%s is not set: run `make test` (scripts/pg-test.sh starts a throwaway PostgreSQL) to run the PostgreSQL tests", Env)
	}
	return u
}

// FreshDB creates an empty database in the test cluster and returns its
// URL; it is dropped when the test ends.
func FreshDB(t testing.TB) string {
	t.Helper()
	base := URL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "hamlet_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	require.NoError(t, err, "connect to %s", Env)
	_, err = conn.Exec(ctx, `CREATE DATABASE `+name)
	conn.Close(ctx)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			_, _ = conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}

// OpenDB opens a fresh database as *sql.DB (the form internal/migrate
// takes), closed when the test ends.
func OpenDB(t testing.TB) *sql.DB {
	t.Helper()
	cfg, err := pgx.ParseConfig(FreshDB(t))
	require.NoError(t, err)
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}

// Dump returns the schema of db's current schema (columns, constraints,
// indexes) with the schema_migrations rows, so two databases compare whole.
func Dump(t testing.TB, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	q := func(query string, n int) {
		rows, err := db.Query(query)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			vals := make([]any, n)
			ptrs := make([]any, n)
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			fmt.Fprintln(&b, vals...)
		}
		require.NoError(t, rows.Err())
	}
	q(`SELECT 'column', table_name, column_name, data_type, is_nullable, COALESCE(column_default, ''), is_identity
		FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, column_name`, 7)
	q(`SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE connamespace = current_schema()::regnamespace ORDER BY 2, 3`, 4)
	q(`SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 2, 3`, 4)
	q(`SELECT 'migration', set_name, version, name FROM schema_migrations ORDER BY set_name, version`, 4)
	return b.String()
}

// Set is a named migration set.
type Set struct {
	Name string
	Migs []migration.Migration
}

// UpgradeFromEveryVersion applies sets, in order, to an empty database;
// then, for each set and each k in 1..n-1, applies the sets before it, that
// set's versions 1..k, and then everything: every path must end in the same
// schema. That is what a database of any older release sees.
func UpgradeFromEveryVersion(t *testing.T, sets []Set) {
	t.Helper()
	ctx := context.Background()
	apply := func(db *sql.DB, sets []Set) {
		for _, s := range sets {
			require.NoError(t, migrate.Apply(ctx, db, s.Name, s.Migs))
		}
	}
	fresh := OpenDB(t)
	apply(fresh, sets)
	want := Dump(t, fresh)
	apply(fresh, sets) // again: a no-op
	require.Equal(t, want, Dump(t, fresh))
	for i, s := range sets {
		require.NoError(t, migration.CheckSet(s.Name, s.Migs))
		for k := 1; k < len(s.Migs); k++ {
			t.Run(fmt.Sprintf("%s_from_v%d", s.Name, k), func(t *testing.T) {
				db := OpenDB(t)
				apply(db, sets[:i])
				require.NoError(t, migrate.Apply(ctx, db, s.Name, s.Migs[:k]))
				v, err := migrate.Current(ctx, db, s.Name)
				require.NoError(t, err)
				require.Equal(t, k, v)
				apply(db, sets)
				require.Equal(t, want, Dump(t, db))
			})
		}
	}
}
