package agent

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRowFieldsRoundTrip: a compact log entry gives back every value
// exactly (−0.0, NaN's bits, an empty string, a field name no code knows)
// with its stamp, and a cut entry is an error, not a shorter row.
func TestRowFieldsRoundTrip(t *testing.T) {
	t.Parallel()
	fs := []rowField{
		{"head_name", syncproto.String("Nguyễn Văn A"), 1 << 40},
		{"members_count", syncproto.Int(-3), 1<<40 + 1},
		{"lat", syncproto.Float(math.Copysign(0, -1)), 1<<40 + 1},
		{"lon", syncproto.Float(math.NaN()), 1 << 39},
		{"active", syncproto.Bool(true), 1 << 41},
		{"vneid_installed", syncproto.Bool(false), 7},
		{"notes", syncproto.String(""), 8},
		{"a_field_no_code_knows", syncproto.Null(), 9},
	}
	b := appendRowFields(nil, fs)
	got, err := decodeRowFields(b, len(fs))
	require.NoError(t, err)
	require.Len(t, got, len(fs))
	for i := range fs {
		require.Equal(t, fs[i].field, got[i].field)
		require.Equal(t, fs[i].hlc, got[i].hlc)
		require.Equal(t, fs[i].value.Kind(), got[i].value.Kind())
		if fs[i].value.Kind() == syncproto.KindFloat {
			require.Equal(t, math.Float64bits(fs[i].value.AsFloat()), math.Float64bits(got[i].value.AsFloat()))
		} else {
			require.Equal(t, fs[i].value, got[i].value)
		}
	}
	for cut := 1; cut < len(b); cut++ {
		_, err := decodeRowFields(b[:cut], len(fs))
		require.Error(t, err, "cut at %d", cut)
	}
}
