package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Admin is the operator's API: what the hamlet-server subcommands call.
type Admin struct{ s *Server }

// ImportUnits loads admin units (schema.ParseUnits2022/2025 output). The
// accounts bound to a unit whose extent the import changes await the
// operator's confirmation (ImportUnitsReviewed, unit_review.go).
func (a *Admin) ImportUnits(ctx context.Context, units []schema.AdminUnit) error {
	_, err := a.ImportUnitsReviewed(ctx, units)
	return err
}

// Units lists units of a level ("" for all) under parent ("" for any).
func (a *Admin) Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error) {
	return a.s.store.Units(ctx, level, parent)
}

// CommuneRetiredError refuses hamlets to a commune a reorganisation
// retired: its hamlets moved to the communes that took its area
// (Successors), and new ones are added there, under their codes.
type CommuneRetiredError struct {
	Commune    string
	RetiredOn  string
	Successors []string
	Hamlet     string // the new hamlet whose code names Commune, if any
}

func (e *CommuneRetiredError) Error() string {
	what := "add hamlets"
	if e.Hamlet != "" {
		what = "add hamlet " + e.Hamlet
	}
	return fmt.Sprintf("%s: commune %s was retired on %s; its area is now in %s: add hamlets there, under its code",
		what, e.Commune, e.RetiredOn, strings.Join(e.Successors, ", "))
}

// communeInForce returns the commune, ErrNotFound, or *CommuneRetiredError.
func communeInForce(units []schema.AdminUnit, commune, hamlet string) (schema.AdminUnit, error) {
	for _, u := range units {
		if u.Code != commune || u.Level != schema.LevelCommune {
			continue
		}
		if u.RetiredOn != "" {
			return u, &CommuneRetiredError{Commune: commune, RetiredOn: u.RetiredOn, Successors: Successors(units, commune), Hamlet: hamlet}
		}
		return u, nil
	}
	return schema.AdminUnit{}, fmt.Errorf("add hamlets: commune %s: %w (import the units first)", commune, ErrNotFound)
}

// AddHamlets creates hamlets number from..from+count-1 of a commune, named
// "Ấp N" (or "Khóm N" in a phường), with codes schema.HamletCode. Existing
// hamlets are left as they are, wherever a reorganisation put them. A
// retired commune is refused (*CommuneRetiredError): its hamlets are its
// successor's now.
func (a *Admin) AddHamlets(ctx context.Context, commune string, from, count int) ([]schema.AdminUnit, error) {
	if from < 1 {
		from = 1
	}
	if count < 1 || from+count-1 > 99 {
		return nil, fmt.Errorf("add hamlets: numbers %d..%d must lie in 1..99", from, from+count-1)
	}
	units, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return nil, err
	}
	c, err := communeInForce(units, commune, "")
	if err != nil {
		return nil, err
	}
	// By code, not by parent: a hamlet the merger moved away keeps its
	// code, and re-creating it would move it back.
	have := map[string]bool{}
	for _, u := range units {
		if u.Level == schema.LevelHamlet {
			have[u.Code] = true
		}
	}
	typ, word := "ap", "Ấp"
	if c.Type == "phuong" {
		typ, word = "khom", "Khóm"
	}
	var out []schema.AdminUnit
	for n := from; n < from+count; n++ {
		u := schema.AdminUnit{Code: schema.HamletCode(commune, n), Name: fmt.Sprintf("%s %d", word, n), Type: typ, Level: schema.LevelHamlet, ParentCode: commune}
		if have[u.Code] {
			continue
		}
		out = append(out, u)
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := a.s.store.ImportUnits(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// ImportHamlets adds or renames hamlets (code, name, type; the operator's
// hamlets file). A hamlet that exists keeps its commune, which after a
// reorganisation may not be the one its code starts with; a new hamlet
// goes to the commune its code starts with, which must exist and be in
// force (*CommuneRetiredError). It returns the hamlets as imported.
func (a *Admin) ImportHamlets(ctx context.Context, hamlets []schema.AdminUnit) ([]schema.AdminUnit, error) {
	units, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return nil, err
	}
	parent := map[string]string{}
	for _, u := range units {
		if u.Level == schema.LevelHamlet {
			parent[u.Code] = u.ParentCode
		}
	}
	out := make([]schema.AdminUnit, 0, len(hamlets))
	for _, h := range hamlets {
		if h.Level != schema.LevelHamlet {
			return nil, fmt.Errorf("import hamlets: %s is a %s, not a hamlet", h.Code, h.Level)
		}
		if err := schema.ValidateHamletCode(h.Code); err != nil {
			return nil, fmt.Errorf("import hamlets: %w", err)
		}
		if p, ok := parent[h.Code]; ok {
			h.ParentCode = p
		} else {
			if _, err := communeInForce(units, h.Code[:5], h.Code); err != nil {
				return nil, err
			}
			h.ParentCode = h.Code[:5]
		}
		out = append(out, h)
	}
	if err := a.ImportUnits(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateTeam creates a team of a commune covering hamlets, which must exist.
func (a *Admin) CreateTeam(ctx context.Context, communeCode, name string, hamlets []string) (Team, error) {
	t := Team{ID: a.s.cfg.NewID().String(), CommuneCode: communeCode, Name: strings.TrimSpace(norm.NFC.String(name)), Hamlets: append([]string(nil), hamlets...)}
	sort.Strings(t.Hamlets)
	if err := (schema.Team{ID: t.ID, CommuneCode: t.CommuneCode, Name: t.Name, HamletCodes: t.Hamlets}).Validate(); err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	parents, err := a.hamletParents(ctx)
	if err != nil {
		return Team{}, err
	}
	if err := teamHamletsIn(parents, communeCode, t.Hamlets); err != nil {
		return Team{}, fmt.Errorf("create team: %w", err)
	}
	if err := a.s.store.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	return t, nil
}

// HamletElsewhereError refuses a team a hamlet of another commune. A
// team covers hamlets of its own commune, and a hamlet's commune is its
// parent: after a reorganisation (the 2025 merger) a hamlet keeps its
// code, whose first five digits may name its old commune.
type HamletElsewhereError struct {
	Hamlet  string
	Commune string // the team's
	Parent  string // the hamlet's
}

func (e *HamletElsewhereError) Error() string {
	return fmt.Sprintf("hamlet %s is in commune %s, not in commune %s: a team covers hamlets of its own commune only", e.Hamlet, e.Parent, e.Commune)
}

// hamletParents maps every hamlet's code to its commune.
func (a *Admin) hamletParents(ctx context.Context) (map[string]string, error) {
	hs, err := a.s.store.Units(ctx, schema.LevelHamlet, "")
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Code] = h.ParentCode
	}
	return m, nil
}

// teamHamletsIn checks that every hamlet exists (ErrNotFound) and is a
// hamlet of commune (*HamletElsewhereError). A missing hamlet is told
// first: it may be a typo of one of commune's.
func teamHamletsIn(parents map[string]string, commune string, hamlets []string) error {
	for _, h := range hamlets {
		if _, ok := parents[h]; !ok {
			return fmt.Errorf("hamlet %s: %w (add it with: hamlet-server unit add-hamlets)", h, ErrNotFound)
		}
	}
	for _, h := range hamlets {
		if p := parents[h]; p != commune {
			return &HamletElsewhereError{Hamlet: h, Commune: commune, Parent: p}
		}
	}
	return nil
}

// Teams lists the teams.
func (a *Admin) Teams(ctx context.Context) ([]Team, error) { return a.s.store.Teams(ctx) }

// AddMember adds a member to a team. role is "leader" or "member".
func (a *Admin) AddMember(ctx context.Context, teamID, name, role, phone string) (Member, error) {
	if role == "" {
		role = string(schema.RoleMember)
	}
	m := Member{ID: a.s.cfg.NewID().String(), TeamID: teamID, Name: strings.TrimSpace(norm.NFC.String(name)), Role: role}
	if phone != "" {
		p, err := schema.NormalizePhone(phone)
		if err != nil {
			return Member{}, fmt.Errorf("add member: phone: %w", err)
		}
		m.Phone = p
	}
	if err := (schema.Member{ID: m.ID, TeamID: m.TeamID, Name: m.Name, Role: schema.Role(m.Role), Phone: m.Phone}).Validate(); err != nil {
		return Member{}, fmt.Errorf("add member: %w", err)
	}
	if err := a.s.store.AddMember(ctx, m); err != nil {
		return Member{}, err
	}
	return m, nil
}

// DefaultCodeTTL is how long an enrollment code is valid by default.
const DefaultCodeTTL = 72 * time.Hour

// IssueCode makes a one-time enrollment code for a member, valid for ttl.
// Only its hash is stored: show the code to the operator once.
func (a *Admin) IssueCode(ctx context.Context, memberID string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 {
		ttl = DefaultCodeTTL
	}
	if _, err := a.s.store.Member(ctx, memberID); err != nil {
		return "", time.Time{}, fmt.Errorf("issue code: %w", err)
	}
	code, err := newCode()
	if err != nil {
		return "", time.Time{}, err
	}
	norm, _ := normalizeCode(code)
	now := a.s.now()
	exp := now.Add(ttl).UTC().Truncate(time.Second)
	if err := a.s.store.PutCode(ctx, EnrollCode{Hash: hashCode(norm), MemberID: memberID, Expires: exp, Created: now}); err != nil {
		return "", time.Time{}, err
	}
	a.s.log.Info("enrollment code issued", LogMember, memberID, "expires", exp)
	return code, exp, nil
}

// ListDevices lists enrolled devices, revoked ones included.
func (a *Admin) ListDevices(ctx context.Context) ([]Device, error) {
	a.s.flushActivity(ctx)
	return a.s.store.Devices(ctx)
}

// RevokeDevice revokes a device's token and closes its open sessions.
func (a *Admin) RevokeDevice(ctx context.Context, deviceID string) error {
	if err := a.s.store.RevokeDevice(ctx, deviceID, a.s.now()); err != nil {
		return err
	}
	for _, c := range a.s.hub.device(deviceID) {
		c.fail(errRevoked)
	}
	a.s.log.Info("device revoked", LogDevice, deviceID)
	return nil
}

var errRevoked = syncproto.Errorf(syncproto.CodeTokenRevoked, "the device's token was revoked")

// DeviceStatus is one line of the sync status.
type DeviceStatus struct {
	Device
	// MemberName is who uses the device (a laptop's label is often just
	// its host name, "vm"): personal data, never logged.
	MemberName string `json:"member_name,omitempty"`
	Connected  bool   `json:"connected"`
	// Lag is how many changes the device has yet to receive: those of the
	// log after its acknowledged cursor (Pull.Durable) in its team's
	// hamlets, as its next pull would read them. Its own changes, which it
	// never pulls, do not count: a device that has just pushed is not
	// behind. A string in JSON, like every 64-bit log position.
	Lag uint64 `json:"lag,string"`
	// LagMore: the device has more than Lag changes to receive (the count
	// stops at LagLimit).
	LagMore bool `json:"lag_more,omitempty"`
}

// LagLimit is where counting a device's changes to receive stops: past
// it the number only says "a lot", and the count reads the log.
const LagLimit = 1000

// Status is the server's sync status.
type Status struct {
	ServerID string         `json:"server_id"`
	Head     uint64         `json:"head,string"`
	Agents   int            `json:"connected_agents"`
	Devices  []DeviceStatus `json:"devices"`
}

// SyncStatus reports, per device, who uses it, its last contact and the
// changes it has yet to receive (DeviceStatus.Lag).
func (a *Admin) SyncStatus(ctx context.Context) (Status, error) {
	devs, err := a.ListDevices(ctx)
	if err != nil {
		return Status{}, err
	}
	head, err := a.s.store.Head(ctx)
	if err != nil {
		return Status{}, err
	}
	st := Status{ServerID: a.s.id.String(), Head: head, Agents: a.s.hub.count()}
	names := map[string]string{}
	scopes := map[string][]string{} // by member: a team's hamlets
	for _, d := range devs {
		ds := DeviceStatus{Device: d, Connected: len(a.s.hub.device(d.ID)) > 0}
		name, ok := names[d.MemberID]
		if !ok {
			if m, err := a.s.store.Member(ctx, d.MemberID); err == nil {
				name = m.Name
			} else if !errors.Is(err, ErrNotFound) {
				return Status{}, err
			}
			names[d.MemberID] = name // a member removed since: the label alone
		}
		ds.MemberName = name
		if d.Revoked == nil && head > d.Cursor {
			scope, ok := scopes[d.MemberID]
			if !ok {
				if scope, err = a.s.store.Scope(ctx, d.MemberID); err != nil && !errors.Is(err, ErrNotFound) {
					return Status{}, err
				}
				scopes[d.MemberID] = scope
			}
			page, err := a.s.readLog(ctx, LogQuery{After: d.Cursor, Scopes: scope, Exclude: d.Replica, Limit: LagLimit})
			if err != nil {
				return Status{}, fmt.Errorf("count device %s's changes to receive: %w", d.ID, err)
			}
			ds.Lag, ds.LagMore = uint64(len(page.Entries)), page.More
		}
		st.Devices = append(st.Devices, ds)
	}
	return st, nil
}

// Backup writes a consistent copy of the database to path while serving.
func (a *Admin) Backup(ctx context.Context, path string) error { return a.s.store.Backup(ctx, path) }

// MarkRestored marks the store restored (Store.MarkRestored): the server's
// next start takes a new log epoch.
func (a *Admin) MarkRestored(ctx context.Context) error { return a.s.store.MarkRestored(ctx) }

// GC collects tombstones now.
func (a *Admin) GC(ctx context.Context) (GCStats, error) { return a.s.GC(ctx) }
