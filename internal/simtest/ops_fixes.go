package simtest

import (
	"fmt"

	"github.com/hamlet-vn/hamlet/agent"
)

// The fixing world (Config.Fixes): volunteers act on their rejected
// lists. A refused change is sent again as it was (its cause fixed
// elsewhere, or not), sent again corrected, or discarded; a household sent
// again takes with it the records refused for its absence
// (agent.FixRejected). Refused changes otherwise wait at rest, and the
// paths that rewrite the outbox (the fix's new writes, the discard's
// rebase of what was written over the refused change, a fork's
// renumbering of both) never ran in the simulation.

// fixOps are drawn only in a fixing world, after ops and silentOps: a
// world without them draws exactly as before.
var fixOps = []opKind{
	{name: "sends a refused change again", weight: 8, can: hasLaptop(refusedOn), do: func(s *Sim) { s.opActOnRefusal(false) }},
	{name: "discards a refused change", weight: 3, can: hasLaptop(refusedOn), do: func(s *Sim) { s.opActOnRefusal(true) }},
}

// refusedOn: a running laptop whose rejected list is not empty.
func refusedOn(l *laptop) bool {
	if !running(l) {
		return false
	}
	var any bool
	err := l.rep.DB().QueryRow(`SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 2)`).Scan(&any)
	return err == nil && any
}

// opActOnRefusal: a volunteer opens the rejected list and sends one entry
// again (half the time with a new value, where the field is a household's
// head or registration date) or discards it.
func (s *Sim) opActOnRefusal(discard bool) {
	l := s.pickLaptop(refusedOn)
	rep := l.rep
	pick, vals := s.ch.intn(1<<20), s.ch.intn(1<<20)
	s.sch.spawn(l.proc, l.name+" write", func() {
		what, err := s.actOnRefusal(rep, discard, pick, vals)
		s.tr.printf("%s %s: %s", l.name, what, errText(err))
		s.model.wrote(l, what, err)
	})
}

func (s *Sim) actOnRefusal(rep *agent.Replica, discard bool, pick, vals int) (string, error) {
	rej, err := rep.Rejected(s.ctx)
	if err != nil || len(rej) == 0 {
		return "has nothing refused", err
	}
	x := rej[pick%len(rej)]
	what := fmt.Sprintf("%s.%s of %s %s (refused: %s)", x.Table, x.Field, x.Table, x.Row[:8], x.Code)
	if discard {
		return "discards " + what, rep.DiscardRejected(s.ctx, x.ID)
	}
	if x.Table == "households" && vals%2 == 0 {
		var v any
		switch x.Field {
		case "head_name":
			v = fmt.Sprintf("Chủ hộ %d", vals%983)
		case "registered_on":
			v = simStart.AddDate(0, 0, -1-vals%300).Format("2006-01-02")
		}
		if v != nil {
			return fmt.Sprintf("corrects %s to %v and sends it again", what, v), rep.FixRejected(s.ctx, x.ID, v)
		}
	}
	return "sends again " + what, rep.FixRejected(s.ctx, x.ID, nil)
}
