package schema_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

func table(t *testing.T, name string) *schema.Table {
	t.Helper()
	tb, ok := schema.LookupTable(name)
	require.True(t, ok, name)
	return tb
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var ve *schema.ValidationError
	require.True(t, errors.As(err, &ve), "want *ValidationError with code %s, got %v", code, err)
	require.Equal(t, code, ve.Code, ve.Error())
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string // want "" = rejected
	}{
		{"0912345678", "0912345678"},
		{"+84912345678", "0912345678"},
		{"84 912 345 678", "0912345678"},
		{"+84 912 345 678", "0912345678"},
		{"0912.345.678", "0912345678"},
		{"0912-345-678", "0912345678"},
		{"  0369 123 456 ", "0369123456"},
		{"0912\u00a0345\u00a0678", "0912345678"}, // no-break spaces (Zalo, a web page)
		{"\u00a0+84\u202f912\u2007345\u00a0678", "0912345678"},
		{"\u200b0912\u200b345678\ufeff", "0912345678"}, // zero-width spaces
		{"0912\u3000345678", ""},                       // an ideographic space is not one of them
		{"\u00a0.+84912345678", ""},                    // + only after spaces
		{"0512345678", "0512345678"},
		{"0712345678", "0712345678"},
		{"0812345678", "0812345678"},
		{"02903 123 456", "02903123456"}, // Cà Mau landline
		{"+84 2903 123 456", "02903123456"},
		{"84290 3123456", "02903123456"},
		{"", ""},
		{"091234567", ""},     // 9 digits
		{"09123456789", ""},   // 11 digits mobile
		{"0412345678", ""},    // no 04 mobiles
		{"0612345678", ""},    // no 06 mobiles
		{"0112345678", ""},    // old 11-digit prefix
		{"0290312345", ""},    // landline needs 11 digits
		{"+840912345678", ""}, // 0 after the country code
		{"+1 912 345 678", ""},
		{"+85 912345678", ""},
		{"(091) 2345678", ""},
		{"0912/345/678", ""},
		{"0912345678 ext 2", ""},
		{"0912+345678", ""},
		{"++84912345678", ""},
		{"０９１２３４５６７８", ""}, // full-width digits
		{"912345678", ""},  // no leading 0
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := schema.NormalizePhone(tt.in)
			if tt.want == "" {
				require.Error(t, err)
				digitsOnly := strings.Map(func(r rune) rune {
					if r >= '0' && r <= '9' {
						return r
					}
					return -1
				}, tt.in)
				if len(digitsOnly) > 3 {
					require.NotContains(t, err.Error(), digitsOnly, "error must not leak the number")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			again, err := schema.NormalizePhone(got)
			require.NoError(t, err)
			require.Equal(t, got, again, "canonical form is a fixed point")
		})
	}
}

func TestNormalizeValue(t *testing.T) {
	const decomposed = "Nguye\u0302\u0303n Va\u0306n A" // "Nguyễn Văn A" typed with combining marks
	const composed = "Nguyễn Văn A"
	require.NotEqual(t, decomposed, composed)

	tests := []struct {
		table, field string
		in           any
		want         any
		code         string // "" = accepted
	}{
		// strings
		{"households", "head_name", decomposed, composed, ""},
		{"households", "head_name", "  " + composed + "\n", composed, ""},
		{"households", "head_name", "", nil, schema.CodeRequired},
		{"households", "head_name", "   ", nil, schema.CodeRequired},
		{"households", "head_name", nil, nil, schema.CodeRequired},
		{"households", "head_name", strings.Repeat("ễ", 200), strings.Repeat("ễ", 200), ""},
		{"households", "head_name", strings.Repeat("ễ", 201), nil, schema.CodeTooLong},
		{"households", "head_name", int64(3), nil, schema.CodeWrongType},
		{"households", "head_name", "a\x00b", nil, schema.CodeWrongType},
		{"households", "head_name", "\xff\xfe", nil, schema.CodeWrongType},
		{"households", "notes", "", nil, ""},
		{"households", "notes", nil, nil, ""},
		{"households", "notes", "dòng 1\ndòng 2", "dòng 1\ndòng 2", ""},
		// scope
		{"households", "hamlet_code", "32002-03", "32002-03", ""},
		{"households", "hamlet_code", " 32002-03 ", "32002-03", ""},
		{"households", "hamlet_code", "32002", nil, schema.CodeInvalidHamlet},
		{"households", "hamlet_code", "32002-00", nil, schema.CodeInvalidHamlet},
		{"households", "hamlet_code", "32002-003", nil, schema.CodeInvalidHamlet},
		{"households", "hamlet_code", "Ấp 3", nil, schema.CodeInvalidHamlet},
		{"households", "hamlet_code", nil, nil, schema.CodeRequired},
		// phones
		{"households", "phone", "+84 912 345 678", "0912345678", ""},
		{"households", "phone", "12345", nil, schema.CodeInvalidPhone},
		{"field_reports", "reporter_phone", "0912.345.678", "0912345678", ""},
		// ints
		{"households", "members_count", int64(1), int64(1), ""},
		{"households", "members_count", int64(50), int64(50), ""},
		{"households", "members_count", int64(0), nil, schema.CodeOutOfRange},
		{"households", "members_count", int64(51), nil, schema.CodeOutOfRange},
		{"households", "members_count", int64(-3), nil, schema.CodeOutOfRange},
		{"households", "members_count", int8(4), int64(4), ""}, // msgpack small int
		{"households", "members_count", 4.0, int64(4), ""},     // JSON number
		{"households", "members_count", 4.5, nil, schema.CodeWrongType},
		{"households", "members_count", "4", nil, schema.CodeWrongType},
		{"field_reports", "satisfaction", int64(5), int64(5), ""},
		{"field_reports", "satisfaction", int64(6), nil, schema.CodeOutOfRange},
		// bools
		{"households", "has_smartphone", true, true, ""},
		{"households", "has_smartphone", int64(0), false, ""},
		{"households", "has_smartphone", int64(1), true, ""},
		{"households", "has_smartphone", int64(2), nil, schema.CodeWrongType},
		{"households", "has_smartphone", "true", nil, schema.CodeWrongType},
		{"households", "_deleted", true, true, ""},
		// floats
		{"field_reports", "lat", 9.1769, 9.1769, ""},
		{"field_reports", "lng", int64(105), 105.0, ""},
		{"field_reports", "lat", 91.0, nil, schema.CodeOutOfRange},
		{"field_reports", "lat", math.NaN(), nil, schema.CodeOutOfRange},
		{"field_reports", "lng", math.Inf(1), nil, schema.CodeOutOfRange},
		// times and dates
		{"field_reports", "occurred_at", int64(1751328000000), int64(1751328000000), ""},
		{"field_reports", "occurred_at", int64(1751328000), nil, schema.CodeInvalidDate}, // seconds, not ms
		{"field_reports", "occurred_at", "2025-07-01", nil, schema.CodeWrongType},
		{"households", "registered_on", "2025-07-01", "2025-07-01", ""},
		{"households", "registered_on", "2024-02-29", "2024-02-29", ""},
		{"households", "registered_on", "2025-02-29", nil, schema.CodeInvalidDate},
		{"households", "registered_on", "01/07/2025", nil, schema.CodeInvalidDate},
		{"households", "registered_on", "2025-7-1", nil, schema.CodeInvalidDate},
		{"households", "registered_on", "1800-01-01", nil, schema.CodeInvalidDate},
		// uuids
		{"visits", "household_id", "0B8F3C4E-1D2A-4F6B-9C7D-8E9F0A1B2C3D", "0b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d", ""},
		{"visits", "household_id", "0b8f3c4e1d2a4f6b9c7d8e9f0a1b2c3d", nil, schema.CodeInvalidUUID},
		{"visits", "household_id", "{0b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d}", nil, schema.CodeInvalidUUID},
		{"visits", "household_id", "0b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3g", nil, schema.CodeInvalidUUID},
		{"visits", "household_id", "00000000-0000-0000-0000-000000000000", nil, schema.CodeInvalidUUID},
		{"visits", "household_id", nil, nil, schema.CodeRequired},
		{"field_reports", "household_id", nil, nil, ""},
		// enums
		{"tutoring_records", "skill", "vneid_level2", "vneid_level2", ""},
		{"tutoring_records", "skill", "juggling", nil, schema.CodeUnknownEnum},
		{"tutoring_records", "skill", "VNEID_LEVEL2", nil, schema.CodeUnknownEnum},
		{"tutoring_records", "outcome", "independent", "independent", ""},
		{"tutoring_records", "outcome", "needs_help", "needs_help", ""},
		{"tutoring_records", "outcome", "done", nil, schema.CodeUnknownEnum},
		{"field_reports", "category", "ha_tang_do_thi", "ha_tang_do_thi", ""},
		{"field_reports", "category", "khieu_nai", nil, schema.CodeUnknownEnum},
		{"field_reports", "status", "redispatch", "redispatch", ""},
		{"field_reports", "status", "closed", nil, schema.CodeUnknownEnum},
		// photos
		{"field_reports", "photos", `["p1.jpg","p2.jpg"]`, `["p1.jpg","p2.jpg"]`, ""},
		{"field_reports", "photos", `p1.jpg`, nil, schema.CodeWrongType},
		{"field_reports", "photos", `[1,2]`, nil, schema.CodeWrongType},
		// unknown field
		{"households", "id", "x", nil, schema.CodeUnknownField},
		{"households", "Head_Name", "x", nil, schema.CodeUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.table+"."+tt.field, func(t *testing.T) {
			got, err := table(t, tt.table).NormalizeValue(tt.field, tt.in)
			if tt.code != "" {
				requireCode(t, err, tt.code)
				var ve *schema.ValidationError
				require.True(t, errors.As(err, &ve))
				require.Equal(t, tt.table, ve.Table)
				require.Equal(t, tt.field, ve.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

// Confidential and name fields must never echo their value in an error.
func TestErrorsDoNotLeakPersonalData(t *testing.T) {
	secret := strings.Repeat("Nguyễn Thị Bí Mật ", 20)
	cases := []struct {
		table, field string
		in           any
	}{
		{"households", "head_name", secret},
		{"field_reports", "reporter_name", secret},
		{"tutoring_records", "person_name", secret},
		{"households", "phone", "0987 654 32"},
		{"field_reports", "reporter_phone", "+84 987 654 32"},
	}
	for _, c := range cases {
		_, err := table(t, c.table).NormalizeValue(c.field, c.in)
		require.Error(t, err)
		var ve *schema.ValidationError
		require.True(t, errors.As(err, &ve))
		for _, text := range []string{err.Error(), ve.Message("vi"), ve.Message("en")} {
			require.NotContains(t, text, "Bí Mật")
			require.NotContains(t, text, "654")
		}
	}
}

func TestValidateRow(t *testing.T) {
	hh := table(t, "households")
	good := map[string]any{
		"hamlet_code":   "32002-03",
		"head_name":     "Nguye\u0302\u0303n Văn Tư",
		"phone":         "+84 912 345 678",
		"members_count": int64(4),
		"active":        true,
		"registered_on": "2025-07-01",
		"notes":         "  ",
	}
	got, err := hh.ValidateRow(good)
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"hamlet_code":   "32002-03",
		"head_name":     "Nguyễn Văn Tư",
		"phone":         "0912345678",
		"members_count": int64(4),
		"active":        true,
		"registered_on": "2025-07-01",
		"notes":         nil,
	}, got)
	require.Equal(t, "+84 912 345 678", good["phone"], "input is not modified")

	tests := []struct {
		name  string
		table string
		row   map[string]any
		field string
		code  string
	}{
		{"missing head_name", "households", map[string]any{"hamlet_code": "32002-03"}, "head_name", schema.CodeRequired},
		{"empty head_name", "households", map[string]any{"hamlet_code": "32002-03", "head_name": " "}, "head_name", schema.CodeRequired},
		{"missing scope", "households", map[string]any{"head_name": "A"}, "hamlet_code", schema.CodeRequired},
		{"unknown field first", "households", map[string]any{"zzz": 1, "aaa": 1}, "aaa", schema.CodeUnknownField},
		{"bad count", "households", map[string]any{"hamlet_code": "32002-03", "head_name": "A", "members_count": int64(99)}, "members_count", schema.CodeOutOfRange},
		{"tombstone still needs scope", "households", map[string]any{"_deleted": true}, "hamlet_code", schema.CodeRequired},
		{"tutoring unknown skill", "tutoring_records", map[string]any{
			"hamlet_code": "32002-03", "household_id": "0b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d",
			"volunteer_id": "1b8f3c4e-1d2a-4f6b-9c7d-8e9f0a1b2c3d", "skill": "juggling",
			"taught_on": "2025-07-02", "outcome": "independent",
		}, "skill", schema.CodeUnknownEnum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := table(t, tt.table).ValidateRow(tt.row)
			requireCode(t, err, tt.code)
			require.Equal(t, tt.field, err.(*schema.ValidationError).Field)
		})
	}

	// A tombstone carries no data, so required fields may be absent.
	got, err = hh.ValidateRow(map[string]any{"hamlet_code": "32002-03", "_deleted": int64(1)})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"hamlet_code": "32002-03", "_deleted": true}, got)
}

// TestPhotoDigestsCanonical: photo_digests takes one text for one list of
// photos, so replicas that attached the same photos hold the same value.
func TestPhotoDigestsCanonical(t *testing.T) {
	tb, ok := schema.LookupTable("field_reports")
	require.True(t, ok)
	d1 := strings.Repeat("ab", 32)
	d2 := strings.Repeat("0f", 32)
	for name, tc := range map[string]struct {
		in   any
		want any
		code string
	}{
		"two photos":    {`["` + d1 + `","` + d2 + `"]`, `["` + d1 + `","` + d2 + `"]`, ""},
		"none":          {"", nil, ""},
		"empty array":   {"[]", nil, schema.CodeWrongType},
		"spaces":        {`["` + d1 + `", "` + d2 + `"]`, nil, schema.CodeWrongType},
		"upper case":    {`["` + strings.ToUpper(d1) + `"]`, nil, schema.CodeWrongType},
		"a file name":   {`["a.jpg"]`, nil, schema.CodeWrongType},
		"twice":         {`["` + d1 + `","` + d1 + `"]`, nil, schema.CodeWrongType},
		"not an array":  {`"` + d1 + `"`, nil, schema.CodeWrongType},
		"eleven photos": {elevenDigests(), nil, schema.CodeWrongType},
		"a number":      {int64(3), nil, schema.CodeWrongType},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tb.NormalizeValue(schema.PhotoDigestsField, tc.in)
			if tc.code != "" {
				var ve *schema.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, tc.code, ve.Code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	require.Equal(t, []string{d1, d2}, schema.PhotoDigests(schema.PhotoDigestsValue([]string{d1, d2, d1})))
	require.Nil(t, schema.PhotoDigestsValue(nil))
	require.Nil(t, schema.PhotoDigests(`["a.jpg"]`))
}

func elevenDigests() string {
	var ds []string
	for i := 0; i < 11; i++ {
		ds = append(ds, fmt.Sprintf("%064x", i))
	}
	return `["` + strings.Join(ds, `","`) + `"]`
}
