package schema

import (
	"fmt"
	"strings"
)

// Codes of *ValidationError. They are stable: syncproto sends them on the
// wire and the agent picks its message by them.
const (
	CodeRequired      = "required"
	CodeWrongType     = "wrong_type"
	CodeTooLong       = "too_long"
	CodeOutOfRange    = "out_of_range"
	CodeUnknownEnum   = "unknown_enum"
	CodeInvalidPhone  = "invalid_phone"
	CodeInvalidDate   = "invalid_date"
	CodeInvalidUUID   = "invalid_uuid"
	CodeInvalidHamlet = "invalid_hamlet"
	CodeUnknownField  = "unknown_field"
	CodeUnknownTable  = "unknown_table"
	// CodeReadOnly: the writer may not write this field (Field.WrittenBy).
	CodeReadOnly = "read_only"
	// CodeInFuture: a date or time after the day after the writer's today.
	CodeInFuture = "in_future"
)

// ValidationError is the one error type of the package's value checks.
// Detail is English for logs: Error() carries it, so whatever keeps the
// error keeps it (a log, hamlet-agent --json's "detail"). It never holds
// the value checked, nor any part of it: a value typed into the wrong
// field may be a name, an address, a phone or an ID number (12 digits in
// a date or a count). It says what is wrong with the value's form (its
// length, digits only) and the field's rules (a range, an enum's name,
// the latest date taken). What the volunteer reads is Message, built from
// the code and the field's rules alone.
type ValidationError struct {
	Table  string
	Field  string
	Code   string
	Detail string
}

func (e *ValidationError) Error() string {
	where := e.Table
	if e.Field != "" {
		where += "." + e.Field
	}
	if e.Detail == "" {
		return fmt.Sprintf("schema: %s: %s", where, e.Code)
	}
	return fmt.Sprintf("schema: %s: %s: %s", where, e.Code, e.Detail)
}

func verr(table, field, code, format string, args ...any) *ValidationError {
	return &ValidationError{Table: table, Field: field, Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Message returns text for a volunteer saying what is wrong and what to do:
// Vietnamese for "vi" (and any language without a translation), English for
// "en". It is built from the code and the field's rules, never from Detail,
// so it cannot leak a value.
func (e *ValidationError) Message(lang string) string {
	en := strings.HasPrefix(strings.ToLower(lang), "en")
	label := fieldLabel(e.Field, en)
	f := e.field()
	pick := func(vi, eng string) string {
		if en {
			return eng
		}
		return vi
	}
	switch e.Code {
	case CodeRequired:
		return pick("Chưa nhập "+label+": hãy nhập rồi lưu lại.",
			capitalize(label)+" is missing: fill it in and save again.")
	case CodeTooLong:
		if f != nil && f.MaxLen > 0 {
			return pick(fmt.Sprintf("%s quá dài: tối đa %d ký tự, hãy rút gọn.", capitalize(label), f.MaxLen),
				fmt.Sprintf("%s is too long: at most %d characters, please shorten it.", capitalize(label), f.MaxLen))
		}
		return pick(capitalize(label)+" quá dài: hãy rút gọn.", capitalize(label)+" is too long: please shorten it.")
	case CodeOutOfRange:
		if f != nil && (f.Min != 0 || f.Max != 0) && f.Type == TypeInt {
			return pick(fmt.Sprintf("%s phải từ %d đến %d: hãy nhập lại.", capitalize(label), f.Min, f.Max),
				fmt.Sprintf("%s must be between %d and %d: please enter it again.", capitalize(label), f.Min, f.Max))
		}
		return pick(capitalize(label)+" nằm ngoài giới hạn cho phép: hãy kiểm tra và nhập lại.",
			capitalize(label)+" is out of the allowed range: check it and enter it again.")
	case CodeUnknownEnum:
		return pick(capitalize(label)+" không có trong danh mục: hãy chọn lại từ danh sách. Nếu danh sách thiếu, hãy cập nhật Hamlet.",
			capitalize(label)+" is not in the list: pick one from the list. If the list lacks it, update Hamlet.")
	case CodeInvalidPhone:
		return pick("Số điện thoại không hợp lệ: nhập 10 chữ số, bắt đầu bằng 0 (ví dụ 0912345678).",
			"Invalid phone number: enter 10 digits starting with 0 (for example 0912345678).")
	case CodeInvalidDate:
		if f != nil && f.Type == TypeTime {
			return pick("Thời gian "+label+" không hợp lệ: hãy kiểm tra ngày giờ trên máy rồi nhập lại.",
				"The time for "+label+" is invalid: check the laptop's date and time, then enter it again.")
		}
		return pick(capitalize(label)+" không hợp lệ: nhập ngày theo dạng năm-tháng-ngày, ví dụ 2025-07-01.",
			capitalize(label)+" is not a valid date: use year-month-day, for example 2025-07-01.")
	case CodeInvalidUUID:
		return pick("Mã bản ghi ("+label+") bị hỏng: hãy đồng bộ lại; nếu vẫn lỗi, báo cho tổ trưởng.",
			"The record reference ("+label+") is damaged: sync again; if it persists, tell your team leader.")
	case CodeInvalidHamlet:
		return pick("Mã ấp/khóm không hợp lệ (dạng mã xã-số thứ tự, ví dụ 32002-03): hãy chọn lại ấp/khóm.",
			"Invalid hamlet code (commune code-number, for example 32002-03): pick the hamlet again.")
	case CodeReadOnly:
		return pick(capitalize(label)+" do cán bộ điều phối phản ánh cập nhật trên hệ thống, máy của tổ không sửa được: hãy bỏ thay đổi này.",
			capitalize(label)+" is set by the coordinators, not from a team's laptop: drop this change.")
	case CodeInFuture:
		return pick(capitalize(label)+" ở tương lai (sau ngày mai): hãy kiểm tra ngày và đồng hồ trên máy rồi nhập lại.",
			capitalize(label)+" is in the future (after tomorrow): check the date and the laptop's clock, then enter it again.")
	case CodeWrongType:
		// A field with a structure of its own (a photo list) has the right
		// type and the wrong form: "must be text" would send the reader
		// looking for what is already there.
		if f != nil && f.format == formatNone {
			t := typeLabels[f.Type]
			return pick(fmt.Sprintf("%s phải là %s: hãy nhập lại.", capitalize(label), t[0]),
				fmt.Sprintf("%s must be %s: please enter it again.", capitalize(label), t[1]))
		}
		return pick(capitalize(label)+" có dạng không đúng: hãy nhập lại.",
			capitalize(label)+" is in the wrong form: please enter it again.")
	case CodeUnknownField, CodeUnknownTable:
		return pick("Máy chủ không nhận dạng được dữ liệu này: hãy cập nhật Hamlet lên phiên bản mới nhất rồi đồng bộ lại.",
			"The server does not recognise this data: update Hamlet to the latest version and sync again.")
	default: // anything newer than this build
		return pick(capitalize(label)+" có dạng không đúng: hãy nhập lại.",
			capitalize(label)+" is in the wrong form: please enter it again.")
	}
}

// typeLabels says what a value of each type looks like, for a person.
var typeLabels = map[FieldType][2]string{ // {vi, en}
	TypeString: {"chữ", "text"},
	TypeInt:    {"số nguyên", "a whole number"},
	TypeBool:   {"có hoặc không", "yes or no"},
	TypeFloat:  {"số", "a number"},
	TypeTime:   {"ngày giờ", "a date and time"},
	TypeDate:   {"ngày (năm-tháng-ngày)", "a date (year-month-day)"},
	TypeUUID:   {"mã bản ghi", "a record id"},
	TypeEnum:   {"một mục trong danh sách", "an item from the list"},
	TypePhone:  {"số điện thoại", "a phone number"},
}

// ExpectedType names the type a field's value must have ("int", "bool",
// ...), for a reason a client's developer reads; "" for an unknown field.
func ExpectedType(table, field string) string {
	t, ok := LookupTable(table)
	if !ok {
		return ""
	}
	f, ok := t.Field(field)
	if !ok {
		return ""
	}
	return f.Type.String()
}

func (e *ValidationError) field() *Field {
	t, ok := LookupTable(e.Table)
	if !ok {
		return nil
	}
	f, _ := t.Field(e.Field)
	return f
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// labels names fields the way volunteers know them. Field names are shared
// across tables (notes, household_id), so one map serves all.
var labels = map[string][2]string{ // name -> {vi, en}
	"hamlet_code":          {"ấp/khóm", "hamlet"},
	"head_name":            {"tên chủ hộ", "head of household's name"},
	"address":              {"địa chỉ", "address"},
	"phone":                {"số điện thoại", "phone number"},
	"members_count":        {"số nhân khẩu", "number of household members"},
	"has_smartphone":       {"có điện thoại thông minh", "has a smartphone"},
	"vneid_installed":      {"đã cài VNeID", "VNeID installed"},
	"vneid_level2":         {"đã kích hoạt định danh điện tử mức độ 2", "e-ID level 2 activated"},
	"uses_public_services": {"dùng dịch vụ công trực tuyến", "uses online public services"},
	"uses_cashless":        {"thanh toán không dùng tiền mặt", "uses cashless payment"},
	"has_ehealth_record":   {"có sổ sức khỏe điện tử", "has an e-health record"},
	"uses_camau_g":         {"dùng ứng dụng CaMau-G", "uses the CaMau-G app"},
	"active":               {"còn sinh sống", "active"},
	"registered_on":        {"ngày đăng ký", "registration date"},
	"notes":                {"ghi chú", "notes"},
	"household_id":         {"hộ gia đình", "household"},
	"volunteer_id":         {"thành viên tổ", "volunteer"},
	"visited_on":           {"ngày thăm hộ", "visit date"},
	"skill":                {"kỹ năng", "skill"},
	"person_name":          {"tên người được hướng dẫn", "name of the person taught"},
	"taught_on":            {"ngày hướng dẫn", "tutoring date"},
	"outcome":              {"kết quả hướng dẫn", "outcome"},
	"category":             {"lĩnh vực phản ánh", "report category"},
	"description":          {"nội dung phản ánh", "description"},
	"location":             {"địa điểm", "location"},
	"lat":                  {"vĩ độ", "latitude"},
	"lng":                  {"kinh độ", "longitude"},
	"occurred_at":          {"thời điểm xảy ra", "time it happened"},
	"reporter_name":        {"tên người phản ánh", "reporter's name"},
	"reporter_phone":       {"số điện thoại người phản ánh", "reporter's phone"},
	"consent_disclose":     {"đồng ý công khai danh tính", "consent to disclose identity"},
	"photos":               {"hình ảnh", "photos"},
	"photo_digests":        {"ảnh chụp", "photos"},
	"status":               {"trạng thái", "status"},
	"status_reason":        {"lý do", "reason"},
	"agency":               {"cơ quan xử lý", "agency"},
	"submitted_at":         {"thời điểm gửi", "submission time"},
	"dispatched_at":        {"thời điểm chuyển xử lý", "dispatch time"},
	"resolved_at":          {"thời điểm xử lý xong", "resolution time"},
	"satisfaction":         {"mức độ hài lòng", "satisfaction rating"},
	"_deleted":             {"đánh dấu xóa", "deletion mark"},
	"id":                   {"mã bản ghi", "record id"},
	"name":                 {"tên", "name"},
	"role":                 {"vai trò", "role"},
	"commune_code":         {"mã xã/phường", "commune code"},
	"team_id":              {"tổ", "team"},
	"member_id":            {"thành viên", "member"},
	"label":                {"tên thiết bị", "device label"},
	"hamlet_codes":         {"danh sách ấp/khóm", "hamlets"},
}

func fieldLabel(field string, en bool) string {
	l, ok := labels[field]
	switch {
	case !ok && en:
		return "this field"
	case !ok:
		return "trường này"
	case en:
		return l[1]
	default:
		return l[0]
	}
}
