package server

import (
	"net/http"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// RosterWriter is one entry of GET /v1/roster: a replica of the team and
// the member who writes with it. Name is personal data: never logged.
type RosterWriter struct {
	Replica string `json:"replica_id"`
	Member  string `json:"member_id"`
	Name    string `json:"name"`
}

// RosterResponse is the answer to GET /v1/roster.
type RosterResponse struct {
	Writers []RosterWriter `json:"writers"`
	// Hamlets are the device's hamlets by name: a hamlet a team gained
	// after the enrollment, which told the names of the hamlets it had
	// then, comes to the agent by code alone (the Welcome's scope).
	Hamlets []syncproto.ScopeUnit `json:"hamlets"`
}

// handleRoster tells an enrolled device who writes with each replica of
// its team, revoked and replaced devices included (their changes stay in
// the data), so a volunteer reads "Nguyễn Thị Lan" where a change's origin
// is a replica id: in the conflicts list and a record's history
// (docs/PROTOCOL.md §3.1). Only the device's own team: the names of other
// teams' members are none of its business.
func (s *Server) handleRoster(w http.ResponseWriter, r *http.Request) {
	dev, err := s.authenticate(r)
	if err != nil {
		s.log.Info("roster refused", LogRemote, ClientAddr(r), LogCode, string(protoError(err).Code))
		WriteHTTPError(w, err)
		return
	}
	devs, err := s.store.DevicesBy(r.Context(), DeviceFilter{TeamID: dev.TeamID})
	if err != nil {
		WriteHTTPError(w, storeError("cannot list the team's devices", err))
		return
	}
	resp := RosterResponse{Writers: []RosterWriter{}, Hamlets: []syncproto.ScopeUnit{}}
	if teams, err := s.store.Teams(r.Context()); err == nil {
		for _, t := range teams {
			if t.ID == dev.TeamID {
				resp.Hamlets = s.scopeUnits(r.Context(), t)
			}
		}
	}
	names := map[string]string{}
	for _, d := range devs {
		name, ok := names[d.MemberID]
		if !ok {
			m, err := s.store.Member(r.Context(), d.MemberID)
			if err != nil {
				continue // a member removed since: the agent shows the replica id
			}
			name, names[d.MemberID] = m.Name, m.Name
		}
		resp.Writers = append(resp.Writers, RosterWriter{Replica: d.Replica.String(), Member: d.MemberID, Name: name})
	}
	WriteJSON(w, http.StatusOK, resp)
}
