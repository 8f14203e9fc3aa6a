package agent_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// equalsFreshClone: l holds what a replica newly enrolled in team holds
// after its first sync, field for field.
func equalsFreshClone(t *testing.T, ts *servertest.TS, team string, l *agent.Replica) {
	t.Helper()
	ctx := context.Background()
	fresh, tf := realAgent(t, ts, team)
	realSync(t, fresh, ts, tf)
	want, err := fresh.Snapshot(ctx)
	require.NoError(t, err)
	got, err := l.Snapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got, "the laptop equals a fresh clone\n%s", diffSnap(want, got))
}

func diffSnap(a, b map[syncproto.FieldKey]syncproto.Version) string {
	s := fmt.Sprintf("len %d vs %d\n", len(a), len(b))
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			s += fmt.Sprintf("only in first: %s %s %v\n", k.Row.String()[:8], k.Field, v.Value)
		} else if w != v {
			s += fmt.Sprintf("differ: %s %s %v/%v %v/%v %v/%v\n", k.Row.String()[:8], k.Field, v.Value, w.Value, v.HLC, w.HLC, v.Dot.Seq, w.Dot.Seq)
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			s += fmt.Sprintf("only in second: %s %s %v\n", k.Row.String()[:8], k.Field, v.Value)
		}
	}
	return s
}

// withoutTombstoned is snap without the rows it holds deleted.
func withoutTombstoned(snap map[syncproto.FieldKey]syncproto.Version) map[syncproto.FieldKey]syncproto.Version {
	gone := map[syncproto.RowID]bool{}
	for k, v := range snap {
		if k.Field == syncproto.TombstoneField && v.Value.AsBool() {
			gone[k.Row] = true
		}
	}
	out := make(map[syncproto.FieldKey]syncproto.Version, len(snap))
	for k, v := range snap {
		if !gone[k.Row] {
			out[k] = v
		}
	}
	return out
}

// withoutBases is snap with every version's base cleared: collection
// clears the bases no device it counts needs (server/collect.go
// forgetBases), so a laptop that clones holds versions without the bases
// a laptop that pulled them keeps.
func withoutBases(snap map[syncproto.FieldKey]syncproto.Version) map[syncproto.FieldKey]syncproto.Version {
	out := make(map[syncproto.FieldKey]syncproto.Version, len(snap))
	for k, v := range snap {
		v.Base = syncproto.Dot{}
		out[k] = v
	}
	return out
}
