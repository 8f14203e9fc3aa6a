// Package httpapp is hamlet-server's whole HTTP surface in one handler: the
// core's routes (sync, enrollment, fork, /healthz, /metrics), the JSON API
// under /api/v1 (server/api) and the dashboard's pages (server/dashboard),
// with the security headers every response carries. cmd/hamlet-server
// serves it, and the tests serve the same one (server/servertest), so a
// test exercises the mux production runs.
//
// It wires; it decides nothing and never imports a store.
package httpapp
