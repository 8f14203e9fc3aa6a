package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// SameValue reports whether a and b are one value of field once both are
// in the form the table stores (a phone with spaces or "+84", a name in
// NFD, an id in capitals); a value that does not normalize is compared as
// given.
func (t *Table) SameValue(field string, a, b any) bool {
	if na, err := t.NormalizeValue(field, a); err == nil {
		a = na
	}
	if nb, err := t.NormalizeValue(field, b); err == nil {
		b = nb
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// NormalizeValue validates one field value and returns it in canonical form:
// strings NFC and trimmed (empty becomes nil), phones as 0xxxxxxxxx, UUIDs
// lowercase, enums checked against the reference data, ints as int64. v is
// nil, bool, int64, float64 or string; other Go integer types are accepted
// too because msgpack decodes small numbers into them. nil is allowed unless
// the field is Required. Errors are *ValidationError.
func (t *Table) NormalizeValue(field string, v any) (any, error) {
	f, ok := t.Field(field)
	if !ok {
		return nil, verr(t.Name, field, CodeUnknownField, "table %s has no field %q", t.Name, field)
	}
	return f.normalize(t.Name, v)
}

// ValidateRow normalises every value of a row (field name -> value, without
// "id") and checks that required fields are present. A row whose
// DeletedField is true needs only its scope: a tombstone carries no data.
// The first problem is returned, in the table's field order, so the same row
// always yields the same error.
func (t *Table) ValidateRow(fields map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	if err := t.validateRowInto(fields, out); err != nil {
		return nil, err
	}
	return out, nil
}

// validateRowInto is ValidateRow writing into out (empty).
func (t *Table) validateRowInto(fields map[string]any, out map[string]any) error {
	var unknown []string
	for name := range fields {
		if _, ok := t.Field(name); !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return verr(t.Name, unknown[0], CodeUnknownField, "table %s has no field %q", t.Name, unknown[0])
	}
	deleted := false
	if v, ok := fields[DeletedField]; ok {
		nv, err := deletedField.normalize(t.Name, v)
		if err != nil {
			return err
		}
		deleted = nv == true
		out[DeletedField] = nv
	}
	for i := range t.Fields {
		f := &t.Fields[i]
		v, present := fields[f.Name]
		if !present {
			if f.Required && (!deleted || f.Name == t.ScopeField) {
				return verr(t.Name, f.Name, CodeRequired, "missing")
			}
			continue
		}
		if deleted && f.Name != t.ScopeField && v == nil {
			out[f.Name] = nil
			continue
		}
		nv, err := f.normalize(t.Name, v)
		if err != nil {
			return err
		}
		out[f.Name] = nv
	}
	return nil
}

func (f *Field) normalize(table string, v any) (any, error) {
	if v == nil {
		if f.Required {
			return nil, verr(table, f.Name, CodeRequired, "null")
		}
		return nil, nil
	}
	wrong := func() error {
		return verr(table, f.Name, CodeWrongType, "want %s, got %T", f.Type, v)
	}
	switch f.Type {
	case TypeInt, TypeTime:
		n, ok := toInt(v)
		if !ok {
			return nil, wrong()
		}
		if f.Type == TypeTime {
			if n < minTimeMs || n >= maxTimeMs {
				return nil, verr(table, f.Name, CodeInvalidDate, "unix ms outside 2000-01-01..2199-12-31")
			}
			return n, nil
		}
		if (f.Min != 0 || f.Max != 0) && (n < f.Min || n > f.Max) {
			return nil, verr(table, f.Name, CodeOutOfRange, "not in %d..%d", f.Min, f.Max)
		}
		return n, nil
	case TypeFloat:
		x, ok := toFloat(v)
		if !ok {
			return nil, wrong()
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, verr(table, f.Name, CodeOutOfRange, "not a finite number")
		}
		if (f.Min != 0 || f.Max != 0) && (x < float64(f.Min) || x > float64(f.Max)) {
			return nil, verr(table, f.Name, CodeOutOfRange, "not in %d..%d", f.Min, f.Max)
		}
		return x, nil
	case TypeBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		default:
			// SQLite has no boolean: a value read back from a replica is 0 or 1.
			if n, ok := toInt(v); ok && (n == 0 || n == 1) {
				return n == 1, nil
			}
			return nil, wrong()
		}
	}

	s, ok := v.(string)
	if !ok {
		return nil, wrong()
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return nil, verr(table, f.Name, CodeWrongType, "not valid UTF-8 text")
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" {
		if f.Required {
			return nil, verr(table, f.Name, CodeRequired, "empty")
		}
		// One representation for "nothing" so replicas converge on it.
		return nil, nil
	}
	switch f.Type {
	case TypeString:
		// A malformed hamlet code is reported as such, not as "too long".
		if f.format == formatHamlet {
			if err := ValidateHamletCode(s); err != nil {
				return nil, verr(table, f.Name, CodeInvalidHamlet, "%s", err.(*ValidationError).Detail)
			}
		}
		if f.MaxLen > 0 {
			if n := utf8.RuneCountInString(s); n > f.MaxLen {
				return nil, verr(table, f.Name, CodeTooLong, "%d characters, at most %d", n, f.MaxLen)
			}
		}
		if f.format == formatDigests {
			if err := checkDigests(s); err != nil {
				return nil, verr(table, f.Name, CodeWrongType, "%v", err)
			}
		}
		if f.format == formatJSONStrings {
			var refs []string
			if err := json.Unmarshal([]byte(s), &refs); err != nil {
				return nil, verr(table, f.Name, CodeWrongType, "want a JSON array of strings")
			}
		}
		return s, nil
	case TypeDate:
		if err := checkDate(s); err != nil {
			return nil, verr(table, f.Name, CodeInvalidDate, "%v", err)
		}
		return s, nil
	case TypeUUID:
		u, err := canonicalUUID(s)
		if err != nil {
			return nil, verr(table, f.Name, CodeInvalidUUID, "%v", err)
		}
		return u, nil
	case TypeEnum:
		if !enumHas(f.Enum, s) {
			return nil, verr(table, f.Name, CodeUnknownEnum, "not a %s (%s)", f.Enum, Shape(s))
		}
		return s, nil
	case TypePhone:
		p, err := NormalizePhone(s)
		if err != nil {
			return nil, verr(table, f.Name, CodeInvalidPhone, "%v", err)
		}
		return p, nil
	}
	return nil, wrong()
}

// Bounds on TypeTime: a clock off by decades is a broken clock, not data.
const (
	minTimeMs = 946684800000  // 2000-01-01T00:00:00Z
	maxTimeMs = 7258118400000 // 2200-01-01T00:00:00Z
)

// Integral floats arrive from JSON; 2^53 is where float64 stops being exact.
const maxExactFloat = 1 << 53

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case uint32:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= maxExactFloat {
			return int64(n), true
		}
	}
	return 0, false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if n, ok := toInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

func checkDate(s string) error {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("not a YYYY-MM-DD date (%s)", Shape(s))
	}
	if y := d.Year(); y < 1900 || y > 2199 {
		return fmt.Errorf("year %d outside 1900..2199", y)
	}
	return nil
}

// ValidateDate checks a "YYYY-MM-DD" date.
func ValidateDate(s string) error {
	if err := checkDate(s); err != nil {
		return &ValidationError{Code: CodeInvalidDate, Detail: err.Error()}
	}
	return nil
}

// canonicalUUID accepts only the 36-character hex form (any case) and
// returns it lowercase. It is hand-written because github.com/google/uuid
// imports net, which this package must not.
func canonicalUUID(s string) (string, error) {
	if len(s) != 36 {
		return "", fmt.Errorf("want 36 characters, got %d", len(s))
	}
	b := []byte(strings.ToLower(s))
	allZero := true
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", fmt.Errorf("want '-' at position %d", i+1)
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("non-hex character at position %d", i+1)
		}
		allZero = allZero && c == '0'
	}
	if allZero {
		return "", fmt.Errorf("the nil UUID is not a row id")
	}
	return string(b), nil
}

// ValidateUUID checks a row id or reference.
func ValidateUUID(s string) error {
	if _, err := canonicalUUID(s); err != nil {
		return &ValidationError{Code: CodeInvalidUUID, Detail: err.Error()}
	}
	return nil
}

// NormalizePhone returns a Vietnamese phone number in its canonical domestic
// form: 10 digits "0[35789]xxxxxxxx" for mobiles, 11 digits "02xxxxxxxxx"
// for landlines. It accepts the +84 / 84 country prefix and spaces, dots and
// dashes between digits, and rejects everything else. Spaces include the
// no-break and zero-width ones a number copied from Zalo or a web page
// carries (phoneSpace). The error never contains the number.
func NormalizePhone(s string) (string, error) {
	var d []byte
	lead := true // only spaces so far
	for i, r := range s {
		switch {
		case '0' <= r && r <= '9':
			d = append(d, byte(r))
		case r == '.' || r == '-':
		case phoneSpace(r):
			continue
		case r == '+' && lead:
			// Only as the very first character; checked below to be +84.
		default:
			return "", fmt.Errorf("unexpected character at position %d", utf8.RuneCountInString(s[:i])+1)
		}
		lead = false
	}
	plus := strings.HasPrefix(strings.TrimLeftFunc(s, phoneSpace), "+")
	switch {
	case plus && !(len(d) >= 2 && d[0] == '8' && d[1] == '4'):
		return "", fmt.Errorf("only the +84 country code is accepted")
	case len(d) >= 2 && d[0] == '8' && d[1] == '4' && (len(d) == 11 || len(d) == 12) && d[2] != '0':
		d = append([]byte{'0'}, d[2:]...)
	case plus:
		return "", fmt.Errorf("+84 must be followed by 9 or 10 digits, without 0")
	}
	switch {
	case len(d) == 10 && d[0] == '0' && strings.IndexByte("35789", d[1]) >= 0:
	case len(d) == 11 && d[0] == '0' && d[1] == '2':
	default:
		return "", fmt.Errorf("want 10 digits starting 03/05/07/08/09, or 11 digits starting 02 (%d digits given)", len(d))
	}
	return string(d), nil
}

// phoneSpace reports whether r separates a phone's digits as a space does:
// the space, the no-break spaces (U+00A0, the figure space U+2007, the
// narrow U+202F) and the zero-width ones (U+200B-U+200D, U+2060, U+FEFF).
func phoneSpace(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u2007', '\u202f', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return false
}

// Shape describes a refused text for Detail without a character of it:
// its length, and whether it holds only digits. Detail goes to logs, and a
// value typed into the wrong field may be a name, an address, a phone or
// an ID number (ValidationError; the agent's InputError likewise).
func Shape(s string) string {
	n := utf8.RuneCountInString(s)
	if n > 0 && digits(s, len(s)) {
		return fmt.Sprintf("%d digits", n)
	}
	return fmt.Sprintf("%d characters", n)
}

// checkDigests holds a photo_digests value to its one canonical form: the
// compact JSON array of distinct lowercase hex SHA-256 digests, 1 to
// MaxPhotos of them, in the volunteer's order (the first is the one lists
// show). Every replica then writes the same text for the same photos.
func checkDigests(s string) error {
	var ds []string
	if err := json.Unmarshal([]byte(s), &ds); err != nil {
		return errors.New(`want a JSON array of photo digests, e.g. ["3f5a…"]`)
	}
	if len(ds) == 0 || len(ds) > MaxPhotos {
		return fmt.Errorf("%d photos, want 1 to %d (no photos: leave it empty)", len(ds), MaxPhotos)
	}
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		if !validDigest(d) {
			return errors.New("a photo digest is 64 lowercase hex digits (SHA-256)")
		}
		if seen[d] {
			return errors.New("a photo is listed twice")
		}
		seen[d] = true
	}
	if canon, _ := json.Marshal(ds); string(canon) != s {
		return errors.New("not in canonical form (compact JSON, no spaces)")
	}
	return nil
}

func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PhotoDigests reads a photo_digests value (nil, or its canonical text)
// into the digests it lists; a value that is not one gives none.
func PhotoDigests(v any) []string {
	s, _ := v.(string)
	if s == "" || checkDigests(s) != nil {
		return nil
	}
	var ds []string
	_ = json.Unmarshal([]byte(s), &ds)
	return ds
}

// PhotoDigestsValue is the canonical photo_digests value for ds (nil for
// none), duplicates dropped, order kept.
func PhotoDigestsValue(ds []string) any {
	var out []string
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	b, _ := json.Marshal(out)
	return string(b)
}
