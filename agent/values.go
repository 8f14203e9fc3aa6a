package agent

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

// ParseFieldValue turns text typed on the command line into the kind the
// field takes: booleans accept có/không and yes/no, numbers are parsed,
// dates and times are read as people write them ("01/12/2026 14:30", in
// Vietnam's time), an enum value must be one of its list, an empty string
// clears the field. The schema then validates the value. What cannot be
// read is an *InputError naming the field and what it accepts: nothing
// has been sent anywhere yet.
func ParseFieldValue(table, field, text string) (any, error) {
	t, err := lookup(table)
	if err != nil {
		return nil, err
	}
	f, ok := t.Field(field)
	if !ok || field == schema.DeletedField {
		return nil, unknownField(t, field)
	}
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, nil
	}
	label := func(lang string) string { return capitalize(schema.FieldLabel(field, lang)) }
	wrong := func() error { return &schema.ValidationError{Table: table, Field: field, Code: schema.CodeWrongType} }
	switch f.Type {
	case schema.TypeBool:
		switch Fold(s) {
		case "co", "c", "yes", "y", "true", "1", "x":
			return true, nil
		case "khong", "k", "no", "n", "false", "0":
			return false, nil
		}
		return nil, &InputError{
			VI:     fmt.Sprintf("%s chỉ nhận có hoặc không (viết tắt c/k; cũng được yes/no, 1/0).", label("vi")),
			EN:     fmt.Sprintf("%s takes yes or no (also y/n, 1/0, có/không).", label("en")),
			Detail: fmt.Sprintf("%s.%s: not yes or no (%s)", table, field, schema.Shape(s)),
		}
	case schema.TypeInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, wrong()
		}
		return n, nil
	case schema.TypeTime:
		if isUnixMS(s) { // scripts written before dates were read
			n, err := strconv.ParseInt(s, 10, 64)
			if err == nil {
				return n, nil
			}
		}
		at, err := i18n.ParseDateTime(s)
		if err != nil {
			return nil, dateInput(table, field, label, err)
		}
		return at.UnixMilli(), nil
	case schema.TypeDate:
		d, err := i18n.ParseDate(s)
		if err != nil {
			return nil, dateInput(table, field, label, err)
		}
		return d, nil
	case schema.TypeFloat:
		x, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		if err != nil {
			return nil, wrong()
		}
		return x, nil
	case schema.TypeEnum:
		for _, v := range schema.EnumValues(f.Enum) {
			if v == s {
				return s, nil
			}
		}
		return nil, &InputError{
			VI:     fmt.Sprintf("%s %q không có trong danh mục. Hãy chọn một mã trong: %s.", label("vi"), s, schema.EnumChoices(f.Enum, "vi")),
			EN:     fmt.Sprintf("%s %q is not in the list. Pick one of: %s.", label("en"), s, schema.EnumChoices(f.Enum, "en")),
			Detail: fmt.Sprintf("%s.%s: not a %s (%s)", table, field, f.Enum, schema.Shape(s)),
		}
	}
	return s, nil
}

// isUnixMS: s is a time given as Unix milliseconds, 13 digits starting
// with 1 (2001–2286). A loop, not a regular expression compiled at every
// start of a command (package inits run before main: issue 20).
func isUnixMS(s string) bool {
	if len(s) != 13 || s[0] != '1' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func dateInput(table, field string, label func(string) string, err error) error {
	var de *i18n.DateError
	if !errors.As(err, &de) {
		return err
	}
	what := "date"
	if de.WithTime {
		what = "date and time"
	}
	return &InputError{VI: label("vi") + ": " + de.Message("vi"), EN: label("en") + ": " + de.Message("en"),
		Detail: fmt.Sprintf("%s.%s: not a %s as people write it (%s)", table, field, what, schema.Shape(de.Input))}
}

// unknownField: a field this table does not have, typed by the volunteer
// (--set foo=bar). It lists the fields a volunteer may set, with their
// names in the volunteer's language.
func unknownField(t *schema.Table, field string) error {
	list := func(lang string) string {
		var parts []string
		for _, f := range t.Fields {
			if f.WrittenBy != 0 || f.Type == schema.TypeUUID {
				continue // the coordinators' fields, and links set by the commands
			}
			parts = append(parts, f.Name+" ("+schema.FieldLabel(f.Name, lang)+")")
		}
		return strings.Join(parts, ", ")
	}
	return &InputError{
		VI:     fmt.Sprintf("%s không có trường %q. Các trường nhập được (--set tên=giá_trị): %s.", schema.TableLabel(t.Name, "vi"), field, list("vi")),
		EN:     fmt.Sprintf("A %s has no field %q. The fields you can set (--set name=value): %s.", strings.ToLower(schema.TableLabel(t.Name, "en")), field, list("en")),
		Detail: fmt.Sprintf("%s: no such field (%s)", t.Name, schema.Shape(field)),
	}
}

func capitalize(s string) string {
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}
