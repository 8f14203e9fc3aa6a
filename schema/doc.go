// Package schema is Hamlet's data model: the admin-unit tree, teams and
// members, the four synced tables (households, visits, tutoring records,
// field reports) with the rules every field value must meet, the reference
// catalogues (skills, report categories, Cà Mau's admin units before and
// after the 2025 reorganisation), and the SQLite migrations that lay the
// tables out.
//
// # Who uses it
//
// The server and the agent both validate every incoming field change with
// the registry (SyncedTables, LookupTable, Table.NormalizeValue). Because the
// same code runs on both sides, a value the agent accepted offline is a value
// the server will accept, and a refusal carries the same *ValidationError,
// whose Message tells the volunteer in Vietnamese what to fix.
//
// # What it must never import
//
// schema is pure: it must never import a database driver, the network or
// the wall clock (time.Now). Times are parameters; reference data is
// embedded; parsers take an io.Reader. That keeps every rule here
// deterministic and testable on any machine, and lets the agent run the same
// checks with no connection. Its SQLite migrations are data of
// internal/migration's type (pure too); internal/migrate, which applies them,
// is the caller's. A test (TestPurity) enforces this.
//
// # Versions
//
// Version is carried in the sync handshake. Any change to a synced table's
// fields, types or enums that an older peer would reject must bump Version
// and come with a migration. A version only adds optional fields (Field.Since
// says which version added each; its migrations start with
// "-- schema-version: N"), so peers of the previous version keep syncing:
// At(v) is the registry a build at version v had, which the agent can run
// (agent.Options.Schema) to play an older build in tests. The rules are in
// docs/PROTOCOL.md, "Schema evolution".
package schema
