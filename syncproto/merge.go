package syncproto

// Outcome is what Resolve decided for one incoming change.
type Outcome uint8

const (
	// Install: the change becomes the field's value; nothing was lost (the
	// slot was empty, or the change was based on the current value).
	Install Outcome = iota + 1
	// InstallOverConcurrent: the change wins against a concurrent value, which
	// must be recorded as a conflict loser.
	InstallOverConcurrent
	// LoseToConcurrent: the current value wins against a concurrent change,
	// which must be recorded as a conflict loser.
	LoseToConcurrent
	// Stale: the change is an ancestor of the current value; it lost nothing.
	Stale
	// Duplicate: the replica already holds this very write.
	Duplicate
)

var outcomeNames = [...]string{"", "install", "install_over_concurrent", "lose_to_concurrent", "stale", "duplicate"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Installs reports whether the incoming change becomes the current value.
func (o Outcome) Installs() bool { return o == Install || o == InstallOverConcurrent }

// Conflicted reports whether a value lost to a concurrent write.
func (o Outcome) Conflicted() bool { return o == InstallOverConcurrent || o == LoseToConcurrent }

// Resolve decides an incoming change against the field's current version (nil
// when the replica holds no value for the field). It is the whole merge rule;
// stores persist what it decides and never decide themselves.
func Resolve(cur *Version, in *Change) Outcome {
	if cur == nil {
		return Install
	}
	switch {
	case in.Dot == cur.Dot:
		return Duplicate
	case !cur.Base.IsZero() && in.Dot == cur.Base:
		return Stale
	}
	causal := !in.Base.IsZero() && in.Base == cur.Dot
	if Wins(in.HLC, in.Dot, cur.HLC, cur.Dot) {
		if causal {
			return Install
		}
		return InstallOverConcurrent
	}
	// A causal successor that does not win LWW was stamped below its base,
	// which honest writers never do (Clock.NowAfter). Treating it as
	// concurrent keeps every replica's answer the same.
	return LoseToConcurrent
}

// Conflict records a value that lost to a concurrent write, so a person can
// see both and restore the loser.
type Conflict struct {
	Key    FieldKey
	Scope  string
	Loser  Version
	Winner Version
}

// ConflictFor builds the conflict record for a conflicted outcome.
func ConflictFor(o Outcome, cur *Version, in *Change) Conflict {
	c := Conflict{Key: in.Key(), Scope: in.Scope}
	if o == InstallOverConcurrent {
		c.Loser, c.Winner = *cur, VersionOf(in)
	} else {
		c.Loser, c.Winner = VersionOf(in), *cur
	}
	return c
}

// RestoredBy reports whether in restores the conflict's loser: it writes
// the losing value to the field again, later than the winner. A restore is
// an ordinary write that syncs like any other; every replica that merges
// it (or makes it) marks the conflict restored, so restoring a conflict on
// one laptop clears it on every other one.
func (c *Conflict) RestoredBy(in *Change) bool {
	return in.Key() == c.Key && in.Value == c.Loser.Value && in.HLC > c.Winner.HLC && in.Dot != c.Loser.Dot
}

// HiddenEdit is how a delete that won over an edit it never saw becomes a
// conflict: a tombstone makes the row's other fields invisible, and field
// by field nothing conflicts with it. The replica that made the delete is
// the one that knows, when the edit reaches it after its own tombstone,
// that its delete did not know the edit. It then writes, as its own write
// (dot), "the row is not deleted" (false) concurrent with the tombstone
// (based on what the tombstone overwrote), stamped at the edit but below
// the tombstone so that it loses: every replica's merge (Resolve: lose to
// concurrent) records it as a conflict lost to the tombstone, and
// restoring that conflict, writing false again, brings the row back with
// the edit.
func HiddenEdit(tomb Version, edit *Change, scope string, dot Dot) Change {
	h := edit.HLC
	if h >= tomb.HLC && tomb.HLC > 0 {
		h = tomb.HLC - 1
	}
	return Change{Table: edit.Table, Row: edit.Row, Field: TombstoneField, Value: Bool(false), HLC: h, Dot: dot, Base: tomb.Base, Scope: scope}
}

// MaxRefusalHops bounds how many refused changes in a row a base is
// followed through (PROTOCOL §7.4 rule 6), by the server and by a writer
// naming a base: each is a correction typed over a refused one before the
// refusal arrived, so a longer chain is a client misbehaving, judged as
// concurrent.
const MaxRefusalHops = 8
