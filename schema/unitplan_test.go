package schema

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlanUnitImport(t *testing.T) {
	old, err := PlanUnitImport(EmbeddedUnits2022())
	require.NoError(t, err)
	require.Empty(t, old.Retire, "the 2022 tree reorganises nothing")
	require.False(t, old.RetireDistricts)

	plan, err := PlanUnitImport(EmbeddedUnits2025())
	require.NoError(t, err)
	require.True(t, plan.RetireDistricts, "the 2025 tree has no district level")
	require.Contains(t, plan.Retire, "32011", "Phường 2 merged into 32002 in 2024: retired through the interim merger")
	require.Contains(t, plan.Links, UnitLink{Code: "32002", Predecessor: "32011"})
	require.NotContains(t, plan.Retire, "32002", "a code the new tree reuses stays in force")
	require.True(t, slices.IsSorted(plan.Retire))
	// Tạ An Khương (32155) was split: a partial predecessor of two new communes.
	var takers []string
	for _, l := range plan.Links {
		if l.Predecessor == "32155" {
			require.True(t, l.Partial)
			takers = append(takers, l.Code)
		}
	}
	require.ElementsMatch(t, []string{"32155", "32152"}, takers)

	_, err = PlanUnitImport([]AdminUnit{{Code: "x"}})
	require.Error(t, err)
}
