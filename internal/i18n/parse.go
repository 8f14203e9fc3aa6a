package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DateForms and DateTimeForms are the forms ParseDate and ParseDateTime
// accept, as an error message lists them.
var (
	DateForms     = []string{"01/12/2026", "2026-12-01"}
	DateTimeForms = []string{"01/12/2026 14:30", "2026-12-01 14:30", "01/12/2026", "2026-12-01"}
)

// DateError is a date or time a person typed that is not one of the
// accepted forms. It holds what was typed, for the message shown to the
// person who typed it.
type DateError struct {
	Input    string
	WithTime bool // a date and time was asked for
}

// Error is what a log may keep: it says what was asked for, never what was
// typed, since a person may type a name or a phone number into a date's
// box by mistake. Message, shown to the person who typed it, quotes it.
func (e *DateError) Error() string {
	if e.WithTime {
		return fmt.Sprintf("not a valid date and time (%d characters); accepted forms: %s", len([]rune(e.Input)), strings.Join(DateTimeForms, "; "))
	}
	return fmt.Sprintf("not a valid date (%d characters); accepted forms: %s", len([]rune(e.Input)), strings.Join(DateForms, "; "))
}

// Message says what is wrong and which forms are accepted.
func (e *DateError) Message(lang string) string {
	if e.WithTime {
		return Pick(lang,
			fmt.Sprintf("%q không phải ngày giờ hợp lệ. Hãy viết ngày/tháng/năm, có thể kèm giờ:phút (giờ Việt Nam), ví dụ: %s.", e.Input, strings.Join(DateTimeForms, "; ")),
			fmt.Sprintf("%q is not a valid date and time. Write day/month/year, optionally with hour:minute (Vietnam time), e.g.: %s.", e.Input, strings.Join(DateTimeForms, "; ")))
	}
	return Pick(lang,
		fmt.Sprintf("%q không phải ngày hợp lệ. Hãy viết ngày/tháng/năm, ví dụ: %s.", e.Input, strings.Join(DateForms, "; ")),
		fmt.Sprintf("%q is not a valid date. Write day/month/year, e.g.: %s.", e.Input, strings.Join(DateForms, "; ")))
}

// ParseDate reads a day as people in Vietnam write it: "01/12/2026",
// "1/12/2026", "01-12-2026", "01.12.2026" (day first), or "2026-12-01"
// (year first, ISO). It returns the day as "2026-12-01".
func ParseDate(s string) (string, error) {
	y, m, d, ok := parseDay(strings.TrimSpace(s))
	if !ok {
		return "", &DateError{Input: s}
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), nil
}

// ParseDateTime reads a moment as people in Vietnam write it: a day as
// ParseDate reads it, optionally followed by a time "14:30" or "14:30:05"
// (after a space or a "T"), in Vietnam's time. A day alone is its
// midnight.
func ParseDateTime(s string) (time.Time, error) {
	in := strings.TrimSpace(s)
	day, clock := in, ""
	if i := strings.IndexAny(in, " T"); i > 0 {
		day, clock = in[:i], strings.TrimSpace(in[i+1:])
	}
	y, m, d, ok := parseDay(day)
	if !ok {
		return time.Time{}, &DateError{Input: s, WithTime: true}
	}
	var h, mi, sec int
	if clock != "" {
		parts := strings.Split(clock, ":")
		if len(parts) < 2 || len(parts) > 3 {
			return time.Time{}, &DateError{Input: s, WithTime: true}
		}
		nums := make([]int, 3)
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			if err != nil || len(p) > 2 || n < 0 {
				return time.Time{}, &DateError{Input: s, WithTime: true}
			}
			nums[i] = n
		}
		h, mi, sec = nums[0], nums[1], nums[2]
		if h > 23 || mi > 59 || sec > 59 {
			return time.Time{}, &DateError{Input: s, WithTime: true}
		}
	}
	return time.Date(y, time.Month(m), d, h, mi, sec, 0, Zone), nil
}

// parseDay reads "2026-12-01" or "01/12/2026" (also with "-" or "." and
// one-digit day and month), checking that the day exists.
func parseDay(s string) (y, m, d int, ok bool) {
	sep := strings.IndexAny(s, "/-.")
	if sep < 0 {
		return 0, 0, 0, false
	}
	parts := strings.Split(s, string(s[sep]))
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	nums := make([]int, 3)
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || p == "" || p[0] == '+' || p[0] == '-' {
			return 0, 0, 0, false
		}
		nums[i] = n
	}
	switch {
	case len(parts[0]) == 4 && len(parts[1]) <= 2 && len(parts[2]) <= 2: // 2026-12-01
		y, m, d = nums[0], nums[1], nums[2]
	case len(parts[2]) == 4 && len(parts[0]) <= 2 && len(parts[1]) <= 2: // 01/12/2026
		d, m, y = nums[0], nums[1], nums[2]
	default:
		return 0, 0, 0, false
	}
	if y < 1900 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return 0, 0, 0, false // 31/02
	}
	return y, m, d, true
}
