package cliflag

import (
	"bytes"
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type ageErr struct{}

func (ageErr) Error() string { return "bad age" }
func (ageErr) Message(lang string) string {
	return map[bool]string{true: "write 90d", false: "viết 90d"}[lang == "en"]
}

type ageValue struct{}

func (ageValue) String() string     { return "" }
func (ageValue) Set(s string) error { return ageErr{} }

func newFS() *flag.FlagSet {
	fs := flag.NewFlagSet("device revoke", flag.ContinueOnError)
	fs.String("device", "", "mã thiết bị")
	fs.Int("count", 0, "số")
	fs.Bool("json", false, "in JSON")
	fs.Duration("ttl", 24*time.Hour, "thời hạn")
	fs.Var(ageValue{}, "older-than", "tuổi")
	return fs
}

func TestParse(t *testing.T) {
	fs := newFS()
	pos, err := Parse(fs, []string{"ABC", "--json", "--device", "x", "DEF", "--", "--not-a-flag"})
	require.NoError(t, err)
	require.Equal(t, []string{"ABC", "DEF", "--not-a-flag"}, pos)
	require.Equal(t, "x", fs.Lookup("device").Value.String())

	tests := []struct {
		args   []string
		vi, en string
	}{
		{[]string{"--nope"}, "không có tùy chọn --nope", "there is no option --nope"},
		{[]string{"--device"}, "tùy chọn --device cần một giá trị", "option --device needs a value"},
		{[]string{"--count", "ba"}, `giá trị "ba" của --count không hợp lệ: cần một số nguyên`, "want a whole number"},
		{[]string{"--ttl", "mai"}, "cần một khoảng thời gian, ví dụ 24h", "want a duration"},
		{[]string{"--json=maybe"}, "cần có hoặc không", "yes or no"},
		{[]string{"--older-than", "x"}, "--older-than: viết 90d", "--older-than: write 90d"},
	}
	for _, tt := range tests {
		_, err := Parse(newFS(), tt.args)
		var e *Error
		require.True(t, errors.As(err, &e), "%v: %v", tt.args, err)
		require.Contains(t, e.Message("vi"), tt.vi)
		require.Contains(t, e.Message("en"), tt.en)
	}
	_, err = Parse(newFS(), []string{"x", "--help"})
	require.ErrorIs(t, err, ErrHelp)
}

func TestUsageInOneLanguage(t *testing.T) {
	fs := newFS()
	_, _ = Parse(fs, nil)
	var b bytes.Buffer
	Usage(&b, "vi", fs, "hamlet-server device revoke MÃ", "thu hồi", map[string]bool{"json": true})
	out := b.String()
	require.Contains(t, out, "Cách dùng: hamlet-server device revoke MÃ")
	require.Contains(t, out, "--ttl THỜI_LƯỢNG")
	require.Contains(t, out, "(mặc định: 24h)")
	require.Contains(t, out, "Tùy chọn chung")
	require.NotContains(t, out, "Usage of")
	require.NotContains(t, out, "default")
}

func TestSplitLeading(t *testing.T) {
	lead, rest := SplitLeading([]string{"--lang", "en", "--json", "household", "list"}, map[string]bool{"lang": true})
	require.Equal(t, []string{"--lang", "en", "--json"}, lead)
	require.Equal(t, []string{"household", "list"}, rest)
	lead, rest = SplitLeading([]string{"--lang=en", "--help"}, map[string]bool{"lang": true})
	require.Equal(t, []string{"--lang=en", "--help"}, lead)
	require.Empty(t, rest)
}
