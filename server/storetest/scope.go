package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// testScopeHistory: row moves and team hamlet changes are recorded and
// read back in order (issue 9 part 1); a team's hamlets change in the same
// transaction as its log, and only when they really change.
func testScopeHistory(t *testing.T, s store) {
	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	hh, kid, other := uuid.New(), uuid.New(), uuid.New()
	h1 := syncproto.MakeHLC(at.UnixMilli(), 1)
	h2 := syncproto.MakeHLC(at.UnixMilli()+1000, 0)
	moves := []server.ScopeMove{
		{Table: "households", Row: hh, Household: hh, From: "32002-01", To: "32167-01", HLC: h1, ServerSeq: 10, At: at},
		{Table: "tutoring_records", Row: kid, Household: hh, From: "32002-01", To: "32167-01", HLC: h1, ServerSeq: 12, At: at},
		{Table: "households", Row: hh, Household: hh, From: "32167-01", To: "32002-02", HLC: h2, ServerSeq: 20, At: at.Add(time.Second)},
	}
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		got, err := tx.ScopeMoves("households", hh)
		require.NoError(t, err)
		require.Empty(t, got)
		// Written out of order: read back by server_seq.
		for _, i := range []int{2, 0, 1} {
			require.NoError(t, tx.AddScopeMove(moves[i]))
		}
		return nil
	}))
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		got, err := tx.ScopeMoves("households", hh)
		require.NoError(t, err)
		require.Equal(t, []server.ScopeMove{moves[0], moves[2]}, got)
		got, err = tx.ScopeMoves("tutoring_records", kid)
		require.NoError(t, err)
		require.Equal(t, []server.ScopeMove{moves[1]}, got)
		got, err = tx.ScopeMoves("households", other)
		require.NoError(t, err)
		require.Empty(t, got)

		// The rows that moved after a device's cursor (server/apply.go
		// ownBack): above 10, the household (20) and the record (12).
		refs := []server.RowRef{{Table: "households", Row: hh}, {Table: "tutoring_records", Row: kid}, {Table: "households", Row: other}}
		for _, tc := range []struct {
			above uint64
			want  map[server.RowRef]bool
		}{
			{0, map[server.RowRef]bool{refs[0]: true, refs[1]: true}},
			{10, map[server.RowRef]bool{refs[0]: true, refs[1]: true}},
			{12, map[server.RowRef]bool{refs[0]: true}},
			{20, map[server.RowRef]bool{}},
		} {
			moved, err := tx.MovedAbove(refs, tc.above)
			require.NoError(t, err)
			require.Equal(t, tc.want, moved, "moved above %d", tc.above)
		}
		moved, err := tx.MovedAbove(nil, 0)
		require.NoError(t, err)
		require.Empty(t, moved)
		return nil
	}))

	team := server.Team{ID: uuid.NewString(), CommuneCode: "32002", Name: "Tổ thử", Hamlets: []string{"32002-01"}}
	require.NoError(t, s.CreateTeam(ctx, team))
	m := server.Member{ID: uuid.NewString(), TeamID: team.ID, Name: "Thành viên", Role: "member"}
	require.NoError(t, s.AddMember(ctx, m))
	changes := []struct {
		c       server.TeamScopeChange
		changed bool
	}{
		{server.TeamScopeChange{Team: team.ID, Hamlet: "32002-02", Added: true, HLC: h1, At: at}, true},
		{server.TeamScopeChange{Team: team.ID, Hamlet: "32002-02", Added: true, HLC: h1 + 1, At: at}, false},
		{server.TeamScopeChange{Team: team.ID, Hamlet: "32002-01", Added: false, HLC: h2, At: at.Add(time.Second)}, true},
		{server.TeamScopeChange{Team: team.ID, Hamlet: "32002-01", Added: false, HLC: h2 + 1, At: at.Add(time.Second)}, false},
	}
	for i, tc := range changes {
		changed, err := s.ChangeTeamHamlet(ctx, tc.c)
		require.NoError(t, err, "change %d", i)
		require.Equal(t, tc.changed, changed, "change %d", i)
	}
	_, err := s.ChangeTeamHamlet(ctx, server.TeamScopeChange{Team: "no-such-team", Hamlet: "32002-01", Added: true, HLC: h2, At: at})
	require.ErrorIs(t, err, server.ErrNotFound)

	scope, err := s.Scope(ctx, m.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"32002-02"}, scope)
	teams, err := s.Teams(ctx)
	require.NoError(t, err)
	require.Len(t, teams, 1)
	require.Equal(t, []string{"32002-02"}, teams[0].Hamlets)
	require.NoError(t, s.Update(ctx, func(tx server.Tx) error {
		log, err := tx.TeamScopeLog(team.ID)
		require.NoError(t, err)
		require.Equal(t, []server.TeamScopeChange{changes[0].c, changes[2].c}, log)
		log, err = tx.TeamScopeLog("no-such-team")
		require.NoError(t, err)
		require.Empty(t, log)
		return nil
	}))
}
