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
