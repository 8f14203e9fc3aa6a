package api_test

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

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// fakeCore is a server whose read model cannot be had (err): what the
// API answers then does not depend on any store.
type fakeCore struct{ err error }

func (f fakeCore) Track(h http.HandlerFunc) http.HandlerFunc { return h }
func (f fakeCore) Now() time.Time                            { return fixedNow }
func (f fakeCore) Analytics() (*analytics.Index, error)      { return nil, f.err }
func (f fakeCore) SignIn(context.Context, string, string, string) (server.SignedIn, error) {
	return server.SignedIn{}, f.err
}
func (f fakeCore) SessionUser(context.Context, string) (server.User, error) {
	return server.User{}, f.err
}
func (f fakeCore) SignOut(context.Context, string) error { return f.err }
func (f fakeCore) Transition(context.Context, syncproto.RowID, server.TransitionRequest) (server.TransitionResult, error) {
	return server.TransitionResult{}, f.err
}

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
			api.New(fakeCore{err: tc.err}, servertest.Logger()).Mount(mux)
			hs := httptest.NewServer(mux)
			defer hs.Close()
			resp, err := http.Get(hs.URL + "/api/v1/coverage")
			require.NoError(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tc.status, resp.StatusCode, string(b))
			require.Equal(t, tc.retryAfter, resp.Header.Get("Retry-After"))
			require.Equal(t, tc.code, string(apiError(t, b).Code))
			require.NotContains(t, string(b), "sda1")
		})
	}
}
