// Package migrate is the project's one schema-migration runner. The schema
// package, the server and the agent each hand it a named set of numbered SQL
// migrations; it records what ran in schema_migrations and applies the rest.
//
// The runner refuses to touch a database that is ahead of the code (a replica
// written by a newer release) rather than guess, because running older code
// against a newer schema can silently drop data that the newer code relies on.
//
// It imports database/sql and no driver: the caller opens the database
// (modernc's SQLite for the agent and the SQLite store, pgx's stdlib for
// PostgreSQL). It must never import a driver, nor any package of the module
// but internal/migration (the steps as data).
package migrate
