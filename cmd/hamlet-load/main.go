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
//
// It is a test tool, not shipped: the one main that imports a test helper
// (server/servertest, whose client and writer it drives agents with). It
// opens the stores to prepare and measure a deployment, and must never
// import the agent (its agents speak the protocol, as a foreign client
// would).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	pin                       *pinning // nil: not pinned
	perfOut                   string   // perf record's output for the sync phase, or ""
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
	enrollTime  time.Duration
	connectTime time.Duration
	kbPerConn   float64 // server RSS each idle connection adds, after enrollment
	cpuPerSync  float64 // server CPU seconds per agent sync (push and pull)
	loadBusy    float64 // the load generator's CPU over the sync phase, in cores
	// bareCPUPerSync is bareSync's CPU per agent: the same rows in plain
	// SQLite (SQLite runs only).
	bareCPUPerSync float64
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
	pin := flag.String("pin", "", "LOAD:SERVER CPU lists (taskset -c), e.g. 0:1: the load generator on CPU 0, each server on CPU 1")
	perfOut := flag.String("perf", "", "record the first server process's CPU profile over the sync phase (not the enrolment or connections) into this file with perf record -g; read it with perf report -i FILE")
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
	cfg := loadConfig{agents: *agents, teamSize: *teamSize, changes: *changes, bin: *bin, keep: *keep, db: *db, pool: *pool, notifyWait: *notifyWait, perfOut: *perfOut}
	var err error
	if cfg.pin, err = parsePin(*pin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if cfg.pin != nil {
		if err := cfg.pin.selfOnLoadCPUs(); err != nil {
			fmt.Fprintln(os.Stderr, "hamlet-load: --pin:", err)
			os.Exit(1)
		}
	}
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
