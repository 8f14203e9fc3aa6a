package main

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncBesideTheOpenAppEnds: a volunteer runs hamlet-agent sync while
// the app is open on the same folder, as a trainer's instructions say to.
// Both are this device: the command's session replaces the app's live
// one (the server keeps one session per device), and the app, told so,
// connected again within a second and replaced the command's in turn: a
// command whose session outlasted that second (a slow link, a loaded
// laptop) failed saying a newer sync session had started. Here the
// command's link holds the server's Welcome back for 2.5 s, so its
// session outlasts the app's wait every time; the command must end well,
// and what it sent be on the server.
func TestSyncBesideTheOpenAppEnds(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	// The first sync connection after the test sets commandNext is the
	// command's: the app is connected already, idle. Another that begins
	// while the command runs (running) is the app's, cutting in.
	var commandNext, running atomic.Bool
	var cutIns atomic.Int32
	var mu sync.Mutex
	commands := map[string]bool{} // Sec-WebSocket-Key of the commands' connections
	key := regexp.MustCompile(`(?i)Sec-WebSocket-Key: *(\S+)`)
	url := holdingProxy(t, ts.URL, func(request []byte, answer int) time.Duration {
		m := key.FindSubmatch(request)
		if m == nil {
			return 0 // not a sync session: the roster, photos
		}
		mu.Lock()
		defer mu.Unlock()
		switch {
		case answer == 0 && commandNext.CompareAndSwap(true, false):
			commands[string(m[1])] = true
		case answer == 0 && running.Load():
			cutIns.Add(1)
		case answer == 1 && commands[string(m[1])]:
			return 2500 * time.Millisecond
		}
		return 0
	})
	l := enrolledAt(t, ts, url, ts.TeamA, "Laptop")
	l.must("sync")
	app := startApp(t, l)
	var ids []string
	for i, head := range []string{"Hộ Một", "Hộ Hai"} {
		// The app online, idle: after the first command it connects again
		// within a look at the lock (a quarter second), and a command
		// started meanwhile may meet it connecting, the moment the
		// command's retry is for; here the app cutting in is the defect.
		app.statusSays(`"class":"ok"`, "the app's sync is online")
		ids = append(ids, l.mustAdd(ts.HamletsA[0], head))
		commandNext.Store(true)
		running.Store(true)
		// Meanwhile the app's page says it waits for the command.
		said := make(chan bool, 1)
		go func() {
			for running.Load() {
				if _, st := app.get("/sync/status"); strings.Contains(st, "Syncing from a command in another window") ||
					strings.Contains(st, "Đang đồng bộ bằng lệnh ở cửa sổ khác") {
					said <- true
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			said <- false
		}()
		l.must("sync")
		running.Store(false)
		require.Zero(t, cutIns.Load(), "command %d: the app opened a session while the sync command ran: it replaces the command's", i+1)
		require.True(t, <-said, "command %d: the app's page never said it waits for the command", i+1)
	}
	requireOnServer(t, ts, ids)
	app.stop()

	// Two commands at once (two terminal windows): the second waits for
	// the first, and neither fails.
	ids = append(ids, l.mustAdd(ts.HamletsA[0], "Hộ Ba"))
	commandNext.Store(true)
	var wg sync.WaitGroup
	results := make([]result, 2)
	errs := make([]error, 2)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = l.exec("sync") })
	}
	wg.Wait()
	for i, r := range results {
		require.NoError(t, errs[i])
		require.Equal(t, 0, r.code, "sync command %d of 2:\n%s%s", i+1, r.stdout, r.stderr)
	}
	requireOnServer(t, ts, ids)
}
