package agent_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// Helper 154's review of 7978f96: the same person, same tổ, no phone,
// written with the old tone placement (Thuỷ, Hoà) on a second list, or
// with Ð (U+00D0) for Đ, was imported again as a new household once the
// key kept the marks.
func TestImportSameNameOtherToneStyleIsTheSameHousehold(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	first := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;SĐT;Ấp\r\n1;Nguyễn Thị Thủy;Ấp Tân Hòa Đông;;" + h + "\r\n2;Đặng Văn Đức;Tổ 3;;" + h + "\r\n"
	r := fiRun(t, bin, "import", fiFile(t, "dot1.csv", []byte(first)), "--data-dir", dir)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	second := "\ufeffSTT;Họ tên chủ hộ;Địa chỉ;SĐT;Ấp\r\n1;Nguyễn Thị Thuỷ;Ấp Tân Hoà Đông;;" + h + "\r\n2;Ðặng Văn Ðức;Tổ 3;;" + h + "\r\n"
	r = fiRun(t, bin, "import", fiFile(t, "dot2.csv", []byte(second)), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	list := fiList(t, bin, dir)
	t.Log(list)
	require.Equal(t, 1, strings.Count(list, "Thủy")+strings.Count(list, "Thuỷ"), "the same household registered twice")
	require.Equal(t, 1, strings.Count(list, "Đặng")+strings.Count(list, "Ðặng"), "the same household registered twice")
}

// Helper 154: real Mekong-delta lists import: names, addresses, old-style
// tones, capitals, notes with "?" and symbols, NFD text.
func TestImportRealListsAreNotTakenForMangled(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	rows := [][2]string{
		{"Nguyễn Thị Thuỷ", "Ấp Tân Hòa Đông"}, {"Huỳnh Văn Út", "Khóm 5, P. 7"}, {"Lâm Thị Ánh", "Số 12/3 đường 30/4"},
		{"Trương Quý", "Km 2.5 QL1A"}, {"NGUYỄN VĂN ÁNH", "Hẻm 45?"}, {"LÊ THỊ Ý", "ẤP TÂN HOÀ"}, {"Lê Thị Khoẻ", "Tổ 3 - Ấp Ô Môn"},
		{"Võ Thị Ý Nhi", "Hẻm 45? (hỏi lại)"}, {"Trần Văn Tèo", "Nhà 3×4m"},
	}
	var b strings.Builder
	b.WriteString("\ufeffSTT;Họ tên chủ hộ;Địa chỉ;SĐT;Ấp;Ghi chú\r\n")
	for i, r := range rows {
		fmt.Fprintf(&b, "%d;%s;%s;;%s;Có điện thoại không?chưa hỏi ¿ × ©\r\n", i+1, r[0], r[1], h)
	}
	for i, r := range rows {
		fmt.Fprintf(&b, "%d;%s;%s;;%s;\r\n", 100+i, norm.NFD.String(r[0]+" B"), norm.NFD.String(r[1]), h)
	}
	r := fiRun(t, bin, "import", fiFile(t, "ds.csv", []byte(b.String())), "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.Equal(t, 0, r.code)
}

// A field-report list whose location is a Google Maps link.
// Helper 154: a report's location written as a map link has "?" between
// two letters; it is no letter Excel replaced.
func TestImportReportLocationLinkIsNotMangled(t *testing.T) {
	t.Parallel()
	bin, dir, h := fiLaptop(t)
	csv := "\ufeffMô tả;Loại;Vị trí;Ấp\r\n" +
		"Cống bị vỡ;infrastructure;https://www.google.com/maps/search?api=1&query=9.17,105.15;" + h + "\r\n"
	r := fiRun(t, bin, "import", fiFile(t, "bc.csv", []byte(csv)), "--table", "field_reports", "--map", "Mô tả=description,Loại=category,Vị trí=location", "--data-dir", dir)
	t.Logf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	require.NotContains(t, r.stderr, "CSV UTF-8", "a link's ? is no letter Excel replaced")
}
