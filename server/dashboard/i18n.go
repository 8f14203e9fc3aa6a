package dashboard

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// The dashboard's words, Vietnamese first. A key missing here shows as
// itself, which TestDashboardMessagesComplete catches.
var webMessages = map[string][2]string{
	"app":                 {"Hamlet – Tổ công nghệ số cộng đồng", "Hamlet – Community digital technology teams"},
	"app_short":           {"Hamlet", "Hamlet"},
	"sign_in":             {"Đăng nhập", "Sign in"},
	"sign_out":            {"Đăng xuất", "Sign out"},
	"username":            {"Tên đăng nhập", "Username"},
	"password":            {"Mật khẩu", "Password"},
	"login_intro":         {"Trang tổng hợp dành cho lãnh đạo xã/phường, cán bộ tỉnh và cán bộ điều phối phản ánh.", "The dashboard for commune leaders, provincial staff and report coordinators."},
	"login_missing":       {"Hãy nhập tên đăng nhập và mật khẩu.", "Enter your username and password."},
	"login_bad":           {"Sai tên đăng nhập hoặc mật khẩu. Hãy kiểm tra lại (chú ý bộ gõ tiếng Việt và phím Caps Lock).", "Wrong username or password. Check them (mind the Vietnamese keyboard and Caps Lock)."},
	"login_too_many":      {"Đăng nhập sai quá nhiều lần. Hãy đợi khoảng %s rồi thử lại, hoặc nhờ cán bộ CNTT đặt lại mật khẩu.", "Too many failed sign-ins. Wait about %s and try again, or ask IT staff to reset the password."},
	"signed_out":          {"Bạn đã đăng xuất.", "You are signed out."},
	"coverage":            {"Độ phủ", "Coverage"},
	"teams":               {"Tổ công nghệ số", "Teams"},
	"reports":             {"Phản ánh hiện trường", "Field reports"},
	"sync":                {"Tình trạng đồng bộ", "Sync health"},
	"error":               {"Lỗi", "Error"},
	"back":                {"Quay lại", "Back"},
	"home":                {"Về trang độ phủ", "Go to coverage"},
	"menu":                {"Mục", "Menu"},
	"lang_other":          {"English", "Tiếng Việt"},
	"period":              {"Kỳ báo cáo", "Period"},
	"from":                {"Từ ngày", "From"},
	"to":                  {"Đến ngày", "To"},
	"show":                {"Xem", "Show"},
	"this_month":          {"Tháng này", "This month"},
	"last_month":          {"Tháng trước", "Last month"},
	"this_year":           {"Năm nay", "This year"},
	"unit":                {"Đơn vị", "Unit"},
	"households":          {"Số hộ", "Households"},
	"reached":             {"Hộ được hỗ trợ", "Households reached"},
	"coverage_pct":        {"Độ phủ", "Coverage"},
	"skill_coverage":      {"Kỹ năng tự làm được (tỷ lệ hộ)", "Skill coverage (share of households)"},
	"coverage_note":       {"Độ phủ = số hộ được đến hỗ trợ hoặc hướng dẫn trong kỳ / số hộ đang hoạt động. Kỹ năng: hộ có người tự làm được / số hộ.", "Coverage = households visited or tutored in the period / active households. Skills: households where someone can do it alone / households."},
	"chart_coverage":      {"Biểu đồ độ phủ theo đơn vị", "Coverage by unit"},
	"chart_skills":        {"Tỷ lệ hộ tự làm được theo kỹ năng", "Share of households able to use each skill alone"},
	"no_children":         {"Đơn vị này không có đơn vị cấp dưới.", "This unit has no units below it."},
	"no_data":             {"Chưa có số liệu.", "No figures yet."},
	"download":            {"Tải về", "Download"},
	"csv":                 {"CSV", "CSV"},
	"xlsx":                {"Excel (XLSX)", "Excel (XLSX)"},
	"sort_by":             {"Sắp xếp theo", "Sort by"},
	"name":                {"Tên", "Name"},
	"level_province":      {"Tỉnh", "Province"},
	"level_district":      {"Huyện", "District"},
	"level_commune":       {"Xã/phường", "Commune"},
	"level_hamlet":        {"Ấp/khóm", "Hamlet"},
	"role_provincial":     {"Cán bộ tỉnh", "Provincial staff"},
	"role_commune_leader": {"Lãnh đạo xã/phường", "Commune leader"},
	"role_coordinator":    {"Điều phối phản ánh", "Report coordinator"},
	"role_operator":       {"Cán bộ CNTT", "IT operator"},
	"teams_count":         {"Số tổ", "Teams"},
	"members":             {"Thành viên", "Members"},
	"active_members":      {"Thành viên hoạt động (30 ngày)", "Active members (30 days)"},
	"active_short":        {"Hoạt động", "Active"},
	"communes_with_teams": {"Xã/phường có tổ", "Communes with teams"},
	"visits":              {"Lượt đến hộ", "Visits"},
	"tutoring":            {"Lượt hướng dẫn", "Tutoring"},
	"tutoring_by_skill":   {"Hướng dẫn theo kỹ năng", "Tutoring by skill"},
	"trend":               {"Diễn biến theo tuần", "Trend by week"},
	"trend_month":         {"Diễn biến theo tháng", "Trend by month"},
	"per_team":            {"Theo tổ", "Per team"},
	"team":                {"Tổ", "Team"},
	"commune":             {"Xã/phường", "Commune"},
	"reports_by_cat":      {"Phản ánh theo lĩnh vực và trạng thái", "Reports by category and status"},
	"on_time":             {"Đúng hạn", "On time"},
	"on_time_rate":        {"Tỷ lệ xử lý đúng hạn", "On-time rate"},
	"overdue":             {"Quá hạn", "Overdue"},
	"total":               {"Tổng", "Total"},
	"category":            {"Lĩnh vực", "Category"},
	"status":              {"Trạng thái", "Status"},
	"all":                 {"Tất cả", "All"},
	"filter":              {"Lọc", "Filter"},
	"submitted_at":        {"Gửi lúc", "Submitted"},
	"deadline":            {"Hạn xử lý", "Deadline"},
	"time_left":           {"Còn lại", "Time left"},
	"hamlet":              {"Ấp/khóm", "Hamlet"},
	"location":            {"Địa điểm", "Location"},
	"agency":              {"Cơ quan xử lý", "Agency"},
	"reason":              {"Lý do", "Reason"},
	"reporter":            {"Người phản ánh", "Reporter"},
	"reporter_hidden":     {"(được giữ bí mật)", "(kept confidential)"},
	"computed_holidays":   {"(ngày lễ tính theo Bộ luật Lao động, chưa có lịch nghỉ chính thức năm %s)", "(holidays as computed from the Labour Code: no official schedule of days off for %s yet)"},
	"step_dispatch":       {"chuyển xử lý", "dispatch"},
	"step_response":       {"phản hồi của cơ quan", "agency response"},
	"no_reports":          {"Không có phản ánh nào.", "No field reports."},
	"page_prev":           {"← Trang trước", "← Previous"},
	"page_next":           {"Trang sau →", "Next →"},
	"showing":             {"Hiển thị %d–%d trên %d", "Showing %d–%d of %d"},
	"act_dispatch":        {"Chuyển cơ quan xử lý", "Dispatch"},
	"act_in_progress":     {"Đang xử lý", "Mark in progress"},
	"act_resolved":        {"Đã giải quyết", "Mark resolved"},
	"act_returned":        {"Trả lại", "Return"},
	"act_redispatch":      {"Chuyển lại (sai thẩm quyền)", "Send back for re-dispatch"},
	"agency_ph":           {"VD: UBND phường An Xuyên", "e.g. An Xuyên ward People's Committee"},
	"reason_ph":           {"VD: thủ tục hành chính, không thuộc phản ánh hiện trường", "e.g. an administrative procedure, not a field report"},
	"done_transition":     {"Đã cập nhật trạng thái phản ánh.", "The report's status was updated."},
	"st_submitted":        {"Mới gửi", "Submitted"},
	"st_dispatched":       {"Đã chuyển xử lý", "Dispatched"},
	"st_in_progress":      {"Đang xử lý", "In progress"},
	"st_resolved":         {"Đã giải quyết", "Resolved"},
	"st_returned":         {"Trả lại", "Returned"},
	"st_redispatch":       {"Chờ chuyển lại", "Awaiting re-dispatch"},
	"devices":             {"Thiết bị", "Devices"},
	"device":              {"Thiết bị", "Device"},
	"last_seen":           {"Lần cuối kết nối", "Last seen"},
	"never":               {"chưa bao giờ", "never"},
	"lag":                 {"Thay đổi chưa nhận", "Pending changes"},
	"lag_note":            {"Số thay đổi trên máy chủ mà thiết bị chưa tải về (đầu nhật ký máy chủ − con trỏ của thiết bị).", "Changes on the server the device has not pulled yet (server log head − device cursor)."},
	"connected":           {"Đang kết nối", "Connected"},
	"revoked":             {"Đã thu hồi", "Revoked"},
	"online":              {"trực tuyến", "online"},
	"offline":             {"ngoại tuyến", "offline"},
	"server_head":         {"Đầu nhật ký máy chủ", "Server log head"},
	"conflicts":           {"Xung đột cần xem lại", "Conflicts to review"},
	"conflicts_note":      {"Giá trị bị ghi đè bởi một thay đổi đồng thời; được lưu lại để người phụ trách xem và khôi phục nếu cần.", "Values overwritten by a concurrent change, kept so a person can review and restore them."},
	"at":                  {"Lúc", "At"},
	"table":               {"Bảng", "Table"},
	"field":               {"Trường", "Field"},
	"record":              {"Bản ghi", "Record"},
	"no_devices":          {"Chưa có thiết bị nào được đăng ký.", "No device is enrolled yet."},
	"no_conflicts":        {"Không có xung đột nào.", "No conflicts."},
	"conflicts_shown":     {"Hiển thị %d xung đột gần nhất trên tổng số %d.", "Showing the latest %d of %d conflicts."},
	"signed_in_as":        {"Đăng nhập:", "Signed in:"},
	"of":                  {"trên", "of"},
	"summary":             {"Tổng quan", "Summary"},
	"skill":               {"Kỹ năng", "Skill"},
	"records":             {"Lượt", "Records"},
	"week_of":             {"Tuần bắt đầu", "Week of"},
	"households_reached":  {"Hộ được hỗ trợ", "Households reached"},
	"report_stats":        {"Phản ánh theo lĩnh vực", "Reports by category"},
	"whole_unit":          {"Toàn đơn vị", "Whole unit"},

	// An account whose unit a reorganisation changed (unit_review.go).
	"unit_changed_title": {"Địa bàn của tài khoản đã thay đổi", "Your account's area has changed"},
	"unit_changed_bound": {"Tài khoản %s gắn với đơn vị %s (%s).", "Account %s is bound to unit %s (%s)."},
	"unit_changed_reused": {"Từ ngày %s, các đơn vị hành chính được sắp xếp lại và mã %s nay chỉ một địa bàn khác (rộng hơn hoặc hẹp hơn) địa bàn lúc tài khoản được tạo.",
		"On %s the admin units were reorganised, and code %s now names another area (wider or narrower) than when the account was created."},
	"unit_changed_retired": {"Từ ngày %s, đơn vị này đã giải thể; địa bàn của nó nay thuộc: %s.", "On %s this unit was retired; its area now belongs to: %s."},
	"unit_changed_nodata": {"Để không ai xem số liệu ngoài địa bàn được giao, tài khoản tạm thời không xem được số liệu cho tới khi địa bàn mới được xác nhận.",
		"So that nobody sees figures outside the area they were given, the account shows no figures until its new area is confirmed."},
	"unit_changed_who": {"Người xác nhận được: quản trị viên hệ thống Hamlet (cán bộ CNTT quản lý máy chủ), bằng lệnh",
		"Who can confirm it: the Hamlet system operator (the IT staff who run the server), with the command"},
	"unit_changed_other": {"Nếu tài khoản cần gắn với đơn vị khác, quản trị viên thêm --unit MÃ_ĐƠN_VỊ vào lệnh.",
		"If the account belongs to another unit, the operator adds --unit CODE to the command."},
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

// Num formats a whole number with the language's thousands separator.
func (p *webPage) Num(n int) string { return formatInt(n, p.Lang) }

func formatInt(n int, lang string) string {
	sep := "."
	if lang == "en" {
		sep = ","
	}
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Pct formats a share (0..1) as a percentage with one decimal: "26,3 %"
// in Vietnamese, "26.3%" in English.
func (p *webPage) Pct(f float64) string { return formatPct(f, p.Lang) }

func formatPct(f float64, lang string) string {
	if math.IsNaN(f) {
		f = 0
	}
	s := strconv.FormatFloat(math.Round(f*1000)/10, 'f', 1, 64)
	if lang == "en" {
		return s + "%"
	}
	return strings.Replace(s, ".", ",", 1) + " %"
}

// Time formats an instant in Vietnam's time zone.
func (p *webPage) Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(vnZone)
	if p.Lang == "en" {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("15:04 02/01/2006")
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

// Date formats a YYYY-MM-DD date.
func (p *webPage) Date(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	if p.Lang == "en" {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}

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

// Status is a report status's label.
func (p *webPage) Status(st string) string { return p.T("st_" + st) }

// Role is a role's label.
func (p *webPage) Role(r analytics.Role) string { return p.T("role_" + string(r)) }

// Level is an admin level's label.
func (p *webPage) Level(l string) string { return p.T("level_" + l) }

// Pick returns the Vietnamese or English of a pair of names.
func (p *webPage) Pick(vi, en string) string {
	if p.Lang == "en" && en != "" {
		return en
	}
	return vi
}

// skillShort are short column headings for the skill catalogue (the full
// name is the heading's title).
var skillShort = map[string][2]string{
	"device_basics":       {"Thiết bị", "Device"},
	"vneid_install":       {"Cài VNeID", "VNeID app"},
	"vneid_level2":        {"Định danh mức 2", "e-ID level 2"},
	"public_services":     {"DVC trực tuyến", "Public services"},
	"cashless_payment":    {"Không tiền mặt", "Cashless"},
	"ehealth_record":      {"Sổ SK điện tử", "e-Health record"},
	"medical_appointment": {"Đặt lịch khám", "Medical booking"},
	"ecommerce":           {"Bán hàng online", "E-commerce"},
	"camau_g":             {"CaMau-G", "CaMau-G"},
	"online_safety":       {"An toàn mạng", "Online safety"},
	"misinformation":      {"Tin sai lệch", "False information"},
}

// SkillShort is a skill's short heading.
func (p *webPage) SkillShort(code, vi, en string) string {
	if s, ok := skillShort[code]; ok {
		return p.Pick(s[0], s[1])
	}
	return p.Pick(vi, en)
}

func itoa(n int) string { return strconv.Itoa(n) }

// messageKnown reports whether the dashboard has a message key in both
// languages.
func messageKnown(key string) bool {
	m, ok := webMessages[key]
	return ok && m[0] != "" && m[1] != ""
}
