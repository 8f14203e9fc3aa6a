package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/workcal"
)

func init() {
	register(command{name: "calendar import", vi: "nạp lịch nghỉ lễ, Tết chính thức của một năm (tệp CSV, xem workcal/README.md)",
		en: "load a year's official schedule of days off (CSV file, see workcal/README.md)", run: runCalendarImport, args: [2]string{"TỆP.csv", "FILE.csv"}})
	register(command{name: "calendar list", vi: "các năm có lịch nghỉ chính thức (các năm khác: ngày lễ tính theo Bộ luật Lao động)",
		en: "years with an official schedule of days off (other years: holidays computed from the Labour Code)", run: runCalendarList})
	register(command{name: "calendar show", vi: "các ngày nghỉ lễ của một năm dùng để tính hạn xử lý phản ánh",
		en: "a year's days off as field-report deadlines count them", run: runCalendarShow, args: [2]string{"NĂM", "YEAR"}})
}

// calendarFlags are the shared flags (--db among them) and --json.
func (e *env) calendarFlags(name string) *flag.FlagSet {
	fs := e.flags(name)
	e.jsonFlag(fs)
	return fs
}

func runCalendarImport(ctx context.Context, e *env, args []string) error {
	fs := e.calendarFlags("calendar import")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New(e.msg("cách dùng: hamlet-server calendar import TỆP.csv (định dạng: xem workcal/README.md)",
			"usage: hamlet-server calendar import FILE.csv (format: see workcal/README.md)"))
	}
	file := pos[0]
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	br := bufio.NewReader(f)
	if err := schema.RefuseWorkbook(br); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", file, err)
	}
	scheds, err := workcal.ParseSchedules(br)
	f.Close()
	if err != nil {
		var se *workcal.ScheduleError
		if errors.As(err, &se) {
			return fmt.Errorf("%s: %s", file, se.Message(e.lang))
		}
		return fmt.Errorf("%s: %w", file, err)
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().ImportHolidaySchedules(ctx, scheds); err != nil {
		return err
	}
	if e.json {
		years, err := s.Admin().HolidayYears(ctx)
		if err != nil {
			return err
		}
		return e.printJSON(years)
	}
	for _, sc := range scheds {
		off, work := sc.DaysOff()
		e.printf("Đã nạp lịch nghỉ chính thức năm %d (%d ngày nghỉ, %d ngày làm bù) từ %s.\n",
			"Imported the official %d schedule (%d days off, %d make-up working days) from %s.\n", sc.Year, off, work, file)
	}
	e.printf("Máy chủ đang chạy áp dụng lịch mới trong vòng vài giây; hạn xử lý phản ánh được tính lại theo lịch này.\n",
		"Running servers apply it within seconds; field-report deadlines are recomputed with it.\n")
	return nil
}

func runCalendarList(ctx context.Context, e *env, args []string) error {
	fs := e.calendarFlags("calendar list")
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	years, err := s.Admin().HolidayYears(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(years)
	}
	var rows [][]string
	for _, y := range years {
		src := e.msg("có sẵn", "built in")
		if y.Imported != nil {
			src = e.msg("nạp ", "imported ") + i18n.DateTime(*y.Imported, e.lang)
		}
		note, _, _ := strings.Cut(y.Note, "\n")
		rows = append(rows, []string{strconv.Itoa(y.Year), src, strconv.Itoa(y.DaysOff), strconv.Itoa(y.Workdays), note})
	}
	e.table(e.msg("NĂM\tNGUỒN\tNGÀY NGHỈ\tNGÀY LÀM BÙ\tGHI CHÚ", "YEAR\tSOURCE\tDAYS OFF\tMAKE-UP DAYS\tNOTE"), rows)
	e.printf("Các năm khác: ngày lễ tính theo Bộ luật Lao động 2019 (âm lịch cho Tết và Giỗ Tổ), không có ngày nghỉ hoán đổi.\n",
		"Other years: holidays computed from the Labour Code 2019 (the lunar calendar for Tết and the Hùng Kings' day), without bridge days.\n")
	return nil
}

func runCalendarShow(ctx context.Context, e *env, args []string) error {
	fs := e.calendarFlags("calendar show")
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	year := 0
	if len(pos) == 1 {
		year, _ = strconv.Atoi(pos[0])
	}
	if year < workcal.MinYear || year > workcal.MaxYear {
		return fmt.Errorf(e.msg("cách dùng: hamlet-server calendar show NĂM (%d–%d)", "usage: hamlet-server calendar show YEAR (%d–%d)"), workcal.MinYear, workcal.MaxYear)
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	days, computed := s.Admin().Holidays(year)
	if e.json {
		return e.printJSON(struct {
			Year     int           `json:"year"`
			Computed bool          `json:"computed"`
			Days     []workcal.Day `json:"days"`
		}{year, computed, days})
	}
	if computed {
		e.printf("Năm %d chưa có lịch nghỉ chính thức: ngày lễ tính theo Bộ luật Lao động.\n", "%d has no official schedule: holidays computed from the Labour Code.\n", year)
	} else {
		e.printf("Năm %d theo lịch nghỉ chính thức.\n", "%d follows its official schedule.\n", year)
	}
	var rows [][]string
	for _, d := range days {
		t, _ := time.Parse(time.DateOnly, d.Date)
		wd := t.Weekday().String()
		name := d.NameEN
		if e.lang != "en" {
			wd, name = weekdayVI(t.Weekday()), d.NameVI
		}
		rows = append(rows, []string{i18n.DateText(d.Date, e.lang), wd, e.msg(kindLabel[d.Kind][0], kindLabel[d.Kind][1]), name})
	}
	e.table(e.msg("NGÀY\tTHỨ\tLOẠI\tTÊN", "DATE\tWEEKDAY\tKIND\tNAME"), rows)
	return nil
}

// kindLabel names the kinds of a day of a holiday schedule.
var kindLabel = map[workcal.Kind][2]string{
	workcal.KindHoliday: {"Nghỉ lễ, Tết", "Public holiday"},
	workcal.KindInLieu:  {"Nghỉ bù", "Day off in lieu"},
	workcal.KindBridge:  {"Nghỉ hoán đổi", "Bridge day off"},
	workcal.KindWorkday: {"Làm bù", "Make-up working day"},
}

func weekdayVI(d time.Weekday) string {
	return [7]string{"Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"}[d]
}
