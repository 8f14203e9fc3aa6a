package agent_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

var (
	fiBinOnce sync.Once
	fiBin     string
	fiBinDir  string // removed by TestMain: the binary is 28 MB
)

type fiRes struct {
	code           int
	stdout, stderr string
}

// fiLaptop builds hamlet-agent once, starts a real server and enrolls a
// fresh data directory in team B: returns the binary, the directory and
// the team's first hamlet code.
func fiLaptop(t *testing.T) (bin, dir, hamlet string) {
	t.Helper()
	fiBinOnce.Do(func() {
		d, err := os.MkdirTemp("", "fibin")
		require.NoError(t, err)
		fiBinDir = d
		fiBin = buildBin(t, d, "hamlet-agent", "github.com/hamlet-vn/hamlet/cmd/hamlet-agent")
	})
	ts := servertest.Start(t)
	dir = filepath.Join(t.TempDir(), "laptop")
	r := fiRun(t, fiBin, "enroll", "--data-dir", dir, "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamB), "--label", "field")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	return fiBin, dir, ts.HamletsB[0]
}

// fiRun runs the binary in Vietnamese (the volunteers' language).
func fiRun(t *testing.T, bin string, args ...string) fiRes {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HAMLET_LANG=vi")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return fiRes{code, out.String(), errb.String()}
}

func fiFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}
