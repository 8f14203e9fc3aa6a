package agent_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// Helper 159's review of 2887d2c: a whole line pasted from Zalo ("Mã đăng
// ký: FDQH-7LU9") was refused as a code typed with the Vietnamese keyboard
// on, which switching it off does not mend. The code in it is taken.
func TestCleanCodeFindsTheCodeInAPastedLine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Mã đăng ký: FDQH-7LU9":             "FDQH7LU9",
		"mã của anh là fdqh 7lu9 nhé":       "FDQH7LU9",
		"Mã: “FDQH–7LU9”.":                  "FDQH7LU9",
		"FDQH-7LU9":                         "FDQH7LU9",
		"FDQH\u00a07LU9":                    "FDQH7LU9",
		" fdqh-7lu9\u200b ":                 "FDQH7LU9",
		"Mã đăng ký: FDQH-7LU9, hạn 24 giờ": "FDQH7LU9",
		// Helper 160's review of the first version of this: dates, years,
		// labels and names are not codes (the alphabet has no 0, 1, I, O).
		"Enrollment code: FDQH-7LU9  (one-time, expires 2026-12-06 09:45 (UTC+7))": "FDQH7LU9",
		"Mã đăng ký cho CNTS-2026: FDQH-7LU9":                                      "FDQH7LU9",
		"Mã code: FDQH 7LU9":                     "FDQH7LU9",
		"nhap code FDQH 7LU9 nhe":                "FDQH7LU9",
		"NGUYEN12 gửi mã: FDQH-7LU9":             "FDQH7LU9",
		"Mã đăng ký: FDQH - 7LU9":                "FDQH7LU9",
		"Mã đăng ký: FDQH - 7LU9 (tổ CNTS-2026)": "FDQH7LU9",
		// Helper 161's review of e3a1fde: typed alone with spaces, pasted
		// twice, with an emoji stuck to it.
		"FD QH 7L U9":         "FDQH7LU9",
		"F D Q H 7 L U 9":     "FDQH7LU9",
		"FDQ H7L U9":          "FDQH7LU9",
		"FDQH-7LU9 FDQH-7LU9": "FDQH7LU9",
		"Mã đăng ký: FDQH-7LU9 (nhắc lại: FDQH-7LU9)": "FDQH7LU9",
		"FDQH-7LU9🙏":             "FDQH7LU9",
		"Mã: FDQH-7LU9👍":         "FDQH7LU9",
		"Mã đăng ký: FDQH-7LU9😊": "FDQH7LU9",
		"FDQH-7LU9FDQH-7LU9":     "FDQH7LU9", // helper 162: pasted twice into the field
		"FD QH LU WX":            "FDQHLUWX", // helper 163: a code without a digit, in pairs
		"FDQH LU WX":             "FDQHLUWX",
		"\"FD QH LU WX\".":       "FDQHLUWX",
		"QF RY XYEE":             "QFRYXYEE", // helper 212: a code in its groups, whatever its syllables
		"qf-ry-xy-ee":            "QFRYXYEE",
		" qf ry xyee ":           "QFRYXYEE",
		"DANG KY MA":             "DANGKYMA", // a phrase in a code's groups is a code the server may issue
		"Mã đăng ký: RYAT HYEN":  "RYATHYEN", // halves that are syllables, after a label
		"MA DANG KY: RYAT HYEN":  "RYATHYEN",
		"ma dang ky: ryat hyen":  "RYATHYEN",
		"Mã: FDQH-7LU9 👍🏽":       "FDQH7LU9",
		// Helper 167's review of 4d80bff: halves and pairs with vowels
		// that are no Vietnamese syllable are a code's.
		"Mã đăng ký: TEHZ UQJP": "TEHZUQJP",
		"TA HA UZ EW":           "TAHAUZEW",
		"TXYL KU EW":            "TXYLKUEW",
	} {
		got, err := agent.CleanCode(in)
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
	// Telex still told as Telex, spaced or not; two codes in a line are
	// not guessed.
	for _, in := range []string{"ĐƯ3Á-K7MN", "đư 3á k7 mn", "\u0111u\u031b 3a\u0302\u0301 k7 mn"} {
		_, err := agent.CleanCode(in)
		var ime *agent.InputMethodError
		require.True(t, errors.As(err, &ime), "%q: %v", in, err)
	}
	_, err := agent.CleanCode("FDQH-7LU9 hoặc ABCD-EFGH")
	var po *agent.PasteCodeOnlyError
	require.True(t, errors.As(err, &po), "two codes in a line: enter one alone; got %v", err)
	// Helper 162: a phrase typed without its marks is no code, and is not
	// sent (each wrong code sent counts toward the address's limit).
	for _, in := range []string{"ma dang ky", "ma het han", "chua co ma", "khong co ma", "ma la gi",
		"MA DANG KY", "chua nhan duoc ma"} { // helper 164: in capitals, two words of four
		c, err := agent.CleanCode(in)
		require.Error(t, err, "%q sent as the code %q", in, c)
	}
}
