package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// The dashboard's words, Vietnamese first. A key missing here shows as
// itself, which TestDashboardMessagesComplete catches. Terms with one
// name across the CLIs, the exports and the pages are not written here
// but taken from the glossary (internal/i18n) and the schema's labels
// (init below): teams, visits, report statuses, roles.
var webMessages = map[string][2]string{
	"app":             {"Hamlet – " + i18n.Team.VI, "Hamlet – Community digital technology teams"},
	"app_short":       {"Hamlet", "Hamlet"},
	"sign_in":         {"Đăng nhập", "Sign in"},
	"sign_out":        {"Đăng xuất", "Sign out"},
	"skip_to_content": {"Bỏ qua thanh điều hướng, tới nội dung chính", "Skip the menu, to the main content"},
	"username":        {"Tên đăng nhập", "Username"},
	"password":        {"Mật khẩu", "Password"},
	"login_intro":     {"Trang tổng hợp dành cho lãnh đạo xã/phường, cán bộ tỉnh và " + i18n.Coordinator.VI + ".", "The dashboard for commune leaders, provincial staff and report coordinators."},
	"login_missing":   {"Hãy nhập tên đăng nhập và mật khẩu.", "Enter your username and password."},
	"login_bad":       {"Sai tên đăng nhập hoặc mật khẩu. Hãy kiểm tra lại (chú ý bộ gõ tiếng Việt và phím Caps Lock).", "Wrong username or password. Check them (mind the Vietnamese keyboard and Caps Lock)."},
	"login_too_many":  {"Đăng nhập sai quá nhiều lần. Hãy đợi khoảng %s rồi thử lại, hoặc nhờ " + i18n.CodeIssuer.VI + " đặt lại mật khẩu.", "Too many failed sign-ins. Wait about %s and try again, or ask IT staff to reset the password."},
	"signed_out":      {"Bạn đã đăng xuất.", "You are signed out."},
	"coverage":        {"Độ phủ", "Coverage"},
	"sync":            {"Tình trạng đồng bộ", "Sync health"},
	"error":           {"Lỗi", "Error"},
	"back":            {"Quay lại", "Back"},
	"home":            {"Về trang độ phủ", "Go to coverage"},
	"menu":            {"Mục", "Menu"},
	"lang_other":      {"English", "Tiếng Việt"},
	"vn_time":         {"Giờ hiển thị là " + i18n.VietnamTime.VI + ".", "Times are " + i18n.VietnamTime.EN + "."},
	"period":          {"Kỳ báo cáo", "Period"},
	"from":            {"Từ ngày", "From"},
	"to":              {"Đến ngày", "To"},
	"date_hint":       {"ngày/tháng/năm", "year-month-day"},
	"show":            {"Xem", "Show"},
	"this_month":      {"Tháng này", "This month"},
	"last_month":      {"Tháng trước", "Last month"},
	"this_year":       {"Năm nay", "This year"},
	"shown_month":     {"Số liệu tháng %s", "Figures for %s"},
	"shown_range":     {"Số liệu từ %s đến %s", "Figures from %s to %s"},
	"shown_latest":    {"tháng gần nhất có số liệu", "the latest month with figures"},
	"unit":            {"Đơn vị", "Unit"},
	"households":      {"Số hộ", "Households"},
	"reached":         {"Hộ được hỗ trợ", "Households reached"},
	"coverage_pct":    {"Độ phủ", "Coverage"},
	"coverage_note": {"Độ phủ = số hộ được thăm hoặc hướng dẫn trong kỳ / số hộ đang hoạt động. Kỹ năng: số hộ có người tự làm được / số hộ.",
		"Coverage = households visited or tutored in the period / active households. Skills: households where someone can do it alone / households."},
	"chart_coverage":      {"Biểu đồ độ phủ theo đơn vị", "Coverage by unit"},
	"chart_skills":        {"Tỷ lệ hộ tự làm được theo kỹ năng", "Share of households able to use each skill alone"},
	"no_children":         {"Đơn vị này không có đơn vị cấp dưới.", "This unit has no units below it."},
	"no_data":             {"Chưa có số liệu.", "No figures yet."},
	"no_households":       {"chưa có hộ nào trong danh sách", "no households listed yet"},
	"download":            {"Tải về", "Download"},
	"csv":                 {"CSV", "CSV"},
	"xlsx":                {"Excel (XLSX)", "Excel (XLSX)"},
	"name":                {"Tên", "Name"},
	"level_province":      {"Tỉnh", "Province"},
	"level_district":      {"Huyện", "District"},
	"level_commune":       {"Xã/phường", "Commune"},
	"level_hamlet":        {"Ấp/khóm", "Hamlet"},
	"teams_count":         {"Số tổ", "Teams"},
	"members":             {"Thành viên", "Members"},
	"active_members":      {"Thành viên hoạt động (30 ngày)", "Active members (30 days)"},
	"active_short":        {"Hoạt động (30 ngày)", "Active (30 days)"},
	"communes_with_teams": {"Xã/phường có tổ", "Communes with teams"},
	"tutoring_by_skill":   {"Hướng dẫn theo kỹ năng", "Tutoring by skill"},
	"report_stats":        {"Phản ánh theo lĩnh vực", "Reports by category"},
	"trend":               {"Diễn biến theo tuần", "Trend by week"},
	"trend_month":         {"Diễn biến theo tháng", "Trend by month"},
	"per_team":            {"Theo tổ", "Per team"},
	"team":                {"Tổ", "Team"},
	"commune":             {"Xã/phường", "Commune"},
	"reports_by_cat":      {"Phản ánh theo lĩnh vực và trạng thái", "Reports by category and status"},
	"on_time":             {"Đúng hạn", "On time"},
	"on_time_rate":        {"Tỷ lệ xử lý đúng hạn", "On-time rate"},
	"overdue":             {"Quá hạn", "Overdue"},
	"total":               {"Tổng số", "Total"},
	"category":            {"Lĩnh vực", "Category"},
	"status":              {"Trạng thái", "Status"},
	"all":                 {"Tất cả", "All"},
	"filter":              {"Lọc", "Filter"},
	"submitted_at":        {"Thời điểm tiếp nhận", "Submitted"},
	"occurred_at":         {"Thời điểm xảy ra", "Occurred"},
	"dispatched_at":       {"Thời điểm chuyển xử lý", "Dispatched"},
	"resolved_at":         {"Thời điểm xử lý xong", "Resolved"},
	"deadline":            {"Hạn xử lý", "Deadline"},
	"hamlet":              {"Ấp/khóm", "Hamlet"},
	"location":            {"Địa điểm", "Location"},
	"agency":              {"Cơ quan xử lý", "Agency"},
	"reason":              {"Lý do", "Reason"},
	"reporter":            {"Người phản ánh", "Reporter"},
	"reporter_hidden":     {"(được giữ bí mật)", "(kept confidential)"},
	"satisfaction":        {"Mức hài lòng", "Satisfaction"},
	"report_link":         {"Xem phản ánh", "Open the report"},
	"photos":              {"Ảnh chụp", "Photos"},
	"photos_n":            {"ảnh", "photos"},
	"photos_1":            {"ảnh", "photo"},
	"photo_open":          {"Mở ảnh đầy đủ", "Open the full photo"},
	"photo_alt":           {"Ảnh %d của phản ánh", "Photo %d of the report"},
	"report_title":        {"Phản ánh", "Field report"},
	"all_reports":         {"Danh sách phản ánh", "All field reports"},
	"computed_holidays":   {"(ngày lễ tính theo Bộ luật Lao động, chưa có lịch nghỉ chính thức năm %s)", "(holidays as computed from the Labour Code: no official schedule of days off for %s yet)"},
	"step_dispatch":       {"chuyển xử lý", "dispatch"},
	"step_response":       {"phản hồi của cơ quan", "agency response"},
	"no_reports":          {"Không có phản ánh nào.", "No field reports."},
	"page_prev":           {"← Trang trước", "← Previous"},
	"page_next":           {"Trang sau →", "Next →"},
	"showing":             {"Hiển thị %s–%s trong tổng số %s", "Showing %s–%s of %s"},
	// The buttons that change a report's status say what they do.
	"act_dispatched":  {"Chuyển cơ quan xử lý", "Dispatch to an agency"},
	"act_in_progress": {"Chuyển sang đang xử lý", "Mark as in progress"},
	"act_resolved":    {"Xác nhận đã xử lý", "Mark as resolved"},
	"act_returned":    {"Trả lại (không thuộc phạm vi)", "Return (out of scope)"},
	"act_redispatch":  {"Yêu cầu chuyển lại (sai thẩm quyền)", "Ask for re-dispatch (wrong agency)"},
	"agency_ph":       {"VD: UBND phường An Xuyên", "e.g. An Xuyên ward People's Committee"},
	"reason_ph":       {"VD: thủ tục hành chính, không thuộc phản ánh hiện trường", "e.g. an administrative procedure, not a field report"},
	"done_transition": {"Đã cập nhật trạng thái phản ánh.", "The report's status was updated."},
	"devices":         {"Thiết bị", "Devices"},
	"device":          {"Thành viên (máy)", "Member (laptop)"},
	"last_seen":       {"Lần cuối kết nối", "Last seen"},
	"never":           {"chưa kết nối lần nào", "never"},
	"lag":             {"Thay đổi chưa nhận", "Changes not yet received"},
	"lag_note": {"Số thay đổi của người khác trên địa bàn của tổ mà máy chưa báo đã nhận về (thay đổi do chính máy gửi lên không tính). Máy báo số đã nhận ở lần đồng bộ sau.",
		"Changes by others in the team's hamlets the laptop has not yet reported receiving (its own changes do not count). A laptop reports what it received at its next sync."},
	"lag_more":           {"hơn %s", "over %s"},
	"connected":          {"Đang kết nối", "Connected"},
	"revoked":            {"Đã thu hồi", "Revoked"},
	"online":             {"đang kết nối", "online"},
	"offline":            {"không kết nối", "offline"},
	"server_head":        {"Tổng số thay đổi trên máy chủ", "Changes on the server"},
	"conflicts":          {"Xung đột cần xem lại", "Conflicts to review"},
	"conflicts_note":     {"Giá trị bị ghi đè bởi một thay đổi đồng thời; được lưu lại để người phụ trách xem và khôi phục nếu cần.", "Values overwritten by a concurrent change, kept so a person can review and restore them."},
	"at":                 {"Lúc", "At"},
	"table":              {"Loại dữ liệu", "Data"},
	"field":              {"Thông tin", "Field"},
	"record":             {"Mã bản ghi", "Record id"},
	"no_devices":         {"Chưa có thiết bị nào được đăng ký.", "No device is enrolled yet."},
	"no_conflicts":       {"Không có xung đột nào.", "No conflicts."},
	"conflicts_shown":    {"Hiển thị %s xung đột gần nhất trong tổng số %s.", "Showing the latest %s of %s conflicts."},
	"signed_in_as":       {"Đăng nhập:", "Signed in:"},
	"summary":            {"Tổng quan", "Summary"},
	"skill":              {"Kỹ năng", "Skill"},
	"households_reached": {"Hộ được hỗ trợ", "Households reached"},
	"whole_unit":         {"Toàn đơn vị", "Whole unit"},
	"scroll_hint":        {"Kéo ngang bảng để xem các cột khác.", "Scroll the table sideways for more columns."},

	// An account whose unit a reorganisation changed (server/unit_review.go).
	"unit_changed_title": {"Địa bàn của tài khoản đã thay đổi", "Your account's area has changed"},
	"unit_changed_bound": {"Tài khoản %s gắn với đơn vị %s (%s).", "Account %s is bound to unit %s (%s)."},
	"unit_changed_reused": {"Từ ngày %s, các đơn vị hành chính được " + i18n.Reorganised.VI + " và mã %s nay chỉ một địa bàn khác (rộng hơn hoặc hẹp hơn) địa bàn lúc tài khoản được tạo.",
		"On %s the admin units were " + i18n.Reorganised.EN + ", and code %s now names another area (wider or narrower) than when the account was created."},
	"unit_changed_retired": {"Từ ngày %s, đơn vị này đã được " + i18n.Reorganised.VI + "; địa bàn của nó nay thuộc: %s.", "On %s this unit was " + i18n.Reorganised.EN + "; its area now belongs to: %s."},
	"unit_changed_nodata": {"Để không ai xem số liệu ngoài địa bàn được giao, tài khoản tạm thời không xem được số liệu cho tới khi địa bàn mới được xác nhận.",
		"So that nobody sees figures outside the area they were given, the account shows no figures until its new area is confirmed."},
	"unit_changed_who": {"Người xác nhận được: quản trị viên hệ thống Hamlet (" + i18n.CodeIssuer.VI + " quản lý máy chủ), bằng lệnh",
		"Who can confirm it: the Hamlet system operator (the IT staff who run the server), with the command"},
	"unit_changed_other": {"Nếu tài khoản cần gắn với đơn vị khác, quản trị viên thêm --unit MÃ_ĐƠN_VỊ vào lệnh.",
		"If the account belongs to another unit, the operator adds --unit CODE to the command."},
}

// The glossary's and the schema's terms, under the keys the templates use.
func init() {
	label := func(f func(lang string) string) [2]string { return [2]string{f("vi"), f("en")} }
	webMessages["teams"] = [2]string{i18n.Teams.VI, i18n.Teams.EN}
	// Headings of lists and columns: the tables' names, in the plural in English.
	webMessages["visits"] = [2]string{schema.TableLabel("visits", "vi"), "Visits"}
	webMessages["tutoring"] = [2]string{schema.TableLabel("tutoring_records", "vi"), "Tutoring records"}
	webMessages["reports"] = [2]string{schema.TableLabel("field_reports", "vi"), "Field reports"}
	for role, t := range i18n.UserRole {
		webMessages["role_"+role] = [2]string{t.VI, t.EN}
	}
	for _, st := range schema.EnumValues(schema.EnumReportStatus) {
		webMessages["st_"+st] = label(func(lang string) string { return schema.EnumLabel(schema.EnumReportStatus, st, lang) })
	}
}

func webT(lang, key string) string {
	m, ok := webMessages[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

// Tf formats a message with arguments.
func (p *webPage) Tf(key string, args ...any) string { return fmt.Sprintf(p.T(key), args...) }

// Hint is an error's hint in the page's language.
func (p *webPage) Hint(e *server.APIError) string {
	if p.Lang == "en" {
		return e.HintEN
	}
	return e.HintVI
}

// Num formats a whole number with the language's thousands separator
// ("1.610"; English "1,610"). Any integer type: counts are int, log
// positions uint64.
func (p *webPage) Num(n any) string {
	switch v := n.(type) {
	case int:
		return i18n.Int(int64(v), p.Lang)
	case int64:
		return i18n.Int(v, p.Lang)
	case uint64:
		return i18n.Int(int64(min(v, math.MaxInt64)), p.Lang)
	}
	return fmt.Sprint(n)
}

// Pct formats a share (0..1) as a percentage with one decimal: "26,3 %"
// in Vietnamese, "26.3%" in English.
func (p *webPage) Pct(f float64) string { return formatPct(f, p.Lang) }

func formatPct(f float64, lang string) string {
	if math.IsNaN(f) {
		f = 0
	}
	s := i18n.Decimal(math.Round(f*1000)/10, 1, lang)
	if lang == "en" {
		return s + "%"
	}
	return s + " %"
}

// Time is an instant as people in Vietnam read it, in Vietnam's time
// ("01/12/2026 14:30"); the footer says which zone (vn_time).
func (p *webPage) Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return i18n.DateTimeBare(t, p.Lang)
}

// Years lists years: "2026, 2027".
func (p *webPage) Years(ys []int) string {
	s := make([]string, len(ys))
	for i, y := range ys {
		s[i] = strconv.Itoa(y)
	}
	return strings.Join(s, ", ")
}

// TimePtr formats an optional instant.
func (p *webPage) TimePtr(t *time.Time) string {
	if t == nil {
		return p.T("never")
	}
	return p.Time(*t)
}

// Date formats a YYYY-MM-DD date: "01/12/2026".
func (p *webPage) Date(d string) string { return i18n.DateText(d, p.Lang) }

// Left formats the time left until a deadline (negative: overdue).
func (p *webPage) Left(secs int64) string {
	d := time.Duration(secs) * time.Second
	over := d < 0
	if over {
		d = -d
	}
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	mins := int(d % time.Hour / time.Minute)
	var parts []string
	vi := p.Lang != "en"
	unit := func(n int, v, e string) {
		if vi {
			parts = append(parts, fmt.Sprintf("%d %s", n, v))
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", n, e))
		}
	}
	switch {
	case days > 0:
		unit(days, "ngày", "d")
		if hours > 0 {
			unit(hours, "giờ", "h")
		}
	case hours > 0:
		unit(hours, "giờ", "h")
		unit(mins, "phút", "min")
	default:
		unit(mins, "phút", "min")
	}
	s := strings.Join(parts, " ")
	switch {
	case over && vi:
		return "quá hạn " + s
	case over:
		return "overdue by " + s
	case vi:
		return "còn " + s
	}
	return s + " left"
}

// Status is a report status's label (schema.EnumLabel).
func (p *webPage) Status(st string) string {
	return schema.EnumLabel(schema.EnumReportStatus, st, p.Lang)
}

// Role is a dashboard role's label (i18n.UserRole).
func (p *webPage) Role(r analytics.Role) string { return i18n.UserRoleLabel(string(r), p.Lang) }

// Level is an admin level's label.
func (p *webPage) Level(l string) string { return p.T("level_" + l) }

// Pick returns the Vietnamese or English of a pair of names.
func (p *webPage) Pick(vi, en string) string {
	if p.Lang == "en" && en != "" {
		return en
	}
	return vi
}

// Name is a unit's name as lists show it (analytics.DisplayName: "Khóm 1
// (Phường 4 cũ)" where names repeat).
func (p *webPage) Name(d analytics.DisplayName, name string) string {
	if d.VI == "" {
		return name
	}
	return d.In(p.Lang)
}

func itoa(n int) string { return strconv.Itoa(n) }

// messageKnown reports whether the dashboard has a message key in both
// languages.
func messageKnown(key string) bool {
	m, ok := webMessages[key]
	return ok && m[0] != "" && m[1] != ""
}
