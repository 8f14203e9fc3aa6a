package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serveFor runs the command as cli does, but ends it after d: a start that
// should have been refused does not hang the test.
func serveFor(t *testing.T, d time.Duration, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, errOut.String()
}

// A keep-alive or skew setting that is no duration Hamlet can use is
// refused at start, saying what a valid value looks like: --ping-interval 0
// (or a negative one) silently became 30 s, and HAMLET_PING_INTERVAL=1ns
// was taken (a ping every nanosecond to every laptop).
func TestServeRefusesUnusableDurations(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env, val   string
		args       []string
		flag, want string
		example    string // the first example the refusal gives ("" for 30s)
	}{
		{name: "ping 0", args: []string{"--ping-interval", "0"}, flag: "--ping-interval"},
		{name: "ping negative", args: []string{"--ping-interval", "-5s"}, flag: "--ping-interval"},
		{name: "ping 1ns by env", env: "HAMLET_PING_INTERVAL", val: "1ns", flag: "HAMLET_PING_INTERVAL"},
		{name: "ping 100ms", args: []string{"--ping-interval", "100ms"}, flag: "--ping-interval"},
		{name: "pong 0", args: []string{"--pong-wait", "0s"}, flag: "--pong-wait"},
		{name: "skew 0", args: []string{"--max-skew", "0"}, flag: "--max-skew", example: "500ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.example == "" {
				tc.example = "30s"
			}
			if tc.env != "" {
				t.Setenv(tc.env, tc.val)
			}
			for _, cmd := range []string{"serve", "demo"} {
				dir := t.TempDir()
				args := append([]string{cmd, "--addr", "127.0.0.1:0", "--data-dir", dir}, tc.args...)
				code, errOut := serveFor(t, 5*time.Second, args...)
				require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
				require.Contains(t, errOut, tc.flag)
				require.Contains(t, errOut, "ví dụ "+tc.example)
				require.NoFileExists(t, filepath.Join(dir, "hamlet.db"), "nothing started")
				code, errOut = serveFor(t, 5*time.Second, append(args, "--lang", "en")...)
				require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
				require.Contains(t, errOut, "such as "+tc.example)
			}
		})
	}
}

// A data directory that is a file (or under one) is told in the
// operator's language, with what to do, not as the system's "not a
// directory".
func TestServeDataDirIsAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "du-lieu")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	for _, dir := range []string{file, filepath.Join(file, "con")} {
		for _, cmd := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"user", "list"}} {
			code, errOut := serveFor(t, 5*time.Second, append(cmd, "--data-dir", dir)...)
			require.NotEqual(t, 0, code)
			require.NotContains(t, errOut, "not a directory", "%v --data-dir %s", cmd, dir)
			require.Contains(t, errOut, "là một tệp, không phải thư mục")
			require.Contains(t, errOut, "--data-dir")
			code, errOut = serveFor(t, 5*time.Second, append(cmd, "--data-dir", dir, "--lang", "en")...)
			require.NotEqual(t, 0, code)
			require.Contains(t, errOut, "is a file, not a directory")
			require.Contains(t, errOut, "--data-dir")
		}
	}
}
