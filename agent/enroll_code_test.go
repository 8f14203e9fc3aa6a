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
	for in, want := range map[string]string{
		"Mã đăng ký: FDQH-7LU9":             "FDQH7LU9",
		"mã của anh là fdqh 7lu9 nhé":       "FDQH7LU9",
		"Mã: “FDQH–7LU9”.":                  "FDQH7LU9",
		"FDQH-7LU9":                         "FDQH7LU9",
		"FDQH\u00a07LU9":                    "FDQH7LU9",
		" fdqh-7lu9\u200b ":                 "FDQH7LU9",
		"Mã đăng ký: FDQH-7LU9, hạn 24 giờ": "FDQH7LU9",
	} {
		got, err := agent.CleanCode(in)
		require.NoError(t, err, "%q", in)
		require.Equal(t, want, got, "%q", in)
	}
	// Telex still told as Telex; two codes in a line are not guessed.
	_, err := agent.CleanCode("ĐƯ3Á-K7MN")
	var ime *agent.InputMethodError
	require.True(t, errors.As(err, &ime), "%v", err)
	got, _ := agent.CleanCode("FDQH-7LU9 hoặc ABCD-EFGH")
	require.NotEqual(t, "FDQH7LU9", got)
}
