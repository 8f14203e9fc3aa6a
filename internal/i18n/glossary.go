package i18n

import "strings"

// The glossary: one term per concept, chosen once, used by the CLIs, the
// exports and the dashboard. The official names are written in full, as
// the province's documents write them (../shared/seeds): "Tổ công nghệ số
// cộng đồng", never "Tổ công nghệ số" alone; the short form, for a team's
// own name ("Tổ CNSCĐ Khóm 1"), is "Tổ CNSCĐ". Report statuses, tutoring
// outcomes, member roles, tables and fields are the schema's data
// (schema.EnumLabel, schema.TableLabel, schema.FieldLabel); the
// dashboard's account roles are UserRole here.
var (
	// Team is the official name of the teams, in full.
	Team = Text{"Tổ công nghệ số cộng đồng", "community digital technology team"}
	// Teams heads a list of them.
	Teams = Text{"Tổ công nghệ số cộng đồng", "Community digital technology teams"}
	// TeamShort starts a team's own name: "Tổ CNSCĐ Khóm 1".
	TeamShort = Text{"Tổ CNSCĐ", "Team"}
	// Visit is a volunteer's visit to a household.
	Visit = Text{"lượt thăm hộ", "visit"}
	// Tutoring is one skill taught to one person.
	Tutoring = Text{"lượt hướng dẫn", "tutoring record"}
	// Report is a field report (phản ánh hiện trường, CaMau-G).
	Report = Text{"phản ánh hiện trường", "field report"}
	// CodeIssuer is who issues enrollment codes and restores laptops: the
	// operator of the Hamlet server (the dashboard's "operator" role).
	CodeIssuer = Text{"cán bộ CNTT", "IT staff"}
	// Coordinator is who moves a field report through its workflow.
	Coordinator = Text{"cán bộ điều phối phản ánh", "report coordinator"}
	// LocalData is what the agent holds on the laptop, for a volunteer.
	LocalData = Text{"dữ liệu trên máy", "the data on this laptop"}
	// DataVersion is the data schema's version, for a volunteer.
	DataVersion = Text{"phiên bản dữ liệu", "data version"}
	// Network is what a volunteer checks when the server cannot be reached.
	Network = Text{"4G/Wi-Fi", "mobile data/Wi-Fi"}
	// Reorganised is what happened to the units merged in 2025.
	Reorganised = Text{"sắp xếp (sáp nhập)", "reorganised (merged)"}
	// EID2 is the level-2 electronic identification of VNeID.
	EID2 = Text{"định danh điện tử mức độ 2", "e-ID level 2"}
	// Cashless is the official term for cashless payment.
	Cashless = Text{"thanh toán không dùng tiền mặt", "cashless payment"}
	// EHealth is the electronic health record.
	EHealth = Text{"Sổ sức khỏe điện tử", "electronic health record"}
	// OnlineSelling is selling online, as the guidance names it.
	OnlineSelling = Text{"Bán hàng trực tuyến", "Selling online"}
	// VietnamTime names the zone every time shown is in.
	VietnamTime = Text{"giờ Việt Nam, UTC+7", "Vietnam time, UTC+7"}
)

// UserRole labels the dashboard's account roles (analytics.Role values).
var UserRole = map[string]Text{
	"provincial":     {"Cán bộ tỉnh", "Provincial staff"},
	"commune_leader": {"Lãnh đạo xã/phường", "Commune leader"},
	"coordinator":    {"Điều phối phản ánh", "Report coordinator"},
	"operator":       {"Cán bộ CNTT", "IT operator"},
}

// UserRoleLabel is a dashboard role in lang, or the value itself when unknown.
func UserRoleLabel(role, lang string) string {
	if t, ok := UserRole[role]; ok {
		return t.In(lang)
	}
	return role
}

// Avoided is a wording the glossary replaced: Term must not appear in
// Vietnamese text (unless followed by Unless), Use says what to write.
type Avoided struct {
	Term, Unless, Use string
}

// Avoid lists the wordings a native reader flagged (issue 21) with what
// replaced them. Tests of the CLIs, the exports and the dashboard check
// their Vietnamese text against it (Find), so they do not come back.
var Avoid = []Avoided{
	{Term: "CNTS", Use: "Tổ CNSCĐ / Tổ công nghệ số cộng đồng"},
	{Term: "Tổ công nghệ số", Unless: " cộng đồng", Use: "Tổ công nghệ số cộng đồng"},
	{Term: "tổ công nghệ số", Unless: " cộng đồng", Use: "tổ công nghệ số cộng đồng"},
	{Term: "lượt đến hộ", Use: "lượt thăm hộ"},
	{Term: "Lượt đến hộ", Use: "Lượt thăm hộ"},
	{Term: "Mới gửi", Use: "Mới tiếp nhận"},
	{Term: "Đã giải quyết", Use: "Đã xử lý"},
	{Term: "cán bộ điều phối", Unless: " phản ánh", Use: "cán bộ CNTT (mã đăng ký) / cán bộ điều phối phản ánh (phản ánh)"},
	{Term: "điều phối viên", Use: "cán bộ điều phối phản ánh"},
	{Term: "mức 2", Use: "định danh điện tử mức độ 2"},
	{Term: "không tiền mặt", Use: "không dùng tiền mặt"},
	{Term: "Không tiền mặt", Use: "Thanh toán không dùng tiền mặt"},
	{Term: "Sổ SK", Use: "Sổ sức khỏe điện tử"},
	{Term: "DVC", Use: "dịch vụ công trực tuyến"},
	{Term: "online", Use: "trực tuyến"},
	{Term: "Online", Use: "Trực tuyến"},
	{Term: "giải thể", Use: "sắp xếp (sáp nhập)"},
	{Term: "3G", Use: "4G/Wi-Fi"},
	{Term: "Bản sao:", Use: "dữ liệu trên máy"},
	{Term: "bản sao dữ liệu", Use: "dữ liệu trên máy"},
	{Term: "thu gọn bản sao", Use: "dọn dữ liệu cũ trên máy"},
	{Term: "tải bản sao", Use: "tải dữ liệu về máy"},
	{Term: "Lược đồ", Use: "Phiên bản dữ liệu"},
	{Term: "lược đồ", Use: "phiên bản dữ liệu"},
	{Term: "con trỏ", Use: "đã nhận tới"},
	{Term: "CON TRỎ", Use: "ĐÃ NHẬN TỚI"},
	{Term: "Đầu nhật ký", Use: "tổng số thay đổi trên máy chủ"},
	{Term: "Có lỗi:", Use: "say what failed and what to do"},
}

// Find returns the avoided wordings text contains.
func Find(text string) []Avoided {
	var out []Avoided
	for _, a := range Avoid {
		rest := text
		for {
			i := strings.Index(rest, a.Term)
			if i < 0 {
				break
			}
			rest = rest[i+len(a.Term):]
			if a.Unless == "" || !strings.HasPrefix(rest, a.Unless) {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// HasVietnamese reports whether s holds a letter only Vietnamese uses
// (a diacritic or đ): how a test tells a Vietnamese text from an English one.
func HasVietnamese(s string) bool {
	for _, r := range s {
		if r > 0x7f && (r >= 0xc0 && r <= 0x1ef9) {
			return true
		}
	}
	return false
}
