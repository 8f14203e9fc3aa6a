package schema

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/hamlet-vn/hamlet/internal/migration"
)

// Registry is the data model as a build at one schema version knows it: the
// synced tables with only the fields that version has, and the SQLite
// migrations that lay them out. Current is what this build runs; At builds
// the model of an older version, which is how tests run a replica "built at
// the previous schema" against a newer server (see docs/PROTOCOL.md, "Schema
// evolution").
type Registry struct {
	version int
	tables  []*Table
	sqlite  []migration.Migration
}

// Version is the schema version of the registry.
func (r *Registry) Version() int { return r.version }

// Tables returns the synced tables in dependency order. Shared: do not
// modify them.
func (r *Registry) Tables() []*Table { return append([]*Table(nil), r.tables...) }

// Table returns the synced table with that name.
func (r *Registry) Table(name string) (*Table, bool) {
	for _, t := range r.tables {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// SQLiteMigrations returns the migrations a replica at this version has
// applied: a prefix of SQLiteMigrations(), up to the first migration of a
// later version.
func (r *Registry) SQLiteMigrations() []migration.Migration {
	return append([]migration.Migration(nil), r.sqlite...)
}

// Current is the registry of this build (Version).
func Current() *Registry { return current() }

var current = sync.OnceValue(func() *Registry {
	return &Registry{version: Version, tables: tables(), sqlite: loadSQLite()}
})

// At returns the registry of an older (or the current) schema version:
// fields with Since above version are left out, and so are the migrations
// from the first one marked for a later version on. Versions below 1 keep
// version 1's fields (there was never a smaller data model); a registry
// at version 0 exists only to play an agent too old for every server.
func At(version int) (*Registry, error) {
	if version > Version {
		return nil, fmt.Errorf("schema: version %d is newer than this build's %d", version, Version)
	}
	if version == Version {
		return Current(), nil
	}
	r := &Registry{version: version}
	for _, t := range tables() {
		c := *t
		c.Fields = nil
		for _, f := range t.Fields {
			if f.Since <= max(version, 1) {
				c.Fields = append(c.Fields, f)
			}
		}
		c.index()
		r.tables = append(r.tables, &c)
	}
	for _, m := range loadSQLite() {
		v, err := MigrationSchemaVersion(m)
		if err != nil {
			return nil, err
		}
		if v > max(version, 1) {
			break
		}
		r.sqlite = append(r.sqlite, m)
	}
	return r, nil
}

// migrationMark is the first line of a migration that belongs to a schema
// version after 1 ("-- schema-version: 2"). It travels inside the file, so
// renumbering the file keeps it.
const migrationMark = "-- schema-version:"

// MigrationSchemaVersion returns the schema version a migration belongs to:
// the number after "-- schema-version:" on its first line, 1 when the line
// is absent (indexes and tables every version has).
func MigrationSchemaVersion(m migration.Migration) (int, error) {
	first, _, _ := strings.Cut(strings.TrimLeft(m.SQL, "\n"), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(first), migrationMark)
	if !ok {
		return 1, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil || v < 1 || v > Version {
		return 0, fmt.Errorf("schema: migration %d (%s): bad %q line", m.Version, m.Name, migrationMark)
	}
	return v, nil
}

// AddedIn returns the schema version that added field to table, 0 if no
// version of the current schema has it.
func AddedIn(table, field string) int {
	t, ok := LookupTable(table)
	if !ok {
		return 0
	}
	f, ok := t.Field(field)
	if !ok {
		return 0
	}
	return max(f.Since, 1)
}
