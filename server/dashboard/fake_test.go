package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/dashboard"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// noDirectory is the records of a server that has none.
type noDirectory struct{}

func (noDirectory) Units(context.Context, schema.Level, string) ([]schema.AdminUnit, error) {
	return nil, nil
}
func (noDirectory) Teams(context.Context) ([]server.Team, error)      { return nil, nil }
func (noDirectory) Users(context.Context) ([]server.User, error)      { return nil, nil }
func (noDirectory) SyncStatus(context.Context) (server.Status, error) { return server.Status{}, nil }
func (noDirectory) RecentConflicts(context.Context, func(string) bool, int) ([]server.ConflictEntry, int, error) {
	return nil, 0, nil
}

// A page whose data the server cannot give gets the status and hints of
// the one error mapping (server.HTTPError), with a page's advice for a
// busy store (reload) and for an internal error (tell IT staff), whose
// text it never shows.
func TestPageErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
		hint       string
	}{
		{"busy store", fmt.Errorf("load units: %w", server.ErrBusy), http.StatusServiceUnavailable, "6", "Máy chủ đang bận. Hãy tải lại trang"},
		{"internal error", errors.New("disk /dev/sda1 on fire"), http.StatusInternalServerError, "", "nếu vẫn lỗi, báo cán bộ CNTT"},
		{"an answer of its own", server.BadParam("unit", "unknown admin unit"), http.StatusBadRequest, "", "Tham số &#34;unit&#34; không hợp lệ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			dashboard.New(apitest.FailingCore{Err: tc.err, At: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}, noDirectory{}, servertest.Logger()).Mount(mux)
			hs := httptest.NewServer(mux)
			defer hs.Close()
			resp, err := http.Get(hs.URL + "/coverage")
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode, string(b))
			require.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
			require.Contains(t, string(b), tc.hint)
			require.NotContains(t, string(b), "sda1")
		})
	}
}
