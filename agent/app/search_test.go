package app_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// heads lists the household heads a list page shows, in its order.
func heads(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<th scope="row" data-label="[^"]*"><a href="/households/[0-9a-f-]{36}">([^<]+)</a>`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// Search ignores case and diacritics (nguyen finds Nguyễn, d finds Đ),
// finds a hamlet by its name, and lists in Vietnamese order; a household
// another process adds beside the app shows at once.
func TestSearchIgnoresDiacritics(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	for _, hh := range []struct{ hamlet, head string }{
		{hamlet1, "Nguyễn Văn An"}, {hamlet1, "Đỗ Thị Bình"}, {hamlet1, "Ngô Bảo Châu"}, {hamlet1, "Dương Chí Dũng"}, {hamlet2, "Trần Văn Tư"},
	} {
		h.addHousehold(hh.hamlet, hh.head, "")
	}
	tests := []struct {
		q    string
		want []string
	}{
		{"", []string{"Dương Chí Dũng", "Đỗ Thị Bình", "Ngô Bảo Châu", "Nguyễn Văn An", "Trần Văn Tư"}},
		{"nguyen", []string{"Nguyễn Văn An"}},
		{"NGUYỄN", []string{"Nguyễn Văn An"}},
		{"d", []string{"Dương Chí Dũng", "Đỗ Thị Bình"}},
		{"đ", []string{"Dương Chí Dũng", "Đỗ Thị Bình"}},
		{"van", []string{"Nguyễn Văn An", "Trần Văn Tư"}},
		{"tan thanh", []string{"Trần Văn Tư"}},
		{"van tan", []string{"Trần Văn Tư"}},
		{"zzz", nil},
	}
	for _, tt := range tests {
		status, body := h.get("/households?q=" + urlq(tt.q))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, tt.want, heads(body), "q=%q", tt.q)
		status, frag := h.get("/households?fragment=1&q=" + urlq(tt.q))
		require.Equal(t, http.StatusOK, status)
		require.NotContains(t, frag, "<html", "the fragment is the results alone")
		require.Equal(t, tt.want, heads(frag), "fragment q=%q", tt.q)
	}
	_, body := h.get("/households?hamlet=" + hamlet2)
	require.Equal(t, []string{"Trần Văn Tư"}, heads(body))

	// A CLI command beside the app adds one: the list has it at once.
	other, err := agent.Open(context.Background(), filepath.Join(h.dir, "replica.db"))
	require.NoError(t, err)
	_, err = other.AddHousehold(context.Background(), agent.Fields{"hamlet_code": hamlet1, "head_name": "Đinh Văn Đức"})
	require.NoError(t, err)
	require.NoError(t, other.Close())
	_, body = h.get("/households?q=duc")
	require.Equal(t, []string{"Đinh Văn Đức"}, heads(body))
}

func urlq(s string) string { return url.QueryEscape(s) }
