package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A hamlet the team no longer covers keeps its name (Enrollment.Former):
// the sync tells its loss after the scope was replaced, and a hamlet
// gained back takes its name again; Former holds no hamlet of the scope
// and keeps the latest maxFormerHamlets.
func TestUpdateScopeKeepsTheNamesOfHamletsLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.SetEnrollment(ctx, &Enrollment{Server: "http://127.0.0.1:1", MemberID: "m1",
		Scope: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}, {Code: "32002-02", Name: "Khóm 2"}}}))
	steps := []struct {
		scope  []string
		scopeW []Hamlet
		former []Hamlet
		labels map[string]string
	}{
		{scope: []string{"32002-01", "32002-03"},
			scopeW: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}, {Code: "32002-03"}},
			former: []Hamlet{{Code: "32002-02", Name: "Khóm 2"}},
			labels: map[string]string{"32002-02": "Khóm 2 (32002-02)", "32002-03": "32002-03", "32002-01": "Ấp 1 (32002-01)"}},
		{scope: []string{"32002-02"},
			scopeW: []Hamlet{{Code: "32002-02", Name: "Khóm 2"}},
			former: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}},
			labels: map[string]string{"32002-02": "Khóm 2 (32002-02)", "32002-01": "Ấp 1 (32002-01)", "32002-03": "32002-03"}},
	}
	for i, s := range steps {
		require.NoError(t, r.updateScope(ctx, s.scope))
		en, err := r.Enrollment(ctx)
		require.NoError(t, err)
		require.Equal(t, s.scopeW, en.Scope, "step %d", i)
		require.Equal(t, s.former, en.Former, "step %d", i)
		for code, label := range s.labels {
			require.Equal(t, label, en.HamletLabel(code), "step %d: %s", i, code)
		}
	}

	// Bounded: a team moved across many hamlets keeps the latest names.
	for i := range maxFormerHamlets + 10 {
		code := fmt.Sprintf("32%03d-01", i)
		require.NoError(t, r.editEnrollment(ctx, func(e *Enrollment) bool {
			e.Scope = []Hamlet{{Code: code, Name: "Ấp " + code}}
			return true
		}))
		require.NoError(t, r.updateScope(ctx, []string{"32999-99"}))
	}
	en, err := r.Enrollment(ctx)
	require.NoError(t, err)
	require.Len(t, en.Former, maxFormerHamlets)
	last := fmt.Sprintf("32%03d-01", maxFormerHamlets+9)
	require.Equal(t, "Ấp "+last, en.HamletName(last))
	require.Empty(t, en.HamletName("32000-01"), "the oldest dropped")
}
