package schema

import (
	"embed"
	"sync"

	"github.com/hamlet-vn/hamlet/internal/migration"
)

// MigrationSet is the name the schema's migrations are recorded under in
// schema_migrations; the server and agent record their own sets beside it.
const MigrationSet = "schema"

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

var loadSQLite = sync.OnceValue(func() []migration.Migration {
	migs, err := migration.FromEmbed(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		panic("schema: embedded migrations: " + err.Error()) // caught by the package tests
	}
	return migs
})

// SQLiteMigrations returns the data model's SQLite migrations for
// migrate.Apply(ctx, db, MigrationSet, SQLiteMigrations()).
func SQLiteMigrations() []migration.Migration {
	return append([]migration.Migration(nil), loadSQLite()...)
}
