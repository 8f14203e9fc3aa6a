package app

import "time"

// RecheckEvery makes the app built from c look for a change every d while
// its sync is stopped or unenrolled, instead of every 3 s: a test of what
// those looks do waits a few short looks, not a few 3 s ones.
func RecheckEvery(c *Config, d time.Duration) { c.recheck = d }
