package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// syncBuffer is an io.Writer the test reads while run writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hamlet-agent with no command (a double-click on hamlet-agent.exe) starts
// the app on loopback; a second start opens the running one; the
// commands' help is still there; the app stops with its context (Ctrl+C,
// the window closed) and leaves nothing behind.
func TestNoCommandStartsTheApp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HAMLET_AGENT_DIR", dir)
	t.Setenv("HAMLET_NO_BROWSER", "1")
	t.Setenv("HAMLET_LANG", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LANG", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, nil, &out, &errOut) }()

	info := filepath.Join(dir, appFile)
	var ai appInfo
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(info)
		return err == nil && json.Unmarshal(b, &ai) == nil && ai.URL != ""
	}, 60*time.Second, 20*time.Millisecond, "the app wrote no %s; stdout %s stderr %s", appFile, out.String(), errOut.String())
	require.True(t, strings.HasPrefix(ai.URL, "http://127.0.0.1:"), ai.URL)
	fi, err := os.Stat(info)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the launch secret is this user's only")
	require.Contains(t, out.String(), "Hamlet đang chạy trên máy này")
	require.Contains(t, out.String(), "hamlet-agent help", "the commands stay one step away")

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(ai.URL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	cookies := resp.Cookies()
	require.Len(t, cookies, 1)
	req, _ := http.NewRequest("GET", strings.Split(ai.URL, "?")[0], nil)
	req.AddCookie(cookies[0])
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/enroll", resp.Header.Get("Location"), "not enrolled: the first-run page")

	// A second double-click finds the app running and does not start another.
	var out2, err2 syncBuffer
	code := run(context.Background(), []string{"app"}, &out2, &err2)
	require.Equal(t, exitOK, code, err2.String())
	require.Contains(t, out2.String(), "Hamlet đang chạy sẵn")
	require.Contains(t, out2.String(), ai.URL)

	// The CLI beside it: help, and a command on the same replica.
	var hout, herr syncBuffer
	require.Equal(t, exitOK, run(context.Background(), []string{"help"}, &hout, &herr))
	require.Contains(t, hout.String(), "app ")
	require.Contains(t, hout.String(), "household")
	require.Equal(t, exitOK, run(context.Background(), []string{"status"}, &hout, &herr), herr.String())

	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitOK, code, errOut.String())
	case <-time.After(20 * time.Second):
		t.Fatal("the app did not stop with its context")
	}
	_, err = os.Stat(info)
	require.ErrorIs(t, err, os.ErrNotExist, "the running app's file is gone with it")
}

// The app listens on this laptop only, whatever --addr says.
func TestAppRefusesAnOpenAddress(t *testing.T) {
	t.Setenv("HAMLET_NO_BROWSER", "1")
	dir := t.TempDir()
	for _, addr := range []string{"0.0.0.0:0", ":8080", "192.168.1.10:0"} {
		r := cli(t, dir, "app", "--addr", addr)
		require.Equal(t, exitUsage, r.code, addr)
		require.Contains(t, r.stderr, "--addr phải là địa chỉ trên chính máy này")
	}
}
