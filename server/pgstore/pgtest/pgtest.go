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
	"sync"
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
// URL; it is dropped when the test ends. A test of the migrations
// themselves (from an empty database, from every older version) takes
// one; a test that only needs the store opened takes MigratedDB, which
// costs PostgreSQL a fraction of it.
func FreshDB(t testing.TB) string {
	t.Helper()
	base := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return createDB(ctx, t, base, "hamlet_test_", "")
}

// MigratedDB creates a database in the test cluster with migrate already
// applied and returns its URL; it is dropped when the test ends. It is a
// copy of a template database that migrate (the store's own runner,
// pgstore.Migrate, passed in because pgstore's own tests import this
// package) built in the first call of the test process: a store opened on
// it finds every migration applied, as a restarted server does. Migrating
// each test's database afresh cost PostgreSQL half a second of CPU on the
// 2 cores the tests share; a copy costs a few hundredths.
//
// Every caller in one test process must pass the same migrate. A package
// that calls it drops the template at the end of its TestMain
// (DropTemplate).
func MigratedDB(t testing.TB, migrate func(ctx context.Context, url string) error) string {
	t.Helper()
	base := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Held while copying too: CREATE DATABASE refuses a template another
	// session is connected to, and a copy is one.
	tpl.mu.Lock()
	defer tpl.mu.Unlock()
	if tpl.name == "" {
		name, err := buildTemplate(ctx, base, migrate)
		require.NoError(t, err)
		tpl.name, tpl.base = name, base
	}
	require.Equal(t, tpl.base, base, "%s changed within the test process", Env)
	return createDB(ctx, t, base, "hamlet_test_", "TEMPLATE "+tpl.name+fileCopy(ctx, t, base))
}

// tpl is this test process's migrated template (MigratedDB).
var tpl struct {
	mu   sync.Mutex
	name string // "" until built
	base string // the cluster it is in
	copy string // " STRATEGY FILE_COPY", or "" before PostgreSQL 15
	seen bool   // copy is known
}

// buildTemplate creates a database named for this process (test
// processes of several packages share the cluster) and migrates it.
func buildTemplate(ctx context.Context, base string, migrate func(ctx context.Context, url string) error) (string, error) {
	name := fmt.Sprintf("hamlet_tpl_%d_%s", os.Getpid(), randomHex(4))
	if err := adminExec(ctx, base, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create the template database: %w", err)
	}
	u, err := withDB(base, name)
	if err == nil {
		err = migrate(ctx, u)
	}
	if err != nil {
		_ = adminExec(ctx, base, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		return "", fmt.Errorf("migrate the template database: %w", err)
	}
	return name, nil
}

// fileCopy is the STRATEGY clause for a copy of the template. FILE_COPY
// copies the template's files (PostgreSQL 15's default, WAL_LOG, writes
// every page of it to the WAL: four times the CPU for a database this
// small); older servers copy files anyway and know no STRATEGY. Called
// with tpl.mu held.
func fileCopy(ctx context.Context, t testing.TB, base string) string {
	t.Helper()
	if !tpl.seen {
		conn, err := pgx.Connect(ctx, base)
		require.NoError(t, err, "connect to %s", Env)
		var v int
		err = conn.QueryRow(ctx, `SELECT current_setting('server_version_num')::int`).Scan(&v)
		conn.Close(ctx)
		require.NoError(t, err, "read the server's version")
		if v >= 150000 {
			tpl.copy = " STRATEGY FILE_COPY"
		}
		tpl.seen = true
	}
	return tpl.copy
}

// DropTemplate drops the template MigratedDB built in this process, if
// any: a package that uses MigratedDB calls it in TestMain after m.Run.
// (scripts/pg-test.sh deletes the whole cluster afterwards anyway; a
// developer's own HAMLET_TEST_POSTGRES cluster keeps what is not dropped.)
func DropTemplate() {
	tpl.mu.Lock()
	defer tpl.mu.Unlock()
	if tpl.name == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = adminExec(ctx, tpl.base, `DROP DATABASE IF EXISTS `+tpl.name+` WITH (FORCE)`)
	tpl.name = ""
}

// createDB creates a database named prefix and random letters, with the
// CREATE DATABASE options opts, dropped when the test ends, and returns its
// URL.
func createDB(ctx context.Context, t testing.TB, base, prefix, opts string) string {
	t.Helper()
	name := prefix + randomHex(6)
	q := `CREATE DATABASE ` + name
	if opts != "" {
		q += ` ` + opts
	}
	require.NoError(t, adminExec(ctx, base, q))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = adminExec(ctx, base, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	})
	u, err := withDB(base, name)
	require.NoError(t, err)
	return u
}

// adminExec runs one statement on a connection of its own to base.
func adminExec(ctx context.Context, base, q string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", Env, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// withDB is base with its database replaced by name.
func withDB(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse %s: %w", Env, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
