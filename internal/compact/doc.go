// Package compact holds what the two compact blob formats share: the
// server's versions of a synced row and the agent's row state. Varints,
// length-prefixed bytes, field names as fieldcode codes, and values with
// their kind in a flags byte. Like syncproto, it does no I/O.
//
// It must never import anything but syncproto and internal/fieldcode of the
// module, nor any I/O package (the import rules in internal/archtest hold it
// to that).
package compact
