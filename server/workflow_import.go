package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
)

// BulkAdminStore is what loading a whole province at once needs of a
// store: teams and members with the ids they already have (a generator's,
// an import's) in one transaction, and teams moved to another commune.
type BulkAdminStore interface {
	ImportTeams(ctx context.Context, teams []Team, members []Member) error
	SetTeamCommunes(ctx context.Context, communeOf map[string]string) error
	// ReparentHamlets moves hamlets under other communes. A hamlet keeps
	// its code (the replication scope), whose prefix then names its old
	// commune: the code is an identifier, not a path.
	ReparentHamlets(ctx context.Context, parentOf map[string]string) error
}

// ImportTeams creates teams and members with their given ids (so rows that
// name a volunteer id keep pointing at the right member). Hamlets must exist.
func (a *Admin) ImportTeams(ctx context.Context, teams []Team, members []Member) error {
	parents, err := a.hamletParents(ctx)
	if err != nil {
		return err
	}
	for _, t := range teams {
		if err := (schema.Team{ID: t.ID, CommuneCode: t.CommuneCode, Name: t.Name, HamletCodes: t.Hamlets}).Validate(); err != nil {
			return fmt.Errorf("import teams: %w", err)
		}
		if err := teamHamletsIn(parents, t.CommuneCode, t.Hamlets); err != nil {
			return fmt.Errorf("import teams: team %s: %w", t.ID, err)
		}
	}
	for _, m := range members {
		if err := (schema.Member{ID: m.ID, TeamID: m.TeamID, Name: m.Name, Role: schema.Role(m.Role), Phone: m.Phone}).Validate(); err != nil {
			return fmt.Errorf("import members: %w", err)
		}
	}
	return a.s.store.ImportTeams(ctx, teams, members)
}

// UnplacedHamletsError: ApplyReorganisation was not told where hamlets of
// a commune split between several new ones go. Nothing was changed.
type UnplacedHamletsError struct {
	Hamlets []string // sorted: of communes split between several new ones
	// Orphans, sorted, are hamlets of OrphanCommunes, communes in force
	// that no new commune is formed from: a code mistyped in the units
	// file, or a commune left out of it.
	Orphans, OrphanCommunes []string
}

func (e *UnplacedHamletsError) Error() string {
	var parts []string
	if len(e.Hamlets) > 0 {
		parts = append(parts, fmt.Sprintf("%d hamlets belong to communes split between several new ones; say where each goes (hamlet,commune CSV): %s",
			len(e.Hamlets), strings.Join(e.Hamlets[:min(10, len(e.Hamlets))], ", ")))
	}
	if len(e.Orphans) > 0 {
		parts = append(parts, fmt.Sprintf("no new commune is formed from %s, whose hamlets %s would be left without a commune",
			strings.Join(e.OrphanCommunes, ", "), strings.Join(e.Orphans[:min(10, len(e.Orphans))], ", ")))
	}
	return strings.Join(parts, "; ")
}

// SuccessionError: a reorganisation's new commune takes the code of a
// commune in force that it is not formed from (two codes swapped would
// silently swap the two communes' hamlets). Nothing was changed.
type SuccessionError struct {
	Unit, UnitName string // the new commune whose line to fix
}

func (e *SuccessionError) Error() string {
	return fmt.Sprintf("new commune %s (%s) is the code of a commune it is not formed from; a code passes only to a successor", e.Unit, e.UnitName)
}

// checkSuccession checks units against the tree before. A predecessor
// code the server never had is no mistake: the 2025 province took in
// another province's communes, which it never held.
func checkSuccession(before, units []schema.AdminUnit) error {
	known := map[string]schema.AdminUnit{}
	communes := 0
	for _, u := range before {
		known[u.Code] = u
		if u.Level == schema.LevelCommune {
			communes++
		}
	}
	if communes == 0 {
		return nil
	}
	for _, u := range units {
		if u.Level != schema.LevelCommune {
			continue
		}
		if k, ok := known[u.Code]; ok && k.Level == schema.LevelCommune &&
			!slices.ContainsFunc(u.FormedFrom, func(p schema.Predecessor) bool { return p.Code == u.Code }) {
			return &SuccessionError{Unit: u.Code, UnitName: u.Name}
		}
	}
	return nil
}

// ReorgStats says what ApplyReorganisation did.
type ReorgStats struct {
	Units         int `json:"units"`          // units of the new tree imported
	Retired       int `json:"retired"`        // units in force before and retired now
	HamletsMoved  int `json:"hamlets_moved"`  // hamlets re-parented
	TeamsMoved    int `json:"teams_moved"`    // teams whose commune changed
	HamletsKept   int `json:"hamlets_kept"`   // hamlets whose commune code did not change
	CommunesAfter int `json:"communes_after"` // communes in force afterwards
	// Review lists the accounts (now awaiting confirmation) and teams bound
	// to a unit whose extent changed (unit_review.go).
	Review UnitReview `json:"review"`
}

// ApplyReorganisation puts a reorganised unit tree in force (the 2025
// merger: schema.ParseUnits2025): its units are imported, their
// predecessors and the districts retired (ImportUnits), every hamlet
// re-parented to its new commune, and every team moved to the commune of its
// hamlets. Synced rows do not change: a hamlet keeps its code, so households
// keep their scope and agents notice nothing; figures of the old communes
// now count under their successors.
//
// hamletCommune gives a hamlet's new commune. A hamlet missing from it goes
// where its old commune went when exactly one new unit took it over; a
// commune split in parts needs every hamlet listed.
func (a *Admin) ApplyReorganisation(ctx context.Context, units []schema.AdminUnit, hamletCommune map[string]string) (ReorgStats, error) {
	var st ReorgStats
	before, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return st, err
	}
	inForce := map[string]bool{}
	var hamlets []schema.AdminUnit
	for _, u := range before {
		if u.RetiredOn == "" {
			inForce[u.Code] = true
		}
		if u.Level == schema.LevelHamlet {
			hamlets = append(hamlets, u)
		}
	}
	if err := checkSuccession(before, units); err != nil {
		return st, fmt.Errorf("apply reorganisation: %w", err)
	}
	newCommune := map[string]bool{}
	takers := map[string][]string{}
	for _, u := range units {
		if u.Level == schema.LevelCommune {
			newCommune[u.Code] = true
		}
		for _, p := range u.FormedFrom {
			takers[p.Code] = append(takers[p.Code], u.Code)
		}
	}
	var missing, orphans []string
	orphanCommunes := map[string]bool{}
	parentOf := map[string]string{}
	for _, h := range hamlets {
		to, ok := hamletCommune[h.Code]
		if !ok {
			ts := takers[h.ParentCode]
			if into, ok := schema.InterimMergers[h.ParentCode]; ok && len(ts) == 0 {
				ts = takers[into]
			}
			switch {
			case len(ts) == 1:
				to = ts[0]
			case len(ts) == 0 && newCommune[h.ParentCode]:
				to = h.ParentCode
			case len(ts) == 0:
				orphans = append(orphans, h.Code)
				orphanCommunes[h.ParentCode] = true
				continue
			default:
				missing = append(missing, h.Code)
				continue
			}
		}
		if !newCommune[to] {
			return st, fmt.Errorf("apply reorganisation: hamlet %s would move to %s, which is not a commune of the new tree", h.Code, to)
		}
		if to == h.ParentCode {
			st.HamletsKept++
		} else {
			st.HamletsMoved++
		}
		if to != h.ParentCode {
			parentOf[h.Code] = to
		}
	}
	if len(missing)+len(orphans) > 0 {
		sort.Strings(missing)
		sort.Strings(orphans)
		cs := slices.Sorted(maps.Keys(orphanCommunes))
		return st, fmt.Errorf("apply reorganisation: %w", &UnplacedHamletsError{Hamlets: missing, Orphans: orphans, OrphanCommunes: cs})
	}
	// Accounts are marked in the import's transaction: a failed import
	// leaves them as they were (no area changed), a rerun after it still
	// sees the old tree and marks them. Teams are listed bound to their
	// commune before the move below.
	if st.Review, err = a.importReviewed(ctx, before, units); err != nil {
		return st, fmt.Errorf("apply reorganisation: %w", err)
	}
	if err := a.s.store.ReparentHamlets(ctx, parentOf); err != nil {
		return st, fmt.Errorf("apply reorganisation: %w", err)
	}
	st.Units = len(units)
	teams, err := a.s.store.Teams(ctx)
	if err != nil {
		return st, err
	}
	homeOf := map[string]string{}
	for _, h := range hamlets {
		homeOf[h.Code] = h.ParentCode
		if to, ok := parentOf[h.Code]; ok {
			homeOf[h.Code] = to
		}
	}
	communeOf := map[string]string{}
	for _, t := range teams {
		votes := map[string]int{}
		best := ""
		for _, h := range t.Hamlets {
			if c, ok := homeOf[h]; ok {
				votes[c]++
				if best == "" || votes[c] > votes[best] || (votes[c] == votes[best] && c < best) {
					best = c
				}
			}
		}
		if best != "" && best != t.CommuneCode {
			communeOf[t.ID] = best
		}
	}
	if len(communeOf) > 0 {
		if err := a.s.store.SetTeamCommunes(ctx, communeOf); err != nil {
			return st, err
		}
	}
	st.TeamsMoved = len(communeOf)
	after, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return st, err
	}
	for _, u := range after {
		if u.RetiredOn != "" && inForce[u.Code] {
			st.Retired++
		}
		if u.RetiredOn == "" && u.Level == schema.LevelCommune {
			st.CommunesAfter++
		}
	}
	a.s.log.Info("units reorganised", "units", st.Units, "retired", st.Retired, "hamlets_moved", st.HamletsMoved, "teams_moved", st.TeamsMoved)
	return st, nil
}

// Now is the server's clock (Config.Now): an importer stamps its changes
// with it so none lands beyond the skew bound.
func (a *Admin) Now() time.Time { return a.s.now() }
