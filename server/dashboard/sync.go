package dashboard

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The sync health page (/sync; operators and provincial staff): devices
// in the user's unit, most behind first, and the latest conflicts.

type deviceRow struct {
	server.DeviceStatus
	// Who is the member who uses the device, by name: a laptop's label is
	// often only its host name ("vm"), the same on every laptop.
	Who      string
	TeamName string
}

type conflictRow struct {
	server.ConflictEntry
	HamletName, TableName, FieldName string
}

type syncView struct {
	Head          uint64
	Agents        int
	Devices       []deviceRow
	Conflicts     []conflictRow
	ConflictTotal int
	ConflictsOK   bool
}

func (d *Dashboard) handleWebSync(w http.ResponseWriter, r *http.Request, c *webCtx) {
	if !canSeeSync(c.User.Role) {
		d.webError(w, r, c, api.ErrForbiddenRole("see sync health (operators and provincial staff)"))
		return
	}
	ctx := r.Context()
	st, err := d.dir.SyncStatus(ctx)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	teams, err := d.dir.Teams(ctx)
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	type teamInfo struct{ name, commune string }
	ti := map[string]teamInfo{}
	for _, t := range teams {
		ti[t.ID] = teamInfo{t.Name, t.CommuneCode}
	}
	v := &syncView{Head: st.Head, Agents: st.Agents}
	for _, d := range st.Devices {
		t := ti[d.TeamID]
		if !c.X.Within(t.commune, c.User.UnitCode) {
			continue
		}
		v.Devices = append(v.Devices, deviceRow{DeviceStatus: d, Who: cmp.Or(d.MemberName, d.Label), TeamName: t.name})
	}
	// Most behind first: they are the ones to call; then by name, in
	// Vietnamese order.
	i18n.SortByKeys(v.Devices, func(r deviceRow) []string { return []string{r.Who, r.TeamName, r.ID} })
	slices.SortStableFunc(v.Devices, func(a, b deviceRow) int {
		if (a.Revoked == nil) != (b.Revoked == nil) {
			if a.Revoked == nil {
				return -1
			}
			return 1
		}
		if a.LagMore != b.LagMore {
			if a.LagMore {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Lag, a.Lag)
	})
	conflicts, total, err := d.dir.RecentConflicts(ctx, func(scope string) bool { return c.X.Within(scope, c.User.UnitCode) }, 50)
	v.ConflictTotal, v.ConflictsOK = total, err == nil
	if err != nil {
		d.log.Warn("sync page: conflicts unavailable", server.LogErr, err)
	}
	for _, e := range conflicts {
		v.Conflicts = append(v.Conflicts, conflictRow{ConflictEntry: e, HamletName: c.X.DisplayName(e.Hamlet).In(c.Lang),
			TableName: schema.TableLabel(e.Table, c.Lang), FieldName: schema.FieldLabel(e.Field, c.Lang)})
	}
	d.render(w, r, http.StatusOK, "sync", d.page(c, "sync", "sync", v))
}
