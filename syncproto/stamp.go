package syncproto

// Stamp makes c a new write of the replica and sequence in dot, over cur,
// the field's current version on that replica (nil: the field's first
// write): c is based on cur's dot and stamped by clk above cur's HLC
// (Clock.NowAfter), so the write wins over what it overwrites on every
// replica whatever the clocks' skew. It returns the version c installs.
//
// Every writer stamps with it (the agent, the server's own replica, the
// test clients and the in-memory model), so a write means the same thing
// wherever it is made.
func Stamp(c *Change, clk *Clock, dot Dot, cur *Version) Version {
	if cur != nil {
		c.Base = cur.Dot
		c.HLC = clk.NowAfter(cur.HLC)
	} else {
		c.Base = Dot{}
		c.HLC = clk.Now()
	}
	c.Dot = dot
	return VersionOf(c)
}

// ApplyOutcome applies o, what Resolve decided for in against cur (the
// field's current version, nil when none), to the field: when in wins, set
// receives the version the field takes. When a concurrent value lost
// (o.Conflicted), it returns the conflict to record, whose Loser is the
// value the field lost or never took; the conflict is computed before set
// runs, so set may overwrite *cur.
//
// It is the one place the outcome becomes a field's state: the server's
// apply, the agent's pull and clone and the in-memory model all go
// through it, each keeping the versions its own way (set).
func ApplyOutcome(o Outcome, cur *Version, in *Change, set func(Version)) (cf Conflict, conflicted bool) {
	if o.Conflicted() {
		cf, conflicted = ConflictFor(o, cur, in), true
	}
	if o.Installs() {
		set(VersionOf(in))
	}
	return cf, conflicted
}
