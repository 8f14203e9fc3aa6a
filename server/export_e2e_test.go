package server_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// readCSV parses an export: a UTF-8 byte-order mark, then a header row.
func readCSV(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(b, []byte("\ufeff")), "BOM")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// A leader downloads the report list. Every time in it is Vietnam's local
// time, as on the dashboard, and its header says so; a Vietnamese export
// names statuses, categories, outcomes and its sheet in Vietnamese, an
// English one in English; and a description a volunteer synced that
// starts like a formula stays text (OWASP's rule for CSV injection).
func TestReportExportsLocalTimeLanguageAndFormulas(t *testing.T) {
	submitted := ictAt(2026, 11, 13, 10) // Friday 10:00 ICT = 03:00 UTC; 2 working hours: 14:00
	due := ictAt(2026, 11, 13, 14)
	cat := schema.ReportCategories()[1]
	onEachStore(t, nil, func(t *testing.T, ts *servertest.TS) {
		dev := ts.NewDevice(t, ts.TeamA)
		cl := ts.Connect(t, dev)
		w := servertest.NewWriter(dev.Replica, func() time.Time { return fixedNow })
		id := syncReport(t, ts, cl, w, submitted, "=1+1").String()
		leader := login(t, ts.URL, "xa-a")

		st, b := leader.Do("GET", "/api/v1/export/reports.csv", nil)
		require.Equal(t, 200, st, string(b))
		rows := readCSV(t, b)
		require.Len(t, rows, 1)
		r := rows[0]
		require.Equal(t, id, r["Mã phản ánh"])
		require.Equal(t, "2026-11-13 10:00", r["Thời điểm tiếp nhận (giờ Việt Nam, UTC+7)"], "%v", r)
		require.Equal(t, "2026-11-13 14:00", r["Hạn xử lý (giờ Việt Nam, UTC+7)"], "%v", r)
		require.Equal(t, "Mới tiếp nhận", r["Trạng thái"])
		require.Equal(t, cat.NameVI, r["Lĩnh vực"])
		require.Equal(t, "Có", r["Quá hạn"])
		require.Equal(t, "'=1+1", r["Nội dung"], "a formula-like text cell is neutralised")

		st, b = leader.Do("GET", "/api/v1/export/reports.csv?lang=en", nil)
		require.Equal(t, 200, st, string(b))
		r = readCSV(t, b)[0]
		require.Equal(t, "2026-11-13 10:00", r["Submitted at (Vietnam time, UTC+7)"], "%v", r)
		require.Equal(t, "2026-11-13 14:00", r["Deadline (Vietnam time, UTC+7)"], "%v", r)
		require.Equal(t, "Submitted", r["Status"])
		require.Equal(t, cat.NameEN, r["Category"])
		require.Equal(t, "Yes", r["Overdue"])
		require.Equal(t, "'=1+1", r["Description"])

		for _, lang := range []string{"vi", "en"} {
			st, b = leader.Do("GET", "/api/v1/export/reports.xlsx?lang="+lang, nil)
			require.Equal(t, 200, st, string(b))
			f, err := excelize.OpenReader(bytes.NewReader(b))
			require.NoError(t, err)
			sheet := map[string]string{"vi": "Phản ánh hiện trường", "en": "Field reports"}[lang]
			require.Equal(t, []string{sheet}, f.GetSheetList())
			head, err := f.GetRows(sheet)
			require.NoError(t, err)
			col := map[string]int{}
			for i, h := range head[0] {
				col[h] = i + 1
			}
			cell := func(header string) string {
				i, ok := col[header]
				require.True(t, ok, "%s: no column %q in %v", lang, header, head[0])
				name, err := excelize.CoordinatesToCellName(i, 2)
				require.NoError(t, err)
				return name
			}
			at := map[string]string{"vi": "Thời điểm tiếp nhận (giờ Việt Nam, UTC+7)", "en": "Submitted at (Vietnam time, UTC+7)"}[lang]
			dl := map[string]string{"vi": "Hạn xử lý (giờ Việt Nam, UTC+7)", "en": "Deadline (Vietnam time, UTC+7)"}[lang]
			for h, want := range map[string]time.Time{at: submitted, dl: due} {
				raw, err := f.GetCellValue(sheet, cell(h), excelize.Options{RawCellValue: true})
				require.NoError(t, err)
				got, err := excelize.ExcelDateToTime(mustFloat(t, raw), false)
				require.NoError(t, err)
				wall := want.In(ict)
				require.Equal(t, time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, time.UTC), got.Round(time.Minute),
					"%s %s: a date cell holds Vietnam's wall-clock time", lang, h)
			}
			status, err := f.GetCellValue(sheet, cell(map[string]string{"vi": "Trạng thái", "en": "Status"}[lang]))
			require.NoError(t, err)
			require.Equal(t, map[string]string{"vi": "Mới tiếp nhận", "en": "Submitted"}[lang], status)
			// XLSX keeps text as typed text (an inline string), never a
			// formula, so the description is written as it was synced.
			desc := cell(map[string]string{"vi": "Nội dung", "en": "Description"}[lang])
			v, err := f.GetCellValue(sheet, desc)
			require.NoError(t, err)
			require.Equal(t, "=1+1", v)
			formula, err := f.GetCellFormula(sheet, desc)
			require.NoError(t, err)
			require.Empty(t, formula)
			typ, err := f.GetCellType(sheet, desc)
			require.NoError(t, err)
			require.Equal(t, excelize.CellTypeInlineString, typ)
			require.NoError(t, f.Close())
		}
	})
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	require.NoError(t, err, "%q is not a number", s)
	return f
}
