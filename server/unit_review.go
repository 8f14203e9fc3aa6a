package server

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// A reorganisation reuses codes: 32002 was Phường 4 (174 households) until
// 2025 and is all of An Xuyên after it. An account bound to such a code
// (or to a retired unit) was given the old area, and must not silently
// inherit the new one. Importing a tree marks those accounts; until the
// operator confirms (Admin.RebindUser, hamlet-server user rebind) they sign
// in to a page that says their area changed and who can confirm it, and the
// API answers 403 unit_changed. Teams bound to such a unit are listed too:
// what a team syncs is its hamlets, which keep their codes, but the
// operator should know the team's commune now names another area.

// UnitReview is what an import of units did to what was bound to the units
// whose extent it changed.
type UnitReview struct {
	Units    []schema.ExtentChange `json:"units_changed"`
	Accounts []User                `json:"accounts"` // awaiting confirmation
	Teams    []Team                `json:"teams"`
}

// ImportUnitsReviewed imports units as ImportUnits does and marks the
// accounts bound to a unit whose extent the import changed.
func (a *Admin) ImportUnitsReviewed(ctx context.Context, units []schema.AdminUnit) (UnitReview, error) {
	before, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return UnitReview{}, err
	}
	return a.importReviewed(ctx, before, units)
}

// importReviewed imports units and, in the same transaction, marks the
// accounts bound to units of before whose extent the import changes: an
// import that fails marks no one, and one that succeeds has marked them
// (a rerun would see the new tree in force, no extent changed, and the
// accounts would silently widen). It lists the marked accounts with the
// teams bound to such a unit (their commune as it was before
// ApplyReorganisation moves any team).
func (a *Admin) importReviewed(ctx context.Context, before, units []schema.AdminUnit) (UnitReview, error) {
	plan, err := schema.PlanUnitImport(units)
	if err != nil {
		return UnitReview{}, err
	}
	r := UnitReview{Units: schema.ExtentChanges(before, plan), Accounts: []User{}, Teams: []Team{}}
	changed := map[string]bool{}
	var codes []string
	for _, c := range r.Units {
		changed[c.Code] = true
		codes = append(codes, c.Code)
	}
	if err := a.s.store.ImportUnitsMarking(ctx, units, codes); err != nil {
		return UnitReview{}, err
	}
	if len(r.Units) == 0 {
		return r, nil
	}
	users, err := a.s.store.Users(ctx)
	if err != nil {
		return r, err
	}
	for _, u := range users {
		if changed[u.UnitCode] && u.UnitChangedOn != "" && u.Disabled == nil {
			r.Accounts = append(r.Accounts, u)
		}
	}
	teams, err := a.s.store.Teams(ctx)
	if err != nil {
		return r, err
	}
	for _, t := range teams {
		if changed[t.CommuneCode] {
			r.Teams = append(r.Teams, t)
		}
	}
	a.s.log.Info("units whose extent changed", "units", len(r.Units), "accounts_to_confirm", len(r.Accounts), "teams", len(r.Teams))
	return r, nil
}

// UnitRetiredError refuses to confirm an account on a retired unit: it
// must be bound to another unit, usually a successor.
type UnitRetiredError struct {
	Code, RetiredOn string
	Successors      []string
}

func (e *UnitRetiredError) Error() string {
	return fmt.Sprintf("unit %s was retired on %s; bind the account to another unit (successors: %s)", e.Code, e.RetiredOn, strings.Join(e.Successors, ", "))
}

// Successors are the units formed (in whole or part) from code.
func Successors(units []schema.AdminUnit, code string) []string {
	var out []string
	for _, u := range units {
		if slices.ContainsFunc(u.FormedFrom, func(p schema.Predecessor) bool { return p.Code == code }) && u.Code != code {
			out = append(out, u.Code)
		}
	}
	return out
}

// RebindUser confirms the unit of an account awaiting confirmation
// (unitCode "": the unit it is bound to, with its new extent), or binds it
// to another unit in force. Either way the account sees data again.
func (a *Admin) RebindUser(ctx context.Context, username, unitCode string) (User, error) {
	var us UserStore = a.s.store
	username = strings.ToLower(strings.TrimSpace(username))
	u, err := us.UserByName(ctx, username)
	if err != nil {
		return User{}, fmt.Errorf("rebind user %s: %w", username, err)
	}
	if unitCode == "" {
		unitCode = u.UnitCode
	}
	units, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return User{}, err
	}
	i := slices.IndexFunc(units, func(x schema.AdminUnit) bool { return x.Code == unitCode })
	switch {
	case i < 0:
		return User{}, fmt.Errorf("rebind user %s: unit %q: %w", username, unitCode, ErrNotFound)
	case units[i].RetiredOn != "":
		return User{}, &UnitRetiredError{Code: unitCode, RetiredOn: units[i].RetiredOn, Successors: Successors(units, unitCode)}
	case u.Role == analytics.RoleCommuneLeader && units[i].Level != schema.LevelCommune:
		return User{}, fmt.Errorf("rebind user %s: a commune leader is bound to a commune, and %s is a %s", username, unitCode, units[i].Level)
	}
	if err := us.RebindUser(ctx, u.Username, unitCode); err != nil {
		return User{}, fmt.Errorf("rebind user %s: %w", username, err)
	}
	a.s.log.Info("user unit confirmed", "user", u.ID, "unit", unitCode, "was", u.UnitCode)
	u.UnitCode, u.UnitChangedOn = unitCode, ""
	return u, nil
}
