package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

func init() {
	register(command{name: "unit add-hamlets", vi: "thêm ấp/khóm cho một xã (--commune, --count, hoặc --file CSV code,name)",
		en: "add hamlets to a commune (--commune, --count, or --file CSV code,name)", run: runAddHamlets})
}

func runAddHamlets(ctx context.Context, e *env, args []string) error {
	fs := e.flags("unit add-hamlets")
	e.jsonFlag(fs)
	commune := fs.String("commune", "", e.msg("mã xã/phường, ví dụ 32002", "commune code, e.g. 32002"))
	count := fs.Int("count", 0, e.msg("số ấp/khóm", "number of hamlets"))
	from := fs.Int("from", 1, e.msg("số thứ tự bắt đầu", "first number"))
	file := fs.String("file", "", e.msg("CSV các ấp/khóm: code,name[,type]", "CSV of hamlets: code,name[,type]"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *file == "" && *commune != "" && *count != 0 && (*from < 1 || *count < 1 || *from+*count-1 > 99) {
		// A hamlet code is the commune's and two digits.
		fmt.Fprintf(e.stderr, "%s: %s. %s hamlet-server %s --help\n", e.msg("Lỗi", "Error"),
			fmt.Sprintf(e.msg("số thứ tự ấp/khóm phải từ 1 đến 99 (--from %d --count %d là %d..%d)",
				"hamlet numbers must run from 1 to 99 (--from %d --count %d is %d..%d)"), *from, *count, *from, *from+*count-1),
			e.msg("Xem:", "See:"), fs.Name())
		return errUsage
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	var added []schema.AdminUnit
	var slip named
	switch {
	case *file != "":
		var hs []schema.AdminUnit
		if hs, err = hamletsFromCSV(*file); err == nil && len(hs) == 0 {
			// A header alone, blank rows, an empty sheet: added 0 would
			// read as done, with nothing done.
			return fmt.Errorf("%s", e.msg(fmt.Sprintf("tệp %s không có ấp/khóm nào (chỉ có dòng tên cột hoặc dòng trống): mỗi dòng là mã,tên[,loại], như 32002-03,Ấp 3; nếu tệp được lưu từ Excel, hãy kiểm tra đã lưu đúng trang tính có danh sách ấp/khóm", *file),
				fmt.Sprintf("the file %s holds no hamlet (only a header or blank rows): each line is code,name[,type], as in 32002-03,Ấp 3; if it was saved from Excel, check that the sheet saved is the one with the hamlets", *file)))
		} else if err == nil {
			// An existing hamlet keeps its commune (the merger moved some
			// and kept their codes); a new one goes to its code's.
			added, err = s.Admin().ImportHamlets(ctx, hs)
		}
		if errors.Is(err, server.ErrNotFound) {
			for _, h := range hs {
				if m := e.missing(ctx, s, err, named{commune: h.Code[:5]}); m != err {
					return m
				}
			}
		}
	case *commune != "" && *count > 0:
		added, err = s.Admin().AddHamlets(ctx, *commune, *from, *count)
		slip.commune = *commune
	default:
		return errors.New(e.msg("cần --commune và --count, hoặc --file", "give --commune and --count, or --file"))
	}
	if err != nil {
		return e.refusal(ctx, s, err, slip)
	}
	if e.json {
		return e.printJSON(added)
	}
	var rows [][]string
	for _, u := range added {
		rows = append(rows, []string{u.Code, u.Name, u.ParentCode})
	}
	e.table(e.msg("MÃ\tTÊN\tXÃ", "CODE\tNAME\tCOMMUNE"), rows)
	e.printf("Đã thêm %d ấp/khóm.\n", "Added %d hamlets.\n", len(added))
	return nil
}

func hamletsFromCSV(path string) ([]schema.AdminUnit, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hs, err := schema.ParseHamlets(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hs, nil
}
