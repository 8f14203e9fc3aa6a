// Package dashboard is hamlet-server's web pages for commune leaders,
// provincial staff, report coordinators and operators: server-rendered
// HTML at / beside the JSON API (server/api). Everything it needs is
// embedded (templates, one stylesheet, an icon): no CDN, no script, charts
// are SVG drawn on the server (svg.go), so a page works on a provincial
// network with no internet and with JavaScript disabled. Words are
// Vietnamese first, English available (i18n.go).
//
// It signs in with the API's users and sessions through the core (the same
// hamlet_session cookie, so the export links of /api/v1 work from a page),
// every POST form carries a CSRF token (auth.go), and every page reads its
// request through api.Query, so a page and the API agree on what a user
// may see.
//
// It reaches the server only through the small interfaces it declares
// (Core, Directory); it never imports a store, never speaks SQL, and turns
// errors into pages through server.HTTPError, the one mapping.
package dashboard
