package agent_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// BenchmarkVsBare prints, in one run, each of the agent's sync figures
// next to the physical floor measured in the same run: a bare insert of
// the same rows into the same row tables (the schema's migrations, same
// driver, WAL, synchronous=FULL, one transaction, one prepared statement
// per table), or, for a whole command, a bare process that opens the same
// SQLite file and reads (or inserts) one row. Every figure is the median of
// HAMLET_BENCH_RUNS runs (5), each run measuring the figure and its
// baseline back to back, so the machine's load weighs on both alike.
// PouchDB's bulkDocs of the same records, and, as node processes against
// a CouchDB-protocol server on loopback, PouchDB's first replication of
// the same 26,000 records into an empty database and its no-op sync on the
// same 20,000 households, are measured too when HAMLET_POUCHDB names a
// folder where npm installed pouchdb-node, express-pouchdb and express
// (make bench-vs-bare does, outside the repository).
//
//	make bench-vs-bare
func BenchmarkVsBare(b *testing.B) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x: each figure is already a median of several runs")
	}
	runs := 5
	if n, err := strconv.Atoi(os.Getenv("HAMLET_BENCH_RUNS")); err == nil && n > 0 {
		runs = n
	}
	ctx := context.Background()
	tab := &vsTable{}
	tab.note("load average at start: " + loadavg())
	ts := servertest.Start(b)
	cs := commune(uuid.New(), ts.HamletsA, 5000, 20000, 1000)
	seedServer(b, ts, cs)
	bare := bareTables(cs)
	tmp := b.TempDir()

	bin := buildBin(b, tmp, "hamlet-agent", "github.com/hamlet-vn/hamlet/cmd/hamlet-agent")

	// First clone of the commune (26,000 rows): hamlet-agent sync as a
	// process (enrolled beforehand), the server in this process on
	// loopback, so the agent's memory and collector are its own.
	var clone, bareClone, cloneCPU, bareCloneCPU []time.Duration
	only := os.Getenv("HAMLET_BENCH_ONLY")
	if only == "commands" { // the commands as processes alone (make bench-vs-bare BENCH_ONLY=commands)
		commandFigures(b, servertest.Start(b), tab, tmp, bin, runs)
		tab.note("load average at end: " + loadavg())
		tab.print(os.Stdout)
		return
	}
	cloning := only != "import" && only != "push"
	// PouchDB's first replication of the same 26,000 records, as a node
	// process into a fresh local database, timed after Hamlet's.
	var pouchCl *pouchClone
	var pouchClErr error
	var pw, pwCPU []time.Duration
	if pd := os.Getenv("HAMLET_POUCHDB"); cloning && pd == "" {
		tab.note("PouchDB first replication: not run (HAMLET_POUCHDB unset; make bench-vs-bare installs it)")
	} else if cloning {
		if p, err := startPouchClone(b, pd, tmp, bare); err != nil {
			tab.note("PouchDB first replication: not run: " + err.Error())
		} else {
			pouchCl = p
		}
	}
	for i := 0; i < runs && cloning; i++ {
		bareClone = append(bareClone, bareInsert(b, tmp, bare))
		bareCloneCPU = append(bareCloneCPU, lastCPU)
		dir := filepath.Join(tmp, fmt.Sprintf("clone-%d", i))
		runBin(b, bin, "enroll", "--data-dir", dir, "--server", ts.URL, "--code", ts.EnrollCode(b, ts.TeamA), "--label", "bench")
		clone = append(clone, timeProc(b, bin, "sync", "--data-dir", dir))
		cloneCPU = append(cloneCPU, lastCPU)
		requireHouseholds(b, bin, dir, 5000)
		os.RemoveAll(dir)
	}
	// PouchDB's runs after Hamlet's, as for the no-op sync
	// (commandFigures): its server goes on working after each
	// replication.
	for i := 0; i < runs && cloning && pouchCl != nil && pouchClErr == nil; i++ {
		var d, cpu time.Duration
		if d, cpu, pouchClErr = pouchCl.clone(); pouchClErr == nil {
			pw, pwCPU = append(pw, d), append(pwCPU, cpu)
		}
	}
	if len(clone) > 0 {
		tab.add("first clone, 26,000 rows (hamlet-agent sync process)", clone, bareClone, "bare insert", 3)
		tab.cpu(cloneCPU, bareCloneCPU)
	}
	if pouchCl != nil {
		pouchCl.srv.stop()
		if pouchClErr != nil {
			tab.note("PouchDB first replication: " + pouchClErr.Error())
		} else if len(clone) > 0 {
			// PouchDB's time over Hamlet's: the issue asks Hamlet's first
			// clone to be at least 25 times as fast as PouchDB's.
			tab.row("PouchDB first replication, same 26,000 records (process)", pw, clone, "Hamlet first clone", "≥ 25×")
			tab.cpu(pwCPU, cloneCPU)
		}
	}
	if only == "clone" { // the clone's figure alone (make bench-vs-bare BENCH_ONLY=clone)
		tab.print(os.Stdout)
		return
	}

	// Local bulk write: the same 26,000 records through Replica.Import
	// (three imports: households, then their tutoring and reports).
	var imp, bareImp, impCPU, bareImpCPU []time.Duration
	for i := 0; i < runs && only != "push"; i++ {
		bareImp = append(bareImp, bareInsert(b, tmp, bare))
		bareImpCPU = append(bareImpCPU, lastCPU)
		r := agenttest.New(b)
		_, _, err := r.Enroll(ctx, ts.URL, ts.EnrollCode(b, ts.TeamA), "bench")
		require.NoError(b, err)
		imp = append(imp, importCommune(b, r, bare, ""))
		impCPU = append(impCPU, lastCPU)
	}
	if len(imp) > 0 {
		tab.add("import, 26,000 records (Replica.Import)", imp, bareImp, "bare insert", 0)
		tab.cpu(impCPU, bareImpCPU)
	}
	if dir := os.Getenv("HAMLET_POUCHDB"); dir == "" || only == "push" {
		tab.note("PouchDB bulkDocs: not run (HAMLET_POUCHDB unset; make bench-vs-bare installs it)")
	} else {
		pouch, pouchCPU, err := pouchBulkDocs(dir, tmp, bare, runs)
		if err != nil {
			tab.note("PouchDB bulkDocs: not run: " + err.Error())
		} else {
			// The ratio is PouchDB's time over Hamlet's: the aim is at
			// least 1 (the import at least as fast as bulkDocs).
			tab.row("PouchDB bulkDocs, same 26,000 records (1,000 per call)", pouch, imp, "Hamlet import", "≥ 1×")
			tab.cpu(pouchCPU, impCPU)
		}
	}
	if only == "import" { // the import's figures alone (make bench-vs-bare BENCH_ONLY=import)
		importProcFigures(b, ts, tab, tmp, bin, runs)
		tab.note("load average at end: " + loadavg())
		tab.print(os.Stdout)
		return
	}

	// Push: a laptop that imported 26,000 new records sends them
	// (hamlet-agent sync as a process; the import before it untimed).
	pushDir := filepath.Join(tmp, "push")
	runBin(b, bin, "enroll", "--data-dir", pushDir, "--server", ts.URL, "--code", ts.EnrollCode(b, ts.TeamB), "--label", "bench")
	runBin(b, bin, "sync", "--data-dir", pushDir)
	var push, barePush, pushCPU, barePushCPU []time.Duration
	for i := 0; i < runs; i++ {
		barePush = append(barePush, bareInsert(b, tmp, bare))
		barePushCPU = append(barePushCPU, lastCPU)
		r, err := agent.Open(ctx, filepath.Join(pushDir, "replica.db"))
		require.NoError(b, err)
		importCommune(b, r, bareFor(bare, ts.HamletsB), fmt.Sprintf(" lần %d", i))
		require.NoError(b, r.Close())
		push = append(push, timeProc(b, bin, "sync", "--data-dir", pushDir))
		pushCPU = append(pushCPU, lastCPU)
	}
	r, err := agent.Open(ctx, filepath.Join(pushDir, "replica.db"))
	require.NoError(b, err)
	n, err := r.Pending(ctx)
	require.NoError(b, err)
	require.Zero(b, n, "every imported change pushed")
	require.NoError(b, r.Close())
	tab.add("push, 26,000 records (hamlet-agent sync process)", push, barePush, "bare insert", 0)
	tab.cpu(pushCPU, barePushCPU)
	if only == "push" { // the push's figure alone (make bench-vs-bare BENCH_ONLY=push)
		tab.print(os.Stdout)
		return
	}

	// Whole commands as processes, on a replica of 20,000 households: a
	// server of their own, since team B above now holds the pushes'
	// records, which a laptop of team B would clone as well (45,000
	// households in all, not 20,000).
	procFigures(b, servertest.Start(b), tab, tmp, bin, runs)
	tab.note("load average at end: " + loadavg())
	tab.print(os.Stdout)
}

// requireHouseholds checks the laptop holds n households.
func requireHouseholds(b *testing.B, bin, dir string, n int) {
	var st struct{ Households int }
	require.NoError(b, json.Unmarshal([]byte(runBin(b, bin, "status", "--json", "--data-dir", dir)), &st))
	require.Equal(b, n, st.Households)
}

// procFigures times hamlet-agent's commands and imports as processes.
func procFigures(b *testing.B, ts *servertest.TS, tab *vsTable, tmp, bin string, runs int) {
	commandFigures(b, ts, tab, tmp, bin, runs)
	importProcFigures(b, ts, tab, tmp, bin, runs)
}

// commandFigures times hamlet-agent commands as processes (the binary
// built here, each command run whole: start, open, work, exit) against the
// bare process on a copy of the same replica file.
func commandFigures(b *testing.B, ts *servertest.TS, tab *vsTable, tmp, bin string, runs int) {
	bareBin := buildBin(b, tmp, "bareproc", "github.com/hamlet-vn/hamlet/agent/testdata/bareproc")
	dir := filepath.Join(tmp, "laptop")
	runBin(b, bin, "enroll", "--data-dir", dir, "--server", ts.URL, "--code", ts.EnrollCode(b, ts.TeamB), "--label", "bench")
	csvFile := filepath.Join(tmp, "ho.csv")
	rows := writeHouseholdCSV(b, csvFile, ts.HamletsB, 20000, "")
	runBin(b, bin, "import", csvFile, "--data-dir", dir)
	runBin(b, bin, "sync", "--data-dir", dir)
	runBin(b, bin, "sync", "--data-dir", dir)
	requireHouseholds(b, bin, dir, 20000) // what the figures' names say
	var hh []struct{ ID string }
	require.NoError(b, json.Unmarshal([]byte(runBin(b, bin, "household", "list", "--limit", "1", "--json", "--data-dir", dir)), &hh))
	require.Len(b, hh, 1)
	// The bare process works on a copy: its row would break the replica.
	bareDB := filepath.Join(tmp, "bare-replica.db")
	copyFile(b, filepath.Join(dir, "replica.db"), bareDB)
	// PouchDB's no-op sync on the same 20,000 households, timed after
	// Hamlet's in the same run.
	var pouch *pouchNoop
	if pd := os.Getenv("HAMLET_POUCHDB"); pd == "" {
		tab.note("PouchDB no-op sync: not run (HAMLET_POUCHDB unset; make bench-vs-bare installs it)")
	} else if p, err := startPouchNoop(b, pd, tmp, []bareTable{householdBare(rows)}); err != nil {
		tab.note("PouchDB no-op sync: not run: " + err.Error())
	} else {
		pouch = p
	}

	type cmdFig struct {
		name, bareOp string
		args         []string
	}
	for _, c := range []cmdFig{
		// The floor under every command: starting the binary (its help, no
		// replica opened) against starting a process that links the same
		// driver and does nothing.
		{"hamlet-agent --help", "start", []string{"--help"}},
		{"status", "read", []string{"status"}},
		{"tutor add", "write", []string{"tutor", "add", "--household", hh[0].ID, "--skill", "vneid_install"}},
		{"no-op sync", "read", []string{"sync"}},
	} {
		var fig, base, figCPU, baseCPU, pw, pwCPU []time.Duration
		var pouchErr error
		for i := 0; i < max(runs, 11); i++ {
			base = append(base, timeProc(b, bareBin, c.bareOp, bareDB))
			baseCPU = append(baseCPU, lastCPU)
			fig = append(fig, timeProc(b, bin, append(c.args, "--data-dir", dir)...))
			figCPU = append(figCPU, lastCPU)
		}
		// PouchDB's runs after Hamlet's and the bare process's, not between
		// them: its server (a node process) goes on working for a while
		// after each sync (its collector, LevelDB), and interleaved it took
		// the core from the next Hamlet and bare runs: Hamlet's no-op sync
		// measured 10.4-11.9 ms beside it, 7.9-8.7 ms alone, same code.
		for i := 0; c.name == "no-op sync" && pouch != nil && pouchErr == nil && i < max(runs, 11); i++ {
			var d, cpu time.Duration
			if d, cpu, pouchErr = pouch.sync(); pouchErr == nil {
				pw, pwCPU = append(pw, d), append(pwCPU, cpu)
			}
		}
		if c.bareOp == "start" {
			tab.row(c.name+" (process start, no replica read)", fig, base, "bare process start", "-")
		} else {
			tab.addAim(fmt.Sprintf("%s, 20,000 households (process)", c.name), fig, base, "bare "+c.bareOp+" process", 0, 15*time.Millisecond)
		}
		tab.cpu(figCPU, baseCPU)
		if c.name == "no-op sync" && pouch != nil {
			if pouchErr != nil {
				tab.note("PouchDB no-op sync: " + pouchErr.Error())
			} else {
				// PouchDB's time over Hamlet's: the aim is at least 1
				// (Hamlet's no-op sync at least as fast as PouchDB's).
				tab.row("PouchDB no-op sync, same 20,000 households (process)", pw, fig, "Hamlet no-op sync", "≥ 1×")
				tab.cpu(pwCPU, figCPU)
			}
		}
	}
}

// importProcFigures times hamlet-agent import of a 26,000-household file
// as a process against the bare insert of the same rows.
func importProcFigures(b *testing.B, ts *servertest.TS, tab *vsTable, tmp, bin string, runs int) {
	// Import of a 26,000-household file as a process, CSV and XLSX, each
	// into a fresh copy of an enrolled, empty replica.
	empty := filepath.Join(tmp, "empty")
	runBin(b, bin, "enroll", "--data-dir", empty, "--server", ts.URL, "--code", ts.EnrollCode(b, ts.TeamB), "--label", "bench")
	big := filepath.Join(tmp, "ho26000.csv")
	rows := writeHouseholdCSV(b, big, ts.HamletsB, 26000, "mới ")
	xlsx := filepath.Join(tmp, "ho26000.xlsx")
	writeXLSX(b, xlsx, rows)
	bareHH := []bareTable{householdBare(rows)}
	for _, f := range []struct{ name, file string }{{"CSV", big}, {"XLSX", xlsx}} {
		var fig, base, figCPU, baseCPU []time.Duration
		for i := 0; i < runs; i++ {
			base = append(base, bareInsert(b, tmp, bareHH))
			baseCPU = append(baseCPU, lastCPU)
			d := filepath.Join(tmp, fmt.Sprintf("import-%s-%d", f.name, i))
			copyDir(b, empty, d)
			fig = append(fig, timeProc(b, bin, "import", f.file, "--data-dir", d))
			figCPU = append(figCPU, lastCPU)
			os.RemoveAll(d)
		}
		tab.addAim("hamlet-agent import, 26,000 households, "+f.name+" (process)", fig, base, "bare insert", 0, time.Second)
		tab.cpu(figCPU, baseCPU)
	}
}

// vsTable collects the figures and prints them.
type vsTable struct {
	lines []string
	notes []string
}

func (t *vsTable) note(s string) { t.notes = append(t.notes, s) }

// add records a figure with its baseline; ratioAim, when set, is the
// largest figure/baseline ratio the issue asks for.
func (t *vsTable) add(name string, fig, base []time.Duration, baseName string, ratioAim float64) {
	aim := "-"
	if ratioAim > 0 {
		aim = fmt.Sprintf("≤ %.0f×", ratioAim)
	}
	t.row(name, fig, base, baseName, aim)
}

func (t *vsTable) addAim(name string, fig, base []time.Duration, baseName string, ratioAim float64, abs time.Duration) {
	t.row(name, fig, base, baseName, "< "+abs.String())
}

func (t *vsTable) row(name string, fig, base []time.Duration, baseName, aim string) {
	f, bs := median(fig), median(base)
	t.lines = append(t.lines, fmt.Sprintf("%-58s %10s  %-20s %10s  %7.2f×  %-9s (%d runs)",
		name, dur(f), baseName, dur(bs), f.Seconds()/bs.Seconds(), aim, len(fig)))
}

// cpu adds, under the last figure, its CPU time (user + system) and its
// baseline's: steadier than wall times on a machine others share.
func (t *vsTable) cpu(fig, base []time.Duration) {
	f, bs := median(fig), median(base)
	t.lines = append(t.lines, fmt.Sprintf("%-58s %10s  %-20s %10s  %7.2f×",
		"  CPU time of the same runs", dur(f), "", dur(bs), f.Seconds()/bs.Seconds()))
}

// lastCPU is the CPU time (user + system) of the last measurement that
// bareInsert, importCommune or timeProc made: of the child process for a
// process, else of this test process over the measured span (its other
// goroutines, the test server's, are idle then).
var lastCPU time.Duration

func (t *vsTable) print(w io.Writer) {
	fmt.Fprintf(w, "\n%-58s %10s  %-20s %10s  %8s  %-9s\n", "figure (median)", "Hamlet", "baseline", "", "ratio", "aim")
	for _, l := range t.lines {
		fmt.Fprintln(w, l)
	}
	for _, n := range t.notes {
		fmt.Fprintln(w, "# "+n)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func dur(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// bareTable is rows as a row table holds them.
type bareTable struct {
	name string
	cols []string
	rows [][]any
}

// bareTables turns a commune's changes into its row tables' rows.
func bareTables(cs []syncproto.Change) []bareTable {
	var out []bareTable
	idx := map[string]int{}
	type rowKey struct {
		table string
		row   syncproto.RowID
	}
	rows := map[rowKey]map[string]any{}
	var order []rowKey
	for _, c := range cs {
		if _, ok := idx[c.Table]; !ok {
			idx[c.Table] = len(out)
			out = append(out, bareTable{name: c.Table})
		}
		k := rowKey{c.Table, c.Row}
		if rows[k] == nil {
			rows[k] = map[string]any{}
			order = append(order, k)
		}
		rows[k][c.Field] = c.Value.Any()
		t := &out[idx[c.Table]]
		if !slices.Contains(t.cols, c.Field) {
			t.cols = append(t.cols, c.Field)
		}
	}
	for _, k := range order {
		t := &out[idx[k.table]]
		row := []any{k.row.String()}
		for _, c := range t.cols {
			v := rows[k][c]
			if b, ok := v.(bool); ok {
				v = int64(0)
				if b {
					v = int64(1)
				}
			}
			row = append(row, v)
		}
		t.rows = append(t.rows, row)
	}
	return out
}

// bareFor moves the rows to other hamlets (another team's scope).
func bareFor(ts []bareTable, hamlets []string) []bareTable {
	out := make([]bareTable, len(ts))
	for i, t := range ts {
		out[i] = bareTable{name: t.name, cols: t.cols}
		h := slices.Index(t.cols, schema.ScopeField) + 1
		for j, r := range t.rows {
			r = slices.Clone(r)
			r[h] = hamlets[j%len(hamlets)]
			out[i].rows = append(out[i].rows, r)
		}
	}
	return out
}

var bareSeq int

// bareInsert stores the rows in a fresh SQLite file with the schema's row
// tables and indexes, as the replica opens its file, in one transaction;
// it returns the transaction's time.
func bareInsert(b testing.TB, dir string, ts []bareTable) time.Duration {
	ctx := context.Background()
	bareSeq++
	path := filepath.Join(dir, fmt.Sprintf("bare-%d.db", bareSeq))
	defer func() {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(path + s)
		}
	}()
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=cache_size(-32000)")
	require.NoError(b, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	require.NoError(b, migrate.Apply(ctx, db, schema.MigrationSet, schema.Current().SQLiteMigrations()))
	start, cpu := time.Now(), processCPU()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(b, err)
	for _, t := range ts {
		st, err := tx.PrepareContext(ctx, `INSERT INTO `+t.name+` (id, `+strings.Join(t.cols, ", ")+`) VALUES (?`+strings.Repeat(", ?", len(t.cols))+`)`)
		require.NoError(b, err)
		for _, r := range t.rows {
			_, err := st.ExecContext(ctx, r...)
			require.NoError(b, err)
		}
		st.Close()
	}
	require.NoError(b, tx.Commit())
	lastCPU = processCPU() - cpu
	return time.Since(start)
}

// importCommune imports the bare rows' records into r, households first
// (the child records then name the imported households), suffix added to
// the names so that a second import into the same replica is new. It
// returns the time of the three Import calls.
func importCommune(b testing.TB, r *agent.Replica, ts []bareTable, suffix string) time.Duration {
	ctx := context.Background()
	var total, cpu time.Duration
	ids := map[string]string{} // bare household id -> imported id
	for _, t := range ts {
		sh := &agent.ImportSheet{Rows: [][]string{t.cols}}
		hi := slices.Index(t.cols, "household_id")
		ni := slices.Index(t.cols, "head_name")
		for _, row := range t.rows {
			cells := make([]string, len(t.cols))
			for j, v := range row[1:] {
				cells[j] = cellText(v)
			}
			if ni >= 0 {
				cells[ni] += suffix + " #" + row[0].(string)[:8]
			}
			if hi >= 0 {
				cells[hi] = ids[cells[hi]]
			}
			sh.Rows = append(sh.Rows, cells)
		}
		m := map[string]string{}
		for _, c := range t.cols {
			m[c] = c
		}
		start, c0 := time.Now(), processCPU()
		res, err := r.Import(ctx, sh, agent.ImportOptions{Table: t.name, Map: m})
		total += time.Since(start)
		cpu += processCPU() - c0
		require.NoError(b, err)
		require.Equal(b, len(t.rows), res.Imported)
		if t.name == "households" {
			hs, err := r.List(ctx, "households", agent.ListOptions{})
			require.NoError(b, err)
			byName := map[string]string{}
			for _, h := range hs {
				byName[h.Str("head_name")] = h.ID
			}
			for _, row := range t.rows {
				ids[row[0].(string)] = byName[row[1+ni].(string)+suffix+" #"+row[0].(string)[:8]]
			}
		}
	}
	lastCPU = cpu
	return total
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// writeHouseholdCSV writes a household list as a team keeps it, and
// returns its rows (header first).
func writeHouseholdCSV(b testing.TB, path string, hamlets []string, n int, prefix string) [][]string {
	rows := [][]string{{"STT", "Họ tên chủ hộ", "Mã ấp", "Địa chỉ", "Số điện thoại", "Số nhân khẩu", "Có điện thoại thông minh", "Đã cài VNeID", "Ngày đăng ký"}}
	for i := 0; i < n; i++ {
		rows = append(rows, []string{strconv.Itoa(i + 1), fmt.Sprintf("%sNguyễn Văn Hộ %d", prefix, i), hamlets[i%len(hamlets)],
			fmt.Sprintf("Số %d, tổ %d", i, i%20), fmt.Sprintf("09%08d", i), strconv.Itoa(1 + i%6), "có", "không", "15/07/2025"})
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(b, w.WriteAll(rows))
	require.NoError(b, os.WriteFile(path, buf.Bytes(), 0o600))
	return rows
}

func writeXLSX(b testing.TB, path string, rows [][]string) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter(f.GetSheetName(0))
	require.NoError(b, err)
	for i, r := range rows {
		cells := make([]any, len(r))
		for j, c := range r {
			cells[j] = c
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		require.NoError(b, sw.SetRow(cell, cells))
	}
	require.NoError(b, sw.Flush())
	require.NoError(b, f.SaveAs(path))
}

// householdBare is the household list's rows as the row table holds them.
func householdBare(rows [][]string) bareTable {
	t := bareTable{name: "households", cols: []string{"head_name", "hamlet_code", "address", "phone", "members_count", "has_smartphone", "vneid_installed", "registered_on", "active"}}
	for _, r := range rows[1:] {
		n, _ := strconv.ParseInt(r[5], 10, 64)
		t.rows = append(t.rows, []any{uuid.NewString(), r[1], r[2], r[3], r[4], n, int64(1), int64(0), "2025-07-15", int64(1)})
	}
	return t
}

func buildBin(b testing.TB, dir, name, pkg string) string {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	msg, err := cmd.CombinedOutput()
	require.NoError(b, err, "go build %s: %s", pkg, msg)
	return out
}

func runBin(b testing.TB, bin string, args ...string) string {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HAMLET_LANG=en")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(b, cmd.Run(), "%s %v: %s%s", filepath.Base(bin), args, out.String(), errb.String())
	return out.String()
}

// timeProc runs one process to its end and returns its wall time.
func timeProc(b testing.TB, bin string, args ...string) time.Duration {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HAMLET_LANG=en")
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	require.NoError(b, err, "%s %v: %s", filepath.Base(bin), args, errb.String())
	lastCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return d
}

func copyDir(b *testing.B, from, to string) {
	require.NoError(b, os.MkdirAll(to, 0o700))
	ents, err := os.ReadDir(from)
	require.NoError(b, err)
	for _, e := range ents {
		if e.Type().IsRegular() {
			copyFile(b, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
		}
	}
}

// pouchBulkDocs writes the records as PouchDB documents and times
// bulkDocs of 1,000 at a time into a fresh database, runs times, in node
// (agent/testdata/pouchdb/bulkdocs.js) with pouchdb-node from dir.
func pouchBulkDocs(dir, tmp string, ts []bareTable, runs int) (wall, cpu []time.Duration, err error) {
	in := filepath.Join(tmp, "pouch-docs.json")
	if err := writePouchDocs(in, ts); err != nil {
		return nil, nil, err
	}
	script, err := filepath.Abs("testdata/pouchdb/bulkdocs.js")
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command("node", script, in, filepath.Join(tmp, "pouch-db"), strconv.Itoa(runs))
	cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, nil, fmt.Errorf("%v: %s", err, nodeError(errb.String()))
	}
	var res struct {
		MS    []float64 `json:"ms"`
		CPUMS []float64 `json:"cpu_ms"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.MS) != runs || len(res.CPUMS) != runs {
		return nil, nil, fmt.Errorf("unexpected output %q", out.String())
	}
	ms := func(xs []float64) []time.Duration {
		var ds []time.Duration
		for _, m := range xs {
			ds = append(ds, time.Duration(m*float64(time.Millisecond)))
		}
		return ds
	}
	return ms(res.MS), ms(res.CPUMS), nil
}

// writePouchDocs writes the rows as PouchDB documents (one per row, its id
// the row's, its type the table's) in a JSON array.
func writePouchDocs(path string, ts []bareTable) error {
	var docs []map[string]any
	for _, t := range ts {
		for _, r := range t.rows {
			d := map[string]any{"_id": r[0], "type": t.name}
			for j, c := range t.cols {
				d[c] = r[j+1]
			}
			docs = append(docs, d)
		}
	}
	data, err := json.Marshal(docs)
	if err != nil {
		return fmt.Errorf("encoding the PouchDB documents: %w", err)
	}
	return os.WriteFile(path, data, 0o600)
}

// pouchServer is a CouchDB-protocol server in its own node process on
// loopback (agent/testdata/pouchdb/server.js), its databases LevelDB
// folders under the benchmark's temp dir, and how to run
// agent/testdata/pouchdb/sync.js against it.
type pouchServer struct {
	url, syncJS string
	env         []string
	stop        func() // idempotent; also run when the benchmark ends
}

// startPouchServer starts the server with pouchdb-node, express-pouchdb
// and express from dir (where npm put them), its databases in a folder of
// their own under tmp.
func startPouchServer(b *testing.B, dir, tmp string) (*pouchServer, error) {
	abs := func(name string) (string, error) { return filepath.Abs(filepath.Join("testdata", "pouchdb", name)) }
	serverJS, err := abs("server.js")
	if err != nil {
		return nil, err
	}
	syncJS, err := abs("sync.js")
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
	srvDir, err := os.MkdirTemp(tmp, "pouch-server-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", serverJS, srvDir)
	cmd.Env = env
	stdin, err := cmd.StdinPipe() // closed: the server exits
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the PouchDB server: %w", err)
	}
	exited := make(chan struct{})
	stop := sync.OnceFunc(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	b.Cleanup(stop)
	line := make(chan string, 1)
	go func() {
		buf := make([]byte, 256)
		n, _ := io.ReadAtLeast(stdout, buf, 1)
		line <- string(buf[:n])
		io.Copy(io.Discard, stdout)
		cmd.Wait()
		close(exited)
	}()
	var u string
	select {
	case u = <-line:
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("the PouchDB server printed no URL in 60s")
	}
	u = strings.TrimSpace(u)
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		<-exited
		return nil, fmt.Errorf("the PouchDB server did not start: %s", nodeError(errb.String()))
	}
	return &pouchServer{url: u, syncJS: syncJS, env: env, stop: stop}, nil
}

type pouchSyncResult struct {
	PushRead    int `json:"push_read"`
	PushWritten int `json:"push_written"`
	PullRead    int `json:"pull_read"`
	PullWritten int `json:"pull_written"`
}

// sync runs sync.js with args (see its header) as a whole process (node's
// start, PouchDB's load, the local database's open, the replication, the
// close) and returns what it printed, its wall time and its CPU time (user
// + system of every thread of the process), as timeProc times
// hamlet-agent. The server's own CPU is not in it, as the Hamlet server's
// is not in hamlet-agent's.
func (s *pouchServer) sync(args ...string) (res pouchSyncResult, wall, cpu time.Duration, err error) {
	cmd := exec.Command("node", append([]string{s.syncJS}, args...)...)
	cmd.Env = s.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		return res, 0, 0, fmt.Errorf("node sync.js: %v: %s", err, nodeError(errb.String()))
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, 0, 0, fmt.Errorf("node sync.js: unexpected output %q", out.String())
	}
	return res, wall, cpu, nil
}

// pouchNoop is PouchDB's side of the no-op sync: a local LevelDB database
// that has synced with a database of the server.
type pouchNoop struct {
	srv        *pouchServer
	local, url string
}

// startPouchNoop starts the server (stopped when the benchmark ends),
// writes the documents into a fresh local database, syncs it once (the
// documents pushed) and once more, as the Hamlet laptop imported its
// households and synced twice, so that the next sync has nothing to do.
func startPouchNoop(b *testing.B, dir, tmp string, ts []bareTable) (*pouchNoop, error) {
	srv, err := startPouchServer(b, dir, tmp)
	if err != nil {
		return nil, err
	}
	p := &pouchNoop{srv: srv, local: filepath.Join(tmp, "pouch-local"), url: srv.url + "/households"}
	docs := filepath.Join(tmp, "pouch-households.json")
	if err := writePouchDocs(docs, ts); err != nil {
		return nil, err
	}
	n := len(ts[0].rows)
	for i, args := range [][]string{{docs}, nil} {
		res, _, _, err := p.run(args...)
		if err != nil {
			return nil, err
		}
		if i == 0 && (res.PushWritten != n || res.PullWritten != 0) {
			return nil, fmt.Errorf("first sync pushed %d documents and pulled %d, want %d and 0", res.PushWritten, res.PullWritten, n)
		}
	}
	return p, nil
}

func (p *pouchNoop) run(extra ...string) (res pouchSyncResult, wall, cpu time.Duration, err error) {
	return p.srv.sync(append([]string{p.local, p.url}, extra...)...)
}

// sync times one no-op sync; it fails if the sync read or wrote a
// document.
func (p *pouchNoop) sync() (wall, cpu time.Duration, err error) {
	res, wall, cpu, err := p.run()
	if err != nil {
		return 0, 0, err
	}
	if res != (pouchSyncResult{}) {
		return 0, 0, fmt.Errorf("a sync after two had work to do: %+v", res)
	}
	return wall, cpu, nil
}

// pouchClone is PouchDB's side of the first clone: a database of the
// server that holds the records as documents, replicated by each clone
// into a fresh, empty local database.
type pouchClone struct {
	srv      *pouchServer
	url, tmp string
	n, seq   int
}

// startPouchClone starts the server and puts the documents in its
// database, untimed: written into a seeding local database and pushed by
// one sync, which is then removed. On failure the server is stopped.
func startPouchClone(b *testing.B, dir, tmp string, ts []bareTable) (_ *pouchClone, err error) {
	srv, err := startPouchServer(b, dir, tmp)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			srv.stop()
		}
	}()
	p := &pouchClone{srv: srv, url: srv.url + "/commune", tmp: tmp}
	for _, t := range ts {
		p.n += len(t.rows)
	}
	docs := filepath.Join(tmp, "pouch-commune.json")
	if err := writePouchDocs(docs, ts); err != nil {
		return nil, err
	}
	defer os.Remove(docs)
	seed := filepath.Join(tmp, "pouch-seed")
	defer os.RemoveAll(seed)
	res, _, _, err := srv.sync(seed, p.url, docs)
	if err != nil {
		return nil, err
	}
	if res.PushWritten != p.n || res.PullWritten != 0 {
		return nil, fmt.Errorf("seeding sync pushed %d documents and pulled %d, want %d and 0", res.PushWritten, res.PullWritten, p.n)
	}
	return p, nil
}

// clone times one first replication of the server's database into a fresh
// local database (removed afterwards); it fails unless it wrote every
// document.
func (p *pouchClone) clone() (wall, cpu time.Duration, err error) {
	p.seq++
	local := filepath.Join(p.tmp, fmt.Sprintf("pouch-clone-%d", p.seq))
	defer os.RemoveAll(local)
	res, wall, cpu, err := p.srv.sync("--clone", local, p.url)
	if err != nil {
		return 0, 0, err
	}
	if res.PullWritten != p.n {
		return 0, 0, fmt.Errorf("first replication wrote %d documents, want %d", res.PullWritten, p.n)
	}
	return wall, cpu, nil
}

// nodeError is the line of node's stderr that says what went wrong (its
// stack trace left out: the table's note is one line), e.g. "Error: Cannot
// find module 'express-pouchdb'".
func nodeError(stderr string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		if strings.Contains(l, "Error") && !strings.HasPrefix(strings.TrimSpace(l), "at ") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(lines[0])
}
