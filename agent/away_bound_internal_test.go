package agent

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// TestTakenNotesAreBounded: the notes of own writes the server took, kept
// for rows a drop took away (keepRowAway), are bounded for rows that never
// come back: a complete pull forgets those beyond maxTakenNotes, of the
// oldest drops first. The writes kept to push (taken = 0) stay whatever
// their number.
func TestTakenNotesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	const extra = 7
	rows := make([]string, maxTakenNotes+extra)
	for i := range rows {
		rows[i] = uuid.NewString()
	}
	kept := uuid.NewString()
	require.NoError(t, r.inCounted(ctx, func(t *txn) error {
		for i, id := range rows {
			// noted_at grows with i: the first extra rows are the oldest.
			if err := t.exec(`INSERT INTO own_away (row_id, field, tbl, kind, value, hlc, replica, seq, taken, noted_at) VALUES (?, 'head_name', 'households', 3, 'x', 1, ?, ?, 1, ?)`,
				id, r.id[:], i+1, 1000+i); err != nil {
				return err
			}
		}
		return t.exec(`INSERT INTO own_away (row_id, field, tbl, kind, value, hlc, replica, seq, taken, noted_at) VALUES (?, 'head_name', 'households', 3, 'y', 1, ?, ?, 0, 0)`,
			kept, r.id[:], len(rows)+1)
	}))
	require.NoError(t, r.inCounted(ctx, func(t *txn) error { return t.forgetSuperseded() }))

	var noted, oldest int
	require.NoError(t, r.db.QueryRowContext(ctx, `SELECT count(*), min(noted_at) FROM own_away WHERE taken`).Scan(&noted, &oldest))
	require.Equal(t, maxTakenNotes, noted, "the notes beyond the bound go")
	require.Equal(t, 1000+extra, oldest, "the oldest drops' first")
	var n int
	require.NoError(t, r.db.QueryRowContext(ctx, `SELECT count(*) FROM own_away WHERE row_id = ? AND NOT taken`, kept).Scan(&n))
	require.Equal(t, 1, n, "a write kept to push is no note: it stays")
}
