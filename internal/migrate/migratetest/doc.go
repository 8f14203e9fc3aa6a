// Package migratetest holds the checks every migration set in the project
// must pass, so the schema, server and agent sets are held to one standard.
//
// It is a test helper: only tests import it, and a package that ships must
// never import it.
package migratetest
