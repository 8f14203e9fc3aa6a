package servertest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

var householdFields = []struct {
	name string
	v    func(i int) syncproto.Value
}{
	{"head_name", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("Nguyễn Văn %d", i)) }},
	{"address", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("Số %d, khóm 1", i)) }},
	{"phone", func(i int) syncproto.Value { return syncproto.String(fmt.Sprintf("09%08d", i)) }},
	{"members_count", func(i int) syncproto.Value { return syncproto.Int(int64(1 + i%8)) }},
	{"has_smartphone", func(i int) syncproto.Value { return syncproto.Bool(i%2 == 0) }},
	{"vneid_installed", func(i int) syncproto.Value { return syncproto.Bool(i%3 == 0) }},
	{"vneid_level2", func(i int) syncproto.Value { return syncproto.Bool(i%4 == 0) }},
	{"uses_cashless", func(i int) syncproto.Value { return syncproto.Bool(i%5 == 0) }},
	{"registered_on", func(i int) syncproto.Value { return syncproto.String("2025-07-01") }},
}

// HouseholdChanges makes n field changes by w in scope: new households of
// ten fields each, the push benchmarks' load on every store.
func HouseholdChanges(w *Writer, scope string, n int) []syncproto.Change {
	out := make([]syncproto.Change, 0, n)
	for i := 0; len(out) < n; i++ {
		row := uuid.New()
		out = append(out, w.Write("households", row, "hamlet_code", syncproto.String(scope), scope))
		for _, f := range householdFields {
			if len(out) == n {
				break
			}
			out = append(out, w.Write("households", row, f.name, f.v(i), scope))
		}
	}
	return out
}

// Metric reads one unlabelled value from the server's /metrics (-1: absent).
func Metric(tb testing.TB, base, name string) float64 {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(tb, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(tb, err)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, name+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, name+" "), 64)
			require.NoError(tb, err)
			return v
		}
	}
	return -1
}
