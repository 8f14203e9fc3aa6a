package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
)

// Issue 14, defect 2: `enroll` killed 0.05–0.4 s in (a closed lid, SIGPIPE
// from `| head -1`) left most folders answering "is not a Hamlet replica"
// to every command, with the code used up. Killed at any point, a folder
// must either be enrolled, or not enrolled and enroll again with the same
// code; it then works, and the member has one device.
func TestEnrollKilledAnywhere(t *testing.T) {
	const rounds = 10
	for _, sc := range serverStores() {
		t.Run(sc.name, func(t *testing.T) {
			ts := sc.start(t)
			bin := sharedAgent(t)
			ctx := context.Background()
			// A slow network (rural 3G): the server's answer arrives 0.25 s
			// after it enrolled the device, so kills land before the
			// request, between the server's enrollment and its answer, and
			// after it, as on a volunteer's laptop.
			url := slowProxy(t, ts.URL, 250*time.Millisecond)
			seen := map[string]int{}
			for i := range rounds {
				dir := filepath.Join(t.TempDir(), "hamlet")
				m, err := ts.Admin.AddMember(ctx, ts.TeamA, "Tình nguyện viên", "member", "")
				require.NoError(t, err)
				code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
				require.NoError(t, err)

				cmd := exec.Command(bin, "enroll", "--server", url, "--code", code, "--data-dir", dir)
				cmd.Env = append(os.Environ(), "LC_ALL=", "LANG=", "HAMLET_AGENT_DIR=")
				require.NoError(t, cmd.Start())
				after := time.Duration(50+rand.IntN(351)) * time.Millisecond
				time.Sleep(after)
				_ = cmd.Process.Signal(syscall.SIGKILL)
				err = cmd.Wait()
				killed := err != nil

				codes, err := ts.Admin.ListCodes(ctx, server.DeviceFilter{MemberID: m.ID})
				require.NoError(t, err)
				used := codes[0].Used != nil
				st := proc(t, dir, "status", "--json", "--lang", "en")
				require.Equal(t, 0, st.code, "round %d (killed after %s, code used: %v): the folder must stay usable: %s", i, after, used, st.stderr)
				enrolled := procStatus(t, dir)["enrolled"] == true
				_, tokErr := os.Stat(filepath.Join(dir, "token"))
				switch {
				case !killed:
					seen["finished"]++
				case used:
					seen["killed after the server used the code"]++
				default:
					seen["killed before the server saw the code"]++
				}
				if !enrolled || tokErr != nil {
					r := proc(t, dir, "enroll", "--server", url, "--code", code, "--lang", "en")
					require.Equal(t, 0, r.code, "round %d (killed after %s, code used: %v): enroll again with the same code: %s", i, after, used, r.stderr)
				}
				procAddHH(t, dir, ts.HamletsA[0], "Hộ sau khi đăng ký")
				ok(t, dir, "sync", "--server", ts.URL)
				require.EqualValues(t, 0, procStatus(t, dir)["pending"])
				devs, err := ts.Admin.ListDevicesBy(ctx, server.DeviceFilter{MemberID: m.ID})
				require.NoError(t, err)
				require.Len(t, devs, 1, "round %d: one device for the member", i)
			}
			t.Logf("%d rounds: %v", rounds, seen)
		})
	}
}

// slowProxy forwards TCP to the server at base (http://host:port), holding
// each answer back by delay before its first byte, and returns its own
// http://host:port.
func slowProxy(t *testing.T, base string, delay time.Duration) string {
	t.Helper()
	target := strings.TrimPrefix(base, "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(s, c)
				s.Close()
			}()
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 32<<10)
				first := true
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if first {
							time.Sleep(delay)
							first = false
						}
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
