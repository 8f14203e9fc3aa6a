package export

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func sampleCoverage() *analytics.Coverage {
	skills := []analytics.SkillCount{{Skill: "vneid_install", NameVI: "Cài đặt ứng dụng VNeID", NameEN: "Installing the VNeID app", Households: 3, Share: 0.3}}
	return &analytics.Coverage{
		Unit: analytics.CoverageRow{Code: "32248", Name: "Đất Mũi", Level: "commune", Households: 10, Reached: 4, Coverage: 0.4, Skills: skills},
		Children: []analytics.CoverageRow{
			{Code: "32248-01", Name: "Ấp Kênh Đào", Level: "hamlet", Households: 6, Reached: 3, Coverage: 0.5, Skills: skills},
			{Code: "32248-02", Name: "Ấp Xóm Mũi", Level: "hamlet", Households: 4, Reached: 1, Coverage: 0.25, Skills: skills},
		},
	}
}

func TestCSVIsExcelFriendlyAndVietnameseByDefault(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, Coverage(sampleCoverage()), "vi"))
	require.True(t, strings.HasPrefix(b.String(), "\ufeff"), "BOM so Excel reads UTF-8")
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "Mã đơn vị", recs[0][0])
	require.Equal(t, "Tỷ lệ phủ", recs[0][5])
	require.Equal(t, []string{"32248-01", "Ấp Kênh Đào", "Ấp/Khóm", "6", "3", "0.5000", "3", "0.3000"}, recs[1])
	b.Reset()
	require.NoError(t, WriteCSV(&b, Coverage(sampleCoverage()), "en"))
	require.Contains(t, b.String(), "Households reached")
	recs, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "Hamlet", recs[1][2], "levels in the export's language")
}

// OWASP's rule for CSV injection: a text cell that a spreadsheet would
// take for a formula gets a leading quote; numbers, times and ordinary
// text are written as they are.
func TestCSVNeutralisesFormulaLikeText(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{"=1+1", "'=1+1"},
		{"+84912345678", "'+84912345678"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"},
		{"Đèn đường hỏng", "Đèn đường hỏng"},
		{"32248-01", "32248-01"},
		{" =1", " =1"},
		{"", ""},
		{Text{"=vi", "=en"}, "'=vi"},
		{-3, "-3"},
		{-0.5, "-0.5000"},
		{time.Date(2026, 11, 13, 3, 0, 0, 0, time.UTC), "2026-11-13 10:00"},
		{true, "Có"},
	}
	tbl := &Table{Name: "t", Columns: []Column{{Key: "n", HeaderVI: "STT", HeaderEN: "No."}, {Key: "v", HeaderVI: "Giá trị", HeaderEN: "Value"}}}
	for i, tc := range cases {
		tbl.Rows = append(tbl.Rows, []any{i, tc.in})
	}
	var b bytes.Buffer
	require.NoError(t, WriteCSV(&b, tbl, "vi"))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\ufeff"))).ReadAll()
	require.NoError(t, err)
	for i, tc := range cases {
		require.Equal(t, tc.want, recs[i+1][1], "%#v", tc.in)
	}
}

func TestXLSXOpensWithTypedCells(t *testing.T) {
	var b bytes.Buffer
	views := []analytics.ReportView{{ID: "r1", HamletCode: "32248-01", CategoryVI: "Hạ tầng đô thị", Status: "submitted",
		SubmittedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), Deadline: &analytics.Deadline{Due: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Overdue: true}}}
	require.NoError(t, WriteXLSX(&b, Reports(views, "https://hamlet.example"), "vi"))
	f, err := excelize.OpenReader(&b)
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"Phản ánh hiện trường"}, f.GetSheetList())
	rows, err := f.GetRows("Phản ánh hiện trường")
	require.NoError(t, err)
	require.Equal(t, "Mã phản ánh", rows[0][0])
	require.Equal(t, "r1", rows[1][0])
	require.Equal(t, "32248-01", rows[1][2], "no name known: the code")
	require.Equal(t, "Mới tiếp nhận", rows[1][4])
	require.Equal(t, "Có", rows[1][9])

	b.Reset()
	require.NoError(t, WriteXLSX(&b, Coverage(sampleCoverage()), "vi"))
	f2, err := excelize.OpenReader(&b)
	require.NoError(t, err)
	v, err := f2.GetCellValue("Độ phủ", "F2")
	require.NoError(t, err)
	require.Equal(t, "50.00%", v)
	raw, err := f2.GetCellValue("Độ phủ", "D2", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.Equal(t, "6", raw, "numbers stay numbers")
}

// BenchmarkXLSXProvinceHamlets is the issue's "XLSX export of the
// province's hamlet table in under 2 s": about 860 hamlets with 11 skills.
func BenchmarkXLSXProvinceHamlets(b *testing.B) {
	base := sampleCoverage()
	skills := make([]analytics.SkillCount, 11)
	for i := range skills {
		skills[i] = analytics.SkillCount{Skill: "s", NameVI: "Kỹ năng", NameEN: "Skill", Households: 100, Share: 0.3}
	}
	var rows []analytics.CoverageRow
	for i := 0; i < 864; i++ {
		rows = append(rows, analytics.CoverageRow{Code: "32248-01", Name: "Ấp 1", Level: "hamlet", Households: 348, Reached: 220, Coverage: 0.63, Skills: skills})
	}
	base.Children, base.Unit.Skills = rows, skills
	tbl := Coverage(base)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteXLSX(&buf, tbl, "vi"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes")
}
