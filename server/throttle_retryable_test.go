package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// too_many_attempts is retryable in §9's sense: the very same enrollment
// request, refused with 429 while the address waits, succeeds unchanged
// once Retry-After has passed (the code was not checked, nor used up). The
// conformance vectors and PROTOCOL.md's table, which other clients follow,
// must say so.
func TestTooManyAttemptsIsRetryableAsDocumented(t *testing.T) {
	clk := newFakeClock()
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.Now; c.EnrollFailures = 2 }))
	ip := "127.0.0.7"
	for range 2 {
		st, _, _ := postJSON(t, from(ip), ts.URL+"/v1/enroll", syncproto.EnrollRequest{Code: "ZZZZ-ZZZZ", ReplicaID: uuid.NewString(), Label: "x"})
		require.Equal(t, http.StatusBadRequest, st)
	}
	req := syncproto.EnrollRequest{Code: ts.EnrollCode(t, ts.TeamA), ReplicaID: uuid.NewString(), Label: "may-1"}
	st, h, b := postJSON(t, from(ip), ts.URL+"/v1/enroll", req)
	require.Equal(t, http.StatusTooManyRequests, st, string(b))
	var eb server.ErrorBody
	require.NoError(t, json.Unmarshal(b, &eb))
	require.Equal(t, syncproto.CodeTooManyAttempts, eb.Error.Code)
	clk.Advance(retryAfter(t, h))
	st, _, b = postJSON(t, from(ip), ts.URL+"/v1/enroll", req)
	require.Equal(t, http.StatusOK, st, "the same request, after Retry-After: %s", b)

	raw, err := os.ReadFile("../docs/protocol-vectors/error.json")
	require.NoError(t, err)
	var vf struct {
		Vectors []struct {
			Name      string `json:"name"`
			Retryable bool   `json:"retryable"`
		} `json:"vectors"`
	}
	require.NoError(t, json.Unmarshal(raw, &vf))
	found := false
	for _, v := range vf.Vectors {
		if v.Name == string(syncproto.CodeTooManyAttempts) {
			found = true
			require.True(t, v.Retryable, "docs/protocol-vectors/error.json: too_many_attempts is retryable (after Retry-After)")
		}
	}
	require.True(t, found)

	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	require.NoError(t, err)
	var row string
	for _, l := range strings.Split(string(doc), "\n") {
		if strings.HasPrefix(l, "| `too_many_attempts` |") {
			row = l
		}
	}
	cells := strings.Split(row, "|")
	require.Len(t, cells, 7, "PROTOCOL.md §9 row: %s", row)
	require.Contains(t, cells[4], "**yes**", "PROTOCOL.md §9: too_many_attempts is retryable: %s", row)
}
