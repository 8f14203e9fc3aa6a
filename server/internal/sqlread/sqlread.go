// Package sqlread is what the two server stores share of their SQL: the
// read model's source (analytics.Source) over the tables both keep, in SQL
// both dialects speak, and the small conversions both need to query them.
// Only server/sqlitestore and server/pgstore import it: it is dialect, not
// policy (the policy lives in package server).
package sqlread

import (
	"math"
	"time"
)

// SilentMs is a cutoff of devices' last contact (server.GCOptions.
// SilentBefore) in Unix ms for a query: every device counts when it is
// zero.
func SilentMs(before time.Time) int64 {
	if before.IsZero() {
		return math.MinInt64
	}
	return before.UnixMilli()
}
