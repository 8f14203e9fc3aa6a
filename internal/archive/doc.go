// Package archive writes conflict-log archives: JSON Lines, one conflict a
// line with everything needed to restore its value by hand. The server
// (sync_conflicts) and the agent (its conflicts table) both archive through
// it, so the two files read alike.
//
// WriteFile writes to a temporary file beside the target, fsyncs it,
// renames it into place and fsyncs the directory: a caller deletes the
// archived entries only after WriteFile returned nil, so a failure at any
// point loses nothing (the entries stay in the database, and an existing
// file is never overwritten).
//
// It imports syncproto alone of the module: never the agent, the server or
// a store, since both sides write through it.
package archive
