package server

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

func TestScopeVerdict(t *testing.T) {
	hh := uuid.New()
	at := func(ms int64) syncproto.HLC { return syncproto.MakeHLC(1_700_000_000_000+ms, 0) }
	when := time.UnixMilli(1_700_000_000_000).UTC()
	move := func(ms int64, from, to string) ScopeMove {
		return ScopeMove{Table: "households", Row: hh, Household: hh, From: from, To: to, HLC: at(ms), At: when}
	}
	team := func(ms int64, hamlet string, added bool) TeamScopeChange {
		return TeamScopeChange{Team: "t", Hamlet: hamlet, Added: added, HLC: at(ms), At: when}
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
		{"edit at the move's HLC counts as after", 10, "B", mine, []ScopeMove{move(10, "A", "B")}, nil, false, syncproto.CodeMovedOutOfScope, "moved from hamlet A to hamlet B"},
		{"never in scope", 5, "B", mine, nil, nil, false, syncproto.CodeOutOfScope, `hamlet "B"`},
		{"moved between hamlets the team never held", 5, "C", mine, []ScopeMove{move(10, "B", "C")}, nil, false, syncproto.CodeOutOfScope, ""},
		{"between two moves: the one that took it out", 15, "C", mine, []ScopeMove{move(10, "A", "B"), move(20, "B", "C")}, nil, false, syncproto.CodeMovedOutOfScope, "from hamlet A to hamlet B"},
		{"before two moves", 5, "C", mine, []ScopeMove{move(10, "A", "B"), move(20, "B", "C")}, nil, true, "", ""},
		{"hamlet removed from the team after the edit", 5, "B", mine, nil, []TeamScopeChange{team(10, "B", false)}, true, "", ""},
		{"hamlet removed from the team before the edit", 15, "B", mine, nil, []TeamScopeChange{team(10, "B", false)}, false, syncproto.CodeMovedOutOfScope, "hamlet B was removed"},
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
			c := &syncproto.Change{Table: "households", Row: hh, Field: "notes", HLC: at(tc.edit)}
			ok, code, reason := scopeVerdict(c, tc.cur, tc.scope, tc.moves, tc.log)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.code, code)
			require.Contains(t, reason, tc.reason)
			if code == syncproto.CodeMovedOutOfScope {
				require.Contains(t, reason, "2023-11-14 22:13", "the refusal says when")
			}
		})
	}
}
