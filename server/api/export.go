package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/export"
)

// ExportTables are the tables GET /api/v1/export/{table}.{csv|xlsx} serves.
var ExportTables = []string{"coverage", "teams", "tutoring", "report_stats", "trend", "reports"}

func (a *API) handleExport(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index) {
	file := r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	if ext != "csv" && ext != "xlsx" {
		server.WriteHTTPError(w, BadParam("file", fmt.Sprintf("Tệp %q không có: tên tệp là {bảng}.csv hoặc {bảng}.xlsx.", file), fmt.Sprintf("%q: want {table}.csv or {table}.xlsx", file)))
		return
	}
	lang := r.URL.Query().Get("lang")
	if lang == "" {
		lang = "vi"
	}
	if lang != "vi" && lang != "en" {
		server.WriteHTTPError(w, BadParam("lang", fmt.Sprintf("Ngôn ngữ %q không có; chọn vi (tiếng Việt) hoặc en (tiếng Anh).", lang), fmt.Sprintf("%q: want vi or en", lang)))
		return
	}
	var t *export.Table
	switch name {
	case "coverage":
		c, err := a.q.Coverage(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = export.Coverage(c)
	case "teams", "tutoring", "report_stats", "trend":
		st, err := a.q.Stats(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = map[string]func(*analytics.TeamStats) *export.Table{"teams": export.Teams, "tutoring": export.Tutoring,
			"report_stats": export.ReportStats, "trend": export.Trend}[name](st)
	case "reports":
		views, err := a.q.Reports(r, u, x)
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		t = export.Reports(views, server.BaseURL(r))
	default:
		server.WriteHTTPError(w, BadParam("table", fmt.Sprintf("Bảng %q không có; chọn một trong: %s.", name, strings.Join(ExportTables, ", ")), fmt.Sprintf("%q: want one of %s", name, strings.Join(ExportTables, ", "))))
		return
	}
	var buf bytes.Buffer
	var err error
	ctype := "text/csv; charset=utf-8"
	if ext == "csv" {
		err = export.WriteCSV(&buf, t, lang)
	} else {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		err = export.WriteXLSX(&buf, t, lang)
	}
	if err != nil {
		a.log.Error("export failed", "table", name, server.LogErr, err)
		server.WriteHTTPError(w, err)
		return
	}
	unit := r.URL.Query().Get("unit")
	if unit == "" {
		unit = u.UnitCode
	}
	fname := fmt.Sprintf("hamlet-%s-%s.%s", name, safeName(unit), ext)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+fname+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = buf.WriteTo(w)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
