package simtest

import (
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
)

// The silent world (Config.Silent): a laptop goes silent past the
// server's horizon (serve --silent-after) while the others delete and
// collection drops what it no longer has to keep, then returns with what
// its volunteer wrote meanwhile; and a volunteer corrects a household's
// head and hamlet in one save, so that one push carries every field a new
// household needs (issue 17: an edit of a row the server collected must
// not recreate it).

// silentOps are drawn only in a silent world, after ops: a world without
// them draws exactly as before.
var silentOps = []opKind{
	{name: "silent past the horizon", weight: 2, can: hasLaptop(func(l *laptop) bool { return running(l) && l.online }), do: (*Sim).opSilent},
	{name: "corrects head and hamlet", weight: 8, can: hasLaptop(running), do: (*Sim).opEditAndMove},
	{name: "deletes what an absent volunteer edits", weight: 4, can: func(s *Sim) bool { return hasLaptop(offline)(s) && hasLaptop(running)(s) }, do: (*Sim).opDeleteEdited},
}

func offline(l *laptop) bool { return running(l) && !l.online }

// opSilent: a laptop goes offline and stays so past the server's horizon
// (its volunteer away for the season); time passes for the whole world.
func (s *Sim) opSilent() {
	l := s.pickLaptop(func(l *laptop) bool { return running(l) && l.online })
	l.online = false
	for _, lk := range s.links {
		if lk.name == l.name && lk.live() {
			lk.stall = true
		}
	}
	d := s.serverConfig().SilentAfter + s.serverConfig().SilentAfter/6
	s.advance(d)
	s.tr.printf("%s goes silent; %s pass", l.name, d)
}

// opEditAndMove: a volunteer corrects a household's head and moves it to
// another hamlet of the scope, in one save.
func (s *Sim) opEditAndMove() {
	l := s.pickLaptop(running)
	rep := l.rep
	pick, vals := s.ch.intn(1<<20), s.ch.intn(1<<20)
	s.sch.spawn(l.proc, l.name+" write", func() {
		what, err := s.editAndMove(rep, pick, vals)
		s.tr.printf("%s %s: %s", l.name, what, errText(err))
		s.model.wrote(l, what, err)
	})
}

func (s *Sim) editAndMove(rep *agent.Replica, pick, vals int) (string, error) {
	e, err := rep.Enrollment(s.ctx)
	if err != nil || e == nil || len(e.Scope) == 0 {
		return "corrects nothing (no scope)", err
	}
	households, err := rowsOf(s.ctx, rep.DB(), "households", false)
	if err != nil || len(households) == 0 {
		return "corrects no household", err
	}
	hh := households[pick%len(households)]
	hamlet := e.Scope[vals%len(e.Scope)].Code
	return fmt.Sprintf("corrects household %s's head and moves it to %s", short(hh), hamlet),
		rep.EditHousehold(s.ctx, hh, agent.Fields{"head_name": fmt.Sprintf("Chủ hộ %d", vals%991), "hamlet_code": hamlet})
}

// opDeleteEdited: a team-mate deletes a household that a laptop now
// offline holds changes to, not yet pushed.
func (s *Sim) opDeleteEdited() {
	away := s.pickLaptop(offline)
	var mates []*laptop
	for _, l := range s.laptops {
		if l != away && l.team == away.team && running(l) {
			mates = append(mates, l)
		}
	}
	if len(mates) == 0 {
		s.tr.printf("%s is away and has no team-mate", away.name)
		return
	}
	l := mates[s.ch.intn(len(mates))]
	pick := s.ch.intn(1 << 20)
	var ids []string
	rows, err := away.rep.DB().QueryContext(s.ctx, `SELECT DISTINCT row_id FROM outbox WHERE state = 0 AND tbl = 'households' ORDER BY row_id`)
	if err == nil {
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				ids = append(ids, id)
			}
		}
		rows.Close()
	}
	if len(ids) == 0 {
		s.tr.printf("%s has no household edited while away", away.name)
		return
	}
	id, err := uuid.Parse(ids[pick%len(ids)])
	if err != nil {
		s.fail("read %s's outbox: %v", away.name, err)
	}
	rep := l.rep
	s.sch.spawn(l.proc, l.name+" write", func() {
		err := rep.Delete(s.ctx, "households", id)
		what := fmt.Sprintf("deletes household %s, which %s edits while away", short(id), away.name)
		s.tr.printf("%s %s: %s", l.name, what, errText(err))
		s.model.wrote(l, what, err)
	})
}

// checkWhole: no live row, on the server or a laptop, lacks a field its
// table requires. A new row reaches the server whole in one push (server
// judgeRows); a row that lacks one was made of edits alone: an edit of a
// row the server had collected, taken for a new row.
func (s *Sim) checkWhole() {
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	for _, t := range schema.SyncedTables() {
		var req []string
		for _, f := range t.Fields {
			if f.Required {
				req = append(req, f.Name)
			}
		}
		if len(req) == 0 {
			continue
		}
		rows, err := s.liveRows(srvDB, s.pg != nil, t.Name)
		if err != nil {
			s.fail("read the server's %s: %v", t.Name, err)
		}
		if n, id, err := partialRows(rows, req); err != nil {
			s.fail("read the server's %s: %v", t.Name, err)
		} else if n > 0 {
			s.fail("the server holds %d live %s lacking a required field (%s…): a partial row", n, t.Name, id[:min(8, len(id))])
		}
		for _, l := range s.laptops {
			if !running(l) {
				continue
			}
			rows, err := s.liveRows(l.rep.DB(), false, t.Name)
			if err != nil {
				s.fail("read %s's %s: %v", l.name, t.Name, err)
			}
			if n, id, err := partialRows(rows, req); err != nil {
				s.fail("read %s's %s: %v", l.name, t.Name, err)
			} else if n > 0 {
				s.fail("%s holds %d live %s lacking a required field (%s…): a partial row", l.name, n, t.Name, id[:min(8, len(id))])
			}
		}
	}
}

// partialRows counts the rows with a required field NULL, and names the
// least id among them; a required field the table lacks is an error, as
// the query that asked it in SQL failed.
func partialRows(t *liveTable, required []string) (n int, least string, err error) {
	for _, c := range required {
		if !slices.Contains(t.cols, c) {
			return 0, "", fmt.Errorf("no such column: %s", c)
		}
	}
	for id, r := range t.rows {
		if slices.ContainsFunc(r.nulls, func(c string) bool { return slices.Contains(required, c) }) {
			if n == 0 || id < least {
				least = id
			}
			n++
		}
	}
	return n, least, nil
}
