package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/syncproto"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec is the API's OpenAPI document, as served at
// /api/v1/openapi.yaml.
func OpenAPISpec() []byte { return openAPISpec }

// Core is what the API needs of the server (*server.Server): its request
// tracking and clock, the read model, the sign-in domain and the report
// workflow. Nothing else: the API reads no store.
type Core interface {
	Track(h http.HandlerFunc) http.HandlerFunc
	Now() time.Time
	Analytics() (*analytics.Index, error)
	SignIn(ctx context.Context, username, password, addr string) (server.SignedIn, error)
	SessionUser(ctx context.Context, token string) (server.User, error)
	SignOut(ctx context.Context, token string) error
	Transition(ctx context.Context, reportID syncproto.RowID, req server.TransitionRequest) (server.TransitionResult, error)
}

// API serves /api/v1.
type API struct {
	core Core
	log  *slog.Logger
	q    Query
}

// New makes the API over core; log takes its lines (ids and codes only).
func New(core Core, log *slog.Logger) *API {
	return &API{core: core, log: log, q: Query{Now: core.Now, Log: log}}
}

// Mount adds the /api/v1 routes to mux.
func (a *API) Mount(mux *http.ServeMux) {
	const p = "/api/v1"
	mux.HandleFunc("POST "+p+"/login", a.core.Track(a.handleLogin))
	mux.HandleFunc("POST "+p+"/logout", a.core.Track(a.handleLogout))
	mux.HandleFunc("GET "+p+"/me", a.core.Track(a.authed(a.handleMe)))
	mux.HandleFunc("GET "+p+"/units/{code}", a.core.Track(a.authed(a.handleUnit)))
	mux.HandleFunc("GET "+p+"/coverage", a.core.Track(a.authed(a.handleCoverage)))
	mux.HandleFunc("GET "+p+"/stats", a.core.Track(a.authed(a.handleStats)))
	mux.HandleFunc("GET "+p+"/reports", a.core.Track(a.authed(a.handleReports)))
	mux.HandleFunc("GET "+p+"/reports/{id}", a.core.Track(a.authed(a.handleReport)))
	mux.HandleFunc("POST "+p+"/reports/{id}/transition", a.core.Track(a.authed(a.handleTransition)))
	mux.HandleFunc("GET "+p+"/export/{file}", a.core.Track(a.authed(a.handleExport)))
	mux.HandleFunc("GET "+p+"/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
		_, _ = w.Write(openAPISpec)
	})
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		server.WriteHTTPError(w, &server.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such endpoint: " + r.Method + " " + r.URL.Path,
			HintVI: "Không có địa chỉ này. Xem tài liệu API tại /api/v1/openapi.yaml.", HintEN: "No such endpoint. See /api/v1/openapi.yaml."})
	})
}
