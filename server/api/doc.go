// Package api is hamlet-server's JSON API under /api/v1: sign-in, and what
// leaders ask (coverage, team statistics, field reports and their
// workflow, exports), every answer authorised by the caller's role and
// admin unit. openapi.yaml documents it (served at /api/v1/openapi.yaml;
// server/apitest holds every test's answers to it).
//
// It reaches the server only through the Core interface it declares (the
// read model, the sign-in domain, the report workflow); it never imports a
// store, never speaks SQL, and every error reaches the client through
// server.WriteHTTPError, the one place errors become HTTP answers. Query
// is its reading of a request, which the dashboard shares.
package api
