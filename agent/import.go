package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Importing what teams already keep: a household list in a spreadsheet.
// Import maps the sheet's columns to a table's fields (by their Vietnamese
// or English names, the names people give them, or an explicit map), reads
// each cell as the CLI reads a flag (ParseFieldValue), validates each row
// with the one check every local write passes (schema's CheckWrite, through
// normalize) and writes every accepted row in ONE transaction, change log
// (outbox) included: a sync sends them like any other change. A row that
// fails is listed with its line and reason; unless SkipBad, one refused row
// means nothing is written, so a file is never half imported.

// ImportSheet is a spreadsheet's cells as text, the header among them
// (Import finds it: the first row naming at least two fields, or one the
// Map names).
type ImportSheet struct {
	Rows [][]string
	// Lines are the rows' line numbers in the file, as a person finds them
	// in Excel or a text editor; nil means index + 1.
	Lines []int
	// Errors are the cells that show a spreadsheet's error value (#N/A of
	// a VLOOKUP that found nothing), or are formulas saved without their
	// value: a row with one in an imported column is refused, not
	// imported with "#N/A", or nothing, for a value.
	Errors []ImportCellError
}

// ImportCellError is a cell of the sheet showing an error value, or a
// formula the file holds without its value.
type ImportCellError struct {
	Row, Col int    // indexes into Rows and the row's cells
	Value    string // as the spreadsheet shows it, "#N/A"
	// NoValue: a formula saved without its value (a workbook a program
	// wrote and Excel never opened): its cell reads as empty, and is not.
	NoValue bool
}

// FormulaNoValueError: a cell is a formula the file holds without its
// value; Hamlet does not compute formulas.
type FormulaNoValueError struct{ Cell string }

func (e *FormulaNoValueError) Error() string {
	return fmt.Sprintf("agent: cell %s is a formula saved without its value", e.Cell)
}

func (e *FormulaNoValueError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Ô %s là công thức mà tệp không lưu kết quả (tệp do một chương trình tạo ra và chưa từng mở bằng Excel): Hamlet không tự tính công thức, nên không biết giá trị của ô. Hãy mở tệp trong Excel (hoặc LibreOffice), lưu lại (Ctrl+S), rồi nhập lại.", e.Cell),
		fmt.Sprintf("Cell %s is a formula the file holds without its value (a file a program wrote that was never opened in Excel): Hamlet does not compute formulas, so the cell's value is unknown. Open the file in Excel (or LibreOffice), save it (Ctrl+S), and import again.", e.Cell))
}

// cellName is a cell's name as Excel shows it ("D2"), from its column's
// index and its line.
func cellName(col, line int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b) + fmt.Sprint(line)
}

// noValueIn is the first formula saved without its value in rows [from,
// to) of the sheet, nil if none: the reason a sheet may look empty, or
// headerless.
func (s *ImportSheet) noValueIn(from, to int) error {
	for _, e := range s.Errors {
		if e.NoValue && e.Row >= from && e.Row < to {
			return &FormulaNoValueError{Cell: cellName(e.Col, s.line(e.Row))}
		}
	}
	return nil
}

// ErrorValueError: a cell shows a spreadsheet's error value, not a value.
type ErrorValueError struct{ Value string }

func (e *ErrorValueError) Error() string {
	return fmt.Sprintf("agent: the cell shows the spreadsheet error %s", e.Value)
}

func (e *ErrorValueError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Ô này hiện lỗi Excel %s (thường là công thức, ví dụ VLOOKUP không tìm thấy), không phải giá trị. Hãy sửa công thức, hoặc gõ giá trị vào ô, rồi nhập lại.", e.Value),
		fmt.Sprintf("The cell shows the Excel error %s (usually a formula, e.g. a VLOOKUP that found nothing), not a value. Fix the formula, or type the value into the cell, and import again.", e.Value))
}

func (s *ImportSheet) line(i int) int {
	if i < len(s.Lines) {
		return s.Lines[i]
	}
	return i + 1
}

// ImportOptions says what to import and how.
type ImportOptions struct {
	// Table is the table the rows go to (households when empty).
	Table string
	// Map names the field of a column by its header as written in the
	// file ("Họ tên chủ hộ" → head_name); "-" or "" ignores the column.
	// It overrides the names Import recognises.
	Map map[string]string
	// Hamlet is the hamlet (code or name) of rows that name none; when
	// empty and the sheet has no hamlet column, a team covering one hamlet
	// imports into it.
	Hamlet string
	// SkipBad imports the accepted rows even if some are refused (they are
	// still listed); otherwise one refused row imports nothing.
	SkipBad bool
	// DryRun checks everything and writes nothing.
	DryRun bool
	// Preview is how many accepted rows the result shows (5 when zero).
	Preview int
}

// ImportColumn is one column of the sheet and the field it goes to.
type ImportColumn struct {
	Index  int    `json:"index"` // 0-based
	Header string `json:"header"`
	Field  string `json:"field,omitempty"` // "" when the column is not imported
}

// ImportRefusal is a row that cannot be imported, and why.
type ImportRefusal struct {
	Line   int    `json:"line"`
	Column string `json:"column,omitempty"` // the header of the cell at fault, when one is
	Err    error  `json:"-"`
}

// Message tells the volunteer what is wrong with the row.
func (f ImportRefusal) Message(lang string) string { return MessageOf(f.Err, lang) }

// ImportPreview is one accepted row as it will be saved.
type ImportPreview struct {
	Line   int            `json:"line"`
	Fields map[string]any `json:"fields"`
}

// ImportResult is what Import found and did.
type ImportResult struct {
	Table      string          `json:"table"`
	HeaderLine int             `json:"header_line"`
	Columns    []ImportColumn  `json:"columns"`
	Rows       int             `json:"rows"`     // data rows (blank ones not counted)
	Accepted   int             `json:"accepted"` // rows that passed every check
	Imported   int             `json:"imported"` // rows written (0 on a dry run or when refused)
	Already    []int           `json:"already"`  // lines whose household this laptop already holds (not written again)
	Footer     []int           `json:"footer"`   // lines under the table left out: after a blank row, without the row number the data rows have (a signature block)
	Refused    []ImportRefusal `json:"-"`
	Preview    []ImportPreview `json:"preview"`
	DryRun     bool            `json:"dry_run"`
	Changes    int             `json:"changes"` // field changes queued for the next sync
}

// ImportRefusedError: some rows were refused and SkipBad was not given, so
// nothing was imported.
type ImportRefusedError struct{ Refused, Accepted int }

func (e *ImportRefusedError) Error() string {
	return fmt.Sprintf("agent: import refused %d rows; nothing imported", e.Refused)
}

func (e *ImportRefusedError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("%d dòng không nhập được (danh sách ở trên). Chưa nhập dòng nào: không có chuyện nhập dở dang. Hãy sửa các dòng đó trong tệp rồi nhập lại, hoặc thêm --skip-bad để nhập %d dòng hợp lệ và bỏ qua các dòng lỗi.", e.Refused, e.Accepted),
		fmt.Sprintf("%d rows cannot be imported (listed above). Nothing was imported: nothing is ever half-imported. Fix those rows in the file and import it again, or add --skip-bad to import the %d valid rows and leave the bad ones out.", e.Refused, e.Accepted))
}

// ImportHeaderError: no row of the sheet's first lines names the fields.
type ImportHeaderError struct{ Table string }

func (e *ImportHeaderError) Error() string { return "agent: import found no header row" }

func (e *ImportHeaderError) Message(lang string) string {
	ex := func(lang string) string {
		var names []string
		for _, f := range []string{"head_name", "address", "phone", "members_count"} {
			names = append(names, capitalize(schema.FieldLabel(f, lang)))
		}
		return strings.Join(names, ", ")
	}
	return pick(lang,
		fmt.Sprintf("Không tìm thấy dòng tiêu đề: trong 20 dòng đầu không có dòng nào ghi tên ít nhất hai cột mà Hamlet biết (ví dụ %s). Hãy thêm dòng tiêu đề, hoặc chỉ rõ cột nào là trường nào bằng --map \"Tên cột=head_name,...\".", ex("vi")),
		fmt.Sprintf("No header row found: none of the first 20 rows names at least two columns Hamlet knows (e.g. %s). Add a header row, or say which column is which field with --map \"Column=head_name,...\".", ex("en")))
}

// ImportEmptyError: the sheet has no cell with text in it.
type ImportEmptyError struct{}

func (e *ImportEmptyError) Error() string { return "agent: import of an empty sheet" }

func (e *ImportEmptyError) Message(lang string) string {
	return pick(lang,
		"Tệp trống: không có ô nào có chữ, không có gì để nhập. Hãy kiểm tra đã chọn đúng tệp (với tệp .xlsx: đúng trang tính, chọn bằng --sheet TÊN).",
		"The file is empty: no cell holds anything, there is nothing to import. Check that it is the right file (for an .xlsx file: the right worksheet, chosen with --sheet NAME).")
}

// headerScan is how many leading rows may hold the header (a title, a
// date and blank lines often come first).
const headerScan = 20

// Import reads sheet into opts.Table (see ImportOptions). On refused rows
// without SkipBad it returns the result (with Refused) and an
// *ImportRefusedError, having written nothing.
func (r *Replica) Import(ctx context.Context, sheet *ImportSheet, opts ImportOptions) (*ImportResult, error) {
	if opts.Table == "" {
		opts.Table = "households"
	}
	if opts.Preview == 0 {
		opts.Preview = 5
	}
	t, err := r.lookup(opts.Table)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Table: t.Name, DryRun: opts.DryRun}
	if !slices.ContainsFunc(sheet.Rows, func(cells []string) bool { return !blank(cells) }) {
		if err := sheet.noValueIn(0, len(sheet.Rows)); err != nil {
			return nil, err
		}
		return nil, &ImportEmptyError{}
	}
	hi, cols, err := mapColumns(t, sheet.Rows, opts.Map)
	if err != nil {
		var he *ImportHeaderError
		if errors.As(err, &he) {
			if terr := checkHeaderText(sheet); terr != nil {
				return nil, terr
			}
			if ferr := sheet.noValueIn(0, headerScan); ferr != nil {
				return nil, ferr
			}
		}
		return nil, err
	}
	if err := checkText(t, sheet, hi, cols); err != nil {
		return nil, err
	}
	res.HeaderLine, res.Columns = sheet.line(hi), cols
	p, err := r.newImportPlan(ctx, t, cols, opts)
	if err != nil {
		return nil, err
	}
	if err := p.missingColumns(); err != nil {
		return res, err
	}
	// Checking and writing overlap: accepted rows go to the writer's
	// transaction in batches while the next are checked, on the other
	// core. The transaction commits only once every row is checked and
	// none was refused (or --skip-bad): a refused row, however late in
	// the file, still imports nothing.
	var w *importWriter
	if !opts.DryRun {
		w = r.startImportWriter(ctx, t.Name, len(sheet.Rows)-hi-1)
		defer w.stop()
	}
	batch := make([]importRow, 0, importBatch)
	errs := sheet.Errors
	// A table with a row-number column (STT) ends at its last numbered
	// row: the rows after it, past a blank row and without a number, are
	// what lists carry under the table (NGƯỜI LẬP BIỂU, TRƯỞNG ẤP, their
	// names), not households; they are listed, not imported. A row
	// without a number between numbered ones is a household whose number
	// was forgotten. Without such a column nothing is guessed.
	footerFrom := footerStart(sheet.Rows, hi, rowNumberColumn(cols))
	for i := hi + 1; i < len(sheet.Rows); i++ {
		cells := sheet.Rows[i]
		line := sheet.line(i)
		var ws []fieldWrite
		var err error
		for len(errs) > 0 && errs[0].Row < i {
			errs = errs[1:]
		}
		for ; len(errs) > 0 && errs[0].Row == i; errs = errs[1:] {
			if c := errs[0].Col; c < len(cols) && cols[c].Field != "" && err == nil {
				if errs[0].NoValue {
					err = &cellError{header: cols[c].Header, err: &FormulaNoValueError{Cell: cellName(c, line)}}
				} else {
					err = &cellError{header: cols[c].Header, err: &ErrorValueError{Value: errs[0].Value}}
				}
			}
		}
		// A row whose only cells are formulas without their value is not
		// blank: what they hold is unknown.
		if err == nil && blank(cells) {
			continue
		}
		if i >= footerFrom {
			res.Footer = append(res.Footer, line)
			continue
		}
		res.Rows++
		if err == nil {
			ws, err = p.row(cells, line)
		}
		if err != nil {
			ref := ImportRefusal{Line: line, Err: err}
			var ce *cellError
			if errors.As(err, &ce) {
				ref.Column, ref.Err = ce.header, ce.err
			}
			res.Refused = append(res.Refused, ref)
			continue
		}
		if ws == nil {
			res.Already = append(res.Already, line)
			continue
		}
		res.Accepted++
		if w != nil && (opts.SkipBad || len(res.Refused) == 0) {
			if batch = append(batch, importRow{line: line, ws: ws}); len(batch) == importBatch {
				w.send(batch)
				batch = make([]importRow, 0, importBatch)
			}
		}
		if len(res.Preview) < opts.Preview {
			fs := map[string]any{}
			for _, w := range ws {
				fs[w.field] = w.value.Any()
			}
			res.Preview = append(res.Preview, ImportPreview{Line: line, Fields: fs})
		}
	}
	if len(res.Refused) > 0 && !opts.SkipBad {
		return res, &ImportRefusedError{Refused: len(res.Refused), Accepted: res.Accepted}
	}
	if w == nil || res.Accepted == 0 {
		return res, nil
	}
	if len(batch) > 0 {
		w.send(batch)
	}
	n, err := w.commit()
	if err != nil {
		return res, err
	}
	res.Imported, res.Changes = res.Accepted, n
	return res, nil
}

// importBatch is how many checked rows go to the writer at a time.
const importBatch = 256

// importWriter is the goroutine that writes an import's accepted rows in
// one transaction while Import checks the next (writeImport). Import owns
// it: it sends batches, then commits, or stops it, which rolls back
// whatever was written. A writer that failed takes what is still sent and
// drops it; commit returns its error.
type importWriter struct {
	rows      chan []importRow
	commitNow chan bool // once rows is closed: commit, or roll back
	done      chan struct{}
	once      sync.Once
	n         int // changes written, once done
	err       error
}

func (r *Replica) startImportWriter(ctx context.Context, table string, maxRows int) *importWriter {
	w := &importWriter{rows: make(chan []importRow, 4), commitNow: make(chan bool, 1), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		// The caller's context itself, not one derived from it: its
		// cancellation reaches every statement as it would without the
		// overlap. A stop lets the writer finish the batches queued (a
		// thousand rows at most), then roll back.
		w.n, w.err = r.writeImport(ctx, table, w.rows, maxRows, w.commitNow)
		// Cut, database/sql closes the transaction from its own goroutine:
		// the statement in flight may then fail as "sql: statement is
		// closed" rather than with the context's error, and the cut import
		// was told as a database failure (TestImportCutAfterSpillLeavesNothing
		// failed so once in a few runs on busy cores).
		if w.err != nil && ctx.Err() != nil && !errors.Is(w.err, ctx.Err()) {
			w.err = fmt.Errorf("%w: %w", ctx.Err(), w.err)
		}
	}()
	return w
}

func (w *importWriter) send(b []importRow) { w.rows <- b }

// commit closes the batches, has them committed and waits for the result.
func (w *importWriter) commit() (int, error) {
	w.end(true)
	return w.n, w.err
}

// stop rolls back unless commit came first; it may be called again.
func (w *importWriter) stop() { w.end(false) }

func (w *importWriter) end(commit bool) {
	w.once.Do(func() {
		w.commitNow <- commit
		close(w.rows)
		<-w.done
	})
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// importRow is an accepted row: its normalised writes in field order.
type importRow struct {
	line int
	id   syncproto.RowID
	ws   []fieldWrite
}

// cellError is a refusal that one cell caused.
type cellError struct {
	header string
	err    error
}

func (e *cellError) Error() string { return e.err.Error() }
func (e *cellError) Unwrap() error { return e.err }

// importPlan checks the rows of one import.
type importPlan struct {
	r        *Replica
	t        *schema.Table
	cols     []ImportColumn
	hamlets  *hamletNames // the enrolled scope's hamlets, by what a sheet calls them
	inScope  func(string) bool
	hamlet   string // default hamlet code
	defaults Fields
	seen     map[string]int    // household key -> first line (in the file or 0: held)
	parents  map[string]string // live household id -> its hamlet (child tables)
	today    string
	fs       Fields         // the row's fields, reused row after row
	norm     map[string]any // their checked values, the same
}

func (r *Replica) newImportPlan(ctx context.Context, t *schema.Table, cols []ImportColumn, opts ImportOptions) (*importPlan, error) {
	p := &importPlan{r: r, t: t, cols: cols, today: r.today()}
	e, err := r.Enrollment(ctx)
	if err != nil {
		return nil, err
	}
	scope := map[string]bool{}
	var hamlets []Hamlet
	if e != nil {
		hamlets = e.Scope
		for _, h := range e.Scope {
			scope[h.Code] = true
		}
	}
	p.hamlets = newHamletNames(hamlets)
	p.inScope = func(code string) bool { return len(scope) == 0 || scope[code] }
	hasHamlet := slices.ContainsFunc(cols, func(c ImportColumn) bool { return c.Field == schema.ScopeField })
	switch {
	case opts.Hamlet != "":
		code, err := p.hamletCode(opts.Hamlet)
		if err != nil {
			return nil, err
		}
		p.hamlet = code
	case !hasHamlet && e != nil && len(e.Scope) == 1:
		p.hamlet = e.Scope[0].Code
	}
	p.defaults = Fields{}
	switch t.Name {
	case "households":
		p.defaults["registered_on"] = p.today
		p.defaults["active"] = true
		if err := p.loadHeld(ctx); err != nil {
			return nil, err
		}
	case "visits":
		p.defaults["visited_on"] = p.today
	case "tutoring_records":
		p.defaults["taught_on"] = p.today
	case "field_reports":
		p.defaults["status"] = string(schema.StatusSubmitted)
		p.defaults["submitted_at"] = r.Now().UnixMilli()
	}
	if _, ok := t.Field("household_id"); ok {
		if err := p.loadParents(ctx); err != nil {
			return nil, err
		}
	}
	if _, ok := t.Field("volunteer_id"); ok && e != nil && e.MemberID != "" {
		p.defaults["volunteer_id"] = e.MemberID
	}
	return p, nil
}

// hamletKey folds a hamlet's code or name for comparison.
func hamletKey(s string) string {
	k := Fold(s)
	if singleSpaced(k) {
		return k
	}
	return strings.Join(strings.Fields(k), " ")
}

// singleSpaced reports whether s is ASCII words separated by single spaces
// (no space first or last, no other white space), so that
// strings.Join(strings.Fields(s), " ") is s itself.
func singleSpaced(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c == '\t', c == '\n', c == '\v', c == '\f', c == '\r':
			return false
		case c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' '):
			return false
		}
	}
	return true
}

// stripUnitPrefix drops "Ấp", "Khóm" and the like from a hamlet's name: a
// sheet often writes "Tân Thành" for "Ấp Tân Thành".
func stripUnitPrefix(name string) string {
	k := hamletKey(name)
	for _, p := range []string{"ap ", "khom ", "thon ", "to dan pho ", "to "} {
		if strings.HasPrefix(k, p) {
			return k[len(p):]
		}
	}
	return k
}

// hamletNames find the enrolled scope's hamlets by what a sheet's cell
// calls one: its code or its name, else its name without the unit's word
// ("Tân Thành" for "Ấp Tân Thành") or without what the server added to
// tell it from a hamlet of the same name ("Khóm 1" for "Khóm 1 (Phường
// 9 cũ)", schema.UnitNames). Names are the volunteers' and the merger's:
// after 2025 a team can cover two hamlets called "Khóm 1", and a name that
// fits two hamlets names neither (AmbiguousHamletError).
type hamletNames struct {
	scope        []Hamlet
	exact, loose map[string][]string // folded code or name -> the codes it fits
}

func newHamletNames(scope []Hamlet) *hamletNames {
	n := &hamletNames{scope: scope, exact: map[string][]string{}, loose: map[string][]string{}}
	add := func(m map[string][]string, k, code string) {
		if !slices.Contains(m[k], code) {
			m[k] = append(m[k], code)
		}
	}
	for _, h := range scope {
		add(n.exact, hamletKey(h.Code), h.Code)
		if h.Name == "" {
			continue
		}
		add(n.exact, hamletKey(h.Name), h.Code)
		add(n.loose, stripUnitPrefix(h.Name), h.Code)
		if base := withoutTellingApart(h.Name); base != h.Name {
			add(n.loose, hamletKey(base), h.Code)
			add(n.loose, stripUnitPrefix(base), h.Code)
		}
	}
	return n
}

// withoutTellingApart is name without a last part in parentheses ("Khóm 1"
// for "Khóm 1 (Phường 9 cũ)" or "Khóm 1 (mã 32002-01)"), name itself when
// it has none.
func withoutTellingApart(name string) string {
	name = strings.TrimSpace(name)
	if !strings.HasSuffix(name, ")") {
		return name
	}
	depth := 0
	for i := len(name) - 1; i > 0; i-- {
		switch name[i] {
		case ')':
			depth++
		case '(':
			if depth--; depth == 0 {
				if base := strings.TrimSpace(name[:i]); base != "" {
					return base
				}
				return name
			}
		}
	}
	return name
}

func (p *importPlan) hamletCode(s string) (string, error) {
	n := p.hamlets
	k, stripped := hamletKey(s), stripUnitPrefix(s)
	for _, codes := range [][]string{n.exact[k], n.exact[stripped], n.loose[k], n.loose[stripped]} {
		switch {
		case len(codes) == 1:
			return codes[0], nil
		case len(codes) > 1:
			e := &AmbiguousHamletError{Hamlet: strings.TrimSpace(s)}
			for _, h := range n.scope {
				if slices.Contains(codes, h.Code) {
					e.Fits = append(e.Fits, h)
				}
			}
			return "", e
		}
	}
	s = strings.TrimSpace(s)
	if len(n.scope) == 0 { // not enrolled: codes only, checked by the schema
		return s, nil
	}
	return "", p.hamletError(s)
}

func (p *importPlan) hamletError(s string) error {
	return &ScopeError{Hamlet: strings.TrimSpace(s), Scope: p.scopeHamlets()}
}

// scopeHamlets is the team's hamlets, once each, by code.
func (p *importPlan) scopeHamlets() []Hamlet {
	var out []Hamlet
	for _, h := range p.hamlets.scope {
		if !slices.ContainsFunc(out, func(o Hamlet) bool { return o.Code == h.Code }) {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b Hamlet) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// loadParents notes the live households, for the records of the child
// tables: each must name one, and goes to its hamlet (as AddTutoring's).
func (p *importPlan) loadParents(ctx context.Context) error {
	p.parents = map[string]string{}
	rows, err := p.r.db.QueryContext(ctx, `SELECT id, coalesce(hamlet_code, '') FROM households WHERE _deleted = 0`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, hamlet string
		if err := rows.Scan(&id, &hamlet); err != nil {
			return err
		}
		p.parents[id] = hamlet
	}
	return rows.Err()
}

// loadHeld notes the live households this replica holds, so that importing
// the same list again (after fixing its bad rows, say) does not register
// them twice.
func (p *importPlan) loadHeld(ctx context.Context) error {
	p.seen = map[string]int{}
	rows, err := p.r.db.QueryContext(ctx, `SELECT coalesce(head_name, ''), coalesce(hamlet_code, ''), coalesce(phone, ''), coalesce(address, '') FROM households WHERE _deleted = 0`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, hamlet, phone, addr string
		if err := rows.Scan(&name, &hamlet, &phone, &addr); err != nil {
			return err
		}
		p.seen[householdKey(name, hamlet, phone, addr)] = 0
	}
	return rows.Err()
}

// householdKey is what tells one household from another in a list: its
// head's name, hamlet, phone and address, with case and spaces folded but
// not the marks, which are letters: Hoa and Hòa, Tâm and Tám are other
// people. Only how they are written is folded: where a word's tone mark
// sits (Thủy and Thuỷ, Hòa and Hoà, as Unikey's old and new styles place
// it) and Ð for Đ. Values are NFC already (normalize, and what it stored).
func householdKey(name, hamlet, phone, addr string) string {
	return householdText(name) + "\x00" + hamlet + "\x00" + phone + "\x00" + householdText(addr)
}

// householdKeyOf is the householdKey of a household's normalized writes.
func householdKeyOf(ws []fieldWrite) string {
	return householdKey(writtenText(ws, "head_name"), writtenText(ws, schema.ScopeField), writtenText(ws, "phone"), writtenText(ws, "address"))
}

// writtenText is the text ws writes to field, "" if none.
func writtenText(ws []fieldWrite, field string) string {
	for _, w := range ws {
		if w.field == field && w.value.Kind() == syncproto.KindString {
			return w.value.AsString()
		}
	}
	return ""
}

// householdText folds case, runs of white space and the writing of the
// same letters (toneKey).
func householdText(s string) string {
	if !singleSpaced(s) {
		s = strings.Join(strings.Fields(s), " ")
		return toneKey(strings.ToLower(s))
	}
	return strings.ToLower(s) // ASCII: no marks
}

// HouseholdAgainError: the same household twice in one file.
type HouseholdAgainError struct{ Line int }

func (e *HouseholdAgainError) Error() string {
	return fmt.Sprintf("agent: the same household as line %d", e.Line)
}

func (e *HouseholdAgainError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Trùng với dòng %d (cùng tên chủ hộ, ấp/khóm, số điện thoại và địa chỉ). Hãy xóa một trong hai dòng, hoặc ghi thêm địa chỉ để phân biệt hai hộ.", e.Line),
		fmt.Sprintf("Same household as line %d (same head's name, hamlet, phone and address). Delete one of the two rows, or add the address to tell the households apart.", e.Line))
}

// row reads one row's cells into writes; nil writes (and no error) means
// the household is already on this laptop.
func (p *importPlan) row(cells []string, line int) ([]fieldWrite, error) {
	// One map for every row: the check copies what it keeps.
	if p.fs == nil {
		p.fs = make(Fields, len(p.cols)+len(p.defaults)+1)
	}
	fs := p.fs
	clear(fs)
	hamletHeader := ""
	for _, c := range p.cols {
		if c.Field == "" || c.Index >= len(cells) {
			continue
		}
		text := strings.TrimSpace(cells[c.Index])
		if text == "" {
			continue
		}
		if c.Field == schema.ScopeField {
			code, err := p.hamletCode(text)
			if err != nil {
				return nil, &cellError{c.Header, err}
			}
			fs[c.Field], hamletHeader = code, c.Header
			continue
		}
		if c.Field == "phone" || c.Field == "reporter_phone" {
			text = phoneDigits(text)
		}
		v, err := ParseFieldValue(p.t.Name, c.Field, text)
		if err != nil {
			return nil, &cellError{c.Header, err}
		}
		if v != nil {
			fs[c.Field] = v
		}
	}
	if p.parents != nil {
		if h, ok := fs["household_id"].(string); ok {
			hamlet, live := p.parents[strings.ToLower(h)]
			if !live {
				return nil, &cellError{p.header("household_id"), &NotFoundError{Table: "households", ID: h}}
			}
			if _, ok := fs[schema.ScopeField]; !ok {
				fs[schema.ScopeField] = hamlet
			}
		}
	}
	if _, ok := fs[schema.ScopeField]; !ok && p.hamlet != "" {
		fs[schema.ScopeField] = p.hamlet
	}
	if h, ok := fs[schema.ScopeField].(string); ok && !p.inScope(h) {
		return nil, &cellError{hamletHeader, p.hamletError(h)}
	}
	for k, v := range p.defaults {
		if _, ok := fs[k]; !ok {
			fs[k] = v
		}
	}
	if p.norm == nil {
		p.norm = make(map[string]any, len(fs))
	}
	ws, err := normalizeOn(p.t, fs, true, p.today, p.norm)
	if err != nil {
		var ve *schema.ValidationError
		if errors.As(err, &ve) {
			if h := p.header(ve.Field); h != "" {
				return nil, &cellError{h, err}
			}
			if ve.Field == schema.ScopeField && ve.Code == schema.CodeRequired {
				return nil, &ImportHamletError{}
			}
		}
		return nil, err
	}
	if p.seen != nil && p.t.Name == "households" {
		k := householdKeyOf(ws)
		if first, dup := p.seen[k]; dup {
			if first == 0 {
				return nil, nil
			}
			return nil, &HouseholdAgainError{Line: first}
		}
		p.seen[k] = line
	}
	return ws, nil
}

// missingColumns refuses a sheet without a column for a required field
// that has no default: every row would be refused for the same reason.
func (p *importPlan) missingColumns() error {
	for _, f := range p.t.Fields {
		if !f.Required || f.Name == schema.ScopeField && p.hamlet != "" {
			continue
		}
		if _, ok := p.defaults[f.Name]; ok {
			continue
		}
		if slices.ContainsFunc(p.cols, func(c ImportColumn) bool { return c.Field == f.Name }) {
			continue
		}
		var headers []string
		for _, c := range p.cols {
			if c.Header != "" {
				headers = append(headers, "«"+c.Header+"»")
			}
		}
		return &ImportColumnError{Field: f.Name, Headers: strings.Join(headers, ", ")}
	}
	return nil
}

// ImportColumnError: no column holds a field every row needs.
type ImportColumnError struct{ Field, Headers string }

func (e *ImportColumnError) Error() string {
	return "agent: import has no column for field " + e.Field
}

func (e *ImportColumnError) Message(lang string) string {
	if e.Field == schema.ScopeField {
		return (&ImportHamletError{}).Message(lang)
	}
	return pick(lang,
		fmt.Sprintf("Không có cột nào là %s (các cột: %s). Hãy chỉ rõ bằng --map, ví dụ --map \"Tên cột=%s\".", schema.FieldLabel(e.Field, "vi"), e.Headers, e.Field),
		fmt.Sprintf("No column holds the %s (the columns: %s). Name it with --map, e.g. --map \"Column=%s\".", schema.FieldLabel(e.Field, "en"), e.Headers, e.Field))
}

// header is the header of the column holding field, "" if none does.
func (p *importPlan) header(field string) string {
	for _, c := range p.cols {
		if c.Field == field && field != "" {
			return c.Header
		}
	}
	return ""
}

// ImportHamletError: a row names no hamlet and the import has no default.
type ImportHamletError struct{}

func (e *ImportHamletError) Error() string { return "agent: import row without a hamlet" }

func (e *ImportHamletError) Message(lang string) string {
	return pick(lang,
		"Dòng này không ghi ấp/khóm. Hãy thêm cột Ấp/Khóm vào tệp, hoặc chọn ấp cho cả tệp bằng --hamlet MÃ_ẤP.",
		"This row names no hamlet. Add a Hamlet column to the file, or choose the hamlet of the whole file with --hamlet CODE.")
}

// writeImport writes the accepted rows, as batches brings them, in one
// transaction: row states, their projections and the change log, as
// writeFields does for one row, but one compact log entry per row
// (outbox_rows.go) rather than one outbox row per field. New rows have no
// earlier version, refusal or conflict to settle, so that work is skipped;
// their ids are handed out in order so that every B-tree (row_state, the
// row table, the log's row index) takes its entries in order. Once
// batches is closed it commits if commitNow says so, else rolls back.
//
// A new row's state is written straight from its writes (newState): the
// bytes rowState.encode writes for the same versions (the row's one
// writer, no history), without building a rowState and its map per row.
func (r *Replica) writeImport(ctx context.Context, table string, batches <-chan []importRow, maxRows int, commitNow <-chan bool) (int, error) {
	defer func() {
		// Whatever happened, Import is never left blocked on a send.
		for range batches {
		}
	}()
	// Ids are drawn at random, as for any new row, then handed out in
	// order: the rows arrive in the file's order and still reach every
	// B-tree in key order. At most maxRows are needed.
	ids := make([]syncproto.RowID, maxRows)
	for i := range ids {
		ids[i] = uuid.New()
	}
	slices.SortFunc(ids, func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) })
	next := 0
	// Every B-tree takes the rows in key order (above), so, as for a
	// clone, a small page cache holds what the inserts touch again (the
	// rightmost pages); the pages it lets go are written to the log before
	// the commit, once each. A cache the size of the import would map tens
	// of megabytes to fill once and unmap page by page when the replica
	// closes.
	restore, err := r.smallCache(ctx)
	if err != nil {
		return 0, err
	}
	defer restore()
	t, err := r.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer t.rollback()
	if err := t.refreshID(); err != nil {
		return 0, err
	}
	seq64, err := t.metaInt("seq")
	if err != nil {
		return 0, err
	}
	seq := uint64(seq64)
	// A set-back seen now is kept as writeFields keeps it: the rows
	// imported after it are not stamped as made before it.
	if err := t.keepClockSetBack(seq64); err != nil {
		return 0, err
	}
	last, err := t.metaInt("clock_last")
	if err != nil {
		return 0, err
	}
	clk := r.clk()
	clk.Restore(syncproto.HLC(last))
	now := r.now().UnixMilli()
	cols := r.cols[table]
	colAt := make(map[string]int, len(cols))
	for i, c := range cols {
		colAt[c] = i
	}
	ns := &newState{rep: r.id, kinds: r.colKinds[table]}
	stored := ns.stored
	// Rows go in chunks of saveChunk: per chunk one INSERT of their
	// compact change-log entries (outbox_rows.go), one of their states and
	// one of their projections. The log's table and time are written into
	// its statement (the table is the registry's name, the time a number):
	// binding is a good part of the cost of each row. The chunk's blobs
	// share one buffer (the statements copy what they bind).
	one := fmt.Sprintf(`(?, ?, '%s', ?, ?, %d, ?), `, table, now)
	tableArg := any(table)
	logArgs := make([]any, 0, saveChunk*5)
	stateArgs := make([]any, 0, saveChunk*4)
	projArgs := make([]any, 0, saveChunk*(len(cols)+1))
	var arena []byte
	queued, changes := 0, 0
	flush := func() error {
		if queued == 0 {
			return nil
		}
		q := `INSERT INTO outbox_rows (seq, n, tbl, row_id, scope, created_at, fields) VALUES ` +
			strings.TrimSuffix(strings.Repeat(one, queued), ", ")
		if err := t.exec(q, logArgs...); err != nil {
			return err
		}
		if err := t.insertStates(stateArgs, queued); err != nil {
			return err
		}
		if len(cols) > 0 {
			if err := t.insertProjections(table, cols, projArgs, queued); err != nil {
				return err
			}
		}
		logArgs, stateArgs, projArgs, arena, queued = logArgs[:0], stateArgs[:0], projArgs[:0], arena[:0], 0
		return nil
	}
	// Reports naming a household note its hamlet, as an added one does
	// (record_filed; review 40, D2).
	fileBeside := false
	if tb, err := r.lookup(table); err == nil && tb.ParentTable != "households" {
		_, fileBeside = tb.Field(householdField)
	}
	fields := make([]rowField, 0, 16)
	put := func(row *importRow) error {
		if next == len(ids) {
			return errors.New("agent: import: more rows than the sheet holds")
		}
		row.id, next = ids[next], next+1
		if fileBeside {
			if err := t.fileImported(row); err != nil {
				return fmt.Errorf("note where the household of an imported %s was: %w", table, err)
			}
		}
		scope := ""
		for _, w := range row.ws {
			if w.field == schema.ScopeField && w.value.Kind() == syncproto.KindString {
				scope = w.value.AsString()
			}
		}
		first := seq + 1
		fields = fields[:0]
		ns.cur, ns.raw = ns.cur[:0], ns.raw[:0]
		for _, w := range row.ws {
			seq++
			hlc := clk.Now()
			fields = append(fields, rowField{field: w.field, value: w.value, hlc: hlc})
			ns.cur = append(ns.cur, versions.FieldVersion{Field: w.field, Version: syncproto.Version{
				Value: w.value, HLC: hlc, Dot: syncproto.Dot{Replica: r.id, Seq: seq}}})
			ns.raw = append(ns.raw, w.raw)
			changes++
		}
		ns.sort()
		// The id and the scope are bound three times: boxed once.
		id := any(string(appendUUID(make([]byte, 0, 36), row.id)))
		scopeArg := any(scope)
		start := len(arena)
		arena = appendRowFields(arena, fields)
		logArgs = append(logArgs, int64(first), int64(len(fields)), id, scopeArg, arena[start:len(arena):len(arena)])
		start = len(arena)
		var err error
		if arena, err = ns.append(arena, stored); err != nil {
			return fmt.Errorf("encode the state of an imported row: %w", err)
		}
		stateArgs = append(stateArgs, id, tableArg, scopeArg, arena[start:len(arena):len(arena)])
		if len(cols) > 0 {
			projArgs = ns.projectArgs(projArgs, id, cols, colAt)
		}
		if queued++; queued == saveChunk {
			return flush()
		}
		return nil
	}
	for rows := range batches {
		for i := range rows {
			if err := put(&rows[i]); err != nil {
				return 0, err
			}
		}
	}
	if !<-commitNow {
		return 0, context.Canceled // stopped: the deferred rollback
	}
	if err := flush(); err != nil {
		return 0, err
	}
	if err := t.setMeta("seq", int64(seq)); err != nil {
		return 0, err
	}
	if err := t.setMeta("clock_last", int64(clk.Last())); err != nil {
		return 0, err
	}
	if err := t.commit(); err != nil {
		return 0, err
	}
	return changes, nil
}

// fileImported notes (record_filed) the hamlet of the household an
// imported report names.
func (t *txn) fileImported(row *importRow) error {
	for _, w := range row.ws {
		if w.field == householdField && w.value.Kind() == syncproto.KindString {
			if hid, err := uuid.Parse(w.value.AsString()); err == nil {
				return t.fileBeside(row.id.String(), hid, false)
			}
		}
	}
	return nil
}

// newState encodes the state of a new row that one replica wrote (rep),
// no field twice and no history: what rowState.encode writes for it.
type newState struct {
	rep   syncproto.ReplicaID
	kinds map[string]syncproto.Kind // the row table's column kinds
	cur   []versions.FieldVersion   // the row's versions
	raw   []any                     // cur[i]'s value as the check gave it, or nil (fieldWrite.raw)
}

// sort puts cur in field-name order (a row has a dozen fields or so).
func (n *newState) sort() {
	for i := 1; i < len(n.cur); i++ {
		for j := i; j > 0 && n.cur[j].Field < n.cur[j-1].Field; j-- {
			n.cur[j], n.cur[j-1] = n.cur[j-1], n.cur[j]
			if len(n.raw) == len(n.cur) {
				n.raw[j], n.raw[j-1] = n.raw[j-1], n.raw[j]
			}
		}
	}
}

// stored is Replica.stored for the row: a current value whose kind is its
// column's is what the row table holds.
func (n *newState) stored(f string) (any, bool) {
	k, ok := n.kinds[f]
	if !ok {
		return nil, false
	}
	i, found := slices.BinarySearchFunc(n.cur, f, func(fv versions.FieldVersion, f string) int { return strings.Compare(fv.Field, f) })
	if !found || n.cur[i].Value.Kind() != k {
		return nil, false
	}
	return columnValue(n.cur[i].Value), true
}

// projectArgs appends the row's row-table values, as rowState.projectArgs
// does: id, then cols (at gives each column's index in cols).
func (n *newState) projectArgs(args []any, id any, cols []string, at map[string]int) []any {
	args = append(args, id)
	i0 := len(args)
	for _, c := range cols {
		if c == syncproto.TombstoneField {
			args = append(args, int64(0))
		} else {
			args = append(args, nil)
		}
	}
	for k := range n.cur {
		if i, ok := at[n.cur[k].Field]; ok {
			var raw any
			if len(n.raw) == len(n.cur) {
				raw = n.raw[k]
			}
			args[i0+i] = columnValueOf(n.cur[k].Value, raw)
		}
	}
	return args
}

// columnValueOf is columnValue(v), given as raw when raw is that very
// value already boxed (it saves an allocation a value).
func columnValueOf(v syncproto.Value, raw any) any {
	switch x := raw.(type) {
	case string:
		if v.Kind() == syncproto.KindString && v.AsString() == x {
			return raw
		}
	case int64:
		if v.Kind() == syncproto.KindInt && v.AsInt() == x {
			return raw
		}
	case float64:
		if v.Kind() == syncproto.KindFloat && math.Float64bits(v.AsFloat()) == math.Float64bits(x) {
			return raw
		}
	}
	return columnValue(v)
}

func (n *newState) index(r syncproto.ReplicaID) (int64, error) {
	if r != n.rep {
		return 0, fmt.Errorf("replica %s is not the row's writer", r)
	}
	return 1, nil
}

// append appends the row's state in the format of stateColumns: one
// replica, the current versions (sorted), an empty history.
func (n *newState) append(dst []byte, stored versions.Columns) ([]byte, error) {
	dst = append(dst, stateColumns, 1)
	dst = append(dst, n.rep[:]...)
	start := len(dst)
	dst, err := versions.EncodeList(dst, n.cur, n.index, stored)
	if err != nil {
		return nil, err
	}
	dst = insertUvarint(dst, start, uint64(len(dst)-start))
	return append(dst, 0, 0), nil // the history's base clock, no versions
}

// mapColumns finds the header row among the first rows and the field of
// each of its columns.
func mapColumns(t *schema.Table, rows [][]string, explicit map[string]string) (int, []ImportColumn, error) {
	byKey := map[string]string{} // normalised header -> field ("" ignores)
	for h, f := range explicit {
		byKey[headerKey(h)] = strings.TrimSpace(f)
	}
	for _, f := range explicit {
		f = strings.TrimSpace(f)
		if f == "" || f == "-" {
			continue
		}
		if _, ok := t.Field(f); !ok || f == schema.DeletedField {
			return 0, nil, unknownField(t, f)
		}
	}
	best, bestN := -1, 0
	for i := 0; i < len(rows) && i < headerScan; i++ {
		n, named := 0, false
		for _, cell := range rows[i] {
			k := headerKey(cell)
			if f, ok := byKey[k]; ok {
				named = true
				if f != "" && f != "-" {
					n++
				}
				continue
			}
			if fieldForHeader(t, k) != "" {
				n++
			}
		}
		if named && len(explicit) > 0 || n >= 2 {
			best, bestN = i, n
			break
		}
		if n == 1 {
			// A two-row header whose first row names one field (STT, Họ
			// tên chủ hộ, a group title) and its second row the rest.
			if subHeader(t, rows, i, columnsOf(t, rows[i], byKey), byKey) != nil {
				best, bestN = i, n
				break
			}
		}
		if n > bestN && n >= 1 && len(rows[i]) == 1 {
			best, bestN = i, n // a one-column list
		}
	}
	if best < 0 || bestN == 0 {
		return 0, nil, &ImportHeaderError{Table: t.Name}
	}
	cols, hi := columnsOf(t, rows[best], byKey), best
	if sub := subHeader(t, rows, best, cols, byKey); sub != nil {
		for j, cell := range sub {
			if strings.TrimSpace(cell) == "" {
				continue
			}
			for len(cols) <= j {
				cols = append(cols, ImportColumn{Index: len(cols)})
			}
			cols[j].Header, cols[j].Field = strings.TrimSpace(cell), fieldOfKey(t, headerKey(cell), byKey)
		}
		hi = best + 1
	}
	used := map[string]string{}
	for _, c := range cols {
		if c.Field == "" {
			continue
		}
		if other, dup := used[c.Field]; dup {
			return 0, nil, &ImportColumnsError{Field: c.Field, A: other, B: c.Header}
		}
		used[c.Field] = c.Header
	}
	return hi, cols, nil
}

// columnsOf is a header row's columns, each with the field it names.
func columnsOf(t *schema.Table, row []string, byKey map[string]string) []ImportColumn {
	cols := make([]ImportColumn, len(row))
	for j, cell := range row {
		cols[j] = ImportColumn{Index: j, Header: strings.TrimSpace(cell), Field: fieldOfKey(t, headerKey(cell), byKey)}
	}
	return cols
}

// subHeader is the second row of a two-row header, or nil: official lists
// merge a group title ("Chuyển đổi số") over several columns and name
// them on the row below, where the columns the first row names are empty
// (merged down). It is taken only so: every cell of the row below is
// empty where the header row names a field, and the rest name fields.
func subHeader(t *schema.Table, rows [][]string, best int, cols []ImportColumn, byKey map[string]string) []string {
	if best+1 >= len(rows) {
		return nil
	}
	sub, named := rows[best+1], 0
	for j, cell := range sub {
		if strings.TrimSpace(cell) == "" {
			continue
		}
		if j < len(cols) && cols[j].Field != "" || fieldOfKey(t, headerKey(cell), byKey) == "" {
			return nil
		}
		named++
	}
	if named == 0 {
		return nil
	}
	return sub
}

// fieldOfKey is the field a normalised header names, by --map first.
func fieldOfKey(t *schema.Table, k string, byKey map[string]string) string {
	if f, ok := byKey[k]; ok {
		if f == "-" {
			return ""
		}
		return f
	}
	return fieldForHeader(t, k)
}

// ImportColumnsError: two columns map to the same field.
type ImportColumnsError struct{ Field, A, B string }

func (e *ImportColumnsError) Error() string {
	return fmt.Sprintf("agent: two columns map to field %s", e.Field)
}

func (e *ImportColumnsError) Message(lang string) string {
	return pick(lang,
		fmt.Sprintf("Hai cột «%s» và «%s» đều là %s. Hãy chỉ rõ bằng --map, ví dụ --map \"%s=-\" để bỏ qua một cột.", e.A, e.B, schema.FieldLabel(e.Field, "vi"), e.B),
		fmt.Sprintf("The columns «%s» and «%s» are both the %s. Say which with --map, e.g. --map \"%s=-\" to leave one out.", e.A, e.B, schema.FieldLabel(e.Field, "en"), e.B))
}

// headerKey normalises a column header: folded, punctuation and marks such
// as "(*)" dropped, spaces collapsed.
func headerKey(s string) string {
	s = Fold(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// headerNames are the names people give the columns of a household list,
// beyond the registry's own labels and field names (folded, as headerKey
// makes them).
var headerNames = map[string][]string{
	"head_name":            {"chu ho", "ho ten chu ho", "ho va ten chu ho", "ten chu ho", "ho ten", "ho va ten", "head", "head name", "name"},
	"address":              {"dia chi", "so nha", "dia chi thuong tru", "noi o", "cho o"},
	"phone":                {"sdt", "so dt", "dien thoai", "so dien thoai", "dt", "dtdd", "di dong", "so di dong", "phone", "mobile"},
	"members_count":        {"so nhan khau", "nhan khau", "so khau", "so nguoi", "so thanh vien", "members"},
	"hamlet_code":          {"ap", "khom", "ap khom", "ten ap", "ten khom", "ma ap", "ma ap khom", "thon", "hamlet"},
	"has_smartphone":       {"dien thoai thong minh", "co dien thoai thong minh", "smartphone", "co smartphone", "dtdm"},
	"vneid_installed":      {"vneid", "cai vneid", "da cai vneid", "co vneid"},
	"vneid_level2":         {"muc 2", "muc do 2", "dinh danh muc 2", "vneid muc 2", "dddt muc 2", "tai khoan dinh danh muc 2"},
	"uses_public_services": {"dich vu cong", "dvc", "dvc truc tuyen", "dich vu cong truc tuyen"},
	"uses_cashless":        {"khong dung tien mat", "ttkdtm", "thanh toan khong dung tien mat", "thanh toan dien tu"},
	"has_ehealth_record":   {"so suc khoe", "so suc khoe dien tu", "ho so suc khoe dien tu"},
	"uses_camau_g":         {"camau g", "ca mau g", "ung dung camau g"},
	"registered_on":        {"ngay dang ky", "ngay lap"},
	"notes":                {"ghi chu", "note", "notes"},
	"active":               {"con sinh song", "dang sinh song"},
	"household_id":         {"ma ho", "ma ho gia dinh"},
	"skill":                {"ky nang", "ma ky nang"},
	"person_name":          {"nguoi duoc huong dan", "ten nguoi duoc huong dan"},
	"taught_on":            {"ngay huong dan"},
	"outcome":              {"ket qua"},
	"visited_on":           {"ngay tham", "ngay tham ho"},
}

// ignoredHeaders are columns a list carries that are no field: a row
// number is the usual one.
var ignoredHeaders = map[string]bool{"stt": true, "tt": true, "so tt": true, "so thu tu": true}

// footerStart is the index of the first row under the table (len(rows)
// if none): the first non-blank row after the last numbered one, past a
// blank row, when every row between the header and it has its number.
// stt is the row-number column, -1 if none.
func footerStart(rows [][]string, hi, stt int) int {
	if stt < 0 {
		return len(rows)
	}
	last := -1 // the last row numbered as the table numbers its rows
	for i := hi + 1; i < len(rows); i++ {
		if plainNumber(rows[i], stt) {
			last = i
		}
	}
	if last < 0 {
		return len(rows)
	}
	for i := hi + 1; i < last; i++ {
		if !blank(rows[i]) && !rowNumber(rows[i], stt) {
			return len(rows) // not a numbered table: a number forgotten, or none kept
		}
	}
	gap := false
	for i := last + 1; i < len(rows); i++ {
		switch {
		case blank(rows[i]):
			gap = true
		case gap:
			return i
		default:
			return len(rows) // right under the last numbered row: a household
		}
	}
	return len(rows)
}

// plainNumber: the row's row-number cell holds a plain row number ("12",
// "12.", "12)"), what marks the table's last row: a date, a note mark
// "(1)", a letter or a phone in a signature block does not.
func plainNumber(cells []string, stt int) bool {
	if stt >= len(cells) {
		return false
	}
	v := strings.TrimRight(strings.TrimSpace(cells[stt]), ".)")
	if v == "" || len(v) > 6 {
		return false
	}
	for _, r := range v {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// rowNumber: the row's row-number cell holds a row number as lists write
// them ("12", "12.", "2a", "1.1", "IV"), not words (a signature's text
// merged into the first column): what the rows of a numbered table have.
func rowNumber(cells []string, stt int) bool {
	if stt >= len(cells) {
		return false
	}
	v := strings.TrimSpace(cells[stt])
	if v == "" || len(v) > 8 || strings.ContainsAny(v, " \t") {
		return false
	}
	digit, roman := false, true
	for _, r := range v {
		digit = digit || r >= '0' && r <= '9'
		roman = roman && strings.ContainsRune("IVXLCivxlc.)", r)
	}
	return digit || roman && strings.ContainsAny(v, "IVXLCivxlc")
}

// rowNumberColumn is the index of the row-number column (STT), -1 if none.
func rowNumberColumn(cols []ImportColumn) int {
	for _, c := range cols {
		if c.Field == "" && ignoredHeaders[headerKey(c.Header)] {
			return c.Index
		}
	}
	return -1
}

// fieldForHeader is the field a normalised header names in t, "" if none.
func fieldForHeader(t *schema.Table, k string) string {
	if k == "" || ignoredHeaders[k] {
		return ""
	}
	for _, f := range t.Fields {
		if f.Name == schema.DeletedField || f.WrittenBy != 0 {
			continue
		}
		if k == headerKey(f.Name) || k == headerKey(schema.FieldLabel(f.Name, "vi")) || k == headerKey(schema.FieldLabel(f.Name, "en")) ||
			slices.Contains(headerNames[f.Name], k) {
			return f.Name
		}
	}
	return ""
}

// phoneDigits gives back the leading 0 a spreadsheet drops when a phone
// number was typed as a number (912345678 for 0912345678; 2903123456 for
// a landline 02903123456).
func phoneDigits(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return s
		}
	}
	switch {
	case len(s) == 9 && strings.IndexByte("35789", s[0]) >= 0, len(s) == 10 && s[0] == '2':
		return "0" + s
	}
	return s
}
