package server

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func TestScopeVerdict(t *testing.T) {
	hh := uuid.New()
	at := func(ms int64) time.Time { return time.UnixMilli(1_700_000_000_000 + ms).UTC() }
	move := func(ms int64, from, to string) ScopeMove {
		return ScopeMove{Table: "households", Row: hh, Household: hh, From: from, To: to, HLC: syncproto.MakeHLC(at(ms).UnixMilli(), 0), At: at(ms)}
	}
	team := func(ms int64, hamlet string, added bool) TeamScopeChange {
		return TeamScopeChange{Team: "t", Hamlet: hamlet, Added: added, HLC: syncproto.MakeHLC(at(ms).UnixMilli(), 0), At: at(ms)}
	}
	mine := map[string]bool{"A": true} // the team's hamlets now
	tests := []struct {
		name   string
		edit   int64
		cur    string
		scope  map[string]bool
		moves  []ScopeMove
		log    []TeamScopeChange
		ok     bool
		code   syncproto.Code
		reason string
	}{
		{"edit before the move is accepted", 5, "B", mine, []ScopeMove{move(10, "A", "B")}, nil, true, "", ""},
		{"edit after the move names it", 15, "B", mine, []ScopeMove{move(10, "A", "B")}, nil, false, syncproto.CodeMovedOutOfScope, "moved from hamlet A to hamlet B"},
		{"edit at the move's time counts as after", 10, "B", mine, []ScopeMove{move(10, "A", "B")}, nil, false, syncproto.CodeMovedOutOfScope, "moved from hamlet A to hamlet B"},
		{"never in scope", 5, "B", mine, nil, nil, false, syncproto.CodeOutOfScope, "Hamlet B is not"},
		{"moved between hamlets the team never held", 5, "C", mine, []ScopeMove{move(10, "B", "C")}, nil, false, syncproto.CodeOutOfScope, ""},
		{"between two moves: the one that took it out", 15, "C", mine, []ScopeMove{move(10, "A", "B"), move(20, "B", "C")}, nil, false, syncproto.CodeMovedOutOfScope, "from hamlet A to hamlet B"},
		{"before two moves", 5, "C", mine, []ScopeMove{move(10, "A", "B"), move(20, "B", "C")}, nil, true, "", ""},
		{"hamlet removed from the team after the edit", 5, "B", mine, nil, []TeamScopeChange{team(10, "B", false)}, true, "", ""},
		{"hamlet removed from the team before the edit", 15, "B", mine, nil, []TeamScopeChange{team(10, "B", false)}, false, syncproto.CodeMovedOutOfScope, "Hamlet B was removed"},
		{"removed, added back, removed: edit in the middle", 25, "B", mine, nil,
			[]TeamScopeChange{team(10, "B", false), team(20, "B", true), team(30, "B", false)}, true, "", ""},
		{"hamlet gained after the edit, then the row left", 5, "C", mine, []ScopeMove{move(20, "B", "C")},
			[]TeamScopeChange{team(10, "B", true), team(30, "B", false)}, false, syncproto.CodeOutOfScope, ""},
		{"moved out of a hamlet the team held then, since removed", 15, "C", map[string]bool{}, []ScopeMove{move(10, "B", "C")},
			[]TeamScopeChange{team(20, "B", false)}, false, syncproto.CodeMovedOutOfScope, "from hamlet B to hamlet C"},
		{"another hamlet's log does not count", 15, "B", mine, nil, []TeamScopeChange{team(10, "X", false)}, false, syncproto.CodeOutOfScope, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, code, why := scopeVerdict(at(tc.edit), tc.cur, tc.scope, tc.moves, tc.log)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.code, code)
			reason := refusal.Text(code, why, "en")
			require.Contains(t, reason, tc.reason)
			if code == syncproto.CodeMovedOutOfScope {
				require.Equal(t, "2023-11-14T22:13:20Z", why.Params["at"], "the refusal says when, as data")
				require.Contains(t, reason, "2023-11-15 05:13 (UTC+7)", "rendered in Vietnam's time")
			}
		})
	}
}

// Issue 16: when a change was made is judged by what the server knows: a
// laptop whose clock runs behind cannot date an edit before its own last
// sync, nor one whose clock runs ahead after its arrival.
func TestMadeAtTrustsTheHLCOnlyBetweenTheLastSyncAndTheArrival(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(1_700_000_000+s, 0).UTC() }
	hlc := func(s int64) syncproto.HLC { return syncproto.MakeHLC(at(s).UnixMilli(), 0) }
	cases := []struct {
		name            string
		hlc             syncproto.HLC
		since, received time.Time
		want            time.Time
	}{
		{"between: its HLC", hlc(50), at(10), at(100), at(50)},
		{"a clock behind dates it before the last sync: the sync", hlc(-86_400), at(10), at(100), at(10)},
		{"a clock ahead dates it after its arrival: the arrival", hlc(86_400), at(10), at(100), at(100)},
		{"never synced: its HLC up to the arrival", hlc(-86_400), time.Time{}, at(100), at(-86_400)},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, madeAt(tc.hlc, tc.since, tc.received), tc.name)
	}

	// The household moved at 20; the laptop, its clock a day behind, synced
	// at 30 and edits at 40: its HLC says "before the move", the server
	// knows better.
	hh := uuid.New()
	moves := []ScopeMove{{Table: "households", Row: hh, Household: hh, From: "A", To: "B", HLC: hlc(20), At: at(20)}}
	ok, code, _ := scopeVerdict(madeAt(hlc(40-86_400), at(30), at(50)), "B", map[string]bool{"A": true}, moves, nil)
	require.False(t, ok)
	require.Equal(t, syncproto.CodeMovedOutOfScope, code)
	// The same edit from a laptop that last synced before the move: made
	// while the household was its team's, as far as anyone can know.
	ok, _, _ = scopeVerdict(madeAt(hlc(15), at(10), at(50)), "B", map[string]bool{"A": true}, moves, nil)
	require.True(t, ok)
}
