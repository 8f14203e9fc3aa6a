package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/compact"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The compact change log (issue 20). A bulk write (Import) queues one
// outbox_rows entry per written row, carrying every field it wrote, instead
// of one outbox row per field: 26,000 imported records made 234,000 log
// rows, half the import's time. An entry stands for the changes with
// sequence numbers seq .. seq+n-1, in its fields' order; each field keeps
// its own value and stamp. An entry only ever holds new, base-less changes
// that await a result (pending or unacknowledged): whatever would make one
// of its changes differ from the others (a refusal, a renumbering, an ack
// of part of it) first expands it into per-field outbox rows (expandRows),
// which every other reader of the log understands as before. Replicas from
// before this migration simply have no entries; their outbox rows are read
// as always.
const outboxRowsMigration = `
CREATE TABLE outbox_rows (
	seq INTEGER PRIMARY KEY,
	n INTEGER NOT NULL,
	tbl TEXT NOT NULL,
	row_id TEXT NOT NULL,
	scope TEXT NOT NULL,
	state INTEGER NOT NULL DEFAULT 0,
	stamp_final INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	fields BLOB NOT NULL
);
CREATE INDEX outbox_rows_row ON outbox_rows(row_id);
`

// rowEntriesPending counts the pending changes the compact log holds (an
// SQL expression).
const rowEntriesPending = `(SELECT coalesce(sum(n), 0) FROM outbox_rows WHERE state = 0)`

// rowField is one field change of a compact entry.
type rowField struct {
	field string
	value syncproto.Value
	hlc   syncproto.HLC
}

// rowEntry is one compact entry, decoded.
type rowEntry struct {
	seq       uint64 // of its first field
	table     string
	row       string
	scope     string
	state     int64
	final     bool
	createdAt int64
	fields    []rowField
}

// appendRowFields encodes fields as the compact row state does its
// versions (internal/compact): per field its name code, the value's flags
// and payload, and its stamp as a zigzag difference from the previous
// field's (the first from zero).
func appendRowFields(b []byte, fields []rowField) []byte {
	var prev int64
	for _, f := range fields {
		b = compact.AppendName(b, f.field)
		b = append(b, compact.ValueFlags(f.value))
		b = compact.AppendValue(b, f.value)
		b = binary.AppendVarint(b, int64(f.hlc)-prev)
		prev = int64(f.hlc)
	}
	return b
}

var errRowFields = errors.New("malformed compact change-log entry")

// decodeRowFields reads the n fields appendRowFields wrote.
func decodeRowFields(b []byte, n int) ([]rowField, error) {
	out := make([]rowField, 0, n)
	var prev int64
	r := compact.Reader{B: b}
	for len(r.B) > 0 && r.Err == nil {
		name, err := r.Name()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errRowFields, err)
		}
		v, err := r.Value(r.Byte())
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errRowFields, err)
		}
		prev += r.Varint()
		out = append(out, rowField{field: name, value: v, hlc: syncproto.HLC(prev)})
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%w: %w", errRowFields, r.Err)
	}
	if len(out) != n {
		return nil, errRowFields
	}
	return out, nil
}

// change is the entry's i-th change as the push sends it.
func (e *rowEntry) change(self syncproto.ReplicaID, id syncproto.RowID, i int) syncproto.Change {
	f := e.fields[i]
	return syncproto.Change{Table: e.table, Row: id, Field: f.field, Value: f.value, Scope: e.scope,
		HLC: f.hlc, Dot: syncproto.Dot{Replica: self, Seq: e.seq + uint64(i)}}
}

// last is the sequence number of the entry's last change.
func (e *rowEntry) last() uint64 { return e.seq + uint64(len(e.fields)) - 1 }

const rowEntryCols = `seq, n, tbl, row_id, scope, state, stamp_final, created_at, fields`

// scanRowEntries reads entries selected with rowEntryCols.
func scanRowEntries(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) ([]rowEntry, error) {
	defer rows.Close()
	var out []rowEntry
	for rows.Next() {
		var e rowEntry
		var seq, n, final int64
		var blob []byte
		if err := rows.Scan(&seq, &n, &e.table, &e.row, &e.scope, &e.state, &final, &e.createdAt, &blob); err != nil {
			return nil, err
		}
		fs, err := decodeRowFields(blob, int(n))
		if err != nil {
			return nil, fmt.Errorf("%w: change %d: %w", errDamagedRecord, seq, err)
		}
		e.seq, e.final, e.fields = uint64(seq), final != 0, fs
		out = append(out, e)
	}
	return out, rows.Err()
}

// rowEntries reads the entries that the WHERE clause (with args) selects, in
// sequence order.
func (t *txn) rowEntries(where string, args ...any) ([]rowEntry, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+rowEntryCols+` FROM outbox_rows WHERE `+where+` ORDER BY seq`, args...)
	if err != nil {
		return nil, err
	}
	return scanRowEntries(rows)
}

// expandRows turns the entries that the WHERE clause selects into per-field
// outbox rows (same sequence numbers, stamps, state), for the paths that
// handle changes one by one: a refusal, a renumbering, a partial ack.
func (t *txn) expandRows(where string, args ...any) (int, error) {
	es, err := t.rowEntries(where, args...)
	if err != nil {
		return 0, fmt.Errorf("expand the compact change log: %w", err)
	}
	for _, e := range es {
		for i, f := range e.fields {
			kind, val := valueArgs(f.value)
			final := 0
			if e.final {
				final = 1
			}
			if err := t.exec(`INSERT INTO outbox (seq, tbl, row_id, field, kind, value, hlc, base_replica, base_seq, base_hlc, scope, state, created_at, stamp_final)
				VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, 0, ?, ?, ?, ?)`,
				int64(e.seq)+int64(i), e.table, e.row, f.field, kind, val, int64(f.hlc), e.scope, e.state, e.createdAt, final); err != nil {
				return 0, fmt.Errorf("expand the compact change log: entry %d: %w", e.seq, err)
			}
		}
		if err := t.exec(`DELETE FROM outbox_rows WHERE seq = ?`, int64(e.seq)); err != nil {
			return 0, fmt.Errorf("expand the compact change log: entry %d: %w", e.seq, err)
		}
	}
	return len(es), nil
}

// expandAllRows expands every entry (before a renumbering of the log).
func (t *txn) expandAllRows() error {
	_, err := t.expandRows(`1`)
	return err
}

// entryAt finds the entry holding seq among es (sorted by seq).
func entryAt(es []rowEntry, seq uint64) int {
	i, found := slices.BinarySearchFunc(es, seq, func(e rowEntry, s uint64) int {
		switch {
		case e.last() < s:
			return -1
		case e.seq > s:
			return 1
		}
		return 0
	})
	if !found {
		return -1
	}
	return i
}

// rowEntryID parses an entry's row id.
func rowEntryID(e *rowEntry) (syncproto.RowID, error) {
	id, err := uuid.Parse(e.row)
	if err != nil {
		return id, fmt.Errorf("%w: change %d: %w", errDamagedRecord, e.seq, err)
	}
	return id, nil
}
