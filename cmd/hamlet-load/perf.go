package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// startPerf attaches perf record to the server process pid, so a profile
// covers the phase being measured and nothing before it; the returned func
// stops it and waits for its file. With out empty it does nothing.
func startPerf(ctx context.Context, out string, pid int) (stop func() error, err error) {
	if out == "" {
		return func() error { return nil }, nil
	}
	if _, err := exec.LookPath("perf"); err != nil {
		return nil, errors.New("--perf needs perf on the PATH (apt-get install linux-perf)")
	}
	cmd := exec.CommandContext(ctx, "perf", "record", "-g", "-q", "-o", out, "-p", strconv.Itoa(pid))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start perf: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // perf attaches before the first push
	return func() error {
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 130 && exit.ExitCode() != -1 {
				return fmt.Errorf("perf record: %w", err)
			}
		}
		fmt.Printf("perf profile of the sync phase written to %s\n", out)
		return nil
	}, nil
}
