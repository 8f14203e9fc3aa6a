package schema

import "sort"

// UnitLink says that Code was formed (in whole or in part) from Predecessor.
type UnitLink struct {
	Code        string
	Predecessor string
	Partial     bool
}

// UnitImport is what importing a set of admin units does to the tree in
// force. Stores persist it; they do not decide it, so the SQLite and the
// PostgreSQL stores cannot disagree about a reorganisation.
type UnitImport struct {
	// Units are upserted by code: codes are reused across reorganisations
	// (32002 was Phường 4 in 2022 and is An Xuyên from 2025).
	Units []AdminUnit
	// Links are the predecessor links to record (successors are their reverse).
	Links []UnitLink
	// Retire lists units that the new tree replaces, retired on RetiredOn.
	Retire []string
	// RetireDistricts is set when a reorganised tree has no district level
	// (since 2025-07-01): every district is retired on RetiredOn.
	RetireDistricts bool
	RetiredOn       string
}

// PlanUnitImport validates units and works out the retirements and links an
// import implies. A set is a reorganised tree when some unit has FormedFrom:
// every predecessor not itself in the set is retired, and so is a unit merged
// into such a predecessor between the two trees (InterimMergers), which is
// linked to the new unit through it.
func PlanUnitImport(units []AdminUnit) (UnitImport, error) {
	plan := UnitImport{Units: units, RetiredOn: Units2025EffectiveOn}
	in := map[string]bool{}
	reorganised, hasDistrict := false, false
	for _, u := range units {
		if err := u.Validate(); err != nil {
			return UnitImport{}, err
		}
		in[u.Code] = true
		reorganised = reorganised || len(u.FormedFrom) > 0
		hasDistrict = hasDistrict || u.Level == LevelDistrict
	}
	retire := map[string]bool{}
	for _, u := range units {
		for _, p := range u.FormedFrom {
			plan.Links = append(plan.Links, UnitLink{Code: u.Code, Predecessor: p.Code, Partial: p.Partial})
			if reorganised && !in[p.Code] {
				retire[p.Code] = true
			}
			for old, into := range InterimMergers {
				if into == p.Code && !in[old] {
					plan.Links = append(plan.Links, UnitLink{Code: u.Code, Predecessor: old, Partial: p.Partial})
					retire[old] = true
				}
			}
		}
		for _, sc := range u.SuccessorCodes {
			plan.Links = append(plan.Links, UnitLink{Code: sc, Predecessor: u.Code})
		}
	}
	for code := range retire {
		plan.Retire = append(plan.Retire, code)
	}
	sort.Strings(plan.Retire)
	plan.RetireDistricts = reorganised && !hasDistrict
	return plan, nil
}
