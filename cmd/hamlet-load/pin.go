package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Pinning (issue 20): with --pin LOAD:SERVER the load generator runs on the
// CPUs LOAD and every server process on SERVER (taskset -c), so 2,000
// simulated agents do not take the server's own core, and the server's Go
// runtime sizes itself (GOMAXPROCS) to the cores it really has.

// pinnedEnv marks the process that re-executed itself under taskset, so it
// does not try again.
const pinnedEnv = "HAMLET_LOAD_PINNED"

// pinning is a parsed --pin.
type pinning struct {
	load, server string // taskset CPU lists, e.g. "0" and "1"
	taskset      string // the taskset binary
}

// parsePin reads "LOAD:SERVER" (each a CPU list as taskset -c takes it:
// 0, 0-1, 0,2); "" is no pinning.
func parsePin(s string) (*pinning, error) {
	if s == "" {
		return nil, nil
	}
	load, srv, ok := strings.Cut(s, ":")
	if !ok || !cpuList(load) || !cpuList(srv) {
		return nil, fmt.Errorf("--pin takes LOAD:SERVER CPU lists, e.g. 0:1 (load generator on CPU 0, server on CPU 1), not %q", s)
	}
	bin, err := exec.LookPath("taskset")
	if err != nil {
		return nil, errors.New("--pin needs taskset (Debian package util-linux): apt-get install util-linux")
	}
	return &pinning{load: load, server: srv, taskset: bin}, nil
}

func cpuList(s string) bool {
	if s == "" {
		return false
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, rng := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return false
		}
		if rng {
			b, err := strconv.Atoi(hi)
			if err != nil || b < a {
				return false
			}
		}
	}
	return true
}

// selfOnLoadCPUs re-executes this process under taskset on the load CPUs
// unless it already runs there (the Go runtime reads its CPU set once, at
// start: pinning a running process would leave GOMAXPROCS as it was).
func (p *pinning) selfOnLoadCPUs() error {
	if os.Getenv(pinnedEnv) != "" {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	args := append([]string{p.taskset, "-c", p.load, exe}, os.Args[1:]...)
	return syscall.Exec(p.taskset, args, append(os.Environ(), pinnedEnv+"=1"))
}

// command wraps a server's command line in taskset on the server CPUs
// (taskset execs it: the pid is the server's).
func (p *pinning) command(bin string, args []string) (string, []string) {
	if p == nil {
		return bin, args
	}
	return p.taskset, append([]string{"-c", p.server, bin}, args...)
}

// cpusAllowed is a process's CPU list as the kernel enforces it (pid 0:
// this process).
func cpusAllowed(pid int) string {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// userHZ is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on every
// Linux architecture's /proc ABI.
const userHZ = 100

// cpuSeconds is the CPU time (user plus system, all threads) a process
// has used so far, from /proc/PID/stat (10 ms resolution).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: fields
	// count from after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(ut+st) / userHZ, nil
}

// selfCPU is this process's CPU time so far (user plus system).
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
