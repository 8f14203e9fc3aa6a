package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/testpar"
)

// The browser test runs the real hamlet-server binary, built once per test
// run from ./cmd/hamlet-server and started as a process the way an
// operator starts it, so it keeps working whatever the server's packages
// look like inside.

var serverBuild struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

func hamletServer(t *testing.T) string {
	t.Helper()
	serverBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "hamlet-server-bin-")
		if err != nil {
			serverBuild.err = err
			return
		}
		serverBuild.path = filepath.Join(dir, "hamlet-server")
		cmd := exec.Command("go", "build", "-o", serverBuild.path, "github.com/hamlet-vn/hamlet/cmd/hamlet-server")
		serverBuild.out, serverBuild.err = cmd.CombinedOutput()
	})
	require.NoError(t, serverBuild.err, "go build hamlet-server: %s", serverBuild.out)
	return serverBuild.path
}

func TestMain(m *testing.M) {
	code := testpar.Run(m) // the tests mostly wait on the pages' answers and the busy replica
	if serverBuild.path != "" {
		os.RemoveAll(filepath.Dir(serverBuild.path))
	}
	os.Exit(code)
}

// serverProc is a hamlet-server process on a loopback port, over a data
// directory that outlives it (stop, then start again).
type serverProc struct {
	t    *testing.T
	bin  string
	dir  string
	addr string
	cmd  *exec.Cmd
	done chan error
	mu   sync.Mutex
	out  bytes.Buffer
}

func newServerProc(t *testing.T) *serverProc {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	s := &serverProc{t: t, bin: hamletServer(t), dir: t.TempDir(), addr: addr}
	t.Cleanup(s.stop)
	return s
}

// URL is the server's address, as a volunteer is given it.
func (s *serverProc) URL() string { return "http://" + s.addr }

// start runs hamlet-server with args and waits until it answers; lines
// receives what it prints.
func (s *serverProc) start(args ...string) <-chan string {
	s.t.Helper()
	require.Nil(s.t, s.cmd, "the server is running")
	cmd := exec.Command(s.bin, append(args, "--data-dir", s.dir, "--addr", s.addr, "--lang", "en", "--log-level", "warn")...)
	cmd.Env = append(os.Environ(), "HAMLET_DB=", "HAMLET_LANG=")
	pr, pw, err := os.Pipe()
	require.NoError(s.t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(s.t, cmd.Start())
	pw.Close()
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	s.cmd, s.done = cmd, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return lines
			}
		}
		select {
		case err := <-s.done:
			s.t.Fatalf("hamlet-server %v exited: %v\n%s", args, err, s.output())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("hamlet-server did not answer in 60 s:\n%s", s.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var codeRE = regexp.MustCompile(`Enrollment code: ([A-Z0-9]{4}-[A-Z0-9]{4})`)

// demo starts `hamlet-server demo` (Cà Mau's units, a team for 32002-01
// and 32002-02, its leader) and returns the enrollment code it prints.
func (s *serverProc) demo() string {
	s.t.Helper()
	lines := s.start("demo", "--province", "none")
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				s.t.Fatalf("no enrollment code:\n%s", s.output())
			}
			if m := codeRE.FindStringSubmatch(l); m != nil {
				return m[1]
			}
		case <-timeout:
			s.t.Fatalf("no enrollment code in 30 s:\n%s", s.output())
		}
	}
}

// stop ends the server as an operator does (Ctrl+C) and waits for it.
func (s *serverProc) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// cli runs an operator's command on the stopped server's data and decodes
// its --json answer into v.
func (s *serverProc) cli(v any, args ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, append(args, "--data-dir", s.dir, "--json")...)
	cmd.Env = append(os.Environ(), "HAMLET_DB=", "HAMLET_LANG=")
	out, err := cmd.Output()
	require.NoError(s.t, err, "hamlet-server %v: %s", args, out)
	require.NoError(s.t, json.Unmarshal(out, v), "hamlet-server %v: %s", args, out)
}

func (s *serverProc) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// newMember adds a member to the server's only team and issues a code for
// them (the server must be stopped: these are an operator's commands on
// its data).
func (s *serverProc) newMember(name string) string {
	s.t.Helper()
	var teams []struct {
		ID string `json:"id"`
	}
	s.cli(&teams, "team", "list")
	require.Len(s.t, teams, 1)
	var m struct {
		ID string `json:"id"`
	}
	s.cli(&m, "member", "add", "--team", teams[0].ID, "--name", name)
	var c struct {
		Code string `json:"code"`
	}
	s.cli(&c, "code", "issue", "--member", m.ID)
	require.NotEmpty(s.t, c.Code)
	return c.Code
}

// coordinator adds a report coordinator's dashboard account for the
// province (the server must be stopped).
func (s *serverProc) coordinator(username, password string) {
	s.t.Helper()
	pw := filepath.Join(s.t.TempDir(), "password")
	require.NoError(s.t, os.WriteFile(pw, []byte(password+"\n"), 0o600))
	var u map[string]any
	s.cli(&u, "user", "add", "--username", username, "--name", "Điều phối phản ánh (thử)", "--role", "coordinator", "--unit", "96", "--password-file", pw)
}

// dispatch moves a field report to an agency as a coordinator does, through
// the server's JSON API (docs: /api/v1/openapi.yaml).
func (s *serverProc) dispatch(username, password, report, agency string) {
	s.t.Helper()
	post := func(path, token string, body any) []byte {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(http.MethodPost, s.URL()+path, bytes.NewReader(b))
		require.NoError(s.t, err)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(s.t, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		require.Equal(s.t, http.StatusOK, resp.StatusCode, "%s: %s", path, out)
		return out
	}
	var login struct {
		Token string `json:"token"`
	}
	require.NoError(s.t, json.Unmarshal(post("/api/v1/login", "", map[string]string{"username": username, "password": password}), &login))
	post("/api/v1/reports/"+report+"/transition", login.Token, map[string]string{"to": "dispatched", "agency": agency})
}
