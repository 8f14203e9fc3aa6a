package main

import (
	"bytes"
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
	return holdingProxy(t, base, func(_ []byte, answer int) time.Duration {
		if answer == 1 {
			return delay
		}
		return 0
	})
}

// slowProxy forwards TCP to the server at base (http://host:port), holding
// the answer to an enrollment (POST /v1/enroll) back by delay before its
// first byte, and returns its own http://host:port. Other requests (a
// sync) pass at once.
func slowProxy(t *testing.T, base string, delay time.Duration) string {
	t.Helper()
	return holdingProxy(t, base, func(request []byte, answer int) time.Duration {
		if answer == 0 && bytes.HasPrefix(request, []byte("POST /v1/enroll")) {
			return delay
		}
		return 0
	})
}

// holdingProxy forwards TCP to the server at base (http://host:port),
// holding each piece of the server's answers back by what hold says for
// it: request is the first piece the client sent on the connection (read
// before it reaches the server, so before any answer), answer the piece's
// place among the server's. It returns its own http://host:port.
func holdingProxy(t *testing.T, base string, hold func(request []byte, answer int) time.Duration) string {
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
			first := make(chan []byte, 1)
			wg.Add(2)
			go func() {
				defer wg.Done()
				defer s.Close()
				buf := make([]byte, 32<<10)
				n, err := c.Read(buf)
				first <- bytes.Clone(buf[:n])
				if _, werr := s.Write(buf[:n]); werr != nil || err != nil {
					return
				}
				_, _ = io.Copy(s, c)
			}()
			go func() {
				defer wg.Done()
				defer c.Close()
				request := <-first
				buf := make([]byte, 32<<10)
				for answer := 0; ; answer++ {
					n, err := s.Read(buf)
					if n > 0 {
						time.Sleep(hold(request, answer))
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
