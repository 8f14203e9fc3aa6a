package export

import (
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
	t := &Table{Name: "coverage", TitleVI: "Độ phủ " + c.Unit.Name, TitleEN: "Coverage of " + c.Unit.Name, Columns: []Column{
		{Key: "code", HeaderVI: "Mã đơn vị", HeaderEN: "Unit code"},
		{Key: "name", HeaderVI: "Tên đơn vị", HeaderEN: "Unit name"},
		{Key: "level", HeaderVI: "Cấp", HeaderEN: "Level"},
		{Key: "households", HeaderVI: "Số hộ", HeaderEN: "Households"},
		{Key: "reached", HeaderVI: "Số hộ được hỗ trợ", HeaderEN: "Households reached"},
		{Key: "coverage", HeaderVI: "Tỷ lệ phủ", HeaderEN: "Coverage", Percent: true},
	}}
	t.Columns = append(t.Columns, skillColumns(c.Unit.Skills)...)
	rows := c.Children
	if len(rows) == 0 {
		rows = []analytics.CoverageRow{c.Unit}
	}
	for _, r := range rows {
		row := []any{r.Code, r.Name, levelVI(r.Level), r.Households, r.Reached, r.Coverage}
		for _, s := range r.Skills {
			row = append(row, s.Households, s.Share)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func levelVI(level string) string {
	switch level {
	case "province":
		return "Tỉnh"
	case "district":
		return "Huyện"
	case "commune":
		return "Xã/Phường"
	case "hamlet":
		return "Ấp/Khóm"
	}
	return level
}

// Teams is the per-team table of team statistics.
func Teams(s *analytics.TeamStats) *Table {
	t := &Table{Name: "teams", TitleVI: "Tổ công nghệ số cộng đồng", TitleEN: "Community digital technology teams", Columns: []Column{
		{Key: "id", HeaderVI: "Mã tổ", HeaderEN: "Team id"},
		{Key: "name", HeaderVI: "Tên tổ", HeaderEN: "Team"},
		{Key: "commune_code", HeaderVI: "Mã xã/phường", HeaderEN: "Commune code"},
		{Key: "members", HeaderVI: "Số thành viên", HeaderEN: "Members"},
		{Key: "active_members", HeaderVI: "Thành viên hoạt động (30 ngày)", HeaderEN: "Active members (30 days)"},
		{Key: "households_reached", HeaderVI: "Số hộ được hỗ trợ", HeaderEN: "Households reached"},
		{Key: "visits", HeaderVI: "Lượt đến hộ", HeaderEN: "Visits"},
		{Key: "tutoring", HeaderVI: "Lượt hướng dẫn kỹ năng", HeaderEN: "Tutoring records"},
	}}
	for _, r := range s.PerTeam {
		t.Rows = append(t.Rows, []any{r.ID, r.Name, r.CommuneCode, r.Members, r.ActiveMembers, r.HouseholdsReached, r.Visits, r.Tutoring})
	}
	return t
}

// Tutoring is tutoring records by skill.
func Tutoring(s *analytics.TeamStats) *Table {
	t := &Table{Name: "tutoring", TitleVI: "Hướng dẫn theo kỹ năng", TitleEN: "Tutoring by skill", Columns: []Column{
		{Key: "skill", HeaderVI: "Mã kỹ năng", HeaderEN: "Skill code"},
		{Key: "name", HeaderVI: "Kỹ năng", HeaderEN: "Skill"},
		{Key: "records", HeaderVI: "Lượt hướng dẫn", HeaderEN: "Tutoring records"},
	}}
	for _, r := range s.TutoringBySkill {
		t.Rows = append(t.Rows, []any{r.Skill, r.NameVI, r.Records})
	}
	return t
}

var statuses = []struct{ code, vi, en string }{
	{"submitted", "Mới tiếp nhận", "Submitted"}, {"dispatched", "Đã chuyển xử lý", "Dispatched"},
	{"in_progress", "Đang xử lý", "In progress"}, {"resolved", "Đã xử lý", "Resolved"},
	{"returned", "Trả lại (không thuộc phạm vi)", "Returned (out of scope)"}, {"redispatch", "Chờ chuyển lại", "Sent back for re-dispatch"},
}

// ReportStats is reports by category and status.
func ReportStats(s *analytics.TeamStats) *Table {
	t := &Table{Name: "report_stats", TitleVI: "Phản ánh hiện trường theo lĩnh vực", TitleEN: "Field reports by category", Columns: []Column{
		{Key: "category", HeaderVI: "Mã lĩnh vực", HeaderEN: "Category code"},
		{Key: "name", HeaderVI: "Lĩnh vực", HeaderEN: "Category"},
		{Key: "total", HeaderVI: "Tổng số", HeaderEN: "Total"},
	}}
	for _, st := range statuses {
		t.Columns = append(t.Columns, Column{Key: st.code, HeaderVI: st.vi, HeaderEN: st.en})
	}
	for _, c := range s.Reports {
		row := []any{c.Category, c.NameVI, c.Total}
		for _, st := range statuses {
			row = append(row, c.ByStatus[st.code])
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// Trend is activity per week or month.
func Trend(s *analytics.TeamStats) *Table {
	t := &Table{Name: "trend", TitleVI: "Diễn biến theo thời gian", TitleEN: "Trend", Columns: []Column{
		{Key: "start", HeaderVI: "Từ ngày", HeaderEN: "Period start"},
		{Key: "visits", HeaderVI: "Lượt đến hộ", HeaderEN: "Visits"},
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
func Reports(views []analytics.ReportView) *Table {
	t := &Table{Name: "reports", TitleVI: "Danh sách phản ánh hiện trường", TitleEN: "Field reports", Columns: []Column{
		{Key: "id", HeaderVI: "Mã phản ánh", HeaderEN: "Report id"},
		{Key: "hamlet_code", HeaderVI: "Mã ấp/khóm", HeaderEN: "Hamlet code"},
		{Key: "category", HeaderVI: "Lĩnh vực", HeaderEN: "Category"},
		{Key: "status", HeaderVI: "Trạng thái", HeaderEN: "Status"},
		{Key: "submitted_at", HeaderVI: "Thời điểm tiếp nhận", HeaderEN: "Submitted at"},
		{Key: "dispatched_at", HeaderVI: "Thời điểm chuyển xử lý", HeaderEN: "Dispatched at"},
		{Key: "resolved_at", HeaderVI: "Thời điểm xử lý xong", HeaderEN: "Resolved at"},
		{Key: "deadline", HeaderVI: "Hạn xử lý", HeaderEN: "Deadline"},
		{Key: "overdue", HeaderVI: "Quá hạn", HeaderEN: "Overdue"},
		{Key: "agency", HeaderVI: "Cơ quan xử lý", HeaderEN: "Agency"},
		{Key: "status_reason", HeaderVI: "Lý do", HeaderEN: "Reason"},
		{Key: "description", HeaderVI: "Nội dung", HeaderEN: "Description"},
		{Key: "reporter_name", HeaderVI: "Người phản ánh", HeaderEN: "Reporter"},
		{Key: "reporter_phone", HeaderVI: "Điện thoại người phản ánh", HeaderEN: "Reporter phone"},
	}}
	for _, v := range views {
		var due any
		overdue := false
		if v.Deadline != nil {
			due, overdue = v.Deadline.Due, v.Deadline.Overdue
		}
		t.Rows = append(t.Rows, []any{v.ID, v.HamletCode, v.CategoryVI, v.Status, v.SubmittedAt, v.DispatchedAt, v.ResolvedAt,
			due, overdue, v.Agency, v.StatusReason, v.Description, v.ReporterName, v.ReporterPhone})
	}
	return t
}
