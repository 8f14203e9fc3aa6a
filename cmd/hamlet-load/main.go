// Command hamlet-load is the server's load test: it prepares a data
// directory, runs `hamlet-server serve` as a child process on loopback,
// connects N simulated agents (teams of --team-size), has each push
// --changes field changes and pull its teammates', checks that all
// converge, and reports round latency percentiles, the server's peak RSS
// and its memory per idle connection. Loopback only, bounded by --timeout.
//
//	go build -o bin/hamlet-server ./cmd/hamlet-server
//	go run ./cmd/hamlet-load --server-bin bin/hamlet-server --agents 2000
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
	"github.com/hamlet-vn/hamlet/syncproto"
)

type agent struct {
	team    int
	hamlet  string
	replica uuid.UUID
	code    string
	token   string
	c       *servertest.Client
	sent    []syncproto.Change
	got     map[syncproto.FieldKey]syncproto.Value
	round   time.Duration
}

func main() {
	agents := flag.Int("agents", 2000, "simulated agents (at most 5000)")
	teamSize := flag.Int("team-size", 5, "agents per team (one hamlet per team)")
	changes := flag.Int("changes", 20, "field changes each agent pushes")
	bin := flag.String("server-bin", "", "hamlet-server binary (default: build it)")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after")
	keep := flag.Bool("keep", false, "keep the data directory")
	flag.Parse()
	if *agents > 5000 || *agents < 2 || *teamSize < 2 {
		fmt.Fprintln(os.Stderr, "--agents must be 2..5000 and --team-size at least 2")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *agents, *teamSize, *changes, *bin, *keep); err != nil {
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

func run(ctx context.Context, n, teamSize, nChanges int, bin string, keep bool) error {
	raiseFDLimit(uint64(2*n + 1024)) // the child server inherits it
	dir, err := os.MkdirTemp("", "hamlet-load-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	if bin == "" {
		bin = filepath.Join(dir, "hamlet-server")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/hamlet-vn/hamlet/cmd/hamlet-server")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build hamlet-server: %w", err)
		}
	}
	ags, err := prepare(ctx, dir, n, teamSize)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	srv, url, err := startServer(ctx, bin, dir)
	if err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	pid := srv.Process.Pid
	rssBase := rss(pid, "VmRSS")
	fmt.Printf("server pid %d at %s, RSS at start %.1f MB\n", pid, url, float64(rssBase)/1024)

	// Enroll and connect everyone.
	start := time.Now()
	if err := parallel(ctx, ags, 64, func(a *agent) error {
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
		return fmt.Errorf("connect: %w", err)
	}
	fmt.Printf("%d agents enrolled and connected in %v\n", n, time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // let the server settle
	rssIdle := rss(pid, "VmRSS")
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
				// Teammates still pushing: the server notifies when they commit.
				if _, err := a.c.WaitNotify(a.c.Timeout); err != nil {
					return fmt.Errorf("wait: %w", err)
				}
			}
		}
		a.round = time.Since(t0)
		return nil
	}); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	total := time.Since(start)
	peak := rss(pid, "VmHWM")

	// Convergence: each agent holds exactly its teammates' changes.
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
			}
		}
		if len(want) != len(a.got) {
			return fmt.Errorf("agent of team %d holds %d changes, want %d", a.team, len(a.got), len(want))
		}
		for k, v := range want {
			if a.got[k] != v {
				return fmt.Errorf("agent of team %d: %v differs", a.team, k)
			}
		}
	}
	rounds := make([]time.Duration, len(ags))
	for i, a := range ags {
		rounds[i] = a.round
	}
	slices.Sort(rounds)
	pct := func(p float64) time.Duration { return rounds[min(len(rounds)-1, int(p*float64(len(rounds))))] }
	fmt.Printf("all %d agents converged (%d changes pushed) in %v\n", n, n*nChanges, total.Round(time.Millisecond))
	fmt.Printf("sync round latency: p50 %v  p90 %v  p99 %v  max %v\n", pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond),
		pct(0.99).Round(time.Millisecond), rounds[len(rounds)-1].Round(time.Millisecond))
	fmt.Printf("server peak RSS %.1f MB\n", float64(peak)/1024)
	if m, err := scrape(ctx, url); err == nil {
		fmt.Printf("server: %.0f pulls (%.0f answered from memory), %.0f notifies, %.0f commits (%.1f batches each), push ack %.0f ms mean\n",
			m["hamlet_pulls_total"], m["hamlet_pulls_unchanged_total"], m["hamlet_notifies_total"],
			m["hamlet_commit_group_batches_count"], m["hamlet_commit_group_batches_sum"]/max(1, m["hamlet_commit_group_batches_count"]),
			1000*m["hamlet_push_batch_seconds_sum"]/max(1, m["hamlet_push_batch_seconds_count"]))
	}
	for _, a := range ags {
		a.c.Close()
	}
	return nil
}

// prepare loads units, one hamlet per team, members and codes.
func prepare(ctx context.Context, dir string, n, teamSize int) ([]*agent, error) {
	s, err := server.Open(ctx, server.Config{DataDir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), GCInterval: -1, Synchronous: "NORMAL"})
	if err != nil {
		return nil, err
	}
	defer s.Close()
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

func startServer(ctx context.Context, bin, dir string) (*exec.Cmd, string, error) {
	cmd := exec.CommandContext(ctx, bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--log-level", "info")
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
