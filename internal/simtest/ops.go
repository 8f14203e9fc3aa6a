package simtest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// An operation is what a person does (a volunteer's write, a sync, an
// operator's command, a coordinator's transition, a leader's question) or
// a fault (a crash, a cut, a clock set wrong, a folder copied). operate
// draws one by weight among those that can happen now.

type opKind struct {
	name   string
	weight int
	// wide: drawn only in a wide world (Config.Wide).
	wide bool
	// can reports whether the operation can happen now; do does it.
	can func(s *Sim) bool
	do  func(s *Sim)
}

var ops []opKind

func init() {
	ops = []opKind{
		{"write", 30, false, hasLaptop(running), (*Sim).opWrite},
		{"sync", 12, false, hasLaptop(idle), func(s *Sim) { s.startSync(s.pickLaptop(idle), false) }},
		{"watch", 3, false, hasLaptop(idle), func(s *Sim) { s.startSync(s.pickLaptop(idle), true) }},
		{"stop watch", 2, false, hasLaptop(watching), (*Sim).opStopWatch},
		{"laptop crash", 2, false, hasLaptop(running), (*Sim).opCrashLaptop},
		{"laptop start", 6, false, hasLaptop(stopped), (*Sim).opStartLaptop},
		{"offline", 2, false, hasLaptop(func(l *laptop) bool { return l.online && !l.gone }), (*Sim).opOffline},
		{"online", 4, false, hasLaptop(func(l *laptop) bool { return !l.online && !l.gone }), (*Sim).opOnline},
		{"server crash", 1, false, func(s *Sim) bool { return s.srv.up }, (*Sim).opCrashServer},
		{"server start", 12, false, func(s *Sim) bool { return !s.srv.up }, (*Sim).opStartServer},
		{"cut", 3, false, func(s *Sim) bool { return len(s.liveLinks()) > 0 }, (*Sim).opCut},
		{"stall", 1, false, func(s *Sim) bool { return len(s.liveLinks()) > 0 }, (*Sim).opStall},
		{"gc", 3, false, serverUp, func(s *Sim) { s.job(server.JobGC) }},
		{"flush", 3, false, serverUp, func(s *Sim) { s.job(server.JobFlush) }},
		{"check", 1, false, serverUp, func(s *Sim) { s.job(server.JobCheck) }},
		{"clock", 2, false, hasLaptop(running), (*Sim).opClock},
	}
}

func serverUp(s *Sim) bool { return s.srv.up }

func running(l *laptop) bool  { return l.running() && l.enrolled }
func idle(l *laptop) bool     { return running(l) && l.session == nil }
func watching(l *laptop) bool { return running(l) && l.cancel != nil }
func stopped(l *laptop) bool  { return l.rep == nil && !l.gone }

func hasLaptop(f func(*laptop) bool) func(*Sim) bool {
	return func(s *Sim) bool { return slices.ContainsFunc(s.laptops, f) }
}

func (s *Sim) pickLaptop(f func(*laptop) bool) *laptop {
	var ls []*laptop
	for _, l := range s.laptops {
		if f(l) {
			ls = append(ls, l)
		}
	}
	return ls[s.ch.intn(len(ls))]
}

func (s *Sim) operate() {
	all := ops
	if s.cfg.Silent {
		all = append(slices.Clip(ops), silentOps...)
	}
	if s.cfg.Fixes {
		all = append(slices.Clip(all), fixOps...)
	}
	w := make([]int, len(all))
	for i, o := range all {
		if (!o.wide || s.cfg.Wide) && o.can(s) {
			w[i] = o.weight
		}
	}
	i := s.ch.weighted(w)
	if i < 0 {
		s.passTime()
		return
	}
	all[i].do(s)
}

func (s *Sim) job(j server.Job) {
	srv := s.srv.srv
	names := map[server.Job]string{server.JobGC: "gc", server.JobFlush: "flush activity", server.JobCheck: "check sessions"}
	s.sch.spawn(s.srv.proc, names[j], func() {
		srv.RunJob(s.ctx, j)
		s.tr.printf("server %s", names[j])
		if j == server.JobGC {
			if d := s.orphanEntries(); d != "" {
				s.violation("after gc: %s", d)
			}
		}
	})
}

func (s *Sim) opStopWatch() {
	l := s.pickLaptop(watching)
	l.cancel()
	l.cancel = nil
	s.tr.printf("%s watch stopped by its volunteer", l.name)
}

func (s *Sim) opCrashLaptop() {
	l := s.pickLaptop(running)
	half := s.ch.intn(3) == 0
	l.crash(s, half)
	how := "crashes"
	if half {
		how = "loses power (its connection left half-open)"
	}
	s.tr.printf("%s %s", l.name, how)
}

func (s *Sim) opStartLaptop() {
	l := s.pickLaptop(stopped)
	if err := s.startLaptop(l); err != nil {
		s.fail("%s does not start: %v", l.name, err)
	}
	s.tr.printf("%s starts (%s)", l.name, l.proc.name)
}

func (s *Sim) opOffline() {
	l := s.pickLaptop(func(l *laptop) bool { return l.online && !l.gone })
	l.online = false
	for _, lk := range s.links {
		if lk.name == l.name && lk.live() {
			lk.stall = true
		}
	}
	s.tr.printf("%s goes offline", l.name)
}

func (s *Sim) opOnline() {
	l := s.pickLaptop(func(l *laptop) bool { return !l.online && !l.gone })
	l.online = true
	s.tr.printf("%s back online", l.name)
}

func (s *Sim) opCrashServer() {
	s.srv.crash(s)
	s.tr.printf("server crashes")
}

func (s *Sim) opStartServer() {
	if err := s.startServer(false); err != nil {
		s.fail("server does not start: %v", err)
	}
}

func (s *Sim) liveLinks() []*link {
	var out []*link
	for _, l := range s.links {
		if !l.broken && !(l.srv.closed && l.ag.closed) {
			out = append(out, l)
		}
	}
	return out
}

func (s *Sim) opCut() {
	ls := s.liveLinks()
	l := ls[s.ch.intn(len(ls))]
	n := l.cut()
	s.tr.printf("cut %s: %d frames in flight lost", l, n)
}

func (s *Sim) opStall() {
	ls := s.liveLinks()
	l := ls[s.ch.intn(len(ls))]
	l.stall = !l.stall
	s.tr.printf("%s stalls: %v", l, l.stall)
}

// opClock sets a laptop's clock wrong: a skew (minutes to a year, either
// way), a drift, or the volunteer setting it by hand to the right time.
func (s *Sim) opClock() {
	l := s.pickLaptop(running)
	l.clockSet, l.clockSets = true, l.clockSets+1
	switch s.ch.intn(4) {
	case 0:
		l.offset = time.Duration(s.ch.intn(120)-60) * time.Minute
	case 1:
		l.offset = time.Duration(s.ch.intn(2)*2-1) * 365 * 24 * time.Hour
	case 2:
		l.drift, l.driftFrom = time.Duration(s.ch.intn(11)-5)*time.Second, s.sch.now
		// keep the laptop's time continuous where the drift starts
	default:
		l.offset, l.drift = 0, 0
	}
	s.tr.printf("%s clock: offset %s, drift %s per hour", l.name, l.offset, l.drift)
}

// opWrite is a volunteer's write on a laptop: a task of its agent.
func (s *Sim) opWrite() {
	l := s.pickLaptop(running)
	rep := l.rep
	kind := s.ch.intn(100)
	pick := s.ch.intn(1 << 20)
	vals := s.ch.intn(1 << 20)
	s.sch.spawn(l.proc, l.name+" write", func() {
		what, err := s.write(l, rep, kind, pick, vals)
		s.tr.printf("%s %s: %s", l.name, what, errText(err))
		s.model.wrote(l, what, err)
	})
}

// rowsOf lists a table's rows on a replica, live ones or deleted ones.
func rowsOf(ctx context.Context, db *sql.DB, table string, deleted bool) ([]uuid.UUID, error) {
	del := 0
	if deleted {
		del = 1
	}
	rows, err := db.QueryContext(ctx, `SELECT id FROM `+table+` WHERE _deleted = ? ORDER BY id`, del)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []uuid.UUID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		u, err := uuid.Parse(id)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

var childTables = []string{"visits", "tutoring_records", "field_reports"}

func (s *Sim) write(l *laptop, rep *agent.Replica, kind, pick, vals int) (string, error) {
	ctx := s.ctx
	scope := []string{}
	if e, err := rep.Enrollment(ctx); err == nil && e != nil {
		for _, h := range e.Scope {
			scope = append(scope, h.Code)
		}
	}
	if len(scope) == 0 {
		return "write (no scope)", nil
	}
	hamlet := scope[pick%len(scope)]
	households, err := rowsOf(ctx, rep.DB(), "households", false)
	if err != nil {
		return "write", err
	}
	var hh uuid.UUID
	if len(households) > 0 {
		hh = households[pick%len(households)]
	}
	switch {
	case kind < 20 || len(households) == 0:
		id, err := rep.AddHousehold(ctx, householdFields(rep, hamlet, vals, true))
		return fmt.Sprintf("adds household %s in %s", short(id), hamlet), err
	case kind < 45:
		fs := householdFields(rep, hamlet, vals, false)
		return fmt.Sprintf("edits household %s %v", short(hh), keys(fs)), rep.EditHousehold(ctx, hh, fs)
	case kind < 50:
		return fmt.Sprintf("moves household %s to %s", short(hh), hamlet), rep.EditHousehold(ctx, hh, agent.Fields{"hamlet_code": hamlet})
	case kind < 55:
		return fmt.Sprintf("deletes household %s", short(hh)), rep.Delete(ctx, "households", hh)
	case kind < 58:
		dead, err := rowsOf(ctx, rep.DB(), "households", true)
		if err != nil || len(dead) == 0 {
			return "restores nothing", err
		}
		id := dead[vals%len(dead)]
		return fmt.Sprintf("restores household %s", short(id)), rep.Restore(ctx, "households", id)
	case kind < 80:
		switch vals % 3 {
		case 0:
			id, err := rep.AddVisit(ctx, hh, agent.Fields{"notes": fmt.Sprintf("ghé thăm %d", vals)})
			return fmt.Sprintf("adds visit %s to %s", short(id), short(hh)), err
		case 1:
			skills := schema.EnumValues(schema.EnumSkill)
			id, err := rep.AddTutoring(ctx, hh, agent.Fields{"skill": skills[vals%len(skills)], "outcome": outcome(vals)})
			return fmt.Sprintf("adds tutoring %s to %s", short(id), short(hh)), err
		default:
			cats := schema.EnumValues(schema.EnumReportCategory)
			id, err := rep.AddReport(ctx, hh, agent.Fields{"category": cats[vals%len(cats)], "description": fmt.Sprintf("phản ánh %d", vals)})
			return fmt.Sprintf("files report %s on %s", short(id), short(hh)), err
		}
	case kind < 95:
		table := childTables[vals%len(childTables)]
		ids, err := rowsOf(ctx, rep.DB(), table, false)
		if err != nil || len(ids) == 0 {
			return "edits no " + table, err
		}
		id := ids[pick%len(ids)]
		fs := childFields(table, vals)
		return fmt.Sprintf("edits %s %s %v", table, short(id), keys(fs)), rep.Update(ctx, table, id, fs)
	default:
		table := childTables[vals%len(childTables)]
		ids, err := rowsOf(ctx, rep.DB(), table, false)
		if err != nil || len(ids) == 0 {
			return "deletes no " + table, err
		}
		id := ids[pick%len(ids)]
		return fmt.Sprintf("deletes %s %s", table, short(id)), rep.Delete(ctx, table, id)
	}
}

func outcome(v int) string {
	return schema.EnumValues(schema.EnumTutoringOutcome)[v%2]
}

// householdFields are a few field values drawn from v (all required ones
// for a new household).
func householdFields(rep *agent.Replica, hamlet string, v int, create bool) agent.Fields {
	fs := agent.Fields{}
	if create {
		fs["hamlet_code"] = hamlet
		fs["head_name"] = fmt.Sprintf("Chủ hộ %d", v%1000)
	}
	switch v % 7 {
	case 0:
		fs["head_name"] = fmt.Sprintf("Chủ hộ %d", v%997)
	case 1:
		fs["phone"] = fmt.Sprintf("09%08d", v%100000000)
	case 2:
		fs["members_count"] = int64(1 + v%12)
	case 3:
		fs["has_smartphone"] = v%2 == 0
		fs["vneid_installed"] = v%3 == 0
	case 4:
		fs["notes"] = fmt.Sprintf("ghi chú %d", v%89)
	case 5:
		fs["active"] = v%5 != 0
	default:
		if rep.Schema().Version() >= 2 {
			fs["uses_camau_g"] = v%2 == 1
		} else {
			fs["uses_cashless"] = v%2 == 1
		}
	}
	return fs
}

func childFields(table string, v int) agent.Fields {
	switch table {
	case "visits":
		return agent.Fields{"notes": fmt.Sprintf("ghi chú %d", v%101)}
	case "tutoring_records":
		return agent.Fields{"outcome": outcome(v)}
	default:
		if v%2 == 0 {
			return agent.Fields{"satisfaction": int64(1 + v%5)}
		}
		return agent.Fields{"description": fmt.Sprintf("mô tả %d", v%97)}
	}
}

func keys(fs agent.Fields) []string {
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
