package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/internal/migration"
)

// ErrNewerThanCode is the sentinel behind *NewerError: test with errors.Is.
var ErrNewerThanCode = errors.New("database schema is newer than this program")

// NewerError says which set is ahead and by how much, so the caller can tell
// the user which release to install instead of a bare "refused".
type NewerError struct {
	Set      string
	Database int // highest version recorded in the database
	Code     int // highest version this program knows
}

func (e *NewerError) Error() string {
	return fmt.Sprintf("migrate: set %q: database is at version %d but this program knows only up to %d; install the newer release",
		e.Set, e.Database, e.Code)
}

func (e *NewerError) Unwrap() error { return ErrNewerThanCode }

// The SQL below formats set names, versions and migration names as literals
// instead of using placeholders: SQLite drivers take "?" and PostgreSQL
// drivers take "$1", and the same runner must serve both. migration.CheckSet restricts
// every formatted value to [a-z0-9_] or an int, so nothing can escape.

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	set_name TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (set_name, version)
)`

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// applied returns the recorded migrations of a set, by version.
func applied(ctx context.Context, q execer, set string) (map[int]string, int, error) {
	rows, err := q.QueryContext(ctx, fmt.Sprintf(
		`SELECT version, name FROM schema_migrations WHERE set_name = '%s' ORDER BY version`, set))
	if err != nil {
		return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	got := map[int]string{}
	top := 0
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		got[v] = name
		top = max(top, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	return got, top, nil
}

// Current returns the highest version of set recorded in db, 0 if none. It
// creates schema_migrations if missing, because no portable SQL asks "does
// this table exist" on both SQLite and PostgreSQL.
func Current(ctx context.Context, db *sql.DB, set string) (int, error) {
	if !migration.ValidName(set) {
		return 0, fmt.Errorf("migrate: set name %q must match [a-z0-9_]+", set)
	}
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	_, top, err := applied(ctx, db, set)
	return top, err
}

// Apply brings set up to the last version of migs. Each migration runs in its
// own transaction together with its schema_migrations row, so a failure
// leaves the database at the previous version with nothing half-applied.
func Apply(ctx context.Context, db *sql.DB, set string, migs []migration.Migration) error {
	if err := migration.CheckSet(set, migs); err != nil {
		return err
	}
	migs = migration.SortedCopy(migs)
	if _, err := db.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done, top, err := applied(ctx, db, set)
	if err != nil {
		return err
	}
	if top > len(migs) {
		return &NewerError{Set: set, Database: top, Code: len(migs)}
	}
	// A renamed or missing step means the database was built by a different
	// history than the code's; applying on top of it would compound the drift.
	for _, m := range migs[:top] {
		name, ok := done[m.Version]
		if !ok {
			return fmt.Errorf("migrate: set %q: database is at version %d but has no record of version %d; restore from backup or rebuild the replica", set, top, m.Version)
		}
		if name != m.Name {
			return fmt.Errorf("migrate: set %q: version %d is %q in the database but %q in the code; migrations must never be renamed", set, m.Version, name, m.Name)
		}
	}
	for _, m := range migs[top:] {
		if err := applyOne(ctx, db, set, m); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(ctx context.Context, db *sql.DB, set string, m migration.Migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: set %q version %d: begin: %w", set, m.Version, err)
	}
	defer tx.Rollback() // a no-op once committed
	// Another process may have migrated between our read and this transaction.
	if _, top, err := applied(ctx, tx, set); err != nil {
		return err
	} else if top >= m.Version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return fmt.Errorf("migrate: set %q version %d (%s): %w", set, m.Version, m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(
		`INSERT INTO schema_migrations (set_name, version, name) VALUES ('%s', %d, '%s')`,
		set, m.Version, m.Name)); err != nil {
		return fmt.Errorf("migrate: set %q version %d: record: %w", set, m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: set %q version %d: commit: %w", set, m.Version, err)
	}
	return nil
}
