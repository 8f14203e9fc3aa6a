package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

func csvRecords(t *testing.T, tbl *Table, lang string) [][]string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, tbl, lang))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	return recs
}

func column(recs [][]string, i int) []string {
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

// Issue 21, item 10: rows a person reads are in Vietnamese order ("Ngô"
// before "Nguyễn", "Đ" right after "D", "Khóm 9" before "Khóm 10").
func TestExportRowsInVietnameseOrder(t *testing.T) {
	cov := &analytics.Coverage{Unit: analytics.CoverageRow{Code: "96", Name: "Cà Mau", Level: "province"}}
	for _, n := range []string{"Phường Đông Hải", "Khóm 10", "Nguyễn Việt Khái", "Ngô Quyền", "Khóm 9", "Phường Dương Đông"} {
		cov.Children = append(cov.Children, analytics.CoverageRow{Code: n, Name: n, Level: "commune"})
	}
	require.Equal(t, []string{"Khóm 9", "Khóm 10", "Ngô Quyền", "Nguyễn Việt Khái", "Phường Dương Đông", "Phường Đông Hải"},
		column(csvRecords(t, Coverage(cov), "vi"), 1))

	st := &analytics.TeamStats{PerTeam: []analytics.TeamRow{
		{ID: "3", Name: "Tổ CNSCĐ Ấp Đông", CommuneCode: "32002"}, {ID: "1", Name: "Tổ CNSCĐ Ấp Dừa", CommuneCode: "32002"},
		{ID: "2", Name: "Tổ CNSCĐ Khóm 1", CommuneCode: "32001"},
	}}
	require.Equal(t, []string{"Tổ CNSCĐ Khóm 1", "Tổ CNSCĐ Ấp Dừa", "Tổ CNSCĐ Ấp Đông"}, column(csvRecords(t, Teams(st), "vi"), 1),
		"by commune, then by name")
}

// Issue 21, items 20 and 21: the glossary's terms, the schema's one set
// of report statuses.
func TestExportWording(t *testing.T) {
	st := &analytics.TeamStats{Reports: []analytics.CategoryStatus{{Category: "dien_chieu_sang", NameVI: "Điện – chiếu sáng", ByStatus: map[string]int{}}}}
	teams := Teams(st)
	require.Equal(t, "Tổ công nghệ số cộng đồng", teams.SheetVI)
	require.Contains(t, strings.Join(teams.headers("vi"), "|"), "Lượt thăm hộ")
	require.Contains(t, strings.Join(Trend(st).headers("vi"), "|"), "Lượt thăm hộ")
	head := ReportStats(st).headers("vi")
	for _, s := range schema.EnumValues(schema.EnumReportStatus) {
		require.Contains(t, head, schema.EnumLabel(schema.EnumReportStatus, s, "vi"))
	}
	views := []analytics.ReportView{{ID: "r1", Category: "dien_chieu_sang", Status: "resolved"}, {ID: "r2", Category: "dien_chieu_sang", Status: "submitted"}}
	recs := csvRecords(t, Reports(views), "vi")
	require.Equal(t, []string{"Đã xử lý", "Mới tiếp nhận"}, column(recs, 3))
	for _, tbl := range []*Table{teams, Trend(st), ReportStats(st), Reports(views), Tutoring(st), Coverage(sampleCoverage())} {
		text := tbl.SheetVI + "|" + tbl.TitleVI + "|" + strings.Join(tbl.headers("vi"), "|")
		require.Empty(t, i18n.Find(text), text)
	}
}
