// Command hamlet-load is the server's load test: it prepares a
// deployment, runs `hamlet-server serve` as one or more child processes on
// loopback, connects N simulated agents (teams of --team-size), has each
// push --changes field changes and pull its teammates', checks that all
// converge, and reports round latency percentiles, throughput, the
// servers' peak RSS and memory per idle connection. Loopback only, bounded
// by --timeout.
//
// On embedded SQLite (the default) there is one process. With --db
// postgres://... each run gets a fresh database on that cluster (created
// and dropped by the tool; the URL's user must be allowed CREATE DATABASE),
// and --procs N starts N `serve --db` children on different ports against
// it; agents are spread over them round-robin, so teammates sit on
// different processes and a change pushed through one reaches the others'
// agents by PostgreSQL's NOTIFY. --compare-procs 1,2 runs one process then
// two, back to back in one invocation, and prints the throughput ratio.
// --measure-sizes loads an example province and prints rows and bytes per
// table (sizes.go).
//
//	go build -o bin/hamlet-server ./cmd/hamlet-server
//	go run ./cmd/hamlet-load --server-bin bin/hamlet-server --agents 2000
//	scripts/pg-test.sh sh -c 'go run ./cmd/hamlet-load --server-bin bin/hamlet-server --db "$HAMLET_TEST_POSTGRES" --compare-procs 1,2'
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

type agent struct {
	team    int
	proc    int // the server process it talks to
	hamlet  string
	replica uuid.UUID
	code    string
	token   string
	c       *servertest.Client
	sent    []syncproto.Change
	got     map[syncproto.FieldKey]syncproto.Value
	round   time.Duration
	// crossed counts the changes it received that a teammate pushed
	// through another process; quiet the waits for a Notify that ran out.
	crossed, quiet int
}

// loadConfig is one invocation's settings.
type loadConfig struct {
	agents, teamSize, changes int
	bin                       string
	keep                      bool
	db                        string // PostgreSQL base URL, or "" for SQLite
	pool                      int    // pool_max_conns of each child on PostgreSQL (0: the server's default)
	notifyWait                time.Duration
}

// result is one run's figures.
type result struct {
	procs       int
	converged   bool
	total       time.Duration
	p50, p99    time.Duration
	throughput  float64 // changes pushed and delivered per second
	crossed     int     // changes delivered across processes
	quiet       int     // Notify waits that ran out
	dbRows      int64   // households in the database afterwards (-1: not checked)
	wantDBRows  int64
	peakRSSMB   float64
	connectTime time.Duration
}

func main() {
	agents := flag.Int("agents", 2000, "simulated agents (at most 5000)")
	teamSize := flag.Int("team-size", 5, "agents per team (one hamlet per team)")
	changes := flag.Int("changes", 20, "field changes each agent pushes")
	bin := flag.String("server-bin", "", "hamlet-server binary (default: build it)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after")
	keep := flag.Bool("keep", false, "keep the data directory (and the PostgreSQL database)")
	db := flag.String("db", "", "PostgreSQL cluster postgres://... (each run creates a fresh database there); default embedded SQLite")
	procs := flag.Int("procs", 1, "server processes against the one database (PostgreSQL only above 1)")
	compare := flag.String("compare-procs", "", "run these process counts back to back, e.g. 1,2, and print the throughput ratio of the last to the first")
	pool := flag.Int("pool", 0, "connection pool of each server process on PostgreSQL (pool_max_conns; 0: the server's default)")
	notifyWait := flag.Duration("notify-wait", 30*time.Second, "how long an agent waits for a Notify before it pulls anyway (each such wait is counted)")
	measure := flag.Bool("measure-sizes", false, "load an example province (--scale) into SQLite and, with --db, PostgreSQL, and print rows and bytes per table")
	scale := flag.String("scale", "tenth", "province for --measure-sizes: small, seed2023, tenth (Cà Mau at a tenth of its households) or province")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *measure {
		if err := measureSizes(ctx, *db, *scale); err != nil {
			fmt.Fprintln(os.Stderr, "hamlet-load:", err)
			os.Exit(1)
		}
		return
	}
	if *agents > 5000 || *agents < 2 || *teamSize < 2 {
		fmt.Fprintln(os.Stderr, "--agents must be 2..5000 and --team-size at least 2")
		os.Exit(2)
	}
	if *changes < 2 || *changes%5 == 1 {
		// Each household is pushed with at least its hamlet and head's
		// name (the server refuses a new row without them).
		fmt.Fprintln(os.Stderr, "--changes must be at least 2 and leave no household with a single change (households take 5 changes each: use a multiple of 5)")
		os.Exit(2)
	}
	counts := []int{*procs}
	if *compare != "" {
		counts = nil
		for _, f := range strings.Split(*compare, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintln(os.Stderr, "--compare-procs takes process counts separated by commas, e.g. 1,2")
				os.Exit(2)
			}
			counts = append(counts, n)
		}
	}
	for _, n := range counts {
		if n < 1 || n > 16 {
			fmt.Fprintln(os.Stderr, "--procs must be 1..16")
			os.Exit(2)
		}
		if n > 1 && *db == "" {
			fmt.Fprintln(os.Stderr, "several processes share one database only on PostgreSQL: give --db postgres://...")
			os.Exit(2)
		}
	}
	cfg := loadConfig{agents: *agents, teamSize: *teamSize, changes: *changes, bin: *bin, keep: *keep, db: *db, pool: *pool, notifyWait: *notifyWait}
	if err := runAll(ctx, cfg, counts); err != nil {
		fmt.Fprintln(os.Stderr, "hamlet-load:", err)
		os.Exit(1)
	}
}

func raiseFDLimit(need uint64) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return
	}
	if rl.Cur < need {
		rl.Cur = min(rl.Max, need)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
}

// runAll builds the server once, runs each process count in turn and, for
// more than one, prints the one-line summary with the throughput ratio.
func runAll(ctx context.Context, cfg loadConfig, counts []int) error {
	raiseFDLimit(uint64(2*cfg.agents + 1024)) // the child servers inherit it
	if cfg.bin == "" {
		dir, err := os.MkdirTemp("", "hamlet-load-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.bin = filepath.Join(dir, "hamlet-server")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", cfg.bin, "github.com/hamlet-vn/hamlet/cmd/hamlet-server")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build hamlet-server: %w", err)
		}
	}
	var res []*result
	for _, n := range counts {
		r, err := runOnce(ctx, cfg, n)
		if err != nil {
			return fmt.Errorf("%d process(es): %w", n, err)
		}
		res = append(res, r)
	}
	if len(res) > 1 {
		store := "SQLite"
		if cfg.db != "" {
			store = "PostgreSQL"
		}
		var parts []string
		all := true
		for _, r := range res {
			all = all && r.converged
			parts = append(parts, fmt.Sprintf("%d proc: %.0f changes/s p50 %v p99 %v, %d notify waits ran out", r.procs, r.throughput,
				r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond), r.quiet))
		}
		first, last := res[0], res[len(res)-1]
		fmt.Printf("multi-process on %s, %d agents x %d changes: %s; converged %s; throughput %d/%d procs ratio %.2f\n",
			store, cfg.agents, cfg.changes, strings.Join(parts, "; "), yesNo(all), last.procs, first.procs, last.throughput/first.throughput)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// runOnce prepares a fresh deployment, starts procs servers on it and runs
// the agents against them.
func runOnce(ctx context.Context, cfg loadConfig, procs int) (*result, error) {
	n, teamSize, nChanges := cfg.agents, cfg.teamSize, cfg.changes
	dir, err := os.MkdirTemp("", "hamlet-load-")
	if err != nil {
		return nil, err
	}
	if !cfg.keep {
		defer os.RemoveAll(dir)
	}
	var dbURL string
	var ags []*agent
	if cfg.db == "" {
		ags, err = prepareSQLite(ctx, dir, n, teamSize)
	} else {
		var drop func()
		dbURL, drop, err = freshDatabase(ctx, cfg.db)
		if err != nil {
			return nil, err
		}
		if !cfg.keep {
			defer drop()
		} else {
			fmt.Printf("database kept: %s\n", dbURL)
		}
		ags, err = preparePostgres(ctx, dbURL, n, teamSize)
	}
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	fmt.Printf("--- %d server process(es) on %s\n", procs, map[bool]string{true: "embedded SQLite", false: "PostgreSQL"}[cfg.db == ""])
	var pids []int
	var urls []string
	for i := 0; i < procs; i++ {
		args := []string{"serve", "--data-dir", filepath.Join(dir, fmt.Sprintf("proc%d", i)), "--addr", "127.0.0.1:0", "--log-level", "info"}
		if cfg.db == "" {
			args[2] = dir
		} else {
			args = append(args, "--db", withPool(dbURL, cfg.pool))
		}
		srv, url, err := startServer(ctx, cfg.bin, args)
		if err != nil {
			return nil, err
		}
		defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
		pids = append(pids, srv.Process.Pid)
		urls = append(urls, url)
	}
	sumRSS := func(field string) int64 {
		var t int64
		for _, p := range pids {
			t += rss(p, field)
		}
		return t
	}
	rssBase := sumRSS("VmRSS")
	fmt.Printf("server pids %v at %v, RSS at start %.1f MB\n", pids, urls, float64(rssBase)/1024)
	for i, a := range ags {
		a.proc = i % procs // round-robin: teammates (consecutive agents) sit on different processes
	}

	// Enroll and connect everyone, each through its own process.
	start := time.Now()
	if err := parallel(ctx, ags, 64, func(a *agent) error {
		url := urls[a.proc]
		er, status, eb, err := servertest.Enroll(ctx, url, a.code, a.replica, "load")
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("enroll: %d %+v", status, eb)
		}
		a.token = er.Token
		c, _, _, err := servertest.Dial(ctx, url, a.token)
		if err != nil {
			return err
		}
		c.Timeout = 60 * time.Second
		a.c = c
		_, err = c.Hello(a.replica)
		return err
	}); err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	res := &result{procs: procs, connectTime: time.Since(start), dbRows: -1}
	fmt.Printf("%d agents enrolled and connected in %v\n", n, res.connectTime.Round(time.Millisecond))
	time.Sleep(2 * time.Second) // let the servers settle
	rssIdle := sumRSS("VmRSS")
	perConn := float64(rssIdle-rssBase) / float64(n)
	fmt.Printf("server RSS with %d idle connections: %.1f MB (%.1f KB per idle connection)\n", n, float64(rssIdle)/1024, perConn)

	// Every agent pushes, then pulls until it has its teammates' changes.
	start = time.Now()
	if err := parallel(ctx, ags, n, func(a *agent) error {
		t0 := time.Now()
		w := servertest.NewWriter(a.replica, nil)
		for len(a.sent) < nChanges {
			row := uuid.New()
			a.sent = append(a.sent, w.Write("households", row, "hamlet_code", syncproto.String(a.hamlet), a.hamlet))
			for _, f := range []string{"head_name", "address", "notes", "registered_on"} {
				if len(a.sent) == nChanges {
					break
				}
				v := syncproto.String("Hộ " + row.String()[:8])
				if f == "registered_on" {
					v = syncproto.String("2025-07-01")
				}
				a.sent = append(a.sent, w.Write("households", row, f, v, a.hamlet))
			}
		}
		ack, err := a.c.Push(1, a.sent)
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		for _, r := range ack.Results {
			if r.Status != syncproto.ResultApplied {
				return fmt.Errorf("push: result %d %s", r.Status, r.Code)
			}
		}
		want := (teamSize - 1) * nChanges
		a.got = map[syncproto.FieldKey]syncproto.Value{}
		var cursor uint64
		for len(a.got) < want {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			a.c.Notifies = 0
			cs, _, cur, err := a.c.PullAll(cursor)
			if err != nil {
				return fmt.Errorf("pull: %w", err)
			}
			cursor = cur
			for _, c := range cs {
				a.got[c.Key()] = c.Value
			}
			if len(a.got) < want && a.c.Notifies == 0 {
				// Teammates still pushing: a server notifies when one
				// commits, through whichever process (NOTIFY between them).
				if _, err := a.c.WaitNotify(cfg.notifyWait); err != nil {
					return fmt.Errorf("wait: %w", err)
				}
				if a.c.Notifies == 0 {
					// No Notify came: count it, and pull on a new session
					// as an agent's periodic sync would (a read that timed
					// out leaves the WebSocket unusable).
					a.quiet++
					a.c.Close()
					c, _, _, err := servertest.Dial(ctx, urls[a.proc], a.token)
					if err != nil {
						return fmt.Errorf("reconnect: %w", err)
					}
					c.Timeout = 60 * time.Second
					a.c = c
					if _, err := c.Hello(a.replica); err != nil {
						return fmt.Errorf("reconnect: %w", err)
					}
				}
			}
		}
		a.round = time.Since(t0)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	res.total = time.Since(start)
	peak := sumRSS("VmHWM")

	// Convergence: each agent holds exactly its teammates' changes, field
	// by field, and counts those that crossed processes.
	byTeam := map[int][]*agent{}
	for _, a := range ags {
		byTeam[a.team] = append(byTeam[a.team], a)
	}
	for _, a := range ags {
		want := map[syncproto.FieldKey]syncproto.Value{}
		for _, b := range byTeam[a.team] {
			if b != a {
				for _, c := range b.sent {
					want[c.Key()] = c.Value
				}
				if b.proc != a.proc {
					a.crossed += len(b.sent)
				}
			}
		}
		if len(want) != len(a.got) {
			return nil, fmt.Errorf("not converged: agent of team %d holds %d changes, want %d", a.team, len(a.got), len(want))
		}
		for k, v := range want {
			if a.got[k] != v {
				return nil, fmt.Errorf("not converged: agent of team %d: %v differs", a.team, k)
			}
		}
		res.crossed += a.crossed
		res.quiet += a.quiet
	}
	if cfg.db != "" {
		// The database holds each pushed household once: nothing lost, nothing doubled.
		res.wantDBRows = int64(n * ((nChanges + 4) / 5))
		if res.dbRows, err = countRows(ctx, dbURL, "households"); err != nil {
			return nil, err
		}
		if res.dbRows != res.wantDBRows {
			return nil, fmt.Errorf("not converged: the database holds %d households, the agents pushed %d", res.dbRows, res.wantDBRows)
		}
	}
	res.converged = true
	rounds := make([]time.Duration, len(ags))
	for i, a := range ags {
		rounds[i] = a.round
	}
	slices.Sort(rounds)
	pct := func(p float64) time.Duration { return rounds[min(len(rounds)-1, int(p*float64(len(rounds))))] }
	res.p50, res.p99 = pct(0.5), pct(0.99)
	res.throughput = float64(n*nChanges) / res.total.Seconds()
	res.peakRSSMB = float64(peak) / 1024
	fmt.Printf("all %d agents converged (%d changes pushed) in %v: %.0f changes/s\n", n, n*nChanges, res.total.Round(time.Millisecond), res.throughput)
	fmt.Printf("convergence checked: every agent's pulled state equals its %d teammates' pushes field by field", teamSize-1)
	if res.dbRows >= 0 {
		fmt.Printf("; the database holds %d households, as pushed", res.dbRows)
	}
	fmt.Printf("; %d of %d delivered changes crossed processes; %d Notify waits ran out (%v each)\n",
		res.crossed, n*(teamSize-1)*nChanges, res.quiet, cfg.notifyWait)
	fmt.Printf("sync round latency: p50 %v  p90 %v  p99 %v  max %v\n", pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), rounds[len(rounds)-1].Round(time.Millisecond))
	fmt.Printf("servers' peak RSS %.1f MB (sum over %d)\n", res.peakRSSMB, procs)
	m := map[string]float64{}
	for _, url := range urls {
		if mm, err := scrape(ctx, url); err == nil {
			for k, v := range mm {
				m[k] += v
			}
		}
	}
	if len(m) > 0 {
		fmt.Printf("servers: %.0f pulls (%.0f answered from memory), %.0f notifies, %.0f commits (%.1f batches each), push ack %.0f ms mean\n",
			m["hamlet_pulls_total"], m["hamlet_pulls_unchanged_total"], m["hamlet_notifies_total"],
			m["hamlet_commit_group_batches_count"], m["hamlet_commit_group_batches_sum"]/max(1, m["hamlet_commit_group_batches_count"]),
			1000*m["hamlet_push_batch_seconds_sum"]/max(1, m["hamlet_push_batch_seconds_count"]))
	}
	for _, a := range ags {
		a.c.Close()
	}
	return res, nil
}

// prepareSQLite prepares the deployment in dir's embedded SQLite database.
func prepareSQLite(ctx context.Context, dir string, n, teamSize int) ([]*agent, error) {
	s, err := openSQLite(ctx, dir, server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GCInterval: -1})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return prepare(ctx, s, n, teamSize)
}

// openSQLite runs a server on the SQLite store in dir, synchronous NORMAL:
// the load's deployment, not one to keep.
func openSQLite(ctx context.Context, dir string, cfg server.Config) (*server.Server, error) {
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, sqlitestore.DBFile), sqlitestore.Options{Synchronous: "NORMAL"})
	if err != nil {
		return nil, err
	}
	return server.OpenWithStore(ctx, cfg, st)
}

// prepare loads units, one hamlet per team, members and codes.
func prepare(ctx context.Context, s *server.Server, n, teamSize int) ([]*agent, error) {
	a := s.Admin()
	if err := a.ImportUnits(ctx, schema.EmbeddedUnits2025()); err != nil {
		return nil, err
	}
	communes, err := a.Units(ctx, schema.LevelCommune, "")
	if err != nil {
		return nil, err
	}
	teams := (n + teamSize - 1) / teamSize
	if teams > len(communes)*99 {
		return nil, errors.New("too many teams for the units")
	}
	perCommune := (teams + len(communes) - 1) / len(communes)
	var out []*agent
	for t := 0; t < teams; t++ {
		commune := communes[t/perCommune].Code
		num := t%perCommune + 1
		if num == 1 {
			if _, err := a.AddHamlets(ctx, commune, 1, perCommune); err != nil {
				return nil, err
			}
		}
		hamlet := schema.HamletCode(commune, num)
		team, err := a.CreateTeam(ctx, commune, "Tổ "+strconv.Itoa(t+1), []string{hamlet})
		if err != nil {
			return nil, err
		}
		for k := 0; k < teamSize && len(out) < n; k++ {
			m, err := a.AddMember(ctx, team.ID, "Thành viên "+strconv.Itoa(len(out)+1), "member", "")
			if err != nil {
				return nil, err
			}
			code, _, err := a.IssueCode(ctx, m.ID, time.Hour)
			if err != nil {
				return nil, err
			}
			out = append(out, &agent{team: t, hamlet: hamlet, replica: uuid.New(), code: code})
		}
	}
	return out, nil
}

func startServer(ctx context.Context, bin string, args []string) (*exec.Cmd, string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HAMLET_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	re := regexp.MustCompile(`listening"? addr=(\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			} else if strings.Contains(sc.Text(), "level=ERROR") {
				fmt.Fprintln(os.Stderr, "server:", sc.Text())
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, "http://" + addr, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return nil, "", errors.New("server did not start")
	}
}

// rss reads a memory figure (kB) of a process from /proc.
func rss(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

func parallel(ctx context.Context, ags []*agent, width int, fn func(*agent) error) error {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, a := range ags {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(a); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// scrape reads the server's unlabelled Prometheus samples.
func scrape(ctx context.Context, base string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				out[f[0]] = v
			}
		}
	}
	return out, sc.Err()
}
