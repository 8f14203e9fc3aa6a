package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Leaving a scope is an event, not a delete (issue 9 part 1). The server
// records every move of a row between hamlets (ScopeMove, written by
// batch.move) and every change of a team's hamlets (TeamScopeChange,
// Admin.AddTeamHamlet/RemoveTeamHamlet). A change pushed to a row that is
// now outside the device's scope is judged by where the row was when the
// change was made: in the team's scope then, it is applied as usual (LWW);
// otherwise it is refused with CodeMovedOutOfScope and a reason that names
// the move.
//
// When the change was made is judged by what the server knows (issue 16),
// not by the change's HLC alone, which a laptop whose clock runs behind
// would date too early: no later than the server received it, and no
// earlier than the start of the device's last session that pushed
// everything it held and then pulled (a client pushes before it pulls,
// docs/PROTOCOL.md §15, so a change it still had to push was made after
// that session began); between the two, its HLC, which the agent keeps
// within the clock bound. Moves and scope changes are dated by the
// server's clock when it recorded them.

// ScopeMove is one row leaving a hamlet for another. A household's
// children move with it, with the household's HLC.
type ScopeMove struct {
	Table     string
	Row       syncproto.RowID
	Household syncproto.RowID // the household whose hamlet_code changed (Row itself for a household)
	From, To  string
	HLC       syncproto.HLC // of the change that moved the household
	ServerSeq uint64        // the eviction logged under From (of a losing move: that, or its re-log's last entry)
	At        time.Time     // server time of the move
}

// noMove is the time of a ScopeMove recorded only so that collection
// removes, with its row, an eviction logged where the row never was
// (apply.go evictLosingMove): no change is made before it, so scopeAt
// never places the row there, and it is never a refusal's reason.
var noMove = time.UnixMilli(0).UTC()

// TeamScopeChange is a hamlet added to or removed from a team.
type TeamScopeChange struct {
	Team   string
	Hamlet string
	Added  bool
	HLC    syncproto.HLC // the server's clock when the operator changed it
	At     time.Time
}

// madeAt is when the server judges a change was made: its HLC, held
// between the start of the device's last complete sync (since) and the
// change's receipt (received).
func madeAt(h syncproto.HLC, since, received time.Time) time.Time {
	t := h.Time()
	if t.Before(since) {
		t = since
	}
	if t.After(received) {
		t = received
	}
	return t
}

// scopeAt is the hamlet a row was in at made, given its current hamlet and
// its moves (oldest first): the From of the first move after made.
func scopeAt(cur string, moves []ScopeMove, made time.Time) string {
	for i := range moves {
		if moves[i].At.After(made) {
			return moves[i].From
		}
	}
	return cur
}

// heldAt reports whether a team held hamlet at made, given whether it
// holds it now and its scope log (oldest first): the first change of that
// hamlet after made tells the state before it.
func heldAt(now bool, log []TeamScopeChange, hamlet string, made time.Time) bool {
	for i := range log {
		if log[i].Hamlet == hamlet && log[i].At.After(made) {
			return !log[i].Added
		}
	}
	return now
}

// scopeVerdict decides a change made at made (madeAt) to a row in a hamlet
// (cur) outside the pusher's scope: ok when the row was in the team's
// scope then; otherwise the refusal's code and reason.
func scopeVerdict(made time.Time, cur string, inScope map[string]bool, moves []ScopeMove, log []TeamScopeChange) (ok bool, code syncproto.Code, why syncproto.Why) {
	held := func(hamlet string, at time.Time) bool { return heldAt(inScope[hamlet], log, hamlet, at) }
	at := scopeAt(cur, moves, made)
	if held(at, made) {
		return true, "", syncproto.Why{}
	}
	// What took it out: the last move at or before the change that left a
	// hamlet the team held then, or else the hamlet leaving the team.
	for i := len(moves) - 1; i >= 0; i-- {
		m := &moves[i]
		if !m.At.After(noMove) {
			continue
		}
		if !m.At.After(made) && held(m.From, m.At) {
			return false, syncproto.CodeMovedOutOfScope, refusal.Why(refusal.Moved, "household", m.Household.String(),
				"from", m.From, "to", m.To, "at", refusal.At(m.At))
		}
	}
	for i := len(log) - 1; i >= 0; i-- {
		e := &log[i]
		if e.Hamlet == at && !e.Added && !e.At.After(made) {
			return false, syncproto.CodeMovedOutOfScope, refusal.Why(refusal.HamletRemoved, "hamlet", e.Hamlet, "at", refusal.At(e.At))
		}
	}
	return false, syncproto.CodeOutOfScope, refusal.Why(refusal.NotInScope, "hamlet", cur)
}

// scopeHistory is what one batch read of the scope history.
type scopeHistory struct {
	team  []TeamScopeChange
	moves map[RowRef][]ScopeMove
}

// outOfScope judges a change to a row outside the pusher's scope by the
// row's and the team's scope history: ok means apply it as usual.
func (b *batch) outOfScope(c *syncproto.Change, rc *rowCache, cur string) (ok bool, res syncproto.Result, err error) {
	// A laptop back after weeks may push many edits to rows that moved:
	// each row's moves and the team's log are read once per batch.
	h, err := b.history()
	if err != nil {
		return false, res, err
	}
	ref := RowRef{c.Table, c.Row}
	moves, read := h.moves[ref]
	if !read && rc.exists {
		if moves, err = b.tx.ScopeMoves(c.Table, c.Row); err != nil {
			return false, res, err
		}
		h.moves[ref] = moves
	}
	ok, code, why := scopeVerdict(b.made(c), cur, b.p.scope, moves, h.team)
	if ok {
		b.s.log.Info("accepted a change made while its row was in scope", LogDevice, b.p.deviceID, LogTable, c.Table,
			LogRow, c.Row.String(), "now_in", cur)
		return true, res, nil
	}
	res, err = b.refuse(c, code, why)
	return false, res, err
}

// movingOut judges a change of hamlet_code to a hamlet outside the
// pusher's scope: a household leaves the team's hamlets only by a device
// of the receiving team or a coordinator. It is applied only if the team
// held that hamlet when the change was made (and lost it since).
func (b *batch) movingOut(c *syncproto.Change, to string) (ok bool, res syncproto.Result, err error) {
	h, err := b.history()
	if err != nil {
		return false, res, err
	}
	if heldAt(false, h.team, to, b.made(c)) {
		return true, res, nil
	}
	v := movedOutOfScope(c, to)
	res, err = b.refuse(c, v.code, v.why)
	return false, res, err
}

// movedOutOfScope is the refusal of a hamlet_code that takes a row to a
// hamlet outside the pusher's scope (movingOut).
func movedOutOfScope(c *syncproto.Change, to string) checked {
	return checked{syncproto.CodeOutOfScope, refusal.Why(refusal.MoveOutOfScope, "table", c.Table, "to", to)}
}

// scopeRules says which scope rules judge change c to a row in hamlet cur,
// for apply and for a new row judged ahead (takenWhole): byRow, the row's
// hamlet when c was made (outOfScope); byMove, the hamlet to which a
// hamlet_code takes the row (movingOut). A household's move is judged by
// where it goes only: the receiving team may take it in.
func (b *batch) scopeRules(c *syncproto.Change, cur string) (to string, byRow, byMove bool) {
	if c.Field == schema.ScopeField && !c.Value.IsNull() && c.Value.AsString() != cur {
		to = c.Value.AsString()
	}
	return to, !b.p.scope[cur] && !(to != "" && c.Table == "households"), to != "" && !b.p.scope[to]
}

// parentOutOfScope judges a new row that names a household (a visit, a
// tutoring record, a report) by the household's hamlet too, as the server
// holds it: a row of one team may not hang on another team's household.
// It is in scope when the household was in the team's scope at the
// change's HLC (it may have moved since); otherwise the refusal.
func (b *batch) parentOutOfScope(c *syncproto.Change, parent syncproto.RowID) (verdict checked, err error) {
	pc, err := b.row("households", parent)
	if err != nil || !(pc.exists || pc.st.Scope != "") || b.p.scope[pc.st.Scope] {
		return checked{}, err
	}
	h, err := b.history()
	if err != nil {
		return checked{}, err
	}
	ref := RowRef{"households", parent}
	moves, read := h.moves[ref]
	if !read && pc.exists {
		if moves, err = b.tx.ScopeMoves(ref.Table, ref.Row); err != nil {
			return checked{}, err
		}
		h.moves[ref] = moves
	}
	ok, code, why := scopeVerdict(b.made(c), pc.st.Scope, b.p.scope, moves, h.team)
	if ok {
		return checked{}, nil
	}
	if code == syncproto.CodeOutOfScope {
		why = refusal.Why(refusal.ParentNotInScope, "household", parent.String(), "hamlet", pc.st.Scope, "table", c.Table)
	}
	return checked{code, why}, nil
}

// made is when the server judges c was made (madeAt).
func (b *batch) made(c *syncproto.Change) time.Time { return madeAt(c.HLC, b.p.since, b.now) }

// history is the scope history this batch read, read once.
func (b *batch) history() (*scopeHistory, error) {
	if b.hist == nil {
		h := &scopeHistory{moves: map[RowRef][]ScopeMove{}}
		if b.p.team != "" {
			var err error
			if h.team, err = b.tx.TeamScopeLog(b.p.team); err != nil {
				return nil, err
			}
		}
		b.hist = h
	}
	return b.hist, nil
}

// recordMove files a ScopeMove for a row that has just left oldScope
// because household's hamlet_code changed at hlc; seq is its eviction.
func (b *batch) recordMove(ref RowRef, household syncproto.RowID, oldScope, newScope string, hlc syncproto.HLC, seq uint64) error {
	if b.p.backOwn {
		// The move is logged above any cursor the pusher holds: the
		// batch's later changes of the row follow its re-log to their
		// author (ownBack), as after a move made before the batch. A push
		// that moves a row away and back, then edits it, would otherwise
		// leave its author with the re-log's older version (issue 17,
		// seed 6260).
		if b.moved == nil {
			b.moved = map[RowRef]bool{}
		}
		b.moved[ref] = true
	}
	return b.addScopeMove(ScopeMove{Table: ref.Table, Row: ref.Row, Household: household, From: oldScope, To: newScope,
		HLC: hlc, ServerSeq: seq, At: b.now})
}

// addScopeMove files m, and forgets the row's moves this batch read (read
// again if it asks).
func (b *batch) addScopeMove(m ScopeMove) error {
	if b.hist != nil {
		delete(b.hist.moves, RowRef{m.Table, m.Row})
	}
	return b.tx.AddScopeMove(m)
}

// errScopeChanged ends a session whose team's hamlets changed: the agent
// reconnects and learns its new scope from Welcome.
var errScopeChanged = syncproto.Errorf(syncproto.CodeScopeChanged, "the team's hamlets changed: reconnect to get the new scope")

// AddTeamHamlet adds a hamlet of the team's commune to the team's scope
// and records it; the team's open sessions end (scope_changed) so their
// agents reconnect, back-fill that hamlet only, and keep everything else.
// changed is false when the team already covered it.
func (a *Admin) AddTeamHamlet(ctx context.Context, teamID, hamlet string) (changed bool, err error) {
	return a.changeTeamHamlet(ctx, teamID, hamlet, true)
}

// RemoveTeamHamlet removes a hamlet from the team's scope and records it;
// the team's agents drop that hamlet's rows after pushing their pending
// edits (accepted if made before the removal).
func (a *Admin) RemoveTeamHamlet(ctx context.Context, teamID, hamlet string) (changed bool, err error) {
	return a.changeTeamHamlet(ctx, teamID, hamlet, false)
}

func (a *Admin) changeTeamHamlet(ctx context.Context, teamID, hamlet string, add bool) (bool, error) {
	what := "remove hamlet from team"
	if add {
		what = "add hamlet to team"
	}
	teams, err := a.s.store.Teams(ctx)
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	i := slices.IndexFunc(teams, func(t Team) bool { return t.ID == teamID })
	if i < 0 {
		return false, fmt.Errorf("%s: team %s: %w (list teams with: hamlet-server team list)", what, teamID, ErrNotFound)
	}
	if add {
		parents, err := a.hamletParents(ctx)
		if err != nil {
			return false, fmt.Errorf("%s: %w", what, err)
		}
		if _, ok := parents[hamlet]; !ok {
			return false, fmt.Errorf("%s: hamlet %s of commune %s: %w (add it with: hamlet-server unit add-hamlets)", what, hamlet, teams[i].CommuneCode, ErrNotFound)
		}
		if err := teamHamletsIn(parents, teams[i].CommuneCode, []string{hamlet}); err != nil {
			return false, fmt.Errorf("%s: %w", what, err)
		}
	}
	changed, err := a.s.store.ChangeTeamHamlet(ctx, TeamScopeChange{Team: teamID, Hamlet: hamlet, Added: add, HLC: a.s.clock.Now(), At: a.s.now()})
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if !changed {
		return false, nil
	}
	a.s.log.Info("team scope changed", "team", teamID, "hamlet", hamlet, "added", add)
	for _, c := range a.s.hub.all() {
		if c.dev.TeamID == teamID {
			c.fail(errScopeChanged)
		}
	}
	return true, nil
}

// checkScopes ends the sessions whose team's hamlets differ from the scope
// they were opened with: a change made by another process (the operator's
// CLI, or another server on the same PostgreSQL) is noticed within
// Config.RevokeCheck, and the agents reconnect with their new scope.
func (s *Server) checkScopes(ctx context.Context) {
	conns := s.hub.all()
	if len(conns) == 0 {
		return
	}
	teams, err := s.store.Teams(ctx)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			s.log.Error("check team scopes", LogErr, err)
		}
		return
	}
	now := make(map[string][]string, len(teams))
	for _, t := range teams {
		hs := slices.Clone(t.Hamlets)
		slices.Sort(hs)
		now[t.ID] = hs
	}
	for _, c := range conns {
		hs, ok := now[c.dev.TeamID]
		if !ok {
			continue
		}
		had := slices.Clone(c.scopeList)
		slices.Sort(had)
		if !slices.Equal(had, hs) {
			s.log.Info("team scope changed elsewhere; closing the session", LogDevice, c.dev.ID)
			s.goTask("scope changed", func() { c.fail(errScopeChanged) }) // waits for the message in hand
		}
	}
}

// pullScopes checks Pull.Scopes (a back-fill of hamlets the device
// gained): every one must be in the session's scope.
func (c *conn) pullScopes(want []string) error {
	for _, h := range want {
		if !c.scope[h] {
			return syncproto.Errorf(syncproto.CodeOutOfScope,
				"pull.scopes names hamlet %q, which is not in this device's scope (Welcome.Scope): back-fill only hamlets of the scope", h)
		}
	}
	return nil
}
