package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// A change refused because its household moved out of the team's scope is
// listed with the reason naming the move, beside the hint.
func TestCLIRejectedShowsTheMove(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	addHH(t, dir, "Nguyễn Văn Đức")
	e := &env{dataDir: dir}
	r, err := e.open(context.Background())
	require.NoError(t, err)
	const reason = "household 0b6f moved from hamlet 32002-01 to hamlet 32167-01 at 2026-11-26 10:00 (server time, UTC); this change was made after the move"
	// Mark the first change refused, as applyAck does (outbox state 2 = rejected).
	_, err = r.DB().ExecContext(context.Background(), `UPDATE outbox SET state = 2, code = 'moved_out_of_scope', reason = ? WHERE seq = (SELECT min(seq) FROM outbox)`, reason)
	require.NoError(t, err)
	require.NoError(t, r.Close())

	res := cli(t, dir, "rejected")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "moved_out_of_scope")
	require.Contains(t, res.stdout, "hộ đã chuyển sang ấp/khóm")
	require.Contains(t, res.stdout, "from hamlet 32002-01 to hamlet 32167-01")
	res = cli(t, dir, "rejected", "--lang", "en")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "the household moved to a hamlet your team does not cover")
}
