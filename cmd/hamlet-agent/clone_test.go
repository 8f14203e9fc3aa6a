package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncShowsCloneProgress: a first sync clones by snapshot and, with
// stderr not a terminal, prints plain progress lines (rows done of the
// total, Vietnamese first) and, in its summary, what it brought in plain
// words (issue 21, item 12).
func TestSyncShowsCloneProgress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	w := agenttest.New(t)
	tok, _, err := w.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy ghi")
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		_, err := w.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[i%2], "head_name": "Hộ thử"})
		require.NoError(t, err)
	}
	_, err = w.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)

	for _, tc := range []struct{ lang, line, summary string }{
		{"vi", "Đang tải dữ liệu về máy: 20/20 bản ghi (100%)", "Đã tải về máy 20 bản ghi của tổ: 20 hộ."},
		{"en", "Downloading: 20/20 records (100%)", "Downloaded the team's 20 records to this laptop: 20 households."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			dir := t.TempDir()
			r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA), "--lang", tc.lang)
			require.Equal(t, 0, r.code, r.stderr)
			r = cli(t, dir, "sync", "--lang", tc.lang)
			require.Equal(t, 0, r.code, r.stderr)
			require.Contains(t, r.stderr, tc.line)
			require.Contains(t, r.stdout, tc.summary)
		})
	}
}
