package agent

import "testing"

// TestMangled: the signs of letters Excel replaced with "?" and of text in
// the VNI or TCVN3 fonts, and the Vietnamese (and the "?") that is none.
func TestMangled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s             string
		legacy, found bool
	}{
		{"Nguy?n V?n An", false, true},
		{"Tr??ng", false, true},
		{"S? 1 t? 2", false, false},
		{"Có con nhỏ?", false, false},
		{"Hỏi lại: có điện thoại không? Chưa rõ", false, false},
		{"?", false, false},
		{"Nguyeãn Vaên An", true, true},   // VNI-Times
		{"Hoï teân chuû hoä", true, true}, // VNI, ä
		{"Ñòa chæ", true, true},
		{"NguyÔn V¨n B×nh", true, true}, // TCVN3
		{"V¨n", true, true},
		{"B×nh", true, true},
		{"Tr\u00adêng", true, true}, // TCVN3's ư, a soft hyphen
		{"Nguyễn Văn Đức", false, false},
		{"Ðặng Văn Ðức", false, false}, // Ð for Đ
		{"Lê Thị Hòa, Thuý, Khoả, xuân, Huế, khuya, hoè", false, false},
		{"ẤP TÂN THÀNH, Ô MÔN", false, false},
		{"Nhà 3×4m, 50m², 25°C", false, false},
		{"Nguyen Van An", false, false},
		{"Đăk R´Lấp, H´Hen Niê", false, false},                                       // the highlands' names
		{"https://www.google.com/maps/search?api=1&query=9.17,105.15", false, false}, // a link's query
		{"www.example.vn/a?b=c", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		legacy, found := mangled(tt.s)
		if legacy != tt.legacy || found != tt.found {
			t.Errorf("mangled(%q) = %v, %v; want %v, %v", tt.s, legacy, found, tt.legacy, tt.found)
		}
	}
}
