// Package migration holds schema migrations as data: the Migration type,
// the check that a set is usable (versions 1..n, safe names, no empty SQL)
// and reading a set from an embedded folder of NNNN_name.sql files.
//
// It is pure: no database, no files outside an fs.FS it is given, no wall
// clock, so the schema package can keep its migrations as data without
// reaching database/sql. The runner that applies a set to a database is
// internal/migrate; this package must never import it, nor database/sql.
package migration
