package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/agent/app"
)

const (
	hamlet1 = "32002-01"
	hamlet2 = "32002-02"
)

// harness is the app on a loopback port over a replica in a temporary
// folder, and an HTTP client holding the session the launch URL gives.
type harness struct {
	t    *testing.T
	a    *app.App
	r    *agent.Replica
	dir  string
	base string
	c    *http.Client
}

type harnessOpt func(*app.Config)

// newHarness starts the app. Unless enrolled is false, the replica is
// enrolled locally for a member of a team covering two hamlets, with a
// server that is not there (the sync stays offline).
func newHarness(t *testing.T, enrolled bool, opts ...harnessOpt) *harness {
	t.Helper()
	dir := t.TempDir()
	r := agenttest.Open(t, filepath.Join(dir, "replica.db"))
	if enrolled {
		require.NoError(t, r.SetEnrollment(context.Background(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(),
			TeamName: "Tổ CNSCĐ Khóm 1", Scope: []agent.Hamlet{{Code: hamlet1, Name: "Khóm 1"}, {Code: hamlet2, Name: "Khóm Tân Thành"}}}))
	}
	cfg := app.Config{Replica: r, TokenPath: filepath.Join(dir, "token"), Label: "máy thử", Sync: agent.SyncOptions{MinBackoff: time.Hour}}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(cfg)
	require.NoError(t, err)
	launch, err := a.Listen("127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	h := &harness{t: t, a: a, r: r, dir: dir, base: a.BaseURL()}
	jar, _ := cookiejar.New(nil)
	// The timeout bounds a hang only, and must outlast a page that waits
	// on a busy replica (busy_timeout, 10 s, counted by SQLite in sleeps
	// that a loaded machine stretches) then works on a photo: at 30 s a
	// starved run (one core, load ~23) timed out
	// TestABusyReportSaysToChooseThePhotosAgain's post, which passed in
	// 28-33 s the other times. A page answers as soon as it can, so a
	// longer bound costs nothing when all is well.
	h.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: time.Minute}
	resp, err := h.c.Get(launch)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the launch URL: a page that moves on")
	return h
}

// get fetches a page with the session; it returns the status and body.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := h.c.Get(h.base + path)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the token the app's forms carry.
func (h *harness) csrf() string {
	h.t.Helper()
	_, body := h.get("/sync")
	m := csrfRE.FindStringSubmatch(body)
	require.NotNil(h.t, m, "no CSRF token in the sync page")
	return m[1]
}

// post sends a form as the app's own page does: its CSRF token and its
// Origin. It returns the status, the body and where a redirect goes.
func (h *harness) post(path string, form url.Values) (int, string, string) {
	h.t.Helper()
	if form.Get("csrf") == "" {
		form.Set("csrf", h.csrf())
	}
	req, err := http.NewRequest(http.MethodPost, h.base+path, strings.NewReader(form.Encode()))
	require.NoError(h.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.base)
	resp, err := h.c.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	return resp.StatusCode, string(b), resp.Header.Get("Location")
}

// addHousehold adds a household through the form and returns its id.
func (h *harness) addHousehold(hamlet, head, phone string) string {
	h.t.Helper()
	status, body, loc := h.post("/households/new", url.Values{"hamlet_code": {hamlet}, "head_name": {head}, "phone": {phone}, "active": {"on"}})
	require.Equal(h.t, http.StatusSeeOther, status, body)
	m := regexp.MustCompile(`^/households/([0-9a-f-]{36})\?done=saved$`).FindStringSubmatch(loc)
	require.NotNil(h.t, m, loc)
	return m[1]
}
