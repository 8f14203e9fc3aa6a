package simtest

import "slices"

// Shrink looks for a shorter schedule that still fails, within budget
// runs: first the fewest steps (the same choices, cut short), then
// without blocks of whole steps, then without blocks of choices, halving the block while any removal keeps it
// failing (delta debugging). Any list of choices is a schedule (chooser),
// so every candidate runs; it is kept when it fails, with any failure (a
// shorter path to a different failure is as useful to whoever debugs it:
// its replay shows which).
func Shrink(res Result, budget int) Result {
	if res.Failure == nil {
		return res
	}
	best := res
	if res.Config.NoTrace {
		// Run without its trace: again with it (a schedule replays
		// exactly), for whoever reads the failure when none shorter fails.
		if r := Run(shrinkConfig(res, res.Config.Steps, res.Choices)); r.Failure != nil {
			best = r
		}
	}
	try := func(steps int, ch []uint32) bool {
		if budget <= 0 {
			return false
		}
		budget--
		r := Run(shrinkConfig(res, steps, ch))
		if r.Failure == nil {
			return false
		}
		best = r
		return true
	}
	// The fewest steps: failures in the healing at the end need all of
	// them, failures on the way fewer.
	lo, hi := 1, best.Config.Steps
	for lo < hi && budget > 0 {
		mid := (lo + hi) / 2
		if try(mid, best.Choices) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// Then whole steps out, in blocks halving while any removal keeps it
	// failing: the steps after a removed block keep their own choices, so
	// they mostly make the same moves (a block of raw choices out shifts
	// every later draw onto another meaning).
	for size := len(best.StepStarts) / 2; size >= 1 && budget > 0; size /= 2 {
		for i := 0; i+size <= len(best.StepStarts) && budget > 0; {
			starts := best.StepStarts
			end := len(best.Choices)
			if i+size < len(starts) {
				end = starts[i+size]
			}
			cand := slices.Delete(slices.Clone(best.Choices), starts[i], end)
			if !try(best.Config.Steps-size, cand) {
				i += size
			}
		}
	}
	// Then blocks of choices out.
	for size := len(best.Choices) / 2; size >= 1 && budget > 0; size /= 2 {
		for i := 0; i+size <= len(best.Choices) && budget > 0; {
			cand := slices.Delete(slices.Clone(best.Choices), i, i+size)
			if !try(best.Config.Steps, cand) {
				i += size
			}
		}
	}
	return best
}

// shrinkConfig is the world of res with steps and choices ch: every knob
// as it ran. Fixes and Budget were left out, so a failure in a fixing
// world or with a chunk budget shrank in another world, and the replay
// printed with FIXES=1 or BUDGET=1 ran the shrunk choices where they had
// not been found failing.
func shrinkConfig(res Result, steps int, ch []uint32) Config {
	cfg := res.Config
	cfg.Seed, cfg.Truncate = res.Seed, res.Truncate
	cfg.Steps, cfg.Schedule = steps, slices.Clone(ch)
	cfg.Trace, cfg.Logs, cfg.NoTrace = nil, nil, false
	return cfg
}
