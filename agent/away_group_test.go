package agent_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A household another team moves out of this laptop's hamlets and back,
// while the laptop's correction of it waits to be pushed: when the
// eviction and the move back arrive in one pull transaction (pages that
// arrived behind each other), the row comes back with the correction.
// Whether the pages group depends on timing over a real link, so this
// test groups them itself.
func TestRowBackInTheSamePullKeepsItsPendingEdit(t *testing.T) {
	ctx := context.Background()
	r := agenttest.New(t)
	now := localHLC(t, r)
	other, row := uuid.New(), uuid.New()
	version := func(field string, v syncproto.Value, seq, base uint64) syncproto.Change {
		c := syncproto.Change{Table: "households", Row: row, Field: field, Value: v, HLC: now + syncproto.HLC(seq),
			Dot: syncproto.Dot{Replica: other, Seq: seq}, Scope: hamletA}
		if base != 0 {
			c.Base = syncproto.Dot{Replica: other, Seq: base}
		}
		return c
	}
	name := version("head_name", syncproto.String("Nguyễn Văn Bình"), 1, 0)
	_, err := r.ApplyChanges(ctx, &syncproto.Changes{From: 0, To: 1, Changes: []syncproto.Change{
		name, version("hamlet_code", syncproto.String(hamletA), 2, 0)}})
	require.NoError(t, err)
	require.NoError(t, r.EditHousehold(ctx, row, agent.Fields{"head_name": "Nguyễn Văn Bính"}))
	pending, err := r.Pending(ctx)
	require.NoError(t, err)

	require.NoError(t, agent.ApplyGroup(ctx, r,
		&syncproto.Changes{From: 1, To: 2, Evict: []syncproto.Eviction{{Table: "households", Row: row, NewScope: "32002-02"}}},
		&syncproto.Changes{From: 2, To: 3, Changes: []syncproto.Change{
			name, version("hamlet_code", syncproto.String(hamletA), 4, 3)}}))

	got, err := r.Show(ctx, "households", row.String())
	require.NoError(t, err)
	require.Equal(t, "Nguyễn Văn Bính", got.Fields["head_name"], "the row came back with the correction still to push")
	after, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, pending, after, "the correction still waits to be pushed")
	cs, err := r.Conflicts(ctx, true)
	require.NoError(t, err)
	require.Empty(t, cs)
}

// localHLC is a stamp of r's clock now: a household's, added and read.
func localHLC(t *testing.T, r *agent.Replica) syncproto.HLC {
	t.Helper()
	hh := addHousehold(t, r, "Trần Thị Mốc")
	snap, err := r.Snapshot(context.Background())
	require.NoError(t, err)
	return snap[syncproto.FieldKey{Table: "households", Row: hh, Field: "head_name"}].HLC
}
