package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// from is an HTTP client whose connections come from the loopback address
// ip (all of 127.0.0.0/8 reaches the test server on Linux): a client at
// another source address.
func from(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

// fromAPI is from(ip) with every /api/v1 answer checked against the
// OpenAPI document.
func fromAPI(t *testing.T, ip string) *http.Client {
	c := from(ip)
	c.Transport = apitest.Transport(t, c.Transport)
	return c
}

func postJSON(t *testing.T, c *http.Client, u string, body any) (int, http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := c.Post(u, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, rb
}

func retryAfter(t *testing.T, h http.Header) time.Duration {
	t.Helper()
	s, err := strconv.Atoi(h.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", h.Get("Retry-After"))
	return time.Duration(s) * time.Second
}

// Wrong enrollment codes from many addresses do not block enrollment for
// everyone: the limit is per address, and an address that did not fail is
// never told it did.
func TestEnrollmentLimitIsPerAddress(t *testing.T) {
	clk := newFakeClock()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.Now; c.EnrollFailures = 2 }))
	enroll := func(ip, code string) (int, http.Header, server.ErrorBody) {
		st, h, b := postJSON(t, from(ip), ts.URL+"/v1/enroll", syncproto.EnrollRequest{Code: code, ReplicaID: uuid.NewString(), Label: "x"})
		var eb server.ErrorBody
		if st != 200 {
			require.NoError(t, json.Unmarshal(b, &eb), string(b))
		}
		return st, h, eb
	}
	for i := 2; i < 32; i++ {
		ip := "127.0.0." + strconv.Itoa(i)
		for range 2 {
			st, _, eb := enroll(ip, "ZZZZ-ZZZZ")
			require.Equal(t, http.StatusBadRequest, st, "%s: a wrong code is wrong until this address has failed its share", ip)
			require.Equal(t, syncproto.CodeCodeInvalid, eb.Error.Code)
		}
	}
	st, _, eb := enroll("127.0.0.100", ts.EnrollCode(t, ts.TeamA))
	require.Equal(t, http.StatusOK, st, "an address that never failed enrolls: %+v", eb)

	// An address that failed waits, and is told how long; then it may try.
	good := ts.EnrollCode(t, ts.TeamA)
	st, h, eb := enroll("127.0.0.2", good)
	require.Equal(t, http.StatusTooManyRequests, st)
	require.Equal(t, syncproto.CodeTooManyAttempts, eb.Error.Code)
	wait := retryAfter(t, h)
	require.Positive(t, wait)
	clk.Advance(wait)
	st, _, eb = enroll("127.0.0.2", good)
	require.Equal(t, http.StatusOK, st, "%+v", eb)
}

// Wrong passwords from one address do not lock the real user out: sign-in
// is throttled per account and address, with delays that grow, and the
// user signs in from their own address at once.
func TestSignInThrottleIsPerAccountAndAddress(t *testing.T) {
	clk := newFakeClock()
	clk.ns.Store(fixedNow.UnixNano())
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.Now }))
	addUser(t, ts.Admin, "dieuphoi", analytics.RoleCoordinator, servertest.CommuneA)
	addUser(t, ts.Admin, "tinh", analytics.RoleProvincial, schema.ProvinceCodeCaMau)
	login := ts.URL + "/api/v1/login"
	attacker := fromAPI(t, "127.0.0.2")
	wrong := map[string]string{"username": "dieuphoi", "password": "sai-mat-khau"}

	// Ten wrong passwords in a row from the attacker's address...
	for range 10 {
		st, _, b := postJSON(t, attacker, login, wrong)
		require.Contains(t, []int{http.StatusUnauthorized, http.StatusTooManyRequests}, st, string(b))
	}
	// ...and the real user, at their own address, signs in at once.
	st, _, b := postJSON(t, fromAPI(t, "127.0.0.1"), login, map[string]string{"username": "dieuphoi", "password": testPassword})
	require.Equal(t, http.StatusOK, st, string(b))

	// The attacker guesses on; past a few failures each try waits longer than
	// the last, up to a cap, and a try during the wait is refused unseen.
	var waits []time.Duration
	for range 20 {
		st, h, b := postJSON(t, attacker, login, wrong)
		if st == http.StatusTooManyRequests {
			e := apiError(t, b)
			require.Equal(t, "too_many_attempts", string(e.Code))
			require.Contains(t, e.Hint, "Đăng nhập sai quá nhiều lần")
			w := retryAfter(t, h)
			waits = append(waits, w)
			clk.Advance(w)
			continue
		}
		require.Equal(t, http.StatusUnauthorized, st, string(b))
	}
	require.GreaterOrEqual(t, len(waits), 5, "the attacker was slowed down")
	for i := 1; i < len(waits); i++ {
		require.GreaterOrEqual(t, waits[i], waits[i-1], "delays never shrink: %v", waits)
	}
	require.Greater(t, waits[len(waits)-1], 4*waits[0], "delays grow: %v", waits)
	require.LessOrEqual(t, waits[len(waits)-1], 15*time.Minute+time.Second, "delays are capped: %v", waits)

	// Still the real user signs in.
	st, _, b = postJSON(t, fromAPI(t, "127.0.0.1"), login, map[string]string{"username": "dieuphoi", "password": testPassword})
	require.Equal(t, http.StatusOK, st, string(b))
	// So does the attacker's neighbour on another account of the same
	// address: an address alone is slowed only after many more failures.
	st, _, b = postJSON(t, attacker, login, map[string]string{"username": "tinh", "password": testPassword})
	require.Equal(t, http.StatusOK, st, string(b))

	// The dashboard's sign-in form shares the throttle.
	jar, _ := cookiejar.New(nil)
	c := from("127.0.0.2")
	c.Jar = jar
	resp, err := c.Get(ts.URL + "/login")
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	require.NotNil(t, m)
	status := func() int {
		resp, err := c.PostForm(ts.URL+"/login", url.Values{"csrf": {string(m[1])}, "username": {"dieuphoi"}, "password": {"sai-mat-khau"}})
		require.NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			require.Positive(t, retryAfter(t, resp.Header))
		}
		return resp.StatusCode
	}
	if status() != http.StatusTooManyRequests {
		require.Equal(t, http.StatusTooManyRequests, status(), "a wrong password after so many waits at once")
	}
}
