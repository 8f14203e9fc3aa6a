package server_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// Wrong passwords sent at once from one address are throttled as if sent
// one after another: the throttle admits loginFailures (5) guesses of an
// account from an address before it makes them wait, however they arrive.
func TestSignInThrottleHoldsAgainstParallelGuesses(t *testing.T) {
	ts := servertest.Start(t)
	addUser(t, ts.Admin, "dieuphoi", analytics.RoleCoordinator, servertest.CommuneA)
	login := ts.URL + "/api/v1/login"
	attacker := from("127.0.0.2")
	const n = 40
	var (
		mu        sync.Mutex
		checked   int // answers after a password check: 401
		throttled int
		wg        sync.WaitGroup
		start     = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st, _, b := postJSON(t, attacker, login, map[string]string{"username": "dieuphoi", "password": "sai-mat-khau-" + string(rune('a'+i%26))})
			mu.Lock()
			defer mu.Unlock()
			switch st {
			case http.StatusUnauthorized:
				checked++
			case http.StatusTooManyRequests:
				throttled++
			default:
				t.Errorf("status %d: %s", st, b)
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("%d guesses checked, %d throttled", checked, throttled)
	require.LessOrEqual(t, checked, 5, "at most 5 guesses of one account from one address are checked before the throttle bites")
}
