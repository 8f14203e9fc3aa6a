package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func runConflicts(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "archive" {
		return runConflictsArchive(ctx, e, args[1:])
	}
	fs := flag.NewFlagSet("conflicts", flag.ContinueOnError)
	all := fs.Bool("all", false, e.tr("kể cả xung đột đã khôi phục", "include restored conflicts"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if fs.Arg(0) != "restore" || fs.NArg() != 2 {
			return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent conflicts [restore ID | archive --older-than 90d --out TỆP]", "Usage: hamlet-agent conflicts [restore ID | archive --older-than 90d --out FILE]"))
		}
		id, err := strconv.ParseInt(fs.Arg(1), 10, 64)
		if err != nil {
			return &agent.NotFoundError{Table: "conflicts", ID: fs.Arg(1)}
		}
		c, err := r.RestoreConflict(ctx, id)
		if err != nil {
			return err
		}
		if e.json {
			return e.printJSON(c)
		}
		if c.Field == syncproto.TombstoneField {
			fmt.Fprintln(e.stdout, e.tr("Đã khôi phục bản ghi bị xóa, cùng phần đã sửa (sẽ gửi khi đồng bộ).",
				"Restored the deleted record, with its edits (sent at the next sync)."))
			return nil
		}
		fmt.Fprintf(e.stdout, e.tr("Đã khôi phục %s = %s (sẽ gửi khi đồng bộ).\n", "Restored %s = %s (sent at the next sync).\n"), e.fieldName(c.Field), e.value(c.Table, c.Field, c.Loser.Value))
		return nil
	}
	cs, err := r.Conflicts(ctx, *all)
	if err != nil {
		return err
	}
	if e.json {
		if cs == nil {
			cs = []agent.Conflict{}
		}
		return e.printJSON(cs)
	}
	if len(cs) == 0 {
		fmt.Fprintln(e.stdout, e.tr("Không có xung đột.", "No conflicts."))
		return nil
	}
	names := e.writers(ctx)
	who := func(s agent.Side) string { return names.name(s.Origin, s.Mine) + ", " + e.when(s.At) }
	var rows [][]string
	deletes := false
	for _, c := range cs {
		field, lost, kept := e.fieldName(c.Field), e.value(c.Table, c.Field, c.Loser.Value), e.value(c.Table, c.Field, c.Winner.Value)
		lostWho := who(c.Loser)
		if c.Field == syncproto.TombstoneField && c.Loser.Value == false {
			// A delete that won over an edit it never saw (agent/hidden.go).
			deletes = true
			field, lost, kept = e.tr("xóa/sửa", "delete/edit"), e.tr("còn, đã sửa", "kept, edited"), e.tr("đã xóa", "deleted")
			lostWho = e.when(c.Loser.At)
		}
		rows = append(rows, []string{strconv.FormatInt(c.ID, 10), e.tableName(c.Table), short(c.Row), field,
			lost, lostWho, kept, who(c.Winner)})
	}
	e.table([]string{e.tr("MÃ", "ID"), e.tr("LOẠI", "KIND"), e.tr("BẢN GHI", "RECORD"), e.tr("TRƯỜNG", "FIELD"),
		e.tr("GIÁ TRỊ BỊ GHI ĐÈ", "LOST VALUE"), zoneHeader(e.tr("AI GHI, LÚC", "WHO, WHEN")), e.tr("GIÁ TRỊ HIỆN TẠI", "KEPT VALUE"), zoneHeader(e.tr("AI GHI, LÚC", "WHO, WHEN"))}, rows)
	if deletes {
		fmt.Fprintln(e.stdout, e.tr("xóa/sửa: bản ghi bị xóa trong khi có người sửa nó mà chưa biết việc xóa; khôi phục để giữ bản ghi và phần đã sửa.",
			"delete/edit: the record was deleted while someone who did not know it edited it; restore to keep the record and the edit."))
	}
	fmt.Fprintln(e.stdout, e.tr("Khôi phục giá trị bị ghi đè: hamlet-agent conflicts restore ID", "Restore a lost value: hamlet-agent conflicts restore ID"))
	return nil
}

func runRejected(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("rejected", flag.ContinueOnError)
	value := fs.String("value", "", e.tr("giá trị đã sửa (với fix); bỏ trống để gửi lại giá trị cũ", "corrected value (with fix); omit to resend the same value"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		sub := fs.Arg(0)
		if (sub != "fix" && sub != "discard") || fs.NArg() < 2 {
			return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent rejected [fix ID [--value GIÁ_TRỊ] | discard ID]", "Usage: hamlet-agent rejected [fix ID [--value VALUE] | discard ID]"))
		}
		idText := fs.Arg(1)
		// Flags may follow the id (rejected fix 12 --value ...): parse the rest.
		if err := fs.Parse(fs.Args()[2:]); err != nil {
			return errUsage
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			return &agent.NotFoundError{Table: "rejected", ID: idText}
		}
		var dropped agent.DiscardEffect
		if sub == "discard" {
			// What goes with it, said after: read before it goes.
			if dropped, err = r.DiscardPreview(ctx, []int64{id}); err == nil {
				err = r.DiscardRejected(ctx, id)
			}
		} else {
			var v any
			if *value != "" {
				list, lerr := r.Rejected(ctx)
				if lerr != nil {
					return lerr
				}
				for _, x := range list {
					if x.ID == id {
						if v, err = agent.ParseFieldValue(x.Table, x.Field, *value); err != nil {
							return err
						}
					}
				}
			}
			err = r.FixRejected(ctx, id, v)
		}
		if err != nil {
			return err
		}
		if !e.json {
			fmt.Fprintln(e.stdout, e.tr("Đã xong.", "Done."))
			switch {
			case dropped.Whole && dropped.Records > 0:
				fmt.Fprintf(e.stdout, e.tr("Máy chủ chưa nhận hộ %s: hộ và %d bản ghi của hộ đã bị xóa khỏi máy này.\n",
					"The server never took household %s: it and its %d records were removed from this laptop.\n"), short(dropped.Row), dropped.Records)
			case dropped.Whole:
				fmt.Fprintf(e.stdout, e.tr("Máy chủ chưa nhận bản ghi %s: bản ghi đã bị xóa khỏi máy này.\n",
					"The server never took record %s: it was removed from this laptop.\n"), short(dropped.Row))
			case dropped.Leaves:
				fmt.Fprintf(e.stdout, e.tr("Bản ghi %s thuộc ấp/khóm mà tổ bạn không còn phụ trách (theo lần đồng bộ gần nhất) nên đã rời khỏi máy này; máy chủ vẫn giữ nó, không mất gì.\n",
					"Record %s is in a hamlet your team no longer covers (as of the last sync), so it has left this laptop; the server keeps it, nothing is lost.\n"), short(dropped.Row))
			}
		}
		return nil
	}
	list, err := r.Rejected(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if list == nil {
			list = []agent.Rejected{}
		}
		for i := range list {
			list[i].Reason = list[i].Text(e.lang) // the reason in the user's language; why: as data
		}
		return e.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, e.tr("Không có thay đổi bị từ chối.", "No refused changes."))
		return nil
	}
	var rows [][]string
	for _, x := range list {
		what := agent.MessageOf(&agent.ServerError{Code: codeOf(x.Code)}, e.lang)
		switch c := codeOf(x.Code); {
		case (c == syncproto.CodeMovedOutOfScope || c == syncproto.CodeOutOfScope) && x.Text(e.lang) != "":
			what += " [" + x.Text(e.lang) + "]" // the move or the hamlet, and who may make it
		case x.Why != nil && x.Text(e.lang) != "":
			// The server's reason for this value (a date in the future: check
			// the clock) says more than the code's general hint.
			what = x.Text(e.lang)
		}
		rows = append(rows, []string{strconv.FormatInt(x.ID, 10), e.tableName(x.Table), short(x.Row), e.fieldName(x.Field), e.value(x.Table, x.Field, x.Value), x.Code, what})
	}
	e.table([]string{e.tr("MÃ", "ID"), e.tr("LOẠI", "KIND"), e.tr("BẢN GHI", "RECORD"), e.tr("TRƯỜNG", "FIELD"), e.tr("GIÁ TRỊ", "VALUE"), e.tr("MÃ LỖI", "CODE"), e.tr("CẦN LÀM", "WHAT TO DO")}, rows)
	fmt.Fprintln(e.stdout, e.tr("Sửa: hamlet-agent rejected fix ID --value GIÁ_TRỊ; bỏ: hamlet-agent rejected discard ID",
		"Fix: hamlet-agent rejected fix ID --value VALUE; drop: hamlet-agent rejected discard ID"))
	return nil
}
