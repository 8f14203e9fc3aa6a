package workcal

import "math"

// The Vietnamese lunisolar calendar (âm lịch), by Hồ Ngọc Đức's algorithm
// ("Âm lịch Việt Nam", the reference every Vietnamese calendar program
// follows): new moons and solar terms from Jean Meeus' "Astronomical
// Algorithms", reckoned in Vietnam's time zone. The zone matters: Vietnam
// has kept UTC+7 since 1968 and China UTC+8, so a new moon shortly after
// midnight in Beijing begins the month a day earlier in Hanoi. Tết 1985
// fell on 21 January in Vietnam and on 20 February in China; Tết 2007 on
// 17 and 18 February. The algorithm is accurate for 1800–2199.

// vnTimeZone is Vietnam's offset from UTC in hours, as the algorithm takes it.
const vnTimeZone = 7.0

// LunarDate is a date of the Vietnamese lunar calendar. Leap is true in the
// intercalary month that repeats Month (tháng nhuận).
type LunarDate struct {
	Year, Month, Day int
	Leap             bool
}

func ifloor(x float64) int { return int(math.Floor(x)) }

// julianDay is the Julian day number of a Gregorian date (Julian calendar
// before 15 October 1582).
func julianDay(y, m, d int) int {
	a := (14 - m) / 12
	yy := y + 4800 - a
	mm := m + 12*a - 3
	jd := d + (153*mm+2)/5 + 365*yy + yy/4 - yy/100 + yy/400 - 32045
	if jd < 2299161 {
		jd = d + (153*mm+2)/5 + 365*yy + yy/4 - 32083
	}
	return jd
}

// fromJulianDay is julianDay's inverse.
func fromJulianDay(jd int) (y, m, d int) {
	var b, c int
	if jd > 2299160 {
		a := jd + 32044
		b = (4*a + 3) / 146097
		c = a - b*146097/4
	} else {
		c = jd + 32082
	}
	dd := (4*c + 3) / 1461
	e := c - 1461*dd/4
	mm := (5*e + 2) / 153
	d = e - (153*mm+2)/5 + 1
	m = mm + 3 - 12*(mm/10)
	y = b*100 + dd - 4800 + mm/10
	return y, m, d
}

// newMoon is the Julian date (UT) of the k-th new moon after 1 January 1900.
func newMoon(k int) float64 {
	const dr = math.Pi / 180
	t := float64(k) / 1236.85
	t2, t3 := t*t, t*t*t
	jd1 := 2415020.75933 + 29.53058868*float64(k) + 0.0001178*t2 - 0.000000155*t3
	jd1 += 0.00033 * math.Sin((166.56+132.87*t-0.009173*t2)*dr)
	m := 359.2242 + 29.10535608*float64(k) - 0.0000333*t2 - 0.00000347*t3    // the sun's mean anomaly
	mpr := 306.0253 + 385.81691806*float64(k) + 0.0107306*t2 + 0.00001236*t3 // the moon's
	f := 21.2964 + 390.67050646*float64(k) - 0.0016528*t2 - 0.00000239*t3    // the moon's argument of latitude
	c1 := (0.1734-0.000393*t)*math.Sin(m*dr) + 0.0021*math.Sin(2*dr*m)
	c1 = c1 - 0.4068*math.Sin(mpr*dr) + 0.0161*math.Sin(dr*2*mpr)
	c1 -= 0.0004 * math.Sin(dr*3*mpr)
	c1 = c1 + 0.0104*math.Sin(dr*2*f) - 0.0051*math.Sin(dr*(m+mpr))
	c1 = c1 - 0.0074*math.Sin(dr*(m-mpr)) + 0.0004*math.Sin(dr*(2*f+m))
	c1 = c1 - 0.0004*math.Sin(dr*(2*f-m)) - 0.0006*math.Sin(dr*(2*f+mpr))
	c1 = c1 + 0.0010*math.Sin(dr*(2*f-mpr)) + 0.0005*math.Sin(dr*(2*mpr+m))
	var deltaT float64
	if t < -11 {
		deltaT = 0.001 + 0.000839*t + 0.0002261*t2 - 0.00000845*t3 - 0.000000081*t*t3
	} else {
		deltaT = -0.000278 + 0.000265*t + 0.000262*t2
	}
	return jd1 + c1 - deltaT
}

// sunLongitude is the sun's apparent longitude, in radians in [0, 2π), at
// Julian date jdn (UT).
func sunLongitude(jdn float64) float64 {
	const dr = math.Pi / 180
	t := (jdn - 2451545.0) / 36525
	t2 := t * t
	m := 357.52910 + 35999.05030*t - 0.0001559*t2 - 0.00000048*t*t2
	l0 := 280.46645 + 36000.76983*t + 0.0003032*t2
	dl := (1.914600 - 0.004817*t - 0.000014*t2) * math.Sin(dr*m)
	dl += (0.019993-0.000101*t)*math.Sin(dr*2*m) + 0.000290*math.Sin(dr*3*m)
	l := (l0 + dl) * dr
	return l - 2*math.Pi*math.Floor(l/(2*math.Pi))
}

// sunSector is which twelfth of the ecliptic (0..11, each a major solar
// term's span) the sun is in at the start of local day dayNumber.
func sunSector(dayNumber int) int {
	return ifloor(sunLongitude(float64(dayNumber)-0.5-vnTimeZone/24) / math.Pi * 6)
}

// newMoonDay is the local day number on which the k-th new moon falls.
func newMoonDay(k int) int { return ifloor(newMoon(k) + 0.5 + vnTimeZone/24) }

// lunarMonth11 is the day number of the first day of the 11th lunar month
// (the month holding the winter solstice) that begins in Gregorian year y.
func lunarMonth11(y int) int {
	off := julianDay(y, 12, 31) - 2415021
	k := ifloor(float64(off) / 29.530588853)
	nm := newMoonDay(k)
	if sunSector(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

// leapMonthOffset is, for a lunar year of 13 months whose 11th month starts
// on day a11, how many months after it the leap month comes: the first
// month in which the sun enters no new major solar term.
func leapMonthOffset(a11 int) int {
	k := ifloor((float64(a11)-2415021.076998695)/29.530588853 + 0.5)
	i := 1
	arc := sunSector(newMoonDay(k + i))
	for {
		last := arc
		i++
		arc = sunSector(newMoonDay(k + i))
		if arc == last || i >= 14 {
			break
		}
	}
	return i - 1
}

// SolarToLunar converts a Gregorian date to Vietnam's lunar calendar.
func SolarToLunar(y, m, d int) LunarDate {
	dayNumber := julianDay(y, m, d)
	k := ifloor((float64(dayNumber) - 2415021.076998695) / 29.530588853)
	// The month starts on the last new moon day not after dayNumber. The
	// estimate k counts mean lunations, and the true new moon strays from
	// the mean by up to some fourteen hours: on 7 May 2054 even the k-th is
	// a day late (the published algorithm steps back once only and gives
	// day 0 there).
	monthStart := newMoonDay(k + 1)
	for monthStart > dayNumber {
		k--
		monthStart = newMoonDay(k + 1)
	}
	a11 := lunarMonth11(y)
	b11 := a11
	var lunarYear int
	if a11 >= monthStart {
		lunarYear = y
		a11 = lunarMonth11(y - 1)
	} else {
		lunarYear = y + 1
		b11 = lunarMonth11(y + 1)
	}
	out := LunarDate{Day: dayNumber - monthStart + 1}
	diff := (monthStart - a11) / 29
	out.Month = diff + 11
	if b11-a11 > 365 {
		leapDiff := leapMonthOffset(a11)
		if diff >= leapDiff {
			out.Month = diff + 10
			out.Leap = diff == leapDiff
		}
	}
	if out.Month > 12 {
		out.Month -= 12
	}
	if out.Month >= 11 && diff < 4 {
		lunarYear--
	}
	out.Year = lunarYear
	return out
}

// LunarToSolar converts a lunar date to a Gregorian one; ok is false when
// the date does not exist (a leap month the year does not have).
func LunarToSolar(ld LunarDate) (y, m, d int, ok bool) {
	var a11, b11 int
	if ld.Month < 11 {
		a11, b11 = lunarMonth11(ld.Year-1), lunarMonth11(ld.Year)
	} else {
		a11, b11 = lunarMonth11(ld.Year), lunarMonth11(ld.Year+1)
	}
	k := ifloor(0.5 + (float64(a11)-2415021.076998695)/29.530588853)
	off := ld.Month - 11
	if off < 0 {
		off += 12
	}
	if b11-a11 > 365 {
		leapOff := leapMonthOffset(a11)
		leapMonth := leapOff - 2
		if leapMonth < 0 {
			leapMonth += 12
		}
		if ld.Leap && ld.Month != leapMonth {
			return 0, 0, 0, false
		}
		if ld.Leap || off >= leapOff {
			off++
		}
	} else if ld.Leap {
		return 0, 0, 0, false
	}
	monthStart := newMoonDay(k + off)
	y, m, d = fromJulianDay(monthStart + ld.Day - 1)
	return y, m, d, true
}

// LunarNewYear is the Gregorian date of Tết Nguyên đán (1st day of the 1st
// lunar month) of lunar year y, in Vietnam.
func LunarNewYear(y int) (month, day int) {
	_, m, d, _ := LunarToSolar(LunarDate{Year: y, Month: 1, Day: 1})
	return m, d
}
