// Package analytics answers what leaders ask: coverage of any admin unit
// over a period, team statistics, and field reports with their deadlines.
//
// It keeps an in-memory read model of the synced row tables (households,
// visits, tutoring records, field reports: a few tens of bytes per row,
// about 60 MB for a 300,000-household province) and brings it up to date
// from the server's log before every answer, so a question about a whole
// province is a scan of packed slices rather than a join over a million
// rows, and several server processes sharing one database each follow the
// same log. The model is loaded through Source, which each store gives
// (server.Store's AnalyticsSource; the SQL is the stores', in
// server/internal/sqlread). The rules (who counts as reached, which
// deadline applies, who may see a reporter's name) live here and nowhere
// else.
//
// It must never import the server package, a store, server/internal/sqlread,
// database/sql or a driver: it reads through Source alone.
package analytics
