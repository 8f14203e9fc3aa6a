package i18n

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/workcal"
)

// Zone is the zone every time shown to a person is in: Vietnam's, UTC+7.
var Zone = workcal.Vietnam

// ZoneName is how a time or a column header names the zone.
const ZoneName = "UTC+7"

// DateTime is a moment as a person in Vietnam reads it, with the zone:
// "01/12/2026 14:30 (UTC+7)"; in English "2026-12-01 14:30 (UTC+7)", a
// form no English reader takes for 12 January.
func DateTime(t time.Time, lang string) string {
	return DateTimeBare(t, lang) + " (" + ZoneName + ")"
}

// DateTimeBare is DateTime without the zone, for a table whose header
// names it (WithZone).
func DateTimeBare(t time.Time, lang string) string {
	t = t.In(Zone)
	if IsEN(lang) {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("02/01/2006 15:04")
}

// WithZone adds the zone to a column header: "HẾT HẠN (UTC+7)".
func WithZone(header string) string { return header + " (" + ZoneName + ")" }

// Date is a day as people write it: "01/12/2026" (English "2026-12-01"),
// the day it is in Vietnam at t.
func Date(t time.Time, lang string) string {
	t = t.In(Zone)
	if IsEN(lang) {
		return t.Format(time.DateOnly)
	}
	return t.Format("02/01/2006")
}

// DateText rewrites a stored date ("2026-12-01") as Date does; anything
// else is returned as it is.
func DateText(s, lang string) string {
	t, err := time.ParseInLocation(time.DateOnly, s, Zone)
	if err != nil {
		return s
	}
	return Date(t, lang)
}

// Duration is a span of time in words: "0 giây", "53 mili giây",
// "1,2 giây", "2 phút 5 giây", "1 giờ 3 phút"; English "53 ms", "1.2 s",
// "2 min 5 s", "1 h 3 min". Go's own form ("53ms", "1m5s") is English.
func Duration(d time.Duration, lang string) string {
	unit := func(vi, e string) string { return Pick(lang, vi, e) }
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	switch {
	case d == 0:
		return unit("0 giây", "0 s")
	case d < time.Second:
		ms := d.Round(time.Millisecond) / time.Millisecond
		if ms == 0 {
			ms = 1
		}
		return neg + strconv.FormatInt(int64(ms), 10) + unit(" mili giây", " ms")
	case d < 10*time.Second:
		return neg + Decimal(d.Seconds(), 1, lang) + unit(" giây", " s")
	case d < time.Minute:
		return neg + strconv.Itoa(int(d.Round(time.Second)/time.Second)) + unit(" giây", " s")
	case d < time.Hour:
		d = d.Round(time.Second)
		m, s := int(d/time.Minute), int(d%time.Minute/time.Second)
		if s == 0 {
			return neg + fmt.Sprintf(unit("%d phút", "%d min"), m)
		}
		return neg + fmt.Sprintf(unit("%d phút %d giây", "%d min %d s"), m, s)
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return neg + fmt.Sprintf(unit("%d giờ", "%d h"), h)
		}
		return neg + fmt.Sprintf(unit("%d giờ %d phút", "%d h %d min"), h, m)
	}
	d = d.Round(time.Hour)
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return neg + fmt.Sprintf(unit("%d ngày", "%d days"), days)
	}
	return neg + fmt.Sprintf(unit("%d ngày %d giờ", "%d days %d h"), days, h)
}

// Bytes is a size: "512 byte", "3,1 KB", "12,0 MB" (English "3.1 KB").
func Bytes(n int64, lang string) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + Pick(lang, " byte", " B")
	case n < 1<<20:
		return Decimal(float64(n)/1024, 1, lang) + " KB"
	case n < 1<<30:
		return Decimal(float64(n)/(1<<20), 1, lang) + " MB"
	}
	return Decimal(float64(n)/(1<<30), 1, lang) + " GB"
}

// Int is a count with thousands grouped as each language writes them:
// "1.610" in Vietnamese, "1,610" in English.
func Int(n int64, lang string) string {
	s := strconv.FormatInt(n, 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	sep := Pick(lang, ".", ",")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return neg + b.String()
}

// Decimal is x with prec decimals, the decimal mark of lang: "3,1" in
// Vietnamese, "3.1" in English; thousands grouped as Int does.
func Decimal(x float64, prec int, lang string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	s := strconv.FormatFloat(x, 'f', prec, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := Int(n, lang)
	if n == 0 && strings.HasPrefix(whole, "-") {
		out = "-" + out
	}
	if frac != "" {
		out += Pick(lang, ",", ".") + frac
	}
	return out
}
