package dashboard

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
)

// The sync health page (/sync; operators and provincial staff): devices
// in the user's unit, most behind first, and the latest conflicts.

type deviceRow struct {
	server.DeviceStatus
	TeamName string
}

type syncView struct {
	Head          uint64
	Agents        int
	Devices       []deviceRow
	Conflicts     []server.ConflictEntry
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
		v.Devices = append(v.Devices, deviceRow{DeviceStatus: d, TeamName: t.name})
	}
	// Most behind first: they are the ones to call.
	slices.SortStableFunc(v.Devices, func(a, b deviceRow) int {
		if (a.Revoked == nil) != (b.Revoked == nil) {
			if a.Revoked == nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Lag, a.Lag)
	})
	v.Conflicts, v.ConflictTotal, err = d.dir.RecentConflicts(ctx, func(scope string) bool { return c.X.Within(scope, c.User.UnitCode) }, 50)
	v.ConflictsOK = err == nil
	if err != nil {
		d.log.Warn("sync page: conflicts unavailable", server.LogErr, err)
	}
	d.render(w, r, http.StatusOK, "sync", d.page(c, "sync", "sync", v))
}
