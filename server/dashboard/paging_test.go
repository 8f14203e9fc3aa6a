package dashboard_test

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Paging past the end of the report list shows its last page: the one
// the "next" link would have reached, never an empty page that says it
// shows reports N+1–N.
func TestReportsPagePastTheEndShowsTheLastPage(t *testing.T) {
	d := startDashboard(t)
	c := loginHTTP(t, d.URL, "dieu-phoi")
	get := func(q string) string {
		resp, err := c.Get(d.URL + "/reports?lang=en" + q)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	showing := regexp.MustCompile(`Showing ([\d,]+)–([\d,]+) of ([\d,]+)`)
	num := func(s string) int {
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		require.NoError(t, err)
		return n
	}
	m := showing.FindStringSubmatch(get(""))
	require.NotNil(t, m, "the first page says what it shows")
	total := num(m[3])
	require.Positive(t, total)

	for _, off := range []int{total, total + 1, total + 1000} {
		page := get("&offset=" + strconv.Itoa(off))
		m := showing.FindStringSubmatch(page)
		require.NotNil(t, m, "offset %d: the page says what it shows", off)
		from, to := num(m[1]), num(m[2])
		require.LessOrEqual(t, from, to, "offset %d of %d: %q", off, total, m[0])
		require.Equal(t, total, to, "offset %d: the last page", off)
		require.NotContains(t, page, "No field reports.", "offset %d of %d", off, total)
	}
}
