package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// trustFile writes srv's certificate to a file for SSL_CERT_FILE: the
// agent binary run with it trusts srv as it trusts the system's
// authorities.
func trustFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	return ca
}

// trusting makes a command of the agent binary that trusts the
// certificates in ca ("": none at all), on the data folder dir.
func trusting(ctx context.Context, bin, ca, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, append(args, "--data-dir", dir)...)
	if ca == "" {
		ca = "/nonexistent"
	}
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca)
	return cmd
}

// runTrusting runs the agent binary trusting ca, on dir.
func runTrusting(t *testing.T, bin, ca, dir string, args ...string) result {
	t.Helper()
	cmd := trusting(context.Background(), bin, ca, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code, out.String(), errb.String()}
}

// storedServer is the server address dir's enrollment holds.
func storedServer(t *testing.T, dir string) string {
	t.Helper()
	e := &env{dataDir: dir}
	r, err := e.open(context.Background())
	require.NoError(t, err)
	defer r.Close()
	en, err := r.Enrollment(context.Background())
	require.NoError(t, err)
	return en.Server
}

// watchUntil runs cmd, a sync --watch made with a context that cancel
// ends, until its output holds every one of want, then stops it. It
// returns what the watch printed and whether it ended by itself first (or
// within a second of printing them). The test waits for what the watch
// says, not a fixed time: on a loaded machine a process's start and a TLS
// handshake alone can take seconds, and a watch stopped at 4 seconds had
// not said it yet. A minute without it ends the wait; the caller's checks
// then fail with the output.
func watchUntil(t *testing.T, cmd *exec.Cmd, cancel context.CancelFunc, want ...string) (out string, ended bool) {
	t.Helper()
	var buf syncBuffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() { cancel(); <-done }()
	holds := func() bool {
		got := buf.String()
		for _, w := range want {
			if !strings.Contains(got, w) {
				return false
			}
		}
		return true
	}
	bound := time.After(time.Minute)
	for !holds() {
		select {
		case <-done:
			return buf.String(), true
		case <-bound:
			return buf.String(), false
		case <-time.After(50 * time.Millisecond):
		}
	}
	select {
	case <-done:
		ended = true
	case <-time.After(time.Second):
	}
	return buf.String(), ended
}
