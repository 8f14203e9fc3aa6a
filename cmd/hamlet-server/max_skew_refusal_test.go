package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// --max-skew refused at start suggests values fit for a clock skew: not
// the keep-alive examples (30s, 2m, 1h). A skew of an hour would let a
// laptop whose clock runs an hour ahead win every edit made within that
// hour (serve's --max-skew help). The English reads as English.
func TestServeMaxSkewRefusalSuggestsASkew(t *testing.T) {
	for _, tc := range []struct {
		lang    string
		want    []string
		notWant []string
	}{
		{"vi", []string{"--max-skew=0s", "khoảng thời gian dương", "mặc định 1s"}, []string{"1h", "30s"}},
		{"en", []string{"--max-skew=0s", "a positive duration", "the default is 1s"}, []string{"1h", "30s", "duration positive"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			for _, cmd := range []string{"serve", "demo"} {
				args := []string{cmd, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--max-skew", "0", "--lang", tc.lang}
				code, errOut := serveFor(t, 5*time.Second, args...)
				require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
				for _, w := range tc.want {
					require.Contains(t, errOut, w, "%v", args)
				}
				for _, w := range tc.notWant {
					require.NotContains(t, errOut, w, "%v", args)
				}
			}
		})
	}
}

// HAMLET_MAX_SKEW set to something serve cannot use is refused before the
// flags are read (checkDurationEnv), by a message of its own: it too must
// suggest a skew, not the keep-alive's 30s, 2m, 1h, which an operator
// following it would set as an hour's skew.
func TestServeMaxSkewEnvRefusalSuggestsASkew(t *testing.T) {
	for _, val := range []string{"0", "-1s", "một giây"} {
		t.Run(val, func(t *testing.T) {
			t.Setenv("HAMLET_MAX_SKEW", val)
			for _, lang := range []string{"vi", "en"} {
				args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--lang", lang}
				code, errOut := serveFor(t, 5*time.Second, args...)
				require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
				require.Contains(t, errOut, "HAMLET_MAX_SKEW", "%v", args)
				require.Contains(t, errOut, "500ms", "%v: a skew is suggested", args)
				require.NotContains(t, errOut, "1h", "%v: not an hour's skew", args)
			}
		})
	}
}

// --max-skew given something that is not a duration ("1 giây", a unit
// left out) is refused by the flag's parsing, whose message suggested
// any duration: "ví dụ 24h, 30m, 90s". An operator following it sets a
// skew of a day. It suggests a skew, as the refusal of a zero one does;
// the keep-alive's flags keep theirs.
func TestServeMaxSkewNotADurationSuggestsASkew(t *testing.T) {
	for _, cmd := range []string{"serve", "demo"} {
		for _, lang := range []string{"vi", "en"} {
			args := []string{cmd, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--max-skew", "1giây", "--lang", lang}
			code, errOut := serveFor(t, 5*time.Second, args...)
			require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
			require.Contains(t, errOut, "--max-skew", "%v", args)
			require.Contains(t, errOut, "500ms", "%v: a skew is suggested", args)
			require.NotContains(t, errOut, "24h", "%v: not a day's skew", args)
			require.NotContains(t, errOut, "30m", "%v", args)
		}
	}
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--ping-interval", "30 giây"}
	code, errOut := serveFor(t, 5*time.Second, args...)
	require.Equal(t, 2, code, "%v: refused: %s", args, errOut)
	require.Contains(t, errOut, "--ping-interval")
	require.Contains(t, errOut, "khoảng thời gian", "the keep-alive's refusal still says what it wants")
}
