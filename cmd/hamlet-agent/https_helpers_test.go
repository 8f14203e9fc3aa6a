package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

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
