package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/importfile"
	"github.com/hamlet-vn/hamlet/schema"
)

// runImport: hamlet-agent import FILE.xlsx|csv [--map "Cột=trường,..."]
// [--hamlet MÃ] [--sheet TÊN] [--dry-run] [--skip-bad].
func runImport(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	mapping := fs.String("map", "", e.tr("`\"Cột=trường,...\"` chỉ rõ cột nào là trường nào (ví dụ \"Họ tên chủ hộ=head_name,STT=-\"; - bỏ qua cột)",
		"`\"Column=field,...\"` say which column is which field (e.g. \"Full name=head_name,No=-\"; - leaves a column out)"))
	hamlet := fs.String("hamlet", "", e.tr("`MÃ` ấp/khóm của các dòng không ghi ấp (mã hoặc tên)", "`CODE` hamlet of rows that name none (code or name)"))
	sheet := fs.String("sheet", "", e.tr("`TÊN` trang tính của tệp .xlsx (mặc định: trang đang mở)", "`NAME` worksheet of an .xlsx file (default: the active one)"))
	dry := fs.Bool("dry-run", false, e.tr("chỉ kiểm tra và xem trước, không nhập gì", "check and preview only, import nothing"))
	skip := fs.Bool("skip-bad", false, e.tr("nhập các dòng hợp lệ dù có dòng lỗi (các dòng lỗi vẫn được liệt kê)", "import the valid rows even if some are refused (those are still listed)"))
	table := fs.String("table", "households", e.tr("`BẢNG` bảng nhận dữ liệu", "`TABLE` table the rows go to"))
	preview := fs.Int("preview", 5, e.tr("số dòng xem trước", "rows to preview"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return e.usageErr("%s", e.tr("Cách dùng: hamlet-agent import TỆP.xlsx|csv [--map \"Cột=trường,...\"] [--hamlet MÃ] [--dry-run] [--skip-bad]",
			"Usage: hamlet-agent import FILE.xlsx|csv [--map \"Column=field,...\"] [--hamlet CODE] [--dry-run] [--skip-bad]"))
	}
	opts := agent.ImportOptions{Table: *table, Hamlet: *hamlet, SkipBad: *skip, DryRun: *dry, Preview: max(*preview, 0)}
	if *preview == 0 {
		opts.Preview = -1
	}
	if *mapping != "" {
		opts.Map = map[string]string{}
		for _, part := range strings.Split(*mapping, ",") {
			col, field, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(col) == "" {
				return e.usageErr("%s", e.tr("--map cần dạng \"Tên cột=trường,...\", ví dụ --map \"Họ tên chủ hộ=head_name,Số ĐT=phone\"",
					"--map takes \"Column=field,...\", e.g. --map \"Full name=head_name,Phone no.=phone\""))
			}
			opts.Map[strings.TrimSpace(col)] = strings.TrimSpace(field)
		}
	}
	sh, err := importfile.ReadFile(fs.Arg(0), *sheet)
	if err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	is := &agent.ImportSheet{Rows: sh.Rows, Lines: sh.Lines}
	for _, c := range sh.Errors {
		is.Errors = append(is.Errors, agent.ImportCellError{Row: c.Row, Col: c.Col, Value: c.Value, NoValue: c.NoValue})
	}
	res, err := r.Import(ctx, is, opts)
	if res == nil {
		return err
	}
	if e.json {
		type refusal struct {
			Line    int    `json:"line"`
			Column  string `json:"column,omitempty"`
			Message string `json:"message"`
		}
		out := struct {
			*agent.ImportResult
			Refused []refusal `json:"refused"`
			Error   string    `json:"error,omitempty"`
		}{ImportResult: res, Refused: []refusal{}}
		for _, f := range res.Refused {
			out.Refused = append(out.Refused, refusal{f.Line, f.Column, f.Message(e.lang)})
		}
		if err != nil {
			out.Error = agent.MessageOf(err, e.lang)
			e.json = false // printed already: exit only writes stderr
		}
		if perr := e.printJSON(out); perr != nil {
			return perr
		}
		return err
	}
	e.importReport(res, sh.Name)
	if err != nil {
		return err
	}
	n := strconv.Itoa(res.Imported)
	switch {
	case res.DryRun:
		fmt.Fprintln(e.stdout, e.tr(
			fmt.Sprintf("Chạy thử: %d dòng hợp lệ, chưa nhập gì. Bỏ --dry-run để nhập.", res.Accepted),
			fmt.Sprintf("Dry run: %d valid rows, nothing imported. Leave out --dry-run to import.", res.Accepted)))
	case len(res.Refused) > 0:
		fmt.Fprintln(e.stdout, e.tr(
			fmt.Sprintf("Đã nhập %s dòng; bỏ qua %d dòng lỗi (--skip-bad). Sửa các dòng đó rồi nhập lại cả tệp: các hộ đã nhập không bị nhập hai lần. Đồng bộ để gửi lên máy chủ: hamlet-agent sync", n, len(res.Refused)),
			fmt.Sprintf("Imported %s rows; left out %d refused rows (--skip-bad). Fix them and import the whole file again: households already imported are not imported twice. Sync to send them: hamlet-agent sync", n, len(res.Refused))))
	default:
		fmt.Fprintln(e.stdout, e.tr(
			fmt.Sprintf("Đã nhập %s dòng (%d thay đổi chờ gửi). Đồng bộ để gửi lên máy chủ: hamlet-agent sync", n, res.Changes),
			fmt.Sprintf("Imported %s rows (%d changes to send). Sync to send them: hamlet-agent sync", n, res.Changes)))
	}
	return nil
}

// importReport prints how the columns map, the preview and every refused
// row with its line.
func (e *env) importReport(res *agent.ImportResult, sheet string) {
	where := ""
	if sheet != "" {
		where = e.tr(" (trang tính "+sheet+")", " (worksheet "+sheet+")")
	}
	fmt.Fprintf(e.stdout, "%s %d%s:\n", e.tr("Tiêu đề ở dòng", "Header on line"), res.HeaderLine, where)
	var ignored []string
	for _, c := range res.Columns {
		if c.Field == "" {
			if c.Header != "" {
				ignored = append(ignored, "«"+c.Header+"»")
			}
			continue
		}
		fmt.Fprintf(e.stdout, "  «%s» → %s (%s)\n", c.Header, schema.FieldLabel(c.Field, e.lang), c.Field)
	}
	if len(ignored) > 0 {
		fmt.Fprintf(e.stdout, "  %s %s\n", e.tr("Không nhập các cột:", "Columns left out:"), strings.Join(ignored, ", "))
	}
	if len(res.Preview) > 0 {
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(e.stdout, e.tr("Xem trước:", "Preview:"))
		var header []string
		var fields []string
		header = append(header, e.tr("Dòng", "Line"))
		for _, c := range res.Columns {
			if c.Field != "" {
				fields = append(fields, c.Field)
				header = append(header, capitalize(schema.FieldLabel(c.Field, e.lang)))
			}
		}
		if !slices.Contains(fields, schema.ScopeField) {
			fields = append(fields, schema.ScopeField)
			header = append(header, capitalize(schema.FieldLabel(schema.ScopeField, e.lang)))
		}
		var rows [][]string
		for _, p := range res.Preview {
			row := []string{strconv.Itoa(p.Line)}
			for _, f := range fields {
				row = append(row, show(p.Fields[f]))
			}
			rows = append(rows, row)
		}
		e.table(header, rows)
	}
	if len(res.Footer) > 0 {
		lines := make([]string, len(res.Footer))
		for i, l := range res.Footer {
			lines[i] = strconv.Itoa(l)
		}
		fmt.Fprintln(e.stdout)
		fmt.Fprintln(e.stdout, e.tr(
			fmt.Sprintf("Bỏ qua %d dòng dưới bảng (sau dòng trống, không có số thứ tự: thường là chữ ký, ghi chú), không nhập: dòng %s. Nếu trong đó có hộ, hãy điền số thứ tự cho hộ đó rồi nhập lại.", len(res.Footer), strings.Join(lines, ", ")),
			fmt.Sprintf("Left out %d rows under the table (after a blank row, without a row number: signatures, notes as a rule), not imported: lines %s. If a household is among them, give it its row number and import again.", len(res.Footer), strings.Join(lines, ", "))))
	}
	fmt.Fprintln(e.stdout)
	fmt.Fprintln(e.stdout, e.tr(
		fmt.Sprintf("%d dòng dữ liệu: %d hợp lệ, %d lỗi, %d hộ đã có trên máy này (không nhập lại).", res.Rows, res.Accepted, len(res.Refused), len(res.Already)),
		fmt.Sprintf("%d data rows: %d valid, %d refused, %d households already on this laptop (not imported again).", res.Rows, res.Accepted, len(res.Refused), len(res.Already))))
	if len(res.Already) > 0 {
		lines := lineRuns(res.Already, 20)
		fmt.Fprintln(e.stdout, e.tr(
			fmt.Sprintf("Các hộ đã có trên máy này (cùng tên chủ hộ, ấp/khóm, số điện thoại và địa chỉ), không nhập lại: dòng %s.", lines),
			fmt.Sprintf("Households already on this laptop (same head's name, hamlet, phone and address), not imported again: lines %s.", lines)))
	}
	if len(res.Refused) == 0 {
		return
	}
	fmt.Fprintln(e.stderr, e.tr("Các dòng không nhập được:", "Rows that cannot be imported:"))
	for _, f := range res.Refused {
		col := ""
		if f.Column != "" {
			col = e.tr(", cột «"+f.Column+"»", ", column «"+f.Column+"»")
		}
		fmt.Fprintf(e.stderr, "  %s %d%s: %s\n", e.tr("dòng", "line"), f.Line, col, f.Message(e.lang))
	}
}

// lineRuns writes ascending line numbers as runs ("4-9, 12, 15-16"), at
// most max of them, then "…": a list imported again has thousands.
func lineRuns(lines []int, max int) string {
	var parts []string
	for i := 0; i < len(lines); {
		j := i
		for j+1 < len(lines) && lines[j+1] == lines[j]+1 {
			j++
		}
		if len(parts) == max {
			parts = append(parts, "…")
			break
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(lines[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(lines[i]), strconv.Itoa(lines[j]))
		default:
			parts = append(parts, strconv.Itoa(lines[i])+"-"+strconv.Itoa(lines[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
