package api_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// An endpoint whose data the server cannot give answers what the one
// error mapping (server.HTTPError) says: a busy store is "busy, retry"
// with Retry-After, an internal error says no more than that.
func TestEndpointErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter string
	}{
		{"busy store", fmt.Errorf("load units: %w", server.ErrBusy), http.StatusTooManyRequests, "busy", "5"},
		{"internal error", errors.New("disk /dev/sda1 on fire"), http.StatusInternalServerError, "internal", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			api.New(apitest.FailingCore{Err: tc.err, At: fixedNow}, servertest.Logger()).Mount(mux)
			hs := httptest.NewServer(mux)
			defer hs.Close()
			resp, err := http.Get(hs.URL + "/api/v1/coverage")
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode, string(b))
			require.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			require.Equal(t, tc.code, string(apitest.ErrorOf(t, b).Code))
			require.NotContains(t, string(b), "sda1")
		})
	}
}
