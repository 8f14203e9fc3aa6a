package simtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/stmtcache"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// model is what the harness knows beside the system: what it saw on the
// network and what people did, to hold the system to it.
type model struct {
	syncs, syncErrs int
	writes, refused int
	last            map[string]syncResult // each laptop's last sync
}

type syncResult struct {
	sum agent.SyncSummary
	err error
}

func newModel() *model { return &model{last: map[string]syncResult{}} }

func (m *model) synced(l *laptop, sum agent.SyncSummary, err error) {
	m.syncs++
	if err != nil {
		m.syncErrs++
	}
	m.last[l.name] = syncResult{sum, err}
}

func (m *model) wrote(l *laptop, what string, err error) {
	m.writes++
	if err != nil {
		m.refused++
	}
}

// heal ends every fault and lets the world come to rest: the server up,
// every laptop running and online, every link delivering, then rounds of
// syncs until a round moves nothing.
func (s *Sim) heal() {
	s.healing = true
	s.tr.printf("— heal: every fault ends; laptops sync until nothing moves —")
	if !s.srv.up {
		s.opStartServer()
	}
	for _, lk := range s.links {
		lk.stall = false
	}
	// In a silent world the laptops away come back last: the others sync
	// and the server collects first (a returning laptop then finds what it
	// holds collected), then they return.
	var away []*laptop
	for _, l := range s.laptops {
		if l.gone {
			continue
		}
		if s.cfg.Silent && !l.online && l.rep != nil {
			away = append(away, l)
		} else {
			l.online = true
		}
		if l.cancel != nil {
			l.cancel()
			l.cancel = nil
		}
		if l.rep == nil {
			if err := s.startLaptop(l); err != nil {
				s.fail("%s does not start: %v", l.name, err)
			}
		}
	}
	s.settleAll()
	// Lost laptops are found: the operator restores every revoked device.
	for _, dev := range s.revoked {
		s.restoring(dev)
		s.call(s.srv.proc, "restore a device", func() {
			_, err := s.srv.srv.Admin().RestoreDevice(s.ctx, dev)
			s.tr.printf("restore a device: %s", errText(err))
		})
	}
	s.revoked = nil
	if len(away) > 0 {
		for range 2 {
			s.syncRound()
		}
		s.call(s.srv.proc, "gc", func() { s.srv.srv.RunJob(s.ctx, server.JobGC); s.tr.printf("server gc") })
		for _, l := range away {
			l.online = true
			s.tr.printf("%s back online", l.name)
		}
	}
	for round := 1; ; round++ {
		if round > 8 {
			s.fail("the world does not come to rest after %d rounds of syncs", round-1)
		}
		if !s.syncRound() {
			s.tr.printf("— at rest after %d rounds —", round)
			return
		}
	}
}

// syncRound syncs every running laptop that is online, one after the
// other, each to its end, and says whether anything moved.
func (s *Sim) syncRound() bool {
	moved := false
	for _, l := range s.laptops {
		if !running(l) || !l.online {
			continue
		}
		s.startSync(l, false)
		t := l.session
		if t == nil {
			s.fail("%s cannot sync while healing", l.name)
		}
		if !s.settleTask(t, 200000) {
			s.fail("%s's sync does not end", l.name)
		}
		sum, serr := s.lastSync(l)
		if serr != nil {
			var rev *agent.RevokedError
			if errors.As(serr, &rev) {
				// Still revoked (a copy's, a device replaced): the
				// leader gives a new code, the volunteer enrolls again.
				s.opReenrollOf(l)
				if !s.settleTask(l.session, 200000) {
					s.fail("%s's enrollment does not end", l.name)
				}
			}
			moved = true
			continue
		}
		if sum.Pushed+sum.Pulled+sum.Cloned+sum.Rejected+sum.Evicted > 0 || sum.ScopeChange != nil || sum.Fork != nil {
			moved = true
		}
	}
	s.settleAll()
	return moved
}

// lastSync is the summary of the laptop's last finished sync.
func (s *Sim) lastSync(l *laptop) (agent.SyncSummary, error) {
	return s.model.last[l.name].sum, s.model.last[l.name].err
}

// settleAll runs every task and delivers every frame until nothing is
// left to run or deliver.
func (s *Sim) settleAll() {
	for i := 0; i < 200000; i++ {
		s.sch.fireTimers()
		var rs []*task
		rs = s.sch.runnableTasks(rs)
		if len(rs) > 0 {
			s.sch.run(rs[s.ch.intn(len(rs))])
			s.checkPanics()
			continue
		}
		if ls := s.deliverableLinks(); len(ls) > 0 {
			s.deliverOne(ls[s.ch.intn(len(ls))])
			continue
		}
		return
	}
	s.fail("the world does not settle")
}

// checkRest holds the invariants of a world at rest.
func (s *Sim) checkRest() {
	placed := s.checkPlaced()
	s.checkCollected()
	// checkConverged and checkWhole look at the same live rows of every
	// store, and nothing runs between them: each table of each store is
	// read once for both (liveRows), by one statement each connection
	// keeps prepared, which digest uses again.
	s.live = map[liveKey]*liveTable{}
	s.checkConverged()
	s.checkWhole()
	s.live = nil
	s.checkVersions(placed)
	s.checkConflicts()
	s.checkLosersTold()
	s.checkRefusedNotLost()
	s.checkSent()
	s.checkLeaders()
}

// checkCollected: collection leaves no log entry of a row the server no
// longer holds. A row's entries go with its tombstone, in its hamlet and
// in every hamlet it left (a team that gains one of those would read the
// row back live from them); superseded and truncated entries are removed
// whatever their row. Checked after every collection and at rest.
func (s *Sim) checkCollected() {
	if d := s.orphanEntries(); d != "" {
		s.fail("%s", d)
	}
}

// orphanEntries describes the log entries of rows the server does not hold
// ("" when there are none).
func (s *Sim) orphanEntries() string {
	db, done, err := s.serverRO()
	if err != nil {
		return fmt.Sprintf("open the server's store to look: %v", err)
	}
	defer done()
	const orphans = `FROM sync_log l WHERE NOT EXISTS (SELECT 1 FROM sync_rows r WHERE r.tbl = l.tbl AND r.row = l.row)`
	var n int
	if err := db.QueryRowContext(s.ctx, `SELECT count(*) `+orphans).Scan(&n); err != nil {
		return fmt.Sprintf("read the server's log: %v", err)
	}
	if n == 0 {
		return ""
	}
	var seq int64
	var scope, table string
	var row []byte
	if err := db.QueryRowContext(s.ctx, `SELECT l.seq, l.scope, l.tbl, l.row `+orphans+` ORDER BY l.seq LIMIT 1`).Scan(&seq, &scope, &table, &row); err != nil {
		return fmt.Sprintf("read the server's log: %v", err)
	}
	return fmt.Sprintf("the server's log holds %d entries of rows it no longer holds (the first: seq %d, %s %s in %s): a collected row left entries behind",
		n, seq, table, hex.EncodeToString(row)[:8], scope)
}

// checkSent: at rest every record a volunteer saved has left the laptop:
// on the server (checkConverged compares the rows), or in the laptop's
// rejected list with a reason; nothing waits in its outbox.
func (s *Sim) checkSent() {
	for _, l := range s.laptops {
		if !running(l) {
			continue
		}
		var pending, noReason int
		if err := l.rep.DB().QueryRowContext(s.ctx, `SELECT (SELECT count(*) FROM outbox WHERE state = 0) + (SELECT count(*) FROM outbox_rows)`).Scan(&pending); err != nil {
			s.fail("read %s's outbox: %v", l.name, err)
		}
		if err := l.rep.DB().QueryRowContext(s.ctx, `SELECT count(*) FROM outbox WHERE state = 2 AND (reason IS NULL OR reason = '')`).Scan(&noReason); err != nil {
			s.fail("read %s's rejected list: %v", l.name, err)
		}
		if pending > 0 {
			s.fail("%s still holds %d changes it never sent, at rest", l.name, pending)
		}
		if noReason > 0 {
			s.fail("%s's rejected list holds %d changes without a reason", l.name, noReason)
		}
	}
}

// checkLeaders: at rest, the leaders' read model answers as a fresh load.
func (s *Sim) checkLeaders() {
	s.opLeaderAsks()
	s.settleAll()
	s.checkPanics()
}

// checkConverged: every laptop holds exactly the live rows of its team's
// hamlets that the server holds, with the same values.
func (s *Sim) checkConverged() {
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	for l, scope := range s.runningScopes() {
		// A row with a refused change holds the value the server refused
		// until its volunteer acts (the rejected list): not compared.
		refused, err := refusedRows(s.ctx, l.rep.DB())
		if err != nil {
			s.fail("read %s's rejected list: %v", l.name, err)
		}
		for _, t := range schema.SyncedTables() {
			// Laptops compare against the same rows: the server's are read
			// once (nothing runs meanwhile), each laptop a copy of its own.
			srvRows, err := s.liveRows(srvDB, s.pg != nil, t.Name)
			if err != nil {
				s.fail("read the server's %s: %v", t.Name, err)
			}
			want := inScope(srvRows, scope)
			all, err := s.liveRows(l.rep.DB(), false, t.Name)
			if err != nil {
				s.fail("read %s's %s: %v", l.name, t.Name, err)
			}
			got := inScope(all, scope)
			for id := range refused {
				// Its values are not compared, but the row is still here:
				// the server holds it in the team's hamlets.
				if _, ok := want[id]; ok {
					held, err := holdsRow(s.ctx, l.rep.DB(), id)
					if err != nil {
						s.fail("read %s's row states: %v", l.name, err)
					}
					if _, ok := got[id]; !ok && !held {
						s.fail("%s does not hold %s %s, which the server holds in its team's hamlets %v: a row with a refused change dropped", l.name, t.Name, id[:min(8, len(id))], scope)
					}
				}
				delete(want, id)
				delete(got, id)
			}
			// A record the server refused stays where its volunteer put it,
			// beside the refusal, until a person acts: a household added
			// offline in a hamlet the team lost is one.
			if outside := rowsOutside(all, refused, scope); outside > 0 {
				s.fail("%s holds %d live %s outside its team's hamlets %v after syncing", l.name, outside, t.Name, scope)
			}
			if d := diffRows(want, got); d != "" {
				s.fail("%s does not hold what the server holds in %s (scope %v): %s", l.name, t.Name, scope, d)
			}
		}
	}
}

// rowsOutside counts a table's live rows whose hamlet is not in scope (a
// row without a hamlet_code is not counted, as SQL's NOT IN leaves it
// out), but for rows with a refused change (the rejected list); with no
// scope, every live row but those.
func rowsOutside(all *liveTable, refused map[string]bool, scope []string) int {
	n := 0
	for id, r := range all.rows {
		if refused[id] {
			continue
		}
		if len(scope) > 0 && (r.hamlet == nil || r.in(scope)) {
			continue
		}
		n++
	}
	return n
}

// holdsRow says whether a laptop holds row id at all, live or deleted,
// wherever it shows it.
func holdsRow(ctx context.Context, db *sql.DB, id string) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM row_state WHERE id = ?`, id).Scan(&n)
	return n > 0, err
}

// refusedRows are the rows with a change in the laptop's rejected list.
func refusedRows(ctx context.Context, db *sql.DB) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT row_id FROM outbox WHERE state = 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

func openRW(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(10000)")
}

// openRO opens a file to look: its statements kept prepared, as the
// checks at rest run the same few texts for every laptop and table.
func openRO(path string) (*sql.DB, error) {
	return sql.Open(stmtcache.DriverName, "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
}

// liveRow is a live row of a table as a store holds it.
type liveRow struct {
	vals   map[string]string // column → value as text ("<nil>": NULL), but id
	hamlet any               // hamlet_code as read (nil: NULL)
	nulls  []string          // the columns that are NULL
}

// in says whether the row's hamlet_code is one of scope, as SQL's IN
// compares: text equal to one of them.
func (r liveRow) in(scope []string) bool {
	h, ok := r.hamlet.(string)
	return ok && slices.Contains(scope, h)
}

// liveTable is a table's live rows as read, and its columns.
type liveTable struct {
	cols []string
	rows map[string]liveRow // by id
}

type liveKey struct {
	db    *sql.DB
	table string
}

// liveRows reads a table's live rows from db: during checkRest once per
// store and table (Sim.live), else each time.
func (s *Sim) liveRows(db *sql.DB, pg bool, table string) (*liveTable, error) {
	k := liveKey{db, table}
	if rows, ok := s.live[k]; ok {
		return rows, nil
	}
	t, err := readLive(s.ctx, db, pg, table)
	if err == nil && s.live != nil {
		s.live[k] = t
	}
	return t, err
}

// readLive reads a table's live rows by id (pg: db is the server's on
// PostgreSQL). Every hamlet's, whichever the caller wants: one text per
// table, which a connection keeps prepared, where a text per scope was
// prepared again for each.
func readLive(ctx context.Context, db *sql.DB, pg bool, table string) (*liveTable, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, rebind(pg, `SELECT * FROM `+table+` WHERE _deleted = 0`))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	out := map[string]liveRow{}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := liveRow{vals: make(map[string]string, len(cols))}
		var id string
		for i, c := range cols {
			v := vals[i]
			if c == schema.ScopeField {
				r.hamlet = v
			}
			if v == nil {
				r.nulls = append(r.nulls, c)
			}
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			if c == "id" {
				id = fmt.Sprint(v)
				continue
			}
			r.vals[c] = fmt.Sprintf("%v", v)
		}
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &liveTable{cols: cols, rows: out}, nil
}

// inScope are the rows whose hamlet is in scope: id → column → value.
func inScope(all *liveTable, scope []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	if len(scope) == 0 {
		return out
	}
	for id, r := range all.rows {
		if r.in(scope) {
			out[id] = r.vals
		}
	}
	return out
}

// tableRows reads a table's live rows in scope: id → column → value (pg:
// db is the server's on PostgreSQL).
func tableRows(ctx context.Context, db *sql.DB, pg bool, table string, scope []string) (map[string]map[string]string, error) {
	if len(scope) == 0 {
		return map[string]map[string]string{}, nil
	}
	all, err := readLive(ctx, db, pg, table)
	if err != nil {
		return nil, err
	}
	return inScope(all, scope), nil
}

// diffRows describes the first differences of got against want ("" when
// equal), on the columns both have.
func diffRows(want, got map[string]map[string]string) string {
	var d []string
	ids := make([]string, 0, len(want)+len(got))
	for id := range want {
		ids = append(ids, id)
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		w, okw := want[id]
		g, okg := got[id]
		switch {
		case !okg:
			d = append(d, fmt.Sprintf("lacks %s", id[:8]))
		case !okw:
			d = append(d, fmt.Sprintf("holds %s, which the server does not", id[:8]))
		default:
			var cols []string
			for c := range w {
				if gv, ok := g[c]; ok && gv != w[c] {
					cols = append(cols, fmt.Sprintf("%s=%q (server %q)", c, gv, w[c]))
				}
			}
			slices.Sort(cols)
			if len(cols) > 0 {
				d = append(d, fmt.Sprintf("row %s: %s", id[:8], strings.Join(cols, ", ")))
			}
		}
		if len(d) >= 5 {
			d = append(d, "…")
			break
		}
	}
	return strings.Join(d, "; ")
}

// digest hashes every store's synced tables: the world's state, for the
// trace (two runs of one schedule end in the same state).
func (s *Sim) digest() string {
	h := sha256.New()
	dbs := []*sql.DB{}
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	dbs = append(dbs, srvDB)
	for _, l := range s.laptops {
		if running(l) {
			dbs = append(dbs, l.rep.DB())
		}
	}
	for _, db := range dbs {
		for _, t := range schema.SyncedTables() {
			rows, err := tableRows(s.ctx, db, s.pg != nil && db == srvDB, t.Name, hamlets)
			if err != nil {
				s.fail("digest: %v", err)
			}
			ids := make([]string, 0, len(rows))
			for id := range rows {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				cols := make([]string, 0, len(rows[id]))
				for c, v := range rows[id] {
					cols = append(cols, c+"="+v)
				}
				slices.Sort(cols)
				fmt.Fprintf(h, "%s %s %s\n", t.Name, id, strings.Join(cols, ","))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// checkPlaced: at rest every live row on the server sits where its
// hamlet_code says: the row's hamlet (the scope its log entries go to,
// whose teams receive it) is the value of its current hamlet_code
// version. A row accepted by a label its changes carry, or a child whose
// hamlet_code names another hamlet than its household's, breaks it; so
// does a row of fields without a hamlet_code (a partial row).
func (s *Sim) checkPlaced() map[server.RowRef]server.RowState {
	srvDB, done, err := s.serverRO()
	if err != nil {
		s.fail("open the server's store to look: %v", err)
	}
	defer done()
	rows, err := srvDB.QueryContext(s.ctx, `SELECT tbl, row FROM sync_rows WHERE NOT deleted ORDER BY tbl, row`)
	if err != nil {
		s.fail("read the server's rows: %v", err)
	}
	var refs []server.RowRef
	for rows.Next() {
		var r server.RowRef
		var b []byte
		if err := rows.Scan(&r.Table, &b); err != nil {
			s.fail("read the server's rows: %v", err)
		}
		copy(r.Row[:], b)
		refs = append(refs, r)
	}
	if err := rows.Close(); err != nil {
		s.fail("read the server's rows: %v", err)
	}
	var states map[server.RowRef]server.RowState
	if err := s.srv.store.Update(s.ctx, func(tx server.Tx) error {
		var err error
		states, err = tx.LoadRows(refs)
		return err
	}); err != nil {
		s.fail("load the server's rows: %v", err)
	}
	for _, r := range refs {
		st := states[r]
		v, ok := st.Versions[schema.ScopeField]
		switch {
		case !ok:
			s.fail("the server holds %s %s in %s without a hamlet_code (fields %v)", r.Table, short(r.Row), st.Scope, slices.Sorted(maps.Keys(st.Versions)))
		case v.Value != syncproto.String(st.Scope):
			s.fail("the server holds %s %s in %s, its hamlet_code says %v", r.Table, short(r.Row), st.Scope, v.Value)
		}
		// A visit or a tutoring record is in its household's hamlet (§17.1):
		// one made offline and pushed after another device moved its
		// household stayed where it was made (helper 288, stop 68).
		if t, _ := schema.LookupTable(r.Table); t.ParentTable == "households" {
			if home, ok := states[server.RowRef{Table: "households", Row: st.Parent}]; ok && home.Scope != st.Scope {
				s.fail("the server holds %s %s in %s, its household %s in %s", r.Table, short(r.Row), st.Scope, short(st.Parent), home.Scope)
			}
		}
	}
	return states
}

// checkVersions: at rest every laptop holds, for each live row the server
// holds in its team's hamlets, the very versions the server holds: each
// field's dot and stamp, no field more or less (checkConverged compares
// values only). A version kept under a stamp the server gave another
// (an Ack's restamp not adopted), or a field the laptop lacks or holds
// beyond the server's, would decide a later concurrent write otherwise
// here than on the server. Rows with a refused change are left out, as
// in checkConverged. states are the server's live rows (checkPlaced).
func (s *Sim) checkVersions(states map[server.RowRef]server.RowState) {
	for l, scope := range s.runningScopes() {
		if len(scope) == 0 {
			continue
		}
		refused, err := refusedRows(s.ctx, l.rep.DB())
		if err != nil {
			s.fail("read %s's rejected list: %v", l.name, err)
		}
		snap, err := l.rep.Snapshot(s.ctx)
		if err != nil {
			s.fail("read %s's versions: %v", l.name, err)
		}
		var bad []string                  // what differs, sorted below: the same failure each replay
		want := map[syncproto.RowID]int{} // fields of each row compared
		for r, st := range states {
			if !slices.Contains(scope, st.Scope) || refused[r.Row.String()] {
				continue
			}
			want[r.Row] = len(st.Versions)
			for f, sv := range st.Versions {
				lv, ok := snap[syncproto.FieldKey{Table: r.Table, Row: r.Row, Field: f}]
				switch {
				case !ok:
					bad = append(bad, fmt.Sprintf("%s holds no version of %s.%s of %s, which the server holds (%s at %s)", l.name, r.Table, f, short(r.Row), dotText(sv.Dot), sv.HLC))
				case lv.Dot != sv.Dot || lv.HLC != sv.HLC:
					bad = append(bad, fmt.Sprintf("%s holds %s.%s of %s as %s at %s, the server as %s at %s", l.name, r.Table, f, short(r.Row), dotText(lv.Dot), lv.HLC, dotText(sv.Dot), sv.HLC))
				}
			}
		}
		for k := range snap {
			if n, ok := want[k.Row]; ok {
				want[k.Row] = n - 1
			}
		}
		for id, n := range want {
			if n < 0 {
				bad = append(bad, fmt.Sprintf("%s holds %d fields of %s beyond the server's", l.name, -n, short(id)))
			}
		}
		if len(bad) > 0 {
			slices.Sort(bad)
			s.fail("%s (%d differences): its versions are not the server's", bad[0], len(bad))
		}
	}
}

// runningScopes yields each running laptop with the hamlets its team
// covers now, as the server lists them.
func (s *Sim) runningScopes() iter.Seq2[*laptop, []string] {
	return func(yield func(*laptop, []string) bool) {
		teams, err := s.srv.store.Teams(s.ctx)
		if err != nil {
			s.fail("teams: %v", err)
		}
		for _, l := range s.laptops {
			if running(l) && !yield(l, s.teamHamlets(teams, l)) {
				return
			}
		}
	}
}

// teamHamlets: the hamlets l's team covers, among teams as the server
// lists them (nil when the list lacks the team).
func (s *Sim) teamHamlets(teams []server.Team, l *laptop) []string {
	for _, t := range teams {
		if t.ID == s.srv.teams[l.team] {
			return t.Hamlets
		}
	}
	return nil
}
