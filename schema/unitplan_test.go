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

// Code 32002 was Phường 4 until 2025 and is An Xuyên after it, formed from
// five old units: an import of the 2025 tree over the 2022 one changes its
// extent, retires the units merged into it, and leaves the province alone;
// importing the 2025 tree again changes nothing.
func TestExtentChanges(t *testing.T) {
	plan, err := PlanUnitImport(EmbeddedUnits2025())
	require.NoError(t, err)
	changes := ExtentChanges(EmbeddedUnits2022(), plan)
	by := map[string]ExtentChange{}
	for _, c := range changes {
		by[c.Code] = c
	}
	require.Contains(t, by, "32002")
	require.False(t, by["32002"].Retired)
	require.Len(t, by["32002"].FormedFrom, 6, "five old units, and Phường 2 through the 2024 merger")
	require.Equal(t, Units2025EffectiveOn, by["32002"].On)
	require.True(t, by["32005"].Retired, "Phường 1 went into An Xuyên")
	require.Equal(t, []string{"32002"}, by["32005"].Successors)
	require.True(t, by["32011"].Retired)
	require.Equal(t, []string{"32002"}, by["32011"].Successors)
	require.Contains(t, by, "32155", "Tạ An Khương kept its code but gave part of itself away")
	require.NotContains(t, by, ProvinceCodeCaMau)
	for _, c := range changes {
		if c.Level == LevelDistrict {
			require.True(t, c.Retired, "no district in the 2025 tree")
		}
	}

	// The 2025 tree in force (as a store lists it, with its links): nothing changes.
	after := EmbeddedUnits2025()
	for i := range after {
		for _, l := range plan.Links {
			if l.Code == after[i].Code && !slices.Contains(after[i].FormedFrom, Predecessor{Code: l.Predecessor, Partial: l.Partial}) {
				after[i].FormedFrom = append(after[i].FormedFrom, Predecessor{Code: l.Predecessor, Partial: l.Partial})
			}
		}
	}
	require.Empty(t, ExtentChanges(after, plan))
	require.Empty(t, ExtentChanges(nil, plan), "a first import binds nobody to an old extent")
}

// LinkUnits gives back what an import's links say, in their order; a unit
// that continues under its own code is its own predecessor, not its own
// successor; a link to a unit not listed fills only the listed side.
func TestLinkUnits(t *testing.T) {
	units := []AdminUnit{{Code: "32002"}, {Code: "32011"}, {Code: "32014"}}
	LinkUnits(units, []UnitLink{
		{Code: "32002", Predecessor: "32011"},
		{Code: "32002", Predecessor: "32002", Partial: true},
		{Code: "32002", Predecessor: "32014", Partial: true},
		{Code: "32999", Predecessor: "32014"},
	})
	require.Equal(t, []Predecessor{{"32011", false}, {"32002", true}, {"32014", true}}, units[0].FormedFrom)
	require.Empty(t, units[0].SuccessorCodes)
	require.Equal(t, []string{"32002"}, units[1].SuccessorCodes)
	require.Equal(t, []string{"32002", "32999"}, units[2].SuccessorCodes)
	require.Empty(t, units[2].FormedFrom)
}
