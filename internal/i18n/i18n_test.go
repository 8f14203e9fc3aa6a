package i18n

import (
	"bytes"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSortVietnamese(t *testing.T) {
	names := []string{"Nguyễn Văn An", "Đỗ Thị Bình", "Ngô Bảo Châu", "Dương Chí", "Trần Hoa", "Khóm 10", "Khóm 9", "Ấp 2", "An"}
	bytewise := append([]string(nil), names...)
	sort.Strings(bytewise)
	require.Less(t, indexOf(bytewise, "Nguyễn Văn An"), indexOf(bytewise, "Ngô Bảo Châu"), "byte order is what this fixes")
	Sort(names)
	require.Equal(t, []string{"An", "Ấp 2", "Dương Chí", "Đỗ Thị Bình", "Khóm 9", "Khóm 10", "Ngô Bảo Châu", "Nguyễn Văn An", "Trần Hoa"}, names)
	require.Negative(t, Compare("Ngô", "Nguyễn"))
	require.Negative(t, Compare("Dương", "Đỗ"))
	require.Positive(t, Compare("Đỗ", "Dương"))

	type team struct{ commune, name string }
	teams := []team{{"32002", "Tổ CNSCĐ Khóm 2"}, {"32001", "Tổ CNSCĐ Ấp Đông"}, {"32001", "Tổ CNSCĐ Ấp Dừa"}}
	SortByKeys(teams, func(t team) []string { return []string{t.commune, t.name} })
	require.Equal(t, []team{{"32001", "Tổ CNSCĐ Ấp Dừa"}, {"32001", "Tổ CNSCĐ Ấp Đông"}, {"32002", "Tổ CNSCĐ Khóm 2"}}, teams)

	// Keys computed once order the names as Compare does.
	for _, a := range names {
		for _, b := range names {
			require.Equal(t, Compare(a, b), bytes.Compare(Key(a), Key(b)), "%s / %s", a, b)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func TestFormats(t *testing.T) {
	at := time.Date(2026, 12, 1, 7, 30, 0, 0, time.UTC) // 14:30 in Vietnam
	tests := []struct {
		name, got, want string
	}{
		{"date time vi", DateTime(at, "vi"), "01/12/2026 14:30 (UTC+7)"},
		{"date time en", DateTime(at, "en"), "2026-12-01 14:30 (UTC+7)"},
		{"date vi, the day in Vietnam", Date(time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC), "vi"), "01/12/2026"},
		{"stored date vi", DateText("2025-07-01", "vi"), "01/07/2025"},
		{"stored date en", DateText("2025-07-01", "en"), "2025-07-01"},
		{"zero", Duration(0, "vi"), "0 giây"},
		{"ms vi", Duration(53*time.Millisecond, "vi"), "53 mili giây"},
		{"ms en", Duration(53*time.Millisecond, "en"), "53 ms"},
		{"seconds vi", Duration(1234*time.Millisecond, "vi"), "1,2 giây"},
		{"seconds en", Duration(1234*time.Millisecond, "en"), "1.2 s"},
		{"minutes", Duration(125*time.Second, "vi"), "2 phút 5 giây"},
		{"hours", Duration(63*time.Minute, "vi"), "1 giờ 3 phút"},
		{"days", Duration(50*time.Hour, "vi"), "2 ngày 2 giờ"},
		{"bytes", Bytes(512, "vi"), "512 byte"},
		{"KB vi", Bytes(3174, "vi"), "3,1 KB"},
		{"KB en", Bytes(3174, "en"), "3.1 KB"},
		{"MB vi", Bytes(5<<20, "vi"), "5,0 MB"},
		{"int vi", Int(1610, "vi"), "1.610"},
		{"int en", Int(1234567, "en"), "1,234,567"},
		{"int small", Int(45, "vi"), "45"},
		{"negative", Int(-1610, "vi"), "-1.610"},
		{"decimal", Decimal(1234.5, 1, "vi"), "1.234,5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { require.Equal(t, tt.want, tt.got) })
	}
}

func TestParseDateTime(t *testing.T) {
	vn := Zone
	good := []struct {
		in   string
		want time.Time
	}{
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, vn)},
		{"01/12/2026", time.Date(2026, 12, 1, 0, 0, 0, 0, vn)},
		{"1/12/2026", time.Date(2026, 12, 1, 0, 0, 0, 0, vn)},
		{"01-12-2026", time.Date(2026, 12, 1, 0, 0, 0, 0, vn)},
		{"01/12/2026 14:30", time.Date(2026, 12, 1, 14, 30, 0, 0, vn)},
		{"2026-12-01 14:30", time.Date(2026, 12, 1, 14, 30, 0, 0, vn)},
		{"2026-12-01T14:30:05", time.Date(2026, 12, 1, 14, 30, 5, 0, vn)},
		{" 01/12/2026  7:05 ", time.Date(2026, 12, 1, 7, 5, 0, 0, vn)},
	}
	for _, g := range good {
		got, err := ParseDateTime(g.in)
		require.NoError(t, err, g.in)
		require.True(t, g.want.Equal(got), "%q: %v", g.in, got)
	}
	for _, bad := range []string{"", "1767229200000", "12/2026", "31/02/2026", "2026-13-01", "01/12/2026 25:00", "01/12/26", "mai", "2026-12-01 14", "01/12/2026 14:30:00:00"} {
		_, err := ParseDateTime(bad)
		var de *DateError
		require.ErrorAs(t, err, &de, "%q", bad)
		require.Contains(t, de.Message("vi"), "01/12/2026 14:30", "the message lists the accepted forms")
		require.Contains(t, de.Message("en"), "2026-12-01 14:30")
	}
	// A name or a phone number typed into a date's box by mistake: the
	// person is shown it, a log is not.
	for _, typed := range []string{"Nguyễn Văn An", "0912345678"} {
		_, err := ParseDate(typed)
		var de *DateError
		require.ErrorAs(t, err, &de)
		require.Contains(t, de.Message("vi"), typed)
		require.NotContains(t, err.Error(), typed, "Error(), which a log may keep, quotes what was typed")
		_, err = ParseDateTime(typed)
		require.NotContains(t, err.Error(), typed)
	}
	d, err := ParseDate("1/7/2025")
	require.NoError(t, err)
	require.Equal(t, "2025-07-01", d)
	_, err = ParseDate("2025-07-01 10:00")
	require.Error(t, err)
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"01/12/2026 14:30", "2026-12-01", "1/1/1900", "31/12/9999 23:59:59", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseDateTime(s)
		if err != nil {
			var de *DateError
			require.ErrorAs(t, err, &de)
			return
		}
		// What it accepts, written back the way people write it, reads the same.
		back, err := ParseDateTime(tm.In(Zone).Format("02/01/2006 15:04:05"))
		require.NoError(t, err)
		require.True(t, back.Equal(tm))
	})
}

func TestFindAvoided(t *testing.T) {
	require.Empty(t, Find("Tổ công nghệ số cộng đồng Khóm 1; cán bộ điều phối phản ánh"))
	require.Len(t, Find("Menu: Tổ công nghệ số"), 1)
	require.Len(t, Find("Đã đăng ký với Tổ CNTS Khóm 1"), 1)
	require.Len(t, Find("Kiểm tra mạng (3G/Wi-Fi)"), 1)
	require.True(t, HasVietnamese("Đã lưu"))
	require.False(t, HasVietnamese("Saved"))
}
