// Package fieldcode numbers field names for the compact version blobs of
// the server (sync_rows.versions) and the agent (row_state.state). The list
// is frozen: blobs in databases name fields by position, so a code is never
// reused or reordered; a new field is appended, and a name not listed is
// written out in full (code 0).
//
// It imports nothing: it is a list.
package fieldcode
