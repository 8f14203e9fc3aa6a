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
	recs := csvRecords(t, Reports(views, "https://hamlet.example"), "vi")
	require.Equal(t, []string{"Đã xử lý", "Mới tiếp nhận"}, column(recs, 4))
	for _, tbl := range []*Table{teams, Trend(st), ReportStats(st), Reports(views, "https://hamlet.example"), Tutoring(st), Coverage(sampleCoverage())} {
		text := tbl.SheetVI + "|" + tbl.TitleVI + "|" + strings.Join(tbl.headers("vi"), "|")
		require.Empty(t, i18n.Find(text), text)
	}
}

// Issue 21, item 15: hamlets that share a name are told apart in every
// table that lists them, by the name the read model gives them
// (schema.UnitNames), in the table's language.
func TestExportNamesHamletsApart(t *testing.T) {
	k1 := func(code, former string) analytics.CoverageRow {
		return analytics.CoverageRow{Code: code, Name: "Khóm 1", Level: "hamlet",
			Display: analytics.DisplayName{VI: "Khóm 1 (" + former + " cũ)", EN: "Khóm 1 (former " + former + ")"}}
	}
	cov := &analytics.Coverage{Unit: analytics.CoverageRow{Code: "32002", Name: "An Xuyên", Level: "commune"},
		Children: []analytics.CoverageRow{k1("32005-01", "Phường 1"), k1("32002-01", "Phường 4")}}
	require.Equal(t, []string{"Khóm 1 (Phường 1 cũ)", "Khóm 1 (Phường 4 cũ)"}, column(csvRecords(t, Coverage(cov), "vi"), 1))
	require.Equal(t, []string{"Khóm 1 (former Phường 1)", "Khóm 1 (former Phường 4)"}, column(csvRecords(t, Coverage(cov), "en"), 1))

	views := []analytics.ReportView{{ID: "r1", HamletCode: "32002-01", Hamlet: cov.Children[1].Display, Status: "submitted"}}
	recs := csvRecords(t, Reports(views, "https://hamlet.example"), "vi")
	require.Equal(t, "Ấp/khóm", recs[0][2])
	require.Equal(t, []string{"Khóm 1 (Phường 4 cũ)"}, column(recs, 2))

	st := &analytics.TeamStats{PerTeam: []analytics.TeamRow{{ID: "1", Name: "Tổ CNSCĐ Khóm 1", CommuneCode: "32002",
		Commune: analytics.DisplayName{VI: "An Xuyên", EN: "An Xuyên"}}}}
	require.Equal(t, []string{"An Xuyên"}, column(csvRecords(t, Teams(st), "vi"), 3))
}
