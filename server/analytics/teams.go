package analytics

import (
	"context"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

// ActiveWindow is how recently a member must have synced to count as active.
const ActiveWindow = 30 * 24 * time.Hour

// TeamRow is one team's figures.
type TeamRow struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	CommuneCode string `json:"commune_code"`
	// Commune is the commune's name as lists show it.
	Commune       DisplayName `json:"commune_name"`
	Members       int         `json:"members"`
	ActiveMembers int         `json:"active_members"`
	// HouseholdsReached counts the reached households of the team's hamlets;
	// Visits and Tutoring count what the team's members recorded in the
	// period, for households that are not deleted, wherever those live now
	// (in a hamlet's view: only the hamlet's).
	HouseholdsReached int `json:"households_reached"`
	Visits            int `json:"visits"`
	Tutoring          int `json:"tutoring"`
}

// Bucket is one week or month of a trend.
type Bucket struct {
	Start             string `json:"start"` // YYYY-MM-DD
	Visits            int    `json:"visits"`
	Tutoring          int    `json:"tutoring"`
	HouseholdsReached int    `json:"households_reached"`
}

// CategoryStatus counts reports of one category by status.
type CategoryStatus struct {
	Category string         `json:"category"`
	NameVI   string         `json:"name_vi"`
	NameEN   string         `json:"name_en"`
	ByStatus map[string]int `json:"by_status"`
	Total    int            `json:"total"`
}

// TeamStats is what provincial staff aggregate: per unit and period.
type TeamStats struct {
	Period            Period           `json:"period"`
	Unit              string           `json:"unit"`
	UnitName          string           `json:"unit_name"`
	UnitDisplay       DisplayName      `json:"unit_display_name"` // the name lists show
	Teams             int              `json:"teams"`
	Members           int              `json:"members"`
	ActiveMembers     int              `json:"active_members"`
	Communes          int              `json:"communes"`
	CommunesWithTeams int              `json:"communes_with_teams"`
	HouseholdsReached int              `json:"households_reached"`
	TutoringBySkill   []SkillTally     `json:"tutoring_by_skill"`
	Reports           []CategoryStatus `json:"reports"`
	ReportsTotal      int              `json:"reports_total"`
	ReportsByStatus   map[string]int   `json:"reports_by_status"`
	OnTime            OnTime           `json:"on_time"`
	PerTeam           []TeamRow        `json:"per_team"`
	Trend             []Bucket         `json:"trend"`
}

// SkillTally counts tutoring records of one skill.
type SkillTally struct {
	Skill   string `json:"skill"`
	NameVI  string `json:"name_vi"`
	NameEN  string `json:"name_en"`
	Records int    `json:"records"`
}

// Granularity of a trend.
type Granularity string

const (
	Weekly  Granularity = "week"
	Monthly Granularity = "month"
)

func bucketStart(d time.Time, g Granularity) time.Time {
	if g == Monthly {
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	wd := (int(d.Weekday()) + 6) % 7 // Monday first, as Vietnamese calendars are
	return time.Date(d.Year(), d.Month(), d.Day()-wd, 0, 0, 0, 0, time.UTC)
}

// TeamStats answers the provincial questions for a unit and period. now is
// the instant "active in the last 30 days" is measured from.
func (x *Index) TeamStats(ctx context.Context, unit string, p Period, g Granularity, now time.Time) (*TeamStats, error) {
	if err := x.Refresh(ctx); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	u, err := x.unit(unit)
	if err != nil {
		return nil, err
	}
	st := &TeamStats{Period: p, Unit: u.Code, UnitName: u.Name, UnitDisplay: u.display, ReportsByStatus: map[string]int{}}
	from, to := p.days()

	inUnit := make([]bool, len(x.hamlets))
	for i, h := range x.hamlets {
		inUnit[i] = x.tree.within(h, u.Code)
	}
	hhIn := func(i int32) bool {
		h := &x.hh[i]
		return !h.deleted && h.hamlet >= 0 && inUnit[h.hamlet]
	}

	communes := x.tree.descendants(u.Code, schema.LevelCommune)
	if u.Level == schema.LevelHamlet {
		communes = []string{u.ParentCode}
	}
	st.Communes = len(communes)
	withTeams := map[string]bool{}
	volunteerTeam := make([]int32, len(x.people)) // volunteer index → team row + 1
	hamletTeams := make([][]int32, len(x.hamlets))
	st.PerTeam = []TeamRow{} // [] in JSON for a unit without teams, as openapi.yaml says
	for _, t := range x.teams {
		// A team belongs to its commune even with no hamlet left (all
		// removed mid-period): it, its members and their work stay counted.
		covered := u.Level != schema.LevelHamlet && x.tree.within(t.CommuneCode, u.Code)
		for _, h := range t.Hamlets {
			if x.tree.within(h, u.Code) {
				covered = true
			}
		}
		if !covered {
			continue
		}
		ti := int32(len(st.PerTeam))
		row := TeamRow{ID: t.ID, Name: t.Name, CommuneCode: t.CommuneCode, Commune: x.tree.displayName(t.CommuneCode), Members: len(t.Members)}
		for _, m := range t.Members {
			if !m.LastSync.IsZero() && now.Sub(m.LastSync) <= ActiveWindow && !m.LastSync.After(now.Add(time.Hour)) {
				row.ActiveMembers++
			}
			if i, ok := x.people[m.ID]; ok {
				volunteerTeam[i] = ti + 1
			}
		}
		for _, h := range t.Hamlets {
			if i, ok := x.hamletIx[h]; ok {
				hamletTeams[i] = append(hamletTeams[i], ti)
			}
		}
		withTeams[t.CommuneCode] = true
		st.Teams++
		st.Members += row.Members
		st.ActiveMembers += row.ActiveMembers
		st.PerTeam = append(st.PerTeam, row)
	}
	for _, c := range communes {
		if withTeams[c] {
			st.CommunesWithTeams++
		}
	}

	// Trend buckets are indexed by their position in the period; each keeps
	// a bitset of the households it reached, to count them once. The trend
	// stops at today (in Vietnam): a week to come is not a week with no
	// work, and drawn as 0 it reads as a collapse.
	today := now.In(workcal.Vietnam)
	last := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	if p.To.Before(last) {
		last = p.To
	}
	var starts []time.Time
	for d := bucketStart(p.From, g); !d.After(last); {
		starts = append(starts, d)
		if g == Monthly {
			d = d.AddDate(0, 1, 0)
		} else {
			d = d.AddDate(0, 0, 7)
		}
	}
	// bucketOf[d-from] is the bucket of day d (-1 after today): no date
	// arithmetic per record.
	bucketOf := make([]int32, int(to)-int(from)+1)
	for d, b := from, 0; d <= to && d >= from; d++ {
		for b+1 < len(starts) && !d.Time().Before(starts[b+1]) {
			b++
		}
		bucketOf[d-from] = int32(b)
		if d.Time().After(last) {
			bucketOf[d-from] = -1
		}
	}
	trend := make([]Bucket, len(starts))
	seen := make([][]uint64, len(starts))
	reached := make([]bool, len(x.hh))
	bySkill := make([]int, len(x.skills))
	note := func(hh int32, on day, volunteer int32, isVisit bool, skill uint8) {
		if on < from || on > to {
			return
		}
		// A team's visits and tutoring are its members' work, wherever the
		// household has gone since: one moved to another commune took the
		// records with it, and the team's row in its own commune lost them
		// while the province's kept them (helper 296). In a hamlet's view
		// the team's row is that hamlet's share of its work.
		if ti := volunteerTeam[volunteer]; ti > 0 && (hhIn(hh) || u.Level != schema.LevelHamlet && !x.hh[hh].deleted && x.hh[hh].hamlet >= 0) {
			if isVisit {
				st.PerTeam[ti-1].Visits++
			} else {
				st.PerTeam[ti-1].Tutoring++
			}
		}
		if !hhIn(hh) {
			return
		}
		reached[hh] = true
		if !isVisit {
			bySkill[skill]++
		}
		b := bucketOf[on-from]
		if b < 0 {
			return
		}
		if isVisit {
			trend[b].Visits++
		} else {
			trend[b].Tutoring++
		}
		if seen[b] == nil {
			seen[b] = make([]uint64, (len(x.hh)+63)/64)
		}
		// Households reached counts active households, in the total
		// (below) and in every bucket alike.
		if w, bit := hh/64, uint64(1)<<(hh%64); x.hh[hh].active && seen[b][w]&bit == 0 {
			seen[b][w] |= bit
			trend[b].HouseholdsReached++
		}
	}
	for i := range x.visits {
		if v := &x.visits[i]; !v.deleted {
			note(v.hh, v.on, v.volunteer, true, 0)
		}
	}
	for i := range x.tut {
		if t := &x.tut[i]; !t.deleted {
			note(t.hh, t.on, t.volunteer, false, t.skill)
		}
	}
	for i, r := range reached {
		if !r || !x.hh[i].active {
			continue
		}
		st.HouseholdsReached++
		for _, ti := range hamletTeams[x.hh[i].hamlet] {
			st.PerTeam[ti].HouseholdsReached++
		}
	}
	for k, s := range x.skills {
		st.TutoringBySkill = append(st.TutoringBySkill, SkillTally{Skill: s.Code, NameVI: s.NameVI, NameEN: s.NameEN, Records: bySkill[k]})
	}
	for i := range trend {
		trend[i].Start = starts[i].Format(time.DateOnly)
	}
	st.Trend = trend

	// Reports submitted in the period, by category and status, and on time.
	cats := make([]CategoryStatus, len(x.cats))
	for i, c := range x.cats {
		cats[i] = CategoryStatus{Category: c.Code, NameVI: c.NameVI, NameEN: c.NameEN, ByStatus: map[string]int{}}
	}
	for i := range x.reports {
		r := &x.reports[i]
		if r.deleted || r.hamlet < 0 || !inUnit[r.hamlet] || r.submitted.IsZero() {
			continue
		}
		sd := vnDay(r.submitted) // periods are Vietnam days
		if sd < from || sd > to {
			continue
		}
		cats[r.category].ByStatus[string(r.status)]++
		cats[r.category].Total++
		st.ReportsByStatus[string(r.status)]++
		st.ReportsTotal++
		st.OnTime.add(x.cal, r, now)
	}
	st.Reports = cats
	st.OnTime.finish()
	return st, nil
}
