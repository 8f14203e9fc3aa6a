package schema

import (
	"slices"
	"sort"
)

// UnitLink says that Code was formed (in whole or in part) from Predecessor.
type UnitLink struct {
	Code        string
	Predecessor string
	Partial     bool
}

// LinkUnits fills units' FormedFrom and SuccessorCodes from the links a
// store recorded (UnitImport.Links), in the links' order: what a store's
// listing of the tree gives back of an import.
func LinkUnits(units []AdminUnit, links []UnitLink) {
	idx := make(map[string]int, len(units))
	for i, u := range units {
		idx[u.Code] = i
	}
	for _, l := range links {
		if i, ok := idx[l.Code]; ok {
			units[i].FormedFrom = append(units[i].FormedFrom, Predecessor{Code: l.Predecessor, Partial: l.Partial})
		}
		if i, ok := idx[l.Predecessor]; ok && l.Predecessor != l.Code {
			units[i].SuccessorCodes = append(units[i].SuccessorCodes, l.Code)
		}
	}
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

// ExtentChange is a unit in force before an import whose extent the import
// changes: its code is reused for a unit formed from more (or less) than
// the old unit, or the unit is retired. Whoever was bound to it (a
// dashboard account, a team) was bound to the old extent, and must not
// silently inherit the new one.
type ExtentChange struct {
	Code       string        `json:"code"`
	Level      Level         `json:"level"`
	Retired    bool          `json:"retired"`               // retired by the import
	FormedFrom []Predecessor `json:"formed_from,omitempty"` // the new unit's make-up, for a reused code
	Successors []string      `json:"successors,omitempty"`  // the units that took a retired one's area
	On         string        `json:"on"`                    // the day the change took effect
}

// ExtentChanges lists the units of before (the tree in force, with its
// predecessor links) whose extent plan changes. A reused code counts when
// the new unit was formed from anything but the whole old unit alone: in
// 2025 code 32002 passed from Phường 4 to An Xuyên, formed from five old
// units. Importing a tree already in force changes nothing: the unit then
// already carries the same links.
func ExtentChanges(before []AdminUnit, plan UnitImport) []ExtentChange {
	inForce := map[string]AdminUnit{}
	for _, u := range before {
		if u.RetiredOn == "" && u.Level != LevelHamlet {
			inForce[u.Code] = u
		}
	}
	links := map[string][]Predecessor{}
	successors := map[string][]string{}
	for _, l := range plan.Links {
		p := Predecessor{Code: l.Predecessor, Partial: l.Partial}
		if !slices.Contains(links[l.Code], p) {
			links[l.Code] = append(links[l.Code], p)
		}
		if !slices.Contains(successors[l.Predecessor], l.Code) {
			successors[l.Predecessor] = append(successors[l.Predecessor], l.Code)
		}
	}
	var out []ExtentChange
	for _, u := range plan.Units {
		old, ok := inForce[u.Code]
		ls := links[u.Code]
		if !ok || len(ls) == 0 || (len(ls) == 1 && ls[0] == Predecessor{Code: u.Code}) || samePredecessors(old.FormedFrom, ls) {
			continue
		}
		out = append(out, ExtentChange{Code: u.Code, Level: old.Level, FormedFrom: ls, On: plan.RetiredOn})
	}
	retire := map[string]bool{}
	for _, code := range plan.Retire {
		retire[code] = true
	}
	for code, u := range inForce {
		if retire[code] || (plan.RetireDistricts && u.Level == LevelDistrict) {
			ss := slices.Clone(successors[code])
			sort.Strings(ss)
			out = append(out, ExtentChange{Code: code, Level: u.Level, Retired: true, Successors: ss, On: plan.RetiredOn})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func samePredecessors(a, b []Predecessor) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		if !slices.Contains(b, p) {
			return false
		}
	}
	return true
}
