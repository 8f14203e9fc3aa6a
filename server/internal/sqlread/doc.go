// Package sqlread is what the two server stores share of their SQL: the
// read model's source (analytics.Source) over the tables both keep, in SQL
// both dialects speak, and the small conversions both need to query them.
// Only server/sqlitestore and server/pgstore import it: it is dialect, not
// policy (the policy lives in package server).
//
// It must never import a store or a driver (each store hands it its own
// connection), and no package but the two stores may import it.
package sqlread
