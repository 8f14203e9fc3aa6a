package agent_test

import (
	"context"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// BenchmarkDamageCheck: what the check at the start of every sync costs on
// a commune's replica (20,000 households, 20,000 tutoring records, 1,000
// reports, cloned from the real server), against PRAGMA quick_check and
// integrity_check over the same file.
//
//	go test ./agent -run '^$' -bench DamageCheck -benchtime 20x
func BenchmarkDamageCheck(b *testing.B) {
	ctx := context.Background()
	ts := servertest.Start(b)
	seedServer(b, ts, commune(uuid.New(), ts.HamletsA, 20000, 20000, 1000))
	r := agenttest.New(b)
	tok, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(b, ts.TeamA), "bench")
	require.NoError(b, err)
	_, err = r.Sync(ctx, ts.URL, tok, agent.SyncOptions{})
	require.NoError(b, err)
	st, err := os.Stat(r.Path())
	require.NoError(b, err)
	b.Logf("replica: %.1f MB", float64(st.Size())/1e6)
	for _, c := range []struct {
		name string
		run  func() error
	}{
		{"DamageCheck", func() error { return r.DamageCheck(ctx) }},
		{"quick_check", func() error {
			var s string
			return r.DB().QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&s)
		}},
		{"integrity_check", func() error {
			var s string
			return r.DB().QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&s)
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				require.NoError(b, c.run())
			}
		})
	}
}
