package app_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// Helper 151: 7cd9c20 dropped the dots of "12.5", so an address with a
// kilometre in it was no longer found; these searches must keep working.
func TestSearchOldQueriesStillWork(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	status, body, _ := h.post("/households/new", url.Values{"hamlet_code": {hamlet1}, "head_name": {"Trần Văn Bình"},
		"address": {"Km 12.5 Quốc lộ 1A, 12/3"}, "phone": {"0912-345-678"}, "active": {"on"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	for _, q := range []string{"12/3", hamlet1, "345 678", "km 12.5", "12.5"} {
		_, body := h.get("/households?q=" + urlq(q))
		require.Equal(t, []string{"Trần Văn Bình"}, heads(body), "q=%q", q)
	}
}
