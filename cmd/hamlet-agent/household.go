package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

// householdFlags are the named flags of household add/edit and their fields.
var householdFlags = map[string]string{
	"hamlet": "hamlet_code", "head": "head_name", "address": "address", "phone": "phone",
	"members": "members_count", "smartphone": "has_smartphone", "vneid": "vneid_installed",
	"vneid-level2": "vneid_level2", "public-services": "uses_public_services", "cashless": "uses_cashless",
	"ehealth": "has_ehealth_record", "active": "active", "registered-on": "registered_on", "notes": "notes",
	"camau-g": "uses_camau_g", // schema 2
}

func householdFlagSet(e *env, name string, sets *setFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("household "+name, flag.ContinueOnError)
	help := map[string][2]string{
		"hamlet": {"`MÃ` mã ấp/khóm, ví dụ 32002-03", "`CODE` hamlet code, e.g. 32002-03"}, "head": {"họ tên chủ hộ", "head of household"},
		"address": {"địa chỉ", "address"}, "phone": {"số điện thoại", "phone number"}, "members": {"số nhân khẩu", "household members"},
		"smartphone": {"có điện thoại thông minh (có/không)", "has a smartphone (yes/no)"}, "vneid": {"đã cài VNeID (có/không)", "VNeID installed (yes/no)"},
		"vneid-level2": {"đã kích hoạt định danh điện tử mức độ 2 (có/không)", "e-ID level 2 activated (yes/no)"}, "public-services": {"dùng dịch vụ công trực tuyến (có/không)", "uses online public services (yes/no)"},
		"cashless": {"thanh toán không dùng tiền mặt (có/không)", "uses cashless payment (yes/no)"}, "ehealth": {"có sổ sức khỏe điện tử (có/không)", "e-health record (yes/no)"},
		"active": {"còn sinh sống (có/không)", "active (yes/no)"}, "camau-g": {"dùng ứng dụng CaMau-G (có/không)", "uses the CaMau-G app (yes/no)"}, "registered-on": {"`NGÀY` ngày đăng ký, ví dụ 01/12/2026", "`DATE` registration date, e.g. 01/12/2026 or 2026-12-01"}, "notes": {"ghi chú", "notes"},
	}
	names := make([]string, 0, len(householdFlags))
	for k := range householdFlags {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		text := e.tr(help[k][0], help[k][1])
		if t, ok := strings.CutSuffix(text, e.tr(" (có/không)", " (yes/no)")); ok {
			text = e.tr("`có|không` ", "`yes|no` ") + t
		}
		fs.String(k, "", text)
	}
	fs.Var(sets, "set", e.tr("`TRƯỜNG=GIÁ_TRỊ` một trường khác (lặp lại được)", "`FIELD=VALUE` another field (repeatable)"))
	return fs
}

func runHousehold(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent household add|edit|list|search|show|delete|restore", "Usage: hamlet-agent household add|edit|list|search|show|delete|restore"))
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "add":
		var sets setFlags
		fs := householdFlagSet(e, "add", &sets)
		if err := e.parse(fs, args); err != nil {
			return err
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		f, err := e.fields("households", fs, householdFlags, sets)
		if err != nil {
			return err
		}
		// Saved even when the same household is here already (a script, or
		// another household of the same name and place), with a word on
		// how to undo it: the app, which can ask, asks first.
		id, err := r.AddHousehold(ctx, f, agent.UnlessSame())
		var same *agent.SameHouseholdError
		if errors.As(err, &same) {
			id, err = r.AddHousehold(ctx, f)
		}
		if err != nil {
			return err
		}
		if same != nil {
			fmt.Fprintln(e.stderr, e.tr(
				fmt.Sprintf("Lưu ý: máy này đã có hộ %s cùng ấp/khóm, cùng số điện thoại và địa chỉ (mã %s); xem: hamlet-agent household show %s. Nếu đó là cùng một hộ, hãy xóa hộ vừa thêm: hamlet-agent household delete %s", same.Head, same.ID, same.ID, id),
				fmt.Sprintf("Note: this laptop already has household %s in the same hamlet, with the same phone and address (ID %s); see: hamlet-agent household show %s. If it is the same household, delete the one just added: hamlet-agent household delete %s", same.Head, same.ID, same.ID, id)))
		} else if done, total, err := r.CloneUnderWay(ctx); err == nil && total > 0 {
			// The check above saw only the part of the team's households
			// a cut download brought: the household may be on the server.
			fmt.Fprintln(e.stderr, e.tr(
				fmt.Sprintf("Lưu ý: dữ liệu của tổ chưa tải xong về máy này (mới tải %s/%s bản ghi), nên Hamlet chưa kiểm tra được hộ này đã có trên máy chủ hay chưa. Sau khi đồng bộ (hamlet-agent sync), hãy tìm lại hộ (hamlet-agent household search TÊN); nếu hộ đã có từ trước, hãy xóa hộ vừa thêm: hamlet-agent household delete %s",
					i18n.Int(int64(done), e.lang), i18n.Int(int64(total), e.lang), id),
				fmt.Sprintf("Note: the team's data has not finished downloading to this laptop (%s of %s records so far), so Hamlet could not check whether this household is on the server already. After syncing (hamlet-agent sync), search for it again (hamlet-agent household search NAME); if it was there before, delete the one just added: hamlet-agent household delete %s",
					i18n.Int(int64(done), e.lang), i18n.Int(int64(total), e.lang), id)))
		}
		return e.saved(ctx, "households", id.String())
	case "edit":
		var sets setFlags
		fs := householdFlagSet(e, "edit", &sets)
		if err := e.parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent household edit ID --phone 09... [--set trường=giá_trị]", "Usage: hamlet-agent household edit ID --phone 09... [--set field=value]"))
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		id, err := r.ResolveID(ctx, "households", fs.Arg(0))
		if err != nil {
			return err
		}
		f, err := e.fields("households", fs, householdFlags, sets)
		if err != nil {
			return err
		}
		if len(f) == 0 {
			// Nothing queued: "saved, sent at the next sync" would be untrue.
			return e.usageErr("%s", e.tr(
				fmt.Sprintf("Chưa có gì thay đổi: hãy nêu trường cần sửa, ví dụ hamlet-agent household edit %s --phone 09... hoặc --set trường=giá_trị (xem: hamlet-agent household edit --help).", fs.Arg(0)),
				fmt.Sprintf("Nothing was changed: give the fields to change, e.g. hamlet-agent household edit %s --phone 09... or --set field=value (see: hamlet-agent household edit --help).", fs.Arg(0))))
		}
		if err := r.EditHousehold(ctx, id, f); err != nil {
			return err
		}
		return e.saved(ctx, "households", id.String())
	case "list", "search":
		fs := flag.NewFlagSet("household "+sub, flag.ContinueOnError)
		hamlet := fs.String("hamlet", "", e.tr("`MÃ` chỉ ấp/khóm này, ví dụ 32002-01", "`CODE` only this hamlet, e.g. 32002-01"))
		deleted := fs.Bool("deleted", false, e.tr("kể cả hộ đã xóa", "include deleted households"))
		limit := fs.Int("limit", 0, e.tr("số dòng tối đa", "maximum rows"))
		if err := e.parse(fs, args); err != nil {
			return err
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		o := agent.ListOptions{Hamlet: *hamlet, IncludeDeleted: *deleted, Limit: *limit}
		var recs []agent.Record
		if sub == "search" {
			recs, err = r.Search(ctx, strings.Join(fs.Args(), " "), o)
		} else {
			recs, err = r.List(ctx, "households", o)
		}
		if err != nil {
			return err
		}
		if done, total, err := r.CloneUnderWay(ctx); err == nil && total > 0 && !e.json {
			// A cut download: the list is of the part it brought.
			fmt.Fprintf(e.stderr, "%s %s\n", e.tr("Lưu ý: dữ liệu của tổ", "Note: the team's data is"), cloneUnfinished(e, done, total))
		}
		return e.households(recs)
	case "show":
		fs := flag.NewFlagSet("household show", flag.ContinueOnError)
		if err := e.parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent household show ID", "Usage: hamlet-agent household show ID"))
		}
		return e.show(ctx, "households", fs.Arg(0))
	case "delete", "restore":
		fs := flag.NewFlagSet("household "+sub, flag.ContinueOnError)
		if err := e.parse(fs, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent household "+sub+" ID", "Usage: hamlet-agent household "+sub+" ID"))
		}
		r, err := e.open(ctx)
		if err != nil {
			return err
		}
		id, err := r.ResolveID(ctx, "households", fs.Arg(0))
		if err != nil {
			return err
		}
		if sub == "delete" {
			err = r.Delete(ctx, "households", id)
		} else {
			err = r.Restore(ctx, "households", id)
		}
		if err != nil {
			return err
		}
		return e.saved(ctx, "households", id.String())
	}
	return e.usageErr("%s: household %s", e.tr("Lệnh không tồn tại", "Unknown command"), sub)
}

// saved confirms a write: the record as JSON, or one line.
func (e *env) saved(ctx context.Context, table, id string) error {
	if e.json {
		d, err := e.replica.Show(ctx, table, id)
		if err != nil {
			return err
		}
		return e.printJSON(d.Record)
	}
	fmt.Fprintf(e.stdout, "%s %s\n", e.tr("Đã lưu trên máy, sẽ gửi khi đồng bộ. Mã:", "Saved on this laptop; it will be sent at the next sync. ID:"), id)
	if e.replica.ClockSetBack() {
		fmt.Fprintln(e.stderr, clockSetBackNote(e, e.replica.Today()))
	}
	return nil
}

func (e *env) households(recs []agent.Record) error {
	if e.json {
		if recs == nil {
			recs = []agent.Record{}
		}
		return e.printJSON(recs)
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		head := r.Str("head_name")
		if r.Deleted {
			head += e.tr(" (đã xóa)", " (deleted)")
		}
		rows = append(rows, []string{short(r.ID), e.hamletLabel(r.Hamlet), head, show(r.Fields["phone"]), show(r.Fields["members_count"]), r.Str("address")})
	}
	e.table([]string{e.tr("MÃ", "ID"), e.tr("ẤP/KHÓM", "HAMLET"), e.tr("CHỦ HỘ", "HEAD"), e.tr("ĐIỆN THOẠI", "PHONE"), e.tr("NK", "MEMBERS"), e.tr("ĐỊA CHỈ", "ADDRESS")}, rows)
	fmt.Fprintf(e.stdout, "%d %s\n", len(recs), e.tr("hộ", "households"))
	return nil
}

func (e *env) show(ctx context.Context, table, id string) error {
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	d, err := r.Show(ctx, table, id)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(d)
	}
	fmt.Fprintf(e.stdout, "%s %s\n", e.tableName(d.Table), d.ID)
	if d.Deleted {
		fmt.Fprintln(e.stdout, e.tr("ĐÃ XÓA", "DELETED"))
	}
	// Fields in the order of the form (the schema's), not alphabetical by
	// their names in the data.
	order := map[string]int{}
	if t, ok := schema.LookupTable(d.Table); ok {
		for i, f := range t.Fields {
			order[f.Name] = i
		}
	}
	sort.SliceStable(d.History, func(i, j int) bool {
		oi, ki := order[d.History[i].Field]
		oj, kj := order[d.History[j].Field]
		if ki != kj {
			return ki
		}
		return oi < oj
	})
	who := e.writers(ctx)
	var rows [][]string
	for _, h := range d.History {
		for i, v := range h.Versions {
			name := ""
			if i == 0 {
				name = e.fieldName(h.Field)
			}
			var marks []string
			if v.Current {
				marks = append(marks, e.tr("hiện tại", "current"))
			}
			if v.Lost {
				marks = append(marks, e.tr("bị ghi đè đồng thời", "lost to a concurrent edit"))
			}
			if v.Pending {
				marks = append(marks, e.tr("chờ gửi", "pending"))
			}
			rows = append(rows, []string{name, e.value(d.Table, h.Field, v.Value), e.when(v.At), who.name(v.Origin, v.Mine), strings.Join(marks, ", ")})
		}
	}
	e.table([]string{e.tr("TRƯỜNG", "FIELD"), e.tr("GIÁ TRỊ", "VALUE"), zoneHeader(e.tr("LÚC", "WHEN")), e.tr("AI GHI", "WHO"), ""}, rows)
	for _, sec := range []struct {
		vi, en string
		recs   []agent.Record
	}{{"Lượt thăm hộ", "Visits", d.Visits}, {"Lượt hướng dẫn", "Tutoring", d.Tutoring}, {"Phản ánh hiện trường", "Field reports", d.Reports}} {
		if len(sec.recs) > 0 {
			fmt.Fprintf(e.stdout, "%s: %d\n", e.tr(sec.vi, sec.en), len(sec.recs))
		}
	}
	return nil
}
