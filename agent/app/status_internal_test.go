package app

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// get is a request as the app's own browser sends it.
func (a *App) testGet(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Host = strings.TrimPrefix(a.BaseURL(), "http://")
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("Cookie", a.cookieName()+"="+a.session)
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, req)
	return w
}

// What the sync is doing shows on the sync page and in /sync/status, as
// app.js reads it: the progress of a long sync (a first clone), the
// server out of reach with what waits, a sync stopped for good (a revoked
// laptop) with the way out.
func TestSyncStatusShowsProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := agenttest.Open(t, filepath.Join(dir, "replica.db"))
	require.NoError(t, r.SetEnrollment(t.Context(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), Scope: []agent.Hamlet{{Code: "32002-01"}}}))
	_, err := r.AddHousehold(t.Context(), agent.Fields{"hamlet_code": "32002-01", "head_name": "Nguyễn Văn An"})
	require.NoError(t, err)
	a, err := New(Config{Replica: r, TokenPath: filepath.Join(dir, "token")})
	require.NoError(t, err)
	_, err = a.Listen("127.0.0.1:0")
	require.NoError(t, err)

	status := func() bar {
		w := a.testGet(t, "/sync/status")
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		var b bar
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &b))
		return b
	}

	a.sync.update(func(st *syncState) {
		st.Phase, st.Busy, st.Progress = "online", true, agent.Progress{Phase: "clone", Done: 1500, Total: 12000}
	})
	b := status()
	require.Equal(t, "busy", b.Class)
	require.True(t, b.Busy)
	require.Equal(t, 1500, b.Done)
	require.Equal(t, 12000, b.Total)
	require.Equal(t, "Đang tải dữ liệu của tổ về máy: 1.500/12.000 bản ghi", b.Progress)
	page := a.testGet(t, "/sync").Body.String()
	require.Contains(t, page, `<progress id="sync-progress" max="12000" value="1500">`)
	require.NotContains(t, page, `id="progress-wrap" hidden`)

	a.sync.update(func(st *syncState) {
		st.Busy, st.Progress = false, agent.Progress{}
		st.Phase, st.Err = "offline", &agent.ConnectError{URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}
	})
	b = status()
	require.Equal(t, "offline", b.Class)
	require.Equal(t, 4, b.Pending, "the household's four fields wait: hamlet, head, active, registration date")
	require.Contains(t, b.Text, "4 thay đổi chờ gửi")
	require.Contains(t, b.Error, "4G/Wi-Fi")
	require.Contains(t, a.testGet(t, "/sync").Body.String(), `id="progress-wrap" hidden`)

	a.sync.update(func(st *syncState) {
		st.Phase, st.Err = "stopped", &agent.ServerError{Code: syncproto.CodeTokenRevoked}
	})
	b = status()
	require.Equal(t, "stopped", b.Class)
	require.Contains(t, b.Error, "thu hồi")
	require.Contains(t, a.testGet(t, "/sync").Body.String(), `id="enroll-again" href="/enroll">`, "shown, not hidden")
}
