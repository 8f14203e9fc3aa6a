package schema

import (
	"fmt"
	"strings"
)

// The names people read for the registry's tables, fields and enum values,
// in Vietnamese and English: what a CLI, an export or a page prints instead
// of "households", "head_name" or "needs_help". Field labels are the
// labels map of errors.go (the validation messages use them too); skills
// and report categories are their catalogues (refdata).

// tableLabels names each synced table: {vi, en}.
var tableLabels = map[string][2]string{
	"households":       {"Hộ gia đình", "Household"},
	"visits":           {"Lượt thăm hộ", "Visit"},
	"tutoring_records": {"Lượt hướng dẫn", "Tutoring record"},
	"field_reports":    {"Phản ánh hiện trường", "Field report"},
}

// enumLabels names the values of the enums that have no catalogue file.
// The report statuses are the one set every text uses (issue 21): the
// dashboard, the exports and the CLIs.
var enumLabels = map[string]map[string][2]string{
	EnumReportStatus: {
		string(StatusSubmitted):  {"Mới tiếp nhận", "Submitted"},
		string(StatusDispatched): {"Đã chuyển xử lý", "Dispatched"},
		string(StatusInProgress): {"Đang xử lý", "In progress"},
		string(StatusResolved):   {"Đã xử lý", "Resolved"},
		string(StatusReturned):   {"Trả lại (không thuộc phạm vi)", "Returned (out of scope)"},
		string(StatusRedispatch): {"Chờ chuyển lại", "Awaiting re-dispatch"},
	},
	EnumTutoringOutcome: {
		string(OutcomeIndependent): {"Tự làm được", "Can do it alone"},
		string(OutcomeNeedsHelp):   {"Cần hỗ trợ thêm", "Needs more help"},
	},
	EnumRole: {
		string(RoleLeader): {"Tổ trưởng", "Team leader"},
		string(RoleMember): {"Thành viên", "Member"},
	},
}

func en(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "en") }

func pickLang(lang string, l [2]string) string {
	if en(lang) {
		return l[1]
	}
	return l[0]
}

// TableLabel names a synced table for a person ("Hộ gia đình"), or
// returns the name itself for a table this build does not know.
func TableLabel(table, lang string) string {
	if l, ok := tableLabels[table]; ok {
		return pickLang(lang, l)
	}
	return table
}

// FieldLabel names a field for a person ("tên chủ hộ"), or returns the
// name itself for a field this build does not know.
func FieldLabel(field, lang string) string {
	if l, ok := labels[field]; ok {
		return pickLang(lang, l)
	}
	return field
}

// EnumLabel names an enum value for a person: a status "Đang xử lý", an
// outcome "Tự làm được", a skill or a category by its catalogue name. An
// unknown value is returned as it is.
func EnumLabel(enum, value, lang string) string {
	switch enum {
	case EnumSkill:
		if s, ok := SkillByCode(value); ok {
			return pickLang(lang, [2]string{s.NameVI, s.NameEN})
		}
	case EnumReportCategory:
		if c, ok := ReportCategoryByCode(value); ok {
			return pickLang(lang, [2]string{c.NameVI, c.NameEN})
		}
	default:
		if l, ok := enumLabels[enum][value]; ok {
			return pickLang(lang, l)
		}
	}
	return value
}

// ValueLabel is a field's value as a person reads it: the label of an enum
// value, "có"/"không" for a flag, a date as dd/mm/yyyy; anything else as
// fmt prints it. A nil value is "".
func ValueLabel(table, field string, v any, lang string) string {
	if v == nil {
		return ""
	}
	var f *Field
	if t, ok := LookupTable(table); ok {
		f, _ = t.Field(field)
	}
	switch x := v.(type) {
	case bool:
		if x {
			return pickLang(lang, [2]string{"có", "yes"})
		}
		return pickLang(lang, [2]string{"không", "no"})
	case string:
		if f != nil && f.Type == TypeEnum {
			return EnumLabel(f.Enum, x, lang)
		}
		if f != nil && f.Type == TypeDate && !en(lang) && len(x) == 10 && x[4] == '-' && x[7] == '-' {
			return x[8:10] + "/" + x[5:7] + "/" + x[0:4]
		}
		return x
	}
	return fmt.Sprint(v)
}

// EnumChoices lists an enum's values with their labels, as an error
// message offers them: "independent (Tự làm được), needs_help (Cần hỗ trợ
// thêm)".
func EnumChoices(enum, lang string) string {
	vals := EnumValues(enum)
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v + " (" + EnumLabel(enum, v, lang) + ")"
	}
	return strings.Join(parts, ", ")
}
