package schema_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/schema"
)

func TestSameValue(t *testing.T) {
	hh, ok := schema.LookupTable("households")
	require.True(t, ok)
	id := "366366c1-cfb7-4a6e-9b0e-5a1f2e3d4c5b"
	for _, c := range []struct {
		field string
		a, b  any
		same  bool
	}{
		{"phone", "0912 345 678", "0912345678", true},
		{"phone", "+84 912 345 678", "0912345678", true},
		{"phone", "0912345678", "0912345679", false},
		{"head_name", norm.NFD.String("Trần Thị Ánh"), norm.NFC.String("Trần Thị Ánh"), true},
		{"head_name", "Trần Thị Ánh", "Trần Thị Anh", false},
		{"members_count", int64(4), 4, true},
		{"phone", "not a phone", "not a phone", true}, // compared as given
	} {
		require.Equal(t, c.same, hh.SameValue(c.field, c.a, c.b), "%s: %v ~ %v", c.field, c.a, c.b)
	}
	visits, ok := schema.LookupTable("visits")
	require.True(t, ok)
	require.True(t, visits.SameValue("household_id", "366366C1-CFB7-4A6E-9B0E-5A1F2E3D4C5B", id), "an id in capitals")
	require.False(t, visits.SameValue("household_id", "466366c1-cfb7-4a6e-9b0e-5a1f2e3d4c5b", id))
}
