package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// A new household the server refused whole (its registration date ahead
// of the server's day), its head's name corrected since: the correction's
// Ack is lost, so the next session's Welcome marks it as held by the
// server with its answer unknown. While that session waits for the answer
// of the correction pushed again, the volunteer discards the refused
// hamlet. The discard left the household to that answer (a change whose
// answer was lost may have been taken), saved without its hamlet; the
// answer, a refusal, decided nothing: the household stayed live without
// its hamlet, for good (simulation seed 7880608, wide, fixes).
func TestDiscardingARefusedNewHouseholdWhileAnEditAwaitsItsAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts, l, tok, _, hh := refusedWholeHousehold(t)
	require.Contains(t, rejectedByField(t, l), "hamlet_code", "the household was refused whole")
	require.NoError(t, l.EditHousehold(ctx, hh, agent.Fields{"head_name": "Lê Thị Hoà"}))

	// The correction reaches the server; its Ack is lost, and so is every
	// connection after it in this sync.
	lost := func(n int) int {
		if n == 0 {
			return 1 // the Welcome; the Ack is dropped
		}
		return 0
	}
	_ = syncCutAfterGated(l, ts, tok, lost, agent.SyncOptions{IOTimeout: 5 * time.Second}, nil)

	// The next session pushes it again; before its answer comes, the
	// volunteer discards the refused hamlet.
	discarded := make(chan error, 1)
	all := func(int) int { return 1 << 20 }
	err := syncCutAfterGated(l, ts, tok, all, agent.SyncOptions{IOTimeout: 5 * time.Second}, func(i int) {
		if i == 1 {
			discarded <- l.DiscardRejected(ctx, rejectedByField(t, l)["hamlet_code"])
		}
	})
	require.NoError(t, err)
	require.NoError(t, <-discarded)
	realSync(t, l, ts, tok)

	var partial int
	require.NoError(t, l.DB().QueryRowContext(ctx, `SELECT count(*) FROM households WHERE _deleted = 0 AND (hamlet_code IS NULL OR head_name IS NULL)`).Scan(&partial))
	require.Zero(t, partial, "a live household lacks its hamlet or its head: a partial row")
	d, err := l.Show(ctx, "households", hh.String())
	require.Error(t, err, "a household without its hamlet is discarded whole: %+v", d)
	require.Empty(t, rejectedByField(t, l), "its other refused writes went with it")
	n, err := l.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
