package main

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lagProxy forwards TCP to the server at base (http://host:port) and holds
// the server's second answer on each connection back by delay: on a sync's
// WebSocket the first is the upgrade, the second the Welcome. The agent
// sends its Hello at once and gets the Welcome late, so it measures the
// server's clock delay/2 behind where it is, and stamps its writes so, as
// on a link much slower down than up (a loaded 3G cell). Every clock
// measurement may be off so, by up to half its round trip. It returns its
// own http://host:port.
func lagProxy(t *testing.T, base string, delay time.Duration) string {
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
				defer s.Close()
				_, _ = io.Copy(s, c)
			}()
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 32<<10)
				for answer := 0; ; answer++ {
					n, err := s.Read(buf)
					if n > 0 {
						if answer == 1 {
							time.Sleep(delay)
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
