package httpapp

import (
	"net/http"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/dashboard"
)

// Handler serves core's routes, the API and the dashboard.
func Handler(core *server.Server) http.Handler {
	log := core.Config().Logger
	mux := http.NewServeMux()
	core.Mount(mux)
	api.New(core, log).Mount(mux)
	dashboard.New(core, core.Admin(), log).Mount(mux)
	return securityHeaders(mux)
}

// securityHeaders sets, on every response (errors, the mux's own 404 and
// 405, the WebSocket endpoint's refusals), server.SecurityHeader.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range server.SecurityHeader(r) {
			w.Header()[k] = v
		}
		next.ServeHTTP(w, r)
	})
}
