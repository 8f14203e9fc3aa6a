package workcal

import (
	"fmt"
	"time"
)

// Kind is what a dated entry of a holiday schedule is.
type Kind string

const (
	// KindHoliday is a public holiday of the Labour Code 2019, article 112.
	KindHoliday Kind = "holiday"
	// KindInLieu is a working day taken off in lieu of a holiday that fell
	// on a weekly rest day (article 111(3): "nghỉ bù").
	KindInLieu Kind = "in_lieu"
	// KindBridge is a working day between holidays and a weekend given off
	// in exchange for a make-up working day ("hoán đổi ngày làm việc").
	KindBridge Kind = "bridge"
	// KindWorkday is a weekly rest day worked to make up a bridge day
	// ("làm bù").
	KindWorkday Kind = "workday"
)

func (k Kind) valid() bool {
	switch k {
	case KindHoliday, KindInLieu, KindBridge, KindWorkday:
		return true
	}
	return false
}

// dayOff reports whether a day of this kind is a day off.
func (k Kind) dayOff() bool { return k != KindWorkday }

// MinYear and MaxYear bound the years whose holidays are computed: the
// lunar calendar algorithm is accurate from 1800 to 2199, and Hamlet has
// no business outside this range.
const (
	MinYear = 1900
	MaxYear = 2199
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func day(t time.Time, vi, en string) Day {
	return Day{Date: t.Format(time.DateOnly), Kind: KindHoliday, NameVI: vi, NameEN: en}
}

// lunarDay is the Gregorian date of a day of the lunar calendar (never a
// leap month).
func lunarDay(year, month, d int) time.Time {
	y, m, dd, _ := LunarToSolar(LunarDate{Year: year, Month: month, Day: d})
	return date(y, time.Month(m), dd)
}

// Tet is the first day of lunar year y (Tết Nguyên đán, mùng 1 tháng Giêng).
func Tet(y int) time.Time { return lunarDay(y, 1, 1) }

// HungKings is the Hùng Kings' Commemoration of year y: the 10th day of the
// 3rd lunar month.
func HungKings(y int) time.Time { return lunarDay(y, 3, 10) }

// Statutory is year y's public holidays under the Labour Code 2019, article
// 112(1), as computed without the government's announcement: New Year's
// Day; Tết, five days; the Hùng Kings' Commemoration; 30 April; 1 May; and
// National Day, 2 September with one adjacent day.
//
// The law leaves two choices to the Prime Minister each year (112(3)):
// which five days make Tết, and which day adjoins National Day. The
// computed defaults are those the government chose most often:
//   - Tết: the last two days of the lunar year and the first three of the
//     new one (2020, 2021, 2023, 2024, 2025). In 2019, 2022 and 2026 it
//     chose the last day and the first four instead, which falls on the same
//     working days once the days in lieu of a weekend are counted.
//   - National Day: 1 September, or 3 September when 2 September is a
//     Thursday, so the holiday joins the weekend (2021–2026).
//
// Days in lieu of holidays that fall on a weekly rest day depend on the
// working week, so Calendar adds them (article 111(3)); bridge days and
// make-up Saturdays exist only in an official schedule. The days are in
// date order. y must be within MinYear..MaxYear.
func Statutory(y int) []Day {
	tet := Tet(y)
	ndAdjacent := date(y, time.September, 1)
	if date(y, time.September, 2).Weekday() == time.Thursday {
		ndAdjacent = date(y, time.September, 3)
	}
	days := []Day{day(date(y, time.January, 1), "Tết Dương lịch", "New Year's Day")}
	// Tết falls between 21 January and 20 February, so its five days never
	// leave the year.
	for i := -2; i <= 2; i++ {
		d := tet.AddDate(0, 0, i)
		switch {
		case i < 0:
			ld := SolarToLunar(d.Year(), int(d.Month()), d.Day())
			days = append(days, day(d, fmt.Sprintf("Tết Nguyên đán (%d tháng Chạp)", ld.Day), "Lunar New Year (year's end)"))
		default:
			days = append(days, day(d, fmt.Sprintf("Tết Nguyên đán (mùng %d)", i+1), fmt.Sprintf("Lunar New Year (day %d)", i+1)))
		}
	}
	days = append(days,
		day(HungKings(y), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "Hung Kings' Commemoration"),
		day(date(y, time.April, 30), "Ngày Chiến thắng (Giải phóng miền Nam, thống nhất đất nước)", "Reunification Day"),
		day(date(y, time.May, 1), "Ngày Quốc tế Lao động", "International Labour Day"),
	)
	nd := []Day{day(date(y, time.September, 2), "Quốc khánh", "National Day"),
		day(ndAdjacent, "Quốc khánh (ngày liền kề)", "National Day (adjacent day)")}
	if ndAdjacent.Day() == 1 {
		nd[0], nd[1] = nd[1], nd[0]
	}
	days = append(days, nd...)
	sortDays(days)
	// The Hùng Kings' day may fall on 30 April or 1 May (1947): one
	// day, both names. The law gives no extra day for a coincidence.
	out := days[:1]
	for _, d := range days[1:] {
		if last := &out[len(out)-1]; last.Date == d.Date {
			last.NameVI += " – " + d.NameVI
			last.NameEN += " – " + d.NameEN
			continue
		}
		out = append(out, d)
	}
	return out
}

// withDaysInLieu adds to holidays (in date order) a day in lieu of each
// one that falls on a day that is not a working day of the week: the next
// working day that is neither a holiday nor already taken in lieu.
func withDaysInLieu(holidays []Day, workdays [7]bool) []Day {
	off := map[string]bool{}
	for _, h := range holidays {
		off[h.Date] = true
	}
	any := false
	for _, w := range workdays {
		any = any || w
	}
	out := append([]Day(nil), holidays...)
	if !any {
		return out
	}
	for _, h := range holidays {
		t, _ := time.Parse(time.DateOnly, h.Date)
		if workdays[t.Weekday()] {
			continue
		}
		d := t.AddDate(0, 0, 1)
		for !workdays[d.Weekday()] || off[d.Format(time.DateOnly)] {
			d = d.AddDate(0, 0, 1)
		}
		off[d.Format(time.DateOnly)] = true
		out = append(out, Day{Date: d.Format(time.DateOnly), Kind: KindInLieu, NameVI: "Nghỉ bù " + h.NameVI, NameEN: h.NameEN + " (in lieu)"})
	}
	sortDays(out)
	return out
}
