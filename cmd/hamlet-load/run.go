package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

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
		srv, url, err := startServer(ctx, cfg.pin, cfg.bin, args)
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
	sumCPU := func() float64 {
		var t float64
		for _, p := range pids {
			c, err := cpuSeconds(p)
			if err != nil {
				return math.NaN()
			}
			t += c
		}
		return t
	}
	fmt.Printf("server pids %v at %v, RSS at start %.1f MB\n", pids, urls, float64(rss(pids[0], "VmRSS"))/1024)
	if cfg.pin != nil {
		fmt.Printf("pinned: load generator on CPU %s (GOMAXPROCS %d), server(s) on CPU %s\n", cpusAllowed(0), runtime.GOMAXPROCS(0), cpusAllowed(pids[0]))
	} else {
		fmt.Printf("not pinned: the load generator and the server(s) share CPUs %s\n", cpusAllowed(0))
	}
	for i, a := range ags {
		a.proc = i % procs // round-robin: teammates (consecutive agents) sit on different processes
	}

	// Enroll everyone first, then connect: memory per idle connection is
	// what the connections add once every device is enrolled, not what
	// enrolling left behind.
	res := &result{procs: procs, dbRows: -1}
	cpu0 := sumCPU()
	start := time.Now()
	if err := parallel(ctx, ags, 64, func(a *agent) error {
		er, status, eb, err := servertest.Enroll(ctx, urls[a.proc], a.code, a.replica, "load")
		if err != nil {
			return err
		}
		if status != 200 {
			return fmt.Errorf("enroll: %d %+v", status, eb)
		}
		a.token = er.Token
		return nil
	}); err != nil {
		return nil, fmt.Errorf("enroll: %w", err)
	}
	http.DefaultClient.CloseIdleConnections()
	res.enrollTime = time.Since(start)
	cpuEnrolled := sumCPU()
	time.Sleep(2 * time.Second) // let the servers settle
	rssEnrolled := sumRSS("VmRSS")

	start = time.Now()
	if err := parallel(ctx, ags, 64, func(a *agent) error {
		c, _, _, err := servertest.Dial(ctx, urls[a.proc], a.token)
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
	res.connectTime = time.Since(start)
	cpuConnected := sumCPU()
	fmt.Printf("%d agents enrolled in %v (server CPU %.2f ms each), then connected in %v (%.2f ms each)\n", n,
		res.enrollTime.Round(time.Millisecond), 1000*(cpuEnrolled-cpu0)/float64(n),
		res.connectTime.Round(time.Millisecond), 1000*(cpuConnected-cpuEnrolled)/float64(n))
	time.Sleep(2 * time.Second) // let the servers settle
	rssIdle := sumRSS("VmRSS")
	res.kbPerConn = float64(rssIdle-rssEnrolled) / float64(n)
	fmt.Printf("server RSS after enrolling %d devices %.1f MB; with their %d idle connections %.1f MB: %.1f KB per idle connection\n",
		n, float64(rssEnrolled)/1024, n, float64(rssIdle)/1024, res.kbPerConn)

	// Every agent pushes, then pulls until it has its teammates' changes.
	stopPerf, err := startPerf(ctx, cfg.perfOut, pids[0])
	if err != nil {
		return nil, err
	}
	cpuSync, loadSync := sumCPU(), selfCPU()
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
	res.cpuPerSync = (sumCPU() - cpuSync) / float64(n)
	if err := stopPerf(); err != nil {
		return nil, err
	}
	res.loadBusy = (selfCPU() - loadSync) / res.total.Seconds()
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
	fmt.Printf("server CPU per agent sync (push %d changes, pull %d): %.3f ms, so one core of this machine serves %.0f agent syncs/s\n",
		nChanges, (teamSize-1)*nChanges, 1000*res.cpuPerSync, 1/res.cpuPerSync)
	fmt.Printf("during the syncs the server(s) used %.0f%% of a core and the load generator %.0f%%\n",
		100*res.cpuPerSync*float64(n)/res.total.Seconds(), 100*res.loadBusy)
	m := map[string]float64{}
	for _, url := range urls {
		if mm, err := scrape(ctx, url); err == nil {
			for k, v := range mm {
				m[k] += v
			}
		}
	}
	if len(m) > 0 {
		fmt.Printf("servers: %.0f pulls (answered from memory: %.0f as unchanged, %.0f from the log's tail), %.0f notifies, %.0f commits (%.1f batches each), push ack %.0f ms mean\n",
			m["hamlet_pulls_total"], m["hamlet_pulls_unchanged_total"], m["hamlet_pulls_tail_total"], m["hamlet_notifies_total"],
			m["hamlet_commit_group_batches_count"], m["hamlet_commit_group_batches_sum"]/max(1, m["hamlet_commit_group_batches_count"]),
			1000*m["hamlet_push_batch_seconds_sum"]/max(1, m["hamlet_push_batch_seconds_count"]))
	}
	for _, a := range ags {
		a.c.Close()
	}
	if cfg.db == "" {
		commits := int(m["hamlet_commit_group_batches_count"])
		bare, err := bareSync(ctx, ags, commits)
		if err != nil {
			return nil, err
		}
		res.bareCPUPerSync = bare.cpu / float64(n)
		fmt.Println(bare.line(n, commits, res.cpuPerSync))
	}
	fmt.Printf("summary: agents %d pinned %s p50_ms %d p99_ms %d cpu_ms_per_sync %.3f bare_ms_per_sync %.3f kb_per_idle_conn %.1f server_core_busy %.2f\n",
		n, yesNo(cfg.pin != nil), res.p50.Milliseconds(), res.p99.Milliseconds(), 1000*res.cpuPerSync, 1000*res.bareCPUPerSync, res.kbPerConn,
		res.cpuPerSync*float64(n)/res.total.Seconds())
	return res, nil
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
