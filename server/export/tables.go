package export

import (
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

func skillColumns(skills []analytics.SkillCount) []Column {
	var cols []Column
	for _, s := range skills {
		cols = append(cols, Column{Key: "skill_" + s.Skill, HeaderVI: s.NameVI, HeaderEN: s.NameEN},
			Column{Key: "skill_" + s.Skill + "_share", HeaderVI: "Tỷ lệ " + s.NameVI, HeaderEN: s.NameEN + " (share)", Percent: true})
	}
	return cols
}

// Coverage is the table of a unit's children (the dashboard's coverage
// table): households, reached, coverage and skill coverage per child unit.
func Coverage(c *analytics.Coverage) *Table {
	t := &Table{Name: "coverage", SheetVI: "Độ phủ", SheetEN: "Coverage", TitleVI: "Độ phủ " + c.Unit.Name, TitleEN: "Coverage of " + c.Unit.Name, Columns: []Column{
		{Key: "code", HeaderVI: "Mã đơn vị", HeaderEN: "Unit code"},
		{Key: "name", HeaderVI: "Tên đơn vị", HeaderEN: "Unit name"},
		{Key: "level", HeaderVI: "Cấp", HeaderEN: "Level"},
		{Key: "households", HeaderVI: "Số hộ", HeaderEN: "Households"},
		{Key: "reached", HeaderVI: "Số hộ được hỗ trợ", HeaderEN: "Households reached"},
		{Key: "coverage", HeaderVI: "Tỷ lệ phủ", HeaderEN: "Coverage", Percent: true},
	}}
	t.Columns = append(t.Columns, skillColumns(c.Unit.Skills)...)
	rows := slices.Clone(c.Children)
	if len(rows) == 0 {
		rows = []analytics.CoverageRow{c.Unit}
	}
	// As a person looks a unit up: by name, in Vietnamese order.
	i18n.SortByKeys(rows, func(r analytics.CoverageRow) []string { return []string{unitName(r.Display, r.Name).VI, r.Code} })
	for _, r := range rows {
		row := []any{r.Code, unitName(r.Display, r.Name), level(r.Level), r.Households, r.Reached, r.Coverage}
		for _, s := range r.Skills {
			row = append(row, s.Households, s.Share)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// unitName is a unit's name as lists show it (analytics.DisplayName: "Khóm
// 1 (Phường 4 cũ)" where names repeat), or name when there is none.
func unitName(d analytics.DisplayName, name string) Text {
	if d.VI == "" {
		return Text{name, name}
	}
	return Text{d.VI, d.EN}
}

func level(l string) Text {
	switch l {
	case "province":
		return Text{"Tỉnh", "Province"}
	case "district":
		return Text{"Huyện", "District"}
	case "commune":
		return Text{"Xã/Phường", "Commune"}
	case "hamlet":
		return Text{"Ấp/Khóm", "Hamlet"}
	}
	return Text{l, l}
}

// Teams is the per-team table of team statistics.
func Teams(s *analytics.TeamStats) *Table {
	t := &Table{Name: "teams", SheetVI: i18n.Teams.VI, SheetEN: "Teams", TitleVI: i18n.Teams.VI, TitleEN: i18n.Teams.EN, Columns: []Column{
		{Key: "id", HeaderVI: "Mã tổ", HeaderEN: "Team id"},
		{Key: "name", HeaderVI: "Tên tổ", HeaderEN: "Team"},
		{Key: "commune_code", HeaderVI: "Mã xã/phường", HeaderEN: "Commune code"},
		{Key: "commune_name", HeaderVI: "Tên xã/phường", HeaderEN: "Commune"},
		{Key: "members", HeaderVI: "Số thành viên", HeaderEN: "Members"},
		{Key: "active_members", HeaderVI: "Thành viên hoạt động (30 ngày)", HeaderEN: "Active members (30 days)"},
		{Key: "households_reached", HeaderVI: "Số hộ được hỗ trợ", HeaderEN: "Households reached"},
		{Key: "visits", HeaderVI: "Lượt thăm hộ", HeaderEN: "Visits"},
		{Key: "tutoring", HeaderVI: "Lượt hướng dẫn kỹ năng", HeaderEN: "Tutoring records"},
	}}
	teams := slices.Clone(s.PerTeam)
	i18n.SortByKeys(teams, func(r analytics.TeamRow) []string { return []string{r.CommuneCode, r.Name, r.ID} })
	for _, r := range teams {
		t.Rows = append(t.Rows, []any{r.ID, r.Name, r.CommuneCode, unitName(r.Commune, r.CommuneCode), r.Members, r.ActiveMembers, r.HouseholdsReached, r.Visits, r.Tutoring})
	}
	return t
}

// Tutoring is tutoring records by skill.
func Tutoring(s *analytics.TeamStats) *Table {
	t := &Table{Name: "tutoring", SheetVI: "Hướng dẫn theo kỹ năng", SheetEN: "Tutoring by skill", TitleVI: "Hướng dẫn theo kỹ năng", TitleEN: "Tutoring by skill", Columns: []Column{
		{Key: "skill", HeaderVI: "Mã kỹ năng", HeaderEN: "Skill code"},
		{Key: "name", HeaderVI: "Kỹ năng", HeaderEN: "Skill"},
		{Key: "records", HeaderVI: "Lượt hướng dẫn", HeaderEN: "Tutoring records"},
	}}
	for _, r := range s.TutoringBySkill {
		t.Rows = append(t.Rows, []any{r.Skill, Text{r.NameVI, r.NameEN}, r.Records})
	}
	return t
}

// statuses are the report statuses in workflow order, named as every
// text names them (schema.EnumLabel: one set for pages, exports, CLIs).
var statuses = schema.EnumValues(schema.EnumReportStatus)

// status is a report status in both languages (the code if unknown).
func status(code string) Text {
	return Text{schema.EnumLabel(schema.EnumReportStatus, code, "vi"), schema.EnumLabel(schema.EnumReportStatus, code, "en")}
}

// category is a report category in both languages, from the catalogue
// (schema/refdata).
func category(code, vi string) Text {
	if c, ok := schema.ReportCategoryByCode(code); ok {
		return Text{c.NameVI, c.NameEN}
	}
	return Text{vi, code}
}

// ReportStats is reports by category and status.
func ReportStats(s *analytics.TeamStats) *Table {
	t := &Table{Name: "report_stats", SheetVI: "Phản ánh theo lĩnh vực", SheetEN: "Reports by category", TitleVI: "Phản ánh hiện trường theo lĩnh vực", TitleEN: "Field reports by category", Columns: []Column{
		{Key: "category", HeaderVI: "Mã lĩnh vực", HeaderEN: "Category code"},
		{Key: "name", HeaderVI: "Lĩnh vực", HeaderEN: "Category"},
		{Key: "total", HeaderVI: "Tổng số", HeaderEN: "Total"},
	}}
	for _, st := range statuses {
		l := status(st)
		t.Columns = append(t.Columns, Column{Key: st, HeaderVI: l.VI, HeaderEN: l.EN})
	}
	for _, c := range s.Reports {
		row := []any{c.Category, Text{c.NameVI, c.NameEN}, c.Total}
		for _, st := range statuses {
			row = append(row, c.ByStatus[st])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// Trend is activity per week or month.
func Trend(s *analytics.TeamStats) *Table {
	t := &Table{Name: "trend", SheetVI: "Diễn biến", SheetEN: "Trend", TitleVI: "Diễn biến theo thời gian", TitleEN: "Trend", Columns: []Column{
		{Key: "start", HeaderVI: "Từ ngày", HeaderEN: "Period start"},
		{Key: "visits", HeaderVI: "Lượt thăm hộ", HeaderEN: "Visits"},
		{Key: "tutoring", HeaderVI: "Lượt hướng dẫn", HeaderEN: "Tutoring records"},
		{Key: "households_reached", HeaderVI: "Số hộ được hỗ trợ", HeaderEN: "Households reached"},
	}}
	for _, b := range s.Trend {
		t.Rows = append(t.Rows, []any{b.Start, b.Visits, b.Tutoring, b.HouseholdsReached})
	}
	return t
}

// Reports is the report list as the viewer may see it (reporter columns are
// empty where the viewer's role may not see them).
// photoBase is the dashboard's address (scheme and host) the photo links
// start with.
func Reports(views []analytics.ReportView, photoBase string) *Table {
	t := &Table{Name: "reports", SheetVI: "Phản ánh hiện trường", SheetEN: "Field reports", TitleVI: "Danh sách phản ánh hiện trường", TitleEN: "Field reports", Columns: []Column{
		{Key: "id", HeaderVI: "Mã phản ánh", HeaderEN: "Report id"},
		{Key: "hamlet_code", HeaderVI: "Mã ấp/khóm", HeaderEN: "Hamlet code"},
		{Key: "hamlet_name", HeaderVI: "Ấp/khóm", HeaderEN: "Hamlet"},
		{Key: "category", HeaderVI: "Lĩnh vực", HeaderEN: "Category"},
		{Key: "status", HeaderVI: "Trạng thái", HeaderEN: "Status"},
		{Key: "submitted_at", HeaderVI: "Thời điểm tiếp nhận", HeaderEN: "Submitted at", Time: true},
		{Key: "dispatched_at", HeaderVI: "Thời điểm chuyển xử lý", HeaderEN: "Dispatched at", Time: true},
		{Key: "resolved_at", HeaderVI: "Thời điểm xử lý xong", HeaderEN: "Resolved at", Time: true},
		{Key: "deadline", HeaderVI: "Hạn xử lý", HeaderEN: "Deadline", Time: true},
		{Key: "overdue", HeaderVI: "Quá hạn", HeaderEN: "Overdue"},
		{Key: "agency", HeaderVI: "Cơ quan xử lý", HeaderEN: "Agency"},
		{Key: "status_reason", HeaderVI: "Lý do", HeaderEN: "Reason"},
		{Key: "description", HeaderVI: "Nội dung", HeaderEN: "Description"},
		{Key: "reporter_name", HeaderVI: "Người phản ánh", HeaderEN: "Reporter"},
		{Key: "reporter_phone", HeaderVI: "Điện thoại người phản ánh", HeaderEN: "Reporter phone"},
		{Key: "photos", HeaderVI: "Ảnh (mở khi đã đăng nhập)", HeaderEN: "Photos (open when signed in)"},
	}}
	for _, v := range views {
		// Links to the dashboard's report photos: they open only for a
		// signed-in user who may see the report, like the report itself.
		var links []string
		for _, d := range v.Photos {
			links = append(links, photoBase+"/reports/"+v.ID+"/photos/"+d)
		}
		var due any
		overdue := false
		if v.Deadline != nil {
			due, overdue = v.Deadline.Due, v.Deadline.Overdue
		}
		t.Rows = append(t.Rows, []any{v.ID, v.HamletCode, unitName(v.Hamlet, v.HamletCode), category(v.Category, v.CategoryVI), status(v.Status), v.SubmittedAt, v.DispatchedAt, v.ResolvedAt,
			due, overdue, v.Agency, v.StatusReason, v.Description, v.ReporterName, v.ReporterPhone, strings.Join(links, "\n")})
	}
	return t
}
