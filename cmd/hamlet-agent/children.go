package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
)

var vnZone = time.FixedZone("ICT", 7*3600)

// listChildren prints visits, tutoring records or reports.
func (e *env) listChildren(ctx context.Context, table string, args []string, cols func(agent.Record) []string, header []string) error {
	// Named by the command the volunteer typed ("visit list"), not the
	// table: help and mistakes point to it.
	fs := flag.NewFlagSet(map[string]string{"visits": "visit", "tutoring_records": "tutor", "field_reports": "report"}[table]+" list", flag.ContinueOnError)
	household := fs.String("household", "", e.tr("`MÃ` chỉ của hộ này", "`ID` only this household's"))
	hamlet := fs.String("hamlet", "", e.tr("`MÃ` chỉ ấp/khóm này, ví dụ 32002-01", "`CODE` only this hamlet, e.g. 32002-01"))
	limit := fs.Int("limit", 0, e.tr("số dòng tối đa", "maximum rows"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	o := agent.ListOptions{Hamlet: *hamlet, Limit: *limit}
	if *household != "" {
		id, err := r.ResolveID(ctx, "households", *household)
		if err != nil {
			return err
		}
		o.Household = id.String()
	}
	recs, err := r.List(ctx, table, o)
	if err != nil {
		return err
	}
	if e.json {
		if recs == nil {
			recs = []agent.Record{}
		}
		return e.printJSON(recs)
	}
	rows := make([][]string, 0, len(recs))
	for _, rec := range recs {
		rows = append(rows, append([]string{short(rec.ID), short(rec.Str("household_id"))}, cols(rec)...))
	}
	e.table(append([]string{e.tr("MÃ", "ID"), e.tr("HỘ", "HOUSEHOLD")}, header...), rows)
	fmt.Fprintf(e.stdout, "%d\n", len(recs))
	return nil
}

func (e *env) householdArg(ctx context.Context, r *agent.Replica, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, &agent.InputError{VI: "Thiếu --household: hãy nhập mã hộ (xem: hamlet-agent household search TÊN).",
			EN: "Missing --household: give the household id (see: hamlet-agent household search NAME).", Detail: "--household: missing"}
	}
	return r.ResolveID(ctx, "households", s)
}

func runVisit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent visit add|list", "Usage: hamlet-agent visit add|list"))
	}
	switch args[0] {
	case "add":
		fs := flag.NewFlagSet("visit add", flag.ContinueOnError)
		household := fs.String("household", "", e.tr("`MÃ` mã hộ (xem: hamlet-agent household search TÊN)", "`ID` the household's id (see: hamlet-agent household search NAME)"))
		var sets setFlags
		fs.String("date", "", e.tr("`NGÀY` ngày thăm hộ, ví dụ 01/12/2026 (nếu không nêu: hôm nay)", "`DATE` the visit's date, e.g. 01/12/2026 or 2026-12-01 (if not given: today)"))
		fs.String("notes", "", e.tr("ghi chú", "notes"))
		fs.Var(&sets, "set", e.tr("`TRƯỜNG=GIÁ_TRỊ` một trường khác (lặp lại được)", "`FIELD=VALUE` another field (repeatable)"))
		if err := e.parse(fs, args[1:]); err != nil {
			return err
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		hh, err := e.householdArg(ctx, r, *household)
		if err != nil {
			return err
		}
		f, err := e.fields("visits", fs, map[string]string{"date": "visited_on", "notes": "notes"}, sets)
		if err != nil {
			return err
		}
		id, err := r.AddVisit(ctx, hh, f)
		if err != nil {
			return err
		}
		return e.saved(ctx, "visits", id.String())
	case "list":
		return e.listChildren(ctx, "visits", args[1:], func(r agent.Record) []string {
			return []string{e.date(r.Str("visited_on")), r.Str("notes")}
		}, []string{e.tr("NGÀY", "DATE"), e.tr("GHI CHÚ", "NOTES")})
	}
	return e.usageErr("%s: visit %s", e.tr("Lệnh không tồn tại", "Unknown command"), args[0])
}

func runTutor(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent tutor add|list|skills", "Usage: hamlet-agent tutor add|list|skills"))
	}
	switch args[0] {
	case "skills":
		var rows [][3]string
		for _, s := range schema.Skills() {
			rows = append(rows, [3]string{s.Code, s.NameVI, s.NameEN})
		}
		return listCatalogue(e, "tutor skills", args[1:], schema.Skills(), rows, "KỸ NĂNG", "SKILL")
	case "add":
		fs := flag.NewFlagSet("tutor add", flag.ContinueOnError)
		household := fs.String("household", "", e.tr("`MÃ` mã hộ (xem: hamlet-agent household search TÊN)", "`ID` the household's id (see: hamlet-agent household search NAME)"))
		skill := fs.String("skill", "", e.tr("`MÃ` mã kỹ năng (xem: hamlet-agent tutor skills)", "`CODE` skill code (see: hamlet-agent tutor skills)"))
		fs.String("person", "", e.tr("tên người được hướng dẫn", "name of the person taught"))
		fs.String("outcome", "independent", e.tr("`KẾT_QUẢ` kết quả: ", "`OUTCOME` outcome: ")+schema.EnumChoices(schema.EnumTutoringOutcome, e.lang))
		fs.String("date", "", e.tr("`NGÀY` ngày hướng dẫn, ví dụ 01/12/2026 (nếu không nêu: hôm nay)", "`DATE` the day it was taught, e.g. 01/12/2026 or 2026-12-01 (if not given: today)"))
		var sets setFlags
		fs.Var(&sets, "set", e.tr("`TRƯỜNG=GIÁ_TRỊ` một trường khác (lặp lại được)", "`FIELD=VALUE` another field (repeatable)"))
		if err := e.parse(fs, args[1:]); err != nil {
			return err
		}
		if *skill != "" {
			if _, ok := schema.SkillByCode(*skill); !ok {
				return unknownSkill(*skill)
			}
		}
		// --skill or --set skill=...; both, differing, are refused (fields).
		f, err := e.fields("tutoring_records", fs, map[string]string{"skill": "skill", "person": "person_name", "outcome": "outcome", "date": "taught_on"}, sets)
		if err != nil {
			return err
		}
		s, _ := f["skill"].(string)
		if _, ok := schema.SkillByCode(s); !ok {
			return unknownSkill(s)
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		hh, err := e.householdArg(ctx, r, *household)
		if err != nil {
			return err
		}
		if _, ok := f["outcome"]; !ok {
			f["outcome"] = "independent"
		}
		id, err := r.AddTutoring(ctx, hh, f)
		if err != nil {
			return err
		}
		return e.saved(ctx, "tutoring_records", id.String())
	case "list":
		return e.listChildren(ctx, "tutoring_records", args[1:], func(r agent.Record) []string {
			return []string{e.date(r.Str("taught_on")), e.value("tutoring_records", "skill", r.Fields["skill"]),
				e.value("tutoring_records", "outcome", r.Fields["outcome"]), r.Str("person_name")}
		}, []string{e.tr("NGÀY", "DATE"), e.tr("KỸ NĂNG", "SKILL"), e.tr("KẾT QUẢ", "OUTCOME"), e.tr("NGƯỜI HỌC", "PERSON")})
	}
	return e.usageErr("%s: tutor %s", e.tr("Lệnh không tồn tại", "Unknown command"), args[0])
}

func unknownSkill(s string) error {
	return &agent.InputError{
		VI:     fmt.Sprintf("Kỹ năng %q không có trong danh mục. Hãy chọn một mã trong: %s (xem: hamlet-agent tutor skills).", s, schema.EnumChoices(schema.EnumSkill, "vi")),
		EN:     fmt.Sprintf("Skill %q is not in the catalogue. Pick one of: %s (see: hamlet-agent tutor skills).", s, schema.EnumChoices(schema.EnumSkill, "en")),
		Detail: fmt.Sprintf("tutoring_records.skill: not a %s (%s)", schema.EnumSkill, schema.Shape(s)),
	}
}

func runReport(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent report add|list|categories|attach|photos|photo", "Usage: hamlet-agent report add|list|categories|attach|photos|photo"))
	}
	switch args[0] {
	case "categories":
		var rows [][3]string
		for _, c := range schema.ReportCategories() {
			rows = append(rows, [3]string{c.Code, c.NameVI, c.NameEN})
		}
		return listCatalogue(e, "report categories", args[1:], schema.ReportCategories(), rows, "LĨNH VỰC", "CATEGORY")
	case "add":
		fs := flag.NewFlagSet("report add", flag.ContinueOnError)
		household := fs.String("household", "", e.tr("`MÃ` mã hộ của người phản ánh", "`ID` the resident's household id"))
		named := map[string]string{"hamlet": "hamlet_code", "category": "category", "description": "description", "location": "location",
			"reporter-name": "reporter_name", "reporter-phone": "reporter_phone", "consent": "consent_disclose", "occurred-at": "occurred_at"}
		fs.String("hamlet", "", e.tr("`MÃ` ấp/khóm (khi không gắn với hộ)", "`CODE` hamlet (when not for a household)"))
		fs.String("category", "", e.tr("`MÃ` lĩnh vực (xem: hamlet-agent report categories)", "`CODE` category (see: hamlet-agent report categories)"))
		fs.String("description", "", e.tr("nội dung phản ánh", "description"))
		fs.String("location", "", e.tr("địa điểm", "location"))
		fs.String("reporter-name", "", e.tr("tên người phản ánh (bảo mật)", "reporter's name (confidential)"))
		fs.String("reporter-phone", "", e.tr("số điện thoại người phản ánh (bảo mật)", "reporter's phone (confidential)"))
		fs.String("consent", "", e.tr("`có|không` đồng ý công khai danh tính", "`yes|no` consents to disclose identity"))
		fs.String("occurred-at", "", e.tr("`NGÀY_GIỜ` thời điểm xảy ra, giờ Việt Nam, ví dụ 01/12/2026 14:30 hoặc 01/12/2026", "`WHEN` when it happened, Vietnam time, e.g. 01/12/2026 14:30 or 2026-12-01 14:30"))
		var sets, photos setFlags
		fs.Var(&sets, "set", e.tr("`TRƯỜNG=GIÁ_TRỊ` một trường khác (lặp lại được)", "`FIELD=VALUE` another field (repeatable)"))
		po := e.photoFlags(fs, &photos)
		if err := e.parse(fs, args[1:]); err != nil {
			return err
		}
		// Every photo is checked and processed before anything is saved:
		// a bad file refuses the whole command, no half-made report.
		prepared, err := e.preparePhotos(photos, po)
		if err != nil {
			return err
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		f, err := e.fields("field_reports", fs, named, sets)
		if err != nil {
			return err
		}
		hh := uuid.Nil
		if *household != "" {
			if hh, err = r.ResolveID(ctx, "households", *household); err != nil {
				return err
			}
		}
		gps := e.photoPlace(prepared, *po.useGPS)
		if gps != nil {
			f["lat"], f["lng"] = gps.Lat, gps.Lng
		}
		var digests []string
		for _, p := range prepared {
			// Kept before the report names them: a record never names a
			// photo the laptop lacks.
			if err := r.KeepPhoto(ctx, p); err != nil {
				return err
			}
			digests = append(digests, p.Digest)
		}
		if len(digests) > 0 {
			f[schema.PhotoDigestsField] = schema.PhotoDigestsValue(digests)
		}
		id, err := r.AddReport(ctx, hh, f)
		if err != nil {
			return err
		}
		if err := e.saved(ctx, "field_reports", id.String()); err != nil {
			return err
		}
		e.photosSaved(id.String(), photos, prepared, gps != nil)
		return nil
	case "attach":
		return e.reportAttach(ctx, args[1:])
	case "photos":
		return e.reportPhotos(ctx, args[1:])
	case "photo":
		return e.reportPhoto(ctx, args[1:])
	case "list":
		return e.listChildren(ctx, "field_reports", args[1:], func(r agent.Record) []string {
			// The coordinator's reason (why it was returned or handed
			// back) is what the volunteer tells the resident.
			return []string{e.value("field_reports", "category", r.Fields["category"]), e.value("field_reports", "status", r.Fields["status"]), r.Str("status_reason"), r.Str("description")}
		}, []string{e.tr("LĨNH VỰC", "CATEGORY"), e.tr("TRẠNG THÁI", "STATUS"), e.tr("LÝ DO", "REASON"), e.tr("NỘI DUNG", "DESCRIPTION")})
	}
	return e.usageErr("%s: report %s", e.tr("Lệnh không tồn tại", "Unknown command"), args[0])
}

// listCatalogue prints a reference catalogue (skills, report categories):
// the whole entries as JSON, or code and name in the volunteer's language.
func listCatalogue(e *env, name string, args []string, asJSON any, rows [][3]string, headVI, headEN string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(asJSON)
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r[0], e.tr(r[1], r[2])}
	}
	e.table([]string{e.tr("MÃ", "CODE"), e.tr(headVI, headEN)}, table)
	return nil
}
