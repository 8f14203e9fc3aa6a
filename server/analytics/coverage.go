package analytics

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

// Period is a range of dates, both ends included.
type Period struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

func (p Period) days() (day, day) { return dayOf(p.From), dayOf(p.To) }

// SkillCount is how many households can use a skill alone.
type SkillCount struct {
	Skill      string  `json:"skill"`
	NameVI     string  `json:"name_vi"`
	NameEN     string  `json:"name_en"`
	Households int     `json:"households"`
	Share      float64 `json:"share"`
}

// CoverageRow is coverage of one unit.
type CoverageRow struct {
	Code       string       `json:"code"`
	Name       string       `json:"name"`
	Display    DisplayName  `json:"display_name"` // the name lists show
	Level      string       `json:"level"`
	Households int          `json:"households"` // active households registered
	Reached    int          `json:"reached"`    // with a visit or tutoring record in the period
	Coverage   float64      `json:"coverage"`   // reached / households, 0..1
	Skills     []SkillCount `json:"skills"`
}

// Coverage is a unit's coverage with its breakdown by child unit.
type Coverage struct {
	Period   Period        `json:"period"`
	Unit     CoverageRow   `json:"unit"`
	Children []CoverageRow `json:"children"`
}

// UnitError is returned for a unit that cannot be reported on.
type UnitError struct {
	Code       string
	Retired    string   // retirement date when the unit was retired
	Successors []string // where its hamlets went
}

func (e *UnitError) Error() string {
	if e.Retired != "" {
		return fmt.Sprintf("unit %s was retired on %s; its households count under %v", e.Code, e.Retired, e.Successors)
	}
	return fmt.Sprintf("unit %s: %v", e.Code, ErrUnknownUnit)
}

func (e *UnitError) Unwrap() error { return ErrUnknownUnit }

func (x *Index) unit(code string) (*node, error) {
	n, ok := x.tree.nodes[code]
	if !ok {
		return nil, &UnitError{Code: code}
	}
	if n.RetiredOn != "" {
		succ := n.SuccessorCodes
		if len(succ) == 0 {
			for _, m := range x.tree.nodes {
				for _, p := range m.FormedFrom {
					if p.Code == code && m.RetiredOn == "" {
						succ = append(succ, m.Code)
					}
				}
			}
		}
		return nil, &UnitError{Code: code, Retired: n.RetiredOn, Successors: succ}
	}
	return n, nil
}

// Within reports whether unit lies under (or is) ancestor: the authorisation
// check for a leader bound to a unit.
func (x *Index) Within(unit, ancestor string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.tree == nil {
		return false
	}
	return x.tree.within(unit, ancestor)
}

// groups maps each hamlet index to a child slot of unit: -1 for hamlets
// outside it. For a hamlet unit the only slot is the unit itself.
func (x *Index) groups(u *node) ([]int32, []*node) {
	slots := make([]int32, len(x.hamlets))
	var children []*node
	slotOf := map[string]int32{}
	for _, c := range u.children {
		slotOf[c] = int32(len(children))
		children = append(children, x.tree.nodes[c])
	}
	for i, h := range x.hamlets {
		slots[i] = -1
		child, ok := x.tree.childUnder(h, u.Code)
		if !ok {
			continue
		}
		if child == "" { // u is the hamlet itself
			slots[i] = 0
			if len(children) == 0 {
				children = append(children, u)
			}
			continue
		}
		s, ok := slotOf[child]
		if !ok {
			continue
		}
		slots[i] = s
	}
	return slots, children
}

// groupsAt maps each hamlet to a slot per descendant of u at level.
func (x *Index) groupsAt(u *node, level schema.Level) ([]int32, []*node) {
	var children []*node
	slotOf := map[string]int32{}
	for _, c := range x.tree.descendants(u.Code, level) {
		slotOf[c] = int32(len(children))
		children = append(children, x.tree.nodes[c])
	}
	slots := make([]int32, len(x.hamlets))
	for i, h := range x.hamlets {
		slots[i] = -1
		if !x.tree.within(h, u.Code) {
			continue
		}
		for c, seen := h, 0; c != "" && seen < 16; seen++ {
			if s, ok := slotOf[c]; ok {
				slots[i] = s
				break
			}
			n := x.tree.nodes[c]
			if n == nil {
				break
			}
			c = n.ParentCode
		}
	}
	return slots, children
}

// reachedIn marks households with a visit or tutoring record in [from, to].
func (x *Index) reachedIn(from, to day) []bool {
	reached := make([]bool, len(x.hh))
	for i := range x.visits {
		v := &x.visits[i]
		if !v.deleted && v.on >= from && v.on <= to {
			reached[v.hh] = true
		}
	}
	for i := range x.tut {
		t := &x.tut[i]
		if !t.deleted && t.on >= from && t.on <= to {
			reached[t.hh] = true
		}
	}
	return reached
}

// Coverage answers "what share of this unit's households did teams reach in
// the period", with skill coverage (households where someone can use the
// skill alone, taught up to the end of the period) and a row per child unit.
func (x *Index) Coverage(ctx context.Context, unit string, p Period) (*Coverage, error) {
	return x.CoverageBy(ctx, unit, p, "")
}

// CoverageBy is Coverage with the breakdown by the unit's descendants of
// one level ("" for its children): a province's table of hamlets is
// CoverageBy(province, p, schema.LevelHamlet).
func (x *Index) CoverageBy(ctx context.Context, unit string, p Period, level schema.Level) (*Coverage, error) {
	if err := x.Refresh(ctx); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	u, err := x.unit(unit)
	if err != nil {
		return nil, err
	}
	from, to := p.days()
	reached := x.reachedIn(from, to)
	skillMask := make([]uint16, len(x.hh))
	for i := range x.tut {
		t := &x.tut[i]
		if !t.deleted && t.indep && t.on <= to {
			skillMask[t.hh] |= 1 << t.skill
		}
	}
	slots, children := x.groups(u)
	if level != "" && level != u.Level {
		slots, children = x.groupsAt(u, level)
	}
	type tally struct {
		households, reached int
		skills              []int
	}
	tallies := make([]tally, len(children))
	for i := range tallies {
		tallies[i].skills = make([]int, len(x.skills))
	}
	// The unit's own totals count every household of a hamlet within it,
	// whatever the breakdown: a level the unit has no descendants of (no
	// districts since 2025, a level above the unit) leaves hamlets in no
	// slot, and the unit's figures must not drop to 0 of 0 for it.
	total := tally{skills: make([]int, len(x.skills))}
	inUnit := make([]bool, len(x.hamlets))
	for i, h := range x.hamlets {
		inUnit[i] = x.tree.within(h, u.Code)
	}
	count := func(tl *tally, i int) {
		tl.households++
		if reached[i] {
			tl.reached++
		}
		for m, k := skillMask[i], 0; m != 0; m, k = m>>1, k+1 {
			if m&1 != 0 {
				tl.skills[k]++
			}
		}
	}
	for i := range x.hh {
		h := &x.hh[i]
		if h.deleted || !h.active || h.hamlet < 0 {
			continue
		}
		if inUnit[h.hamlet] {
			count(&total, i)
		}
		if s := slots[h.hamlet]; s >= 0 {
			count(&tallies[s], i)
		}
	}
	// Children is [] for a hamlet, never null: the API's clients take it as
	// an array (openapi.yaml).
	out := &Coverage{Period: p, Children: make([]CoverageRow, 0, len(children))}
	for i, c := range children {
		tl := tallies[i]
		out.Children = append(out.Children, x.row(c, tl.households, tl.reached, tl.skills))
	}
	// A list of descendants further down than children (a province's
	// hamlets) names each with its parent: hamlet names repeat across
	// communes.
	for i, c := range children {
		if c.ParentCode != u.Code && c.Code != u.Code {
			p := x.tree.displayName(c.ParentCode)
			out.Children[i].Display = DisplayName{VI: c.display.VI + ", " + p.VI, EN: c.display.EN + ", " + p.EN}
		}
	}
	out.Unit = x.row(u, total.households, total.reached, total.skills)
	if u.Level == "hamlet" {
		out.Children = out.Children[:0]
	}
	return out, nil
}

func (x *Index) row(n *node, households, reached int, skills []int) CoverageRow {
	r := CoverageRow{Code: n.Code, Name: n.Name, Display: n.display, Level: string(n.Level), Households: households, Reached: reached,
		Coverage: share(reached, households)}
	// Sized once: a province's list of hamlets makes a row for each, and
	// growing every row's skills was most of the list's allocation.
	r.Skills = slices.Grow(r.Skills, len(x.skills))
	for k, s := range x.skills {
		r.Skills = append(r.Skills, SkillCount{Skill: s.Code, NameVI: s.NameVI, NameEN: s.NameEN, Households: skills[k], Share: share(skills[k], households)})
	}
	return r
}

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// LatestDay is the most recent day, up to today in Vietnam (now), with a
// visit or tutoring record of a household in unit or a field report from
// it; ok is false when there is none. A leader's first view is the month
// of that day, not a current month still without figures.
func (x *Index) LatestDay(ctx context.Context, unit string, now time.Time) (time.Time, bool, error) {
	if err := x.Refresh(ctx); err != nil {
		return time.Time{}, false, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	u, err := x.unit(unit)
	if err != nil {
		return time.Time{}, false, err
	}
	inUnit := make([]bool, len(x.hamlets))
	for i, h := range x.hamlets {
		inUnit[i] = x.tree.within(h, u.Code)
	}
	hhIn := func(i int32) bool {
		h := &x.hh[i]
		return !h.deleted && h.hamlet >= 0 && inUnit[h.hamlet]
	}
	// Days after today are typing mistakes, not the latest figures.
	today := vnDay(now)
	var latest day
	found := false
	note := func(d day) {
		if d <= today && (!found || d > latest) {
			latest, found = d, true
		}
	}
	for i := range x.visits {
		if v := &x.visits[i]; !v.deleted && hhIn(v.hh) {
			note(v.on)
		}
	}
	for i := range x.tut {
		if t := &x.tut[i]; !t.deleted && hhIn(t.hh) {
			note(t.on)
		}
	}
	for i := range x.reports {
		if r := &x.reports[i]; !r.deleted && r.hamlet >= 0 && inUnit[r.hamlet] && !r.submitted.IsZero() {
			note(vnDay(r.submitted))
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return latest.Time(), true, nil
}

// vnDay is the day it is in Vietnam at t.
func vnDay(t time.Time) day {
	t = t.In(workcal.Vietnam)
	return dayOf(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
}
