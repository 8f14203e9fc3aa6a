package agent

import (
	"golang.org/x/text/unicode/norm"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestFoldIsFoldSlow: the table gives what decomposition gives, for every
// rune it covers and for Vietnamese written precomposed or decomposed.
func TestFoldIsFoldSlow(t *testing.T) {
	t.Parallel()
	for r := rune(0); r < foldTableSize+64; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := "a" + string(r) + "Ư"
		require.Equal(t, foldSlow(s), Fold(s), "rune %U", r)
	}
	for _, s := range []string{"Nguyễn Văn Đức", "NGUYỄN THỊ ÁNH", "Nguye\u0302\u0303n", "Tổ 3, ấp Tân Thành", "", "Số 12/3 – đường 30/4", "日本 Ωμέγα", "\xff bad"} {
		require.Equal(t, foldSlow(s), Fold(s), "%q", s)
	}
	require.Equal(t, "nguyen van duc", Fold("Nguyễn Văn Đức"))
}

func FuzzFold(f *testing.F) {
	f.Add("Nguyễn Văn Đức")
	f.Add("e\u0301\u0323")
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, foldSlow(s), Fold(s))
	})
}

func BenchmarkFold(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Fold("Nguyễn Văn Hộ 12345 Số 12, tổ 3 0912345678 32002-01")
	}
}

func TestSearchWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"Nguyễn Văn An", []string{"nguyen", "van", "an"}},
		{"0912 345 678", []string{"0912345678"}},
		{"0912.345.678", []string{"0912345678"}},
		{"0912-345-678", []string{"0912345678"}},
		{"+84 912 345 678", []string{"0912345678"}},
		{"+84912345678", []string{"0912345678"}},
		{"An 0912.345.678 ấp 3", []string{"an", "0912345678", "ap", "3"}},
		{"345 678", []string{"345", "678"}}, // part of a number
		{"km 12.5", []string{"km", "12.5"}}, // an address
		{"32002-01", []string{"32002-01"}},  // a hamlet's code
		{"12/3 Trần Hưng Đạo", []string{"12/3", "tran", "hung", "dao"}},
		{"Ðinh Văn Ðức", []string{"dinh", "van", "duc"}},
		{"- .", []string{"-", "."}}, // no digits: kept as typed
		{"tổ 12 345", []string{"to", "12", "345"}},
	} {
		require.Equal(t, tc.want, SearchWords(tc.query), tc.query)
	}
}

func TestToneKey(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{"thủy", "thuỷ"}, {"hòa", "hoà"}, {"khỏe", "khoẻ"}, {"nguyễn thị thủy", "nguyễn thị thuỷ"},
		{"ấp tân hòa đông", "ấp tân hoà đông"}, {"đặng văn đức", "ðặng văn ðức"},
		{"nguyễn", norm.NFD.String("nguyễn")},
	}
	for _, p := range same {
		require.Equal(t, toneKey(p[0]), toneKey(p[1]), "%q %q", p[0], p[1])
	}
	other := [][2]string{{"hoa", "hòa"}, {"tâm", "tám"}, {"tám", "tạm"}, {"an", "ân"}, {"hòa an", "hoa àn"}, {"dung", "đung"}}
	for _, p := range other {
		require.NotEqual(t, toneKey(p[0]), toneKey(p[1]), "%q %q", p[0], p[1])
	}
}
