// Package app is the volunteer's web app: pages served by hamlet-agent on
// the laptop itself (127.0.0.1), working with the network down, over the
// same agent.Replica the CLI uses, so there is one set of rules and one
// replica, and a CLI command may run beside it.
//
// # Pages
//
// First run: enrollment with the code from the team leader. Then: home
// (this month's coverage of each hamlet, computed locally, and the work
// list), households (search as you type, ignoring diacritics; add, edit),
// a household's page (fields with their history by name, visits,
// tutoring, reports; a visit with the skills taught in one form), field
// reports (filed here; status and expected deadline as the server sends
// them back), and sync (pending changes, progress, the clock warning, what
// the server refused with fix or discard, conflicts side by side with
// restore). Vietnamese first, English by a toggle; every word comes from
// one catalog (catalog.go). Every form works without JavaScript; app.js
// adds search as you type and live sync status.
//
// # Safe on a shared laptop
//
// It listens on loopback only and answers only requests whose Host names
// that loopback address (no DNS rebinding). A secret made at launch
// guards every request: the browser is opened on a URL carrying it, which
// sets an HttpOnly, SameSite=Strict cookie and redirects to the same URL
// without it. Every form carries a CSRF token and every POST's Origin
// must be the app's. The CSP allows nothing from outside ('self' only, no
// inline script); every asset is embedded.
//
// # Fast on a big replica
//
// Households are listed and searched from an in-memory index (folded
// search text, Vietnamese sort keys computed once per name) that is
// rebuilt when the replica's change mark moves: after a local write, a
// pulled change, or a CLI command's write.
//
// # Sync
//
// A background loop runs agent.Replica.Watch whenever the laptop is
// enrolled: it pushes what the volunteer saves, pulls what the team
// sends, reconnects with backoff when the server is unreachable, and
// restarts at once on "sync now".
//
// The package imports agent, schema, internal/i18n and workcal, never
// anything under server/.
package app
