package agent

import (
	"strconv"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
)

// ParseFieldValue turns text typed on the command line into the kind the
// field takes: booleans accept có/không and yes/no, numbers are parsed, an
// empty string clears the field. The schema then validates the value.
func ParseFieldValue(table, field, text string) (any, error) {
	t, err := lookup(table)
	if err != nil {
		return nil, err
	}
	f, ok := t.Field(field)
	if !ok {
		return nil, &schema.ValidationError{Table: table, Field: field, Code: schema.CodeUnknownField}
	}
	s := strings.TrimSpace(text)
	if s == "" {
		return nil, nil
	}
	wrong := &schema.ValidationError{Table: table, Field: field, Code: schema.CodeWrongType}
	switch f.Type {
	case schema.TypeBool:
		switch Fold(s) {
		case "co", "c", "yes", "y", "true", "1", "x":
			return true, nil
		case "khong", "k", "no", "n", "false", "0":
			return false, nil
		}
		return nil, wrong
	case schema.TypeInt, schema.TypeTime:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, wrong
		}
		return n, nil
	case schema.TypeFloat:
		x, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
		if err != nil {
			return nil, wrong
		}
		return x, nil
	}
	return s, nil
}
