package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// A store with no free connection (ErrBusy, from any query path: the
// dashboard's and the API's as well as sync) is "busy, retry", never an
// internal error.
func TestBusyStoreIsBusyOverHTTP(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteHTTPError(rec, fmt.Errorf("list units: %w", ErrBusy))
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "5", rec.Header().Get("Retry-After"))
	var eb ErrorBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &eb))
	require.Equal(t, syncproto.CodeBusy, eb.Error.Code)
	require.NotEmpty(t, eb.Error.Hint)
}
