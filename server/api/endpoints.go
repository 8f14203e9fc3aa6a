package api

import (
	"errors"
	"net/http"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

func (a *API) handleMe(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	resp := map[string]any{"user": u}
	if d, err := x.Unit(r.Context(), u.UnitCode); err == nil {
		resp["unit"] = d.Unit
	}
	server.WriteJSON(w, http.StatusOK, resp)
}

func (a *API) handleUnit(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	code := r.PathValue("code")
	if err := a.q.Authorize(r.Context(), x, u, "code", code); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	d, err := x.Unit(r.Context(), code)
	if err != nil {
		server.WriteHTTPError(w, AnalyticsError("code", err))
		return
	}
	// The path above the caller's own unit is not theirs to browse.
	var path []analytics.UnitInfo
	for _, p := range d.Path {
		if x.Within(p.Code, u.UnitCode) {
			path = append(path, p)
		}
	}
	d.Path = path
	if d.Path == nil {
		d.Path = []analytics.UnitInfo{}
	}
	server.WriteJSON(w, http.StatusOK, d)
}

func (a *API) handleCoverage(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	c, err := a.q.Coverage(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, c)
}

func (a *API) handleStats(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	st, err := a.q.Stats(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, st)
}

// ReportList is a page of GET /api/v1/reports.
type ReportList struct {
	Total   int                    `json:"total"`
	Overdue int                    `json:"overdue"`
	Offset  int                    `json:"offset"`
	Reports []analytics.ReportView `json:"reports"`
}

func (a *API) handleReports(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	limit, err := IntParam(r, "limit", 200, 1, 5000)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	offset, err := IntParam(r, "offset", 0, 0, 1<<30)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	views, err := a.q.Reports(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	out := ReportList{Total: len(views), Offset: offset, Reports: []analytics.ReportView{}}
	for _, v := range views {
		if v.Deadline != nil && v.Deadline.Overdue {
			out.Overdue++
		}
	}
	if offset < len(views) {
		out.Reports = views[offset:min(len(views), offset+limit)]
	}
	server.WriteJSON(w, http.StatusOK, out)
}

func (a *API) handleReport(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	id, err := a.q.Report(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	v, ok, err := x.Report(r.Context(), id.String(), u.Role, a.core.Now())
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	if !ok {
		server.WriteHTTPError(w, server.ErrReportNotFound)
		return
	}
	server.WriteJSON(w, http.StatusOK, v)
}

// TransitionResponse is what POST /reports/{id}/transition returns.
type TransitionResponse struct {
	Transition server.TransitionResult `json:"transition"`
	Report     analytics.ReportView    `json:"report"`
}

func (a *API) handleTransition(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	if u.Role != analytics.RoleCoordinator {
		server.WriteHTTPError(w, ErrForbiddenRole("change a field report's status (coordinators only)"))
		return
	}
	id, err := a.q.Report(r, u, x)
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	var req server.TransitionRequest
	if err := decodeJSON(r, &req); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	res, err := a.core.Transition(r.Context(), id, req)
	if err != nil {
		var ae *server.APIError
		if !errors.As(err, &ae) {
			a.log.Error("field report transition failed", server.LogRow, id.String(), server.LogErr, err)
		}
		server.WriteHTTPError(w, err)
		return
	}
	a.log.Info("transition by user", "user", u.ID, server.LogRow, id.String())
	v, _, err := x.Report(r.Context(), id.String(), u.Role, a.core.Now())
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	server.WriteJSON(w, http.StatusOK, TransitionResponse{Transition: res, Report: v})
}
