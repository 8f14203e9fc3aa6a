package schema

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Level is a node's depth in the admin-unit tree. The tree is data: since
// 2025-07-01 communes hang directly under the province, with no district.
type Level string

const (
	LevelProvince Level = "province"
	LevelDistrict Level = "district"
	LevelCommune  Level = "commune"
	LevelHamlet   Level = "hamlet"
)

// Unit types by level, as the statistics office spells them without
// diacritics. dac_khu (special zone) and the hamlet variants outside the
// Mekong delta are here so other provinces load without a code change.
var unitTypes = map[Level][]string{
	LevelProvince: {"tinh", "thanh_pho"},
	LevelDistrict: {"thanh_pho", "thi_xa", "huyen", "quan"},
	LevelCommune:  {"phuong", "xa", "thi_tran", "dac_khu"},
	LevelHamlet:   {"ap", "khom", "thon", "ban", "to_dan_pho", "khu_pho"},
}

// Predecessor is an old unit that a new one was formed from. Partial means
// only some of its hamlets went to this unit; the rest went elsewhere.
type Predecessor struct {
	Code    string
	Partial bool
}

// AdminUnit is one node of the tree, keyed by Code: names repeat (Tân Thành
// is both a phường and a xã).
type AdminUnit struct {
	Code           string
	Name           string
	Type           string
	Level          Level
	ParentCode     string // "" for a province
	FormedFrom     []Predecessor
	SuccessorCodes []string
	RetiredOn      string // YYYY-MM-DD, "" while in force
}

// Units2025EffectiveOn is the day resolution 1655/NQ-UBTVQH15 took effect:
// the 2022 units retire and the 2025 units start on it.
const Units2025EffectiveOn = "2025-07-01"

// ProvinceCodeCaMau is the province code used for both trees. The 2025 file
// gives none for the merged province, which keeps Cà Mau's name, so it keeps
// Cà Mau's statistics-office code 96 too.
const ProvinceCodeCaMau = "96"

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

var codeDigits = map[Level]int{LevelProvince: 2, LevelDistrict: 3, LevelCommune: 5}

// Validate checks one unit on its own: code shape for its level, a known
// type, a parent of the right shape, dates. Whether the parent exists is the
// loader's concern.
func (u AdminUnit) Validate() error {
	bad := func(field, code, format string, args ...any) error {
		return verr("admin_units", field, code, "unit %s: "+format, append([]any{u.Code}, args...)...)
	}
	types, ok := unitTypes[u.Level]
	if !ok {
		return bad("level", CodeUnknownEnum, "level %q is not province, district, commune or hamlet", u.Level)
	}
	if u.Level == LevelHamlet {
		if err := ValidateHamletCode(u.Code); err != nil {
			return bad("code", CodeInvalidHamlet, "%s", err.(*ValidationError).Detail)
		}
		// A new hamlet's code starts with its commune's, but the 2025
		// merger moved hamlets and kept their codes (ReparentHamlets):
		// which commune a hamlet is in is the store's to know.
		if !digits(u.ParentCode, 5) {
			return bad("parent_code", CodeInvalidHamlet, "a hamlet's parent is a 5-digit commune code (e.g. %s)", u.Code[:5])
		}
	} else if !digits(u.Code, codeDigits[u.Level]) {
		return bad("code", CodeWrongType, "a %s code has %d digits", u.Level, codeDigits[u.Level])
	}
	if strings.TrimSpace(u.Name) == "" {
		return bad("name", CodeRequired, "no name")
	}
	if !utf8.ValidString(u.Name) || strings.ContainsFunc(u.Name, unicode.IsControl) {
		// A units file Excel saved in Windows-1258, most often.
		return bad("name", CodeWrongType, "the name is not Unicode (UTF-8) text: save the file as CSV UTF-8")
	}
	if !slices.Contains(types, u.Type) {
		return bad("type", CodeUnknownEnum, "type %q is not one of %s for a %s", u.Type, strings.Join(types, ", "), u.Level)
	}
	switch u.Level {
	case LevelProvince:
		if u.ParentCode != "" {
			return bad("parent_code", CodeWrongType, "a province has no parent")
		}
	case LevelDistrict:
		if !digits(u.ParentCode, 2) {
			return bad("parent_code", CodeWrongType, "a district's parent is a 2-digit province code")
		}
	case LevelCommune:
		if !digits(u.ParentCode, 2) && !digits(u.ParentCode, 3) {
			return bad("parent_code", CodeWrongType, "a commune's parent is a 3-digit district or, since 2025, a 2-digit province code")
		}
	}
	seen := map[string]bool{}
	for _, p := range u.FormedFrom {
		if p.Code == "" || seen[p.Code] {
			return bad("formed_from", CodeWrongType, "predecessor codes must be non-empty and listed once")
		}
		seen[p.Code] = true
	}
	if u.RetiredOn != "" {
		if err := checkDate(u.RetiredOn); err != nil {
			return bad("retired_on", CodeInvalidDate, "%v", err)
		}
	}
	return nil
}

// HamletCode builds the code of the n-th hamlet of a commune, e.g.
// HamletCode("32002", 3) == "32002-03". Hamlets have no national code, so
// Hamlet derives one that sorts and groups under its commune.
func HamletCode(commune string, n int) string {
	return fmt.Sprintf("%s-%02d", commune, n)
}

// ValidateHamletCode checks the "<5-digit commune>-<01..99>" shape.
func ValidateHamletCode(code string) error {
	bad := func(detail string) error {
		return &ValidationError{Field: ScopeField, Code: CodeInvalidHamlet, Detail: detail}
	}
	if len(code) != 8 || code[5] != '-' || !digits(code[:5], 5) || !digits(code[6:], 2) {
		return bad(fmt.Sprintf("not <5-digit commune code>-<2-digit number> (%s)", Shape(code)))
	}
	if code[6:] == "00" {
		return bad("hamlet numbers start at 01")
	}
	return nil
}

// ParseUnits2022 reads the pre-2025 file (district_name, district_type,
// commune_name, commune_type, district_code, commune_code) and returns the
// province (96), its districts in order of first appearance, then the
// communes in file order.
func ParseUnits2022(r io.Reader) ([]AdminUnit, error) {
	cols := []string{"district_name", "district_type", "commune_name", "commune_type", "district_code", "commune_code"}
	out := []AdminUnit{{Code: ProvinceCodeCaMau, Name: "Cà Mau", Type: "tinh", Level: LevelProvince}}
	var communes []AdminUnit
	districts := map[string]int{} // code -> index in out
	districtLine := map[string]int{}
	communeLine := map[string]int{}
	err := readCSV(r, cols, func(rec record) error {
		d := AdminUnit{Code: rec.get("district_code"), Name: rec.get("district_name"), Type: rec.get("district_type"), Level: LevelDistrict, ParentCode: ProvinceCodeCaMau}
		c := AdminUnit{Code: rec.get("commune_code"), Name: rec.get("commune_name"), Type: rec.get("commune_type"), Level: LevelCommune, ParentCode: d.Code}
		if err := unitCells(rec, d, "district_code", "district_name", "district_type"); err != nil {
			return err
		}
		if err := unitCells(rec, c, "commune_code", "commune_name", "commune_type"); err != nil {
			return err
		}
		if i, ok := districts[d.Code]; ok {
			if prev := out[i]; prev.Name != d.Name || prev.Type != d.Type {
				return rec.errAt("district_code", "huyện %s là %q (%s) ở dòng %d nhưng ở đây là %q (%s); hãy sửa cho tên và loại khớp nhau",
					"district %s is %q (%s) on line %d but %q (%s) here; make the name and type agree",
					d.Code, prev.Name, prev.Type, districtLine[d.Code], d.Name, d.Type)
			}
		} else {
			districts[d.Code] = len(out)
			districtLine[d.Code] = rec.line
			out = append(out, d)
		}
		if l, dup := communeLine[c.Code]; dup {
			return rec.errAt("commune_code", "mã xã %s đã có ở dòng %d; mỗi xã chỉ ghi một lần", "commune code %s is already used on line %d; each commune appears once", c.Code, l)
		}
		communeLine[c.Code] = rec.line
		communes = append(communes, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, communes...), nil
}

// ParseUnits2025 reads the post-reorganisation file (commune_name,
// commune_type, formed_from, commune_code, formed_from_codes, and optionally
// nq1655_clause) and returns the province (96, see ProvinceCodeCaMau) then
// its communes in file order, each with FormedFrom from formed_from_codes
// ("32155*" is a partial share). The free-text formed_from column is not
// kept: the codes say the same thing without the spelling variations.
//
// A predecessor marked partial must be shared by two or more new communes,
// and one given whole must appear in exactly one: otherwise hamlets would be
// lost or counted twice when they are moved.
func ParseUnits2025(r io.Reader) ([]AdminUnit, error) {
	cols := []string{"commune_name", "commune_type", "formed_from", "commune_code", "formed_from_codes"}
	out := []AdminUnit{{Code: ProvinceCodeCaMau, Name: "Cà Mau", Type: "tinh", Level: LevelProvince}}
	communeLine := map[string]int{}
	type use struct {
		rec     record
		partial bool
	}
	uses := map[string][]use{}
	var order []string
	err := readCSV(r, cols, func(rec record) error {
		c := AdminUnit{Code: rec.get("commune_code"), Name: rec.get("commune_name"), Type: rec.get("commune_type"), Level: LevelCommune, ParentCode: ProvinceCodeCaMau}
		if err := unitCells(rec, c, "commune_code", "commune_name", "commune_type"); err != nil {
			return err
		}
		if l, dup := communeLine[c.Code]; dup {
			return rec.errAt("commune_code", "mã xã %s đã có ở dòng %d; mỗi xã chỉ ghi một lần", "commune code %s is already used on line %d; each commune appears once", c.Code, l)
		}
		communeLine[c.Code] = rec.line
		raw := rec.get("formed_from_codes")
		if raw == "" {
			return rec.errAt("formed_from_codes", "chưa ghi mã xã cũ; hãy ghi các mã xã cũ, cách nhau bởi ';' (xã giữ nguyên thì ghi mã của chính nó)", "no predecessor codes; list the old commune codes separated by ';' (a commune left unchanged lists its own code)")
		}
		for _, part := range strings.Split(raw, ";") {
			part = strings.TrimSpace(part)
			p := Predecessor{Code: strings.TrimSuffix(part, "*"), Partial: strings.HasSuffix(part, "*")}
			if !digits(p.Code, 5) {
				return rec.errAt("formed_from_codes", "%q không phải mã xã 5 chữ số (có thể thêm * nếu chỉ nhận một phần); hãy sửa lại", "%q is not a 5-digit commune code (optionally followed by * for a partial share); fix it", part)
			}
			if slices.ContainsFunc(c.FormedFrom, func(q Predecessor) bool { return q.Code == p.Code }) {
				return rec.errAt("formed_from_codes", "%s được ghi hai lần; mỗi xã cũ chỉ ghi một lần", "%s is listed twice; list each old commune once", p.Code)
			}
			c.FormedFrom = append(c.FormedFrom, p)
			if _, ok := uses[p.Code]; !ok {
				order = append(order, p.Code)
			}
			uses[p.Code] = append(uses[p.Code], use{rec, p.Partial})
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, code := range order {
		us := uses[code]
		for _, u := range us[1:] {
			if u.partial != us[0].partial {
				return nil, u.rec.errAt("formed_from_codes", "%s được đánh dấu một phần (*) ở một dòng và nguyên vẹn ở dòng khác (dòng %d và %d); hãy đánh dấu * mọi phần của xã bị chia", "%s is marked partial (*) on one line and whole on another (lines %d and %d); mark every share of a split commune with *", code, us[0].rec.line, u.rec.line)
			}
		}
		switch {
		case us[0].partial && len(us) < 2:
			return nil, us[0].rec.errAt("formed_from_codes", "%s* chỉ là một phần nhưng không xã nào nhận phần còn lại; hãy ghi nó vào xã nhận phần đó, hoặc bỏ dấu *", "%s* is a partial share but no other commune takes the rest; add it to the commune that does, or drop the *", code)
		case !us[0].partial && len(us) > 1:
			return nil, us[1].rec.errAt("formed_from_codes", "%s được giao nguyên vẹn cho hai xã (dòng %d và %d); hãy đánh dấu * cả hai phần", "%s is given whole to two communes (lines %d and %d); mark both shares with *", code, us[0].rec.line, us[1].rec.line)
		}
	}
	return out, nil
}

// levelVI names a level of the administrative tree in Vietnamese.
func levelVI(level Level) string {
	if v, ok := map[Level]string{LevelProvince: "tỉnh", LevelDistrict: "huyện", LevelCommune: "xã", LevelHamlet: "ấp/khóm"}[level]; ok {
		return v
	}
	return string(level)
}

// unitCells turns a Validate failure into a parse error at the cell to fix.
func unitCells(rec record, u AdminUnit, codeCol, nameCol, typeCol string) error {
	err := u.Validate()
	if err == nil {
		return nil
	}
	ve := err.(*ValidationError)
	switch ve.Field {
	case "name":
		if ve.Code == CodeWrongType {
			return rec.errAt(nameCol, "tên không phải văn bản Unicode (UTF-8); hãy lưu tệp dạng CSV UTF-8 (Excel: Lưu thành, CSV UTF-8) rồi nạp lại", "the name is not Unicode (UTF-8) text; save the file as CSV UTF-8 (Excel: Save As, CSV UTF-8) and import it again")
		}
		return rec.errAt(nameCol, "tên đang trống; hãy điền vào", "the name is empty; fill it in")
	case "type":
		return rec.errAt(typeCol, "%[1]q không phải loại đơn vị cấp %[4]s; hãy dùng một trong: %[3]s", "%[1]q is not a %[2]s type; use one of %[3]s",
			u.Type, u.Level, strings.Join(unitTypes[u.Level], ", "), levelVI(u.Level))
	default:
		return rec.errAt(codeCol, "%[1]q không phải mã cấp %[4]s gồm %[2]d chữ số; hãy sửa mã", "%[1]q is not a %[2]d-digit %[3]s code; fix the code",
			u.Code, codeDigits[u.Level], u.Level, levelVI(u.Level))
	}
}

var (
	embedded2022 = sync.OnceValue(func() []AdminUnit { return mustParseEmbedded("refdata/camau-2022.csv", ParseUnits2022) })
	embedded2025 = sync.OnceValue(func() []AdminUnit { return mustParseEmbedded("refdata/camau-2025.csv", ParseUnits2025) })
)

func mustParseEmbedded(name string, parse func(io.Reader) ([]AdminUnit, error)) []AdminUnit {
	f, err := refdata.Open(name)
	if err != nil {
		panic(fmt.Sprintf("schema: embedded %s: %v", name, err))
	}
	defer f.Close()
	units, err := parse(f)
	if err != nil {
		panic(fmt.Sprintf("schema: embedded %s: %v", name, err))
	}
	return units
}

// EmbeddedUnits2022 returns Cà Mau's units as of 2022-10-01 (refdata/SOURCES.md).
func EmbeddedUnits2022() []AdminUnit { return cloneUnits(embedded2022()) }

// EmbeddedUnits2025 returns Cà Mau's units from 2025-07-01 (refdata/SOURCES.md).
func EmbeddedUnits2025() []AdminUnit { return cloneUnits(embedded2025()) }

func cloneUnits(us []AdminUnit) []AdminUnit {
	out := slices.Clone(us)
	for i := range out {
		out[i].FormedFrom = slices.Clone(out[i].FormedFrom)
		out[i].SuccessorCodes = slices.Clone(out[i].SuccessorCodes)
	}
	return out
}

// InterimMergers are reorganisations between the 2022 and 2025 files: old
// code → the code it was merged into. In late 2024 Phường 2 (32011) of Cà
// Mau city merged with Phường 4 into a ward that carries code 32002, which is
// how the 2025 file names it (shared/data/README.md, "Gotchas"). Without this
// entry Phường 2's hamlets would have no 2025 home.
var InterimMergers = map[string]string{"32011": "32002"}

// HamletMove is a line of a reorganisation's hamlets file: where a hamlet
// of a commune split between several new ones goes.
type HamletMove struct {
	Hamlet, Commune string
	Line            int // where the file says it, for the operator to fix
}

// ParseHamletMoves reads a reorganisation's hamlets file, a CSV headed
// hamlet_code,commune_code. Every mistake is a *ParseError naming the line
// (and column) to fix: a malformed code, a hamlet listed twice. Whether the
// codes name a hamlet of the server and a commune of the new tree is for
// the caller, which knows both.
func ParseHamletMoves(r io.Reader) ([]HamletMove, error) {
	var out []HamletMove
	seen := map[string]int{}
	err := readCSV(r, []string{"hamlet_code", "commune_code"}, func(rec record) error {
		m := HamletMove{Hamlet: rec.get("hamlet_code"), Commune: rec.get("commune_code"), Line: rec.line}
		if ValidateHamletCode(m.Hamlet) != nil {
			return rec.errAt("hamlet_code", "%q không phải mã ấp/khóm (5 chữ số mã xã, dấu -, 2 chữ số, như 32155-01); hãy sửa lại", "%q is not a hamlet code (the 5-digit commune code, -, 2 digits, as in 32155-01); fix it", m.Hamlet)
		}
		if !digits(m.Commune, 5) {
			return rec.errAt("commune_code", "%q không phải mã xã/phường 5 chữ số; hãy sửa lại", "%q is not a 5-digit commune code; fix it", m.Commune)
		}
		if l, dup := seen[m.Hamlet]; dup {
			return rec.errAt("hamlet_code", "ấp/khóm %s đã có ở dòng %d; mỗi ấp/khóm chỉ ghi một lần", "hamlet %s is already on line %d; list each hamlet once", m.Hamlet, l)
		}
		seen[m.Hamlet] = rec.line
		out = append(out, m)
		return nil
	})
	return out, err
}

// hamletsHeaderKind tells a column of a hamlets file's header: "name",
// "type", "skip" (a row number, a note), or "" when not known.
func hamletsHeaderKind(h string) string {
	l := strings.ToLower(strings.Join(strings.Fields(h), " "))
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if l == p || strings.HasPrefix(l, p+" ") || strings.HasPrefix(l, p+"/") || strings.HasPrefix(l, p+"(") {
				return true
			}
		}
		return false
	}
	switch {
	case has("name", "hamlet_name", "tên", "ten"):
		return "name"
	case has("type", "hamlet_type", "loại", "loai", "kiểu", "kieu", "phân loại", "phan loai"):
		return "type"
	case has("stt", "tt", "số tt", "so tt", "số thứ tự", "so thu tu", "no", "no.", "#", "ghi chú", "ghi chu", "note", "notes"):
		return "skip"
	}
	return ""
}

// hamletWordHeader: h is the hamlet's own word (Ấp, Khóm, Ấp/Khóm, Thôn,
// hamlet), with or without marks: a column of names when none is headed
// Tên ấp.
func hamletWordHeader(h string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(h), " "))
	l = strings.ReplaceAll(strings.ReplaceAll(l, " / ", "/"), ", ", "/")
	return slices.Contains([]string{"ấp", "ap", "khóm", "khom", "ấp/khóm", "ap/khom", "khóm/ấp", "khom/ap", "thôn", "thon", "bản", "ban",
		"tổ dân phố", "to dan pho", "khu phố", "khu pho", "ấp/khu phố", "thôn/bản", "hamlet", "hamlets"}, l)
}

// hamletsHeaderLike: a first line that holds no hamlet code and names a
// column (STT, Tên ấp, Mã số): a header whose first column is not the
// code's. A header names at least two columns (a code and a name): a line
// of one cell (Tên xã: Tân Hưng, Mã xã: 32002, the other cells blank) is a
// title, however it starts. Nor is a line that gives a value: a cell with
// a colon is a label (Tên xã: | Tân Hưng, the value in the next cell; Mã
// xã: 32002, in its own), a commune's code (Mã xã | 32002) is no column's
// name, and a unit above the hamlet followed by a cell that names no column
// (Tên xã | Tân Hưng) is that unit's label and its value.
func hamletsHeaderLike(fields []string) bool {
	named, cells := false, 0
	var filled []string
	for _, f := range fields {
		if ValidateHamletCode(f) == nil {
			return false
		}
		// A colon anywhere: a label (Tên xã:) or a label with its value in
		// its cell (Mã xã: 32002), never a column's name.
		if v := strings.TrimSpace(f); strings.Contains(v, ":") || digits(v, 5) {
			return false
		}
		if strings.TrimSpace(f) != "" {
			cells++
			filled = append(filled, f)
		}
		named = named || headerNameLike(f)
	}
	if len(filled) == 2 && upperUnitLabel(filled[0]) && !headerNameLike(filled[1]) {
		// Tên xã | Tân Hưng, without the colon: the commune's name, not a
		// header (whose other column would be named too: Tên xã,Tên ấp).
		return false
	}
	return named && cells >= 2
}

// headerNameLike: f names a column of a hamlets file's header (a name, a
// type, an STT, a code's).
func headerNameLike(f string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(f), " "))
	return hamletsHeaderKind(f) != "" || l == "code" || l == "mã" || l == "ma" || strings.HasPrefix(l, "mã ") || strings.HasPrefix(l, "ma ")
}

// upperUnitLabel: f is a label naming a unit above the hamlet (Tên xã, Mã
// phường, Huyện, with or without marks): on a title line, before its value.
func upperUnitLabel(f string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(f), " "))
	for _, p := range []string{"tên ", "ten ", "mã ", "ma "} {
		l = strings.TrimPrefix(l, p)
	}
	return slices.Contains([]string{"xã", "xa", "phường", "phuong", "thị trấn", "thi tran", "xã/phường", "xa/phuong", "đặc khu", "dac khu",
		"huyện", "huyen", "quận", "quan", "thị xã", "thi xa", "thành phố", "thanh pho", "tỉnh", "tinh"}, l)
}

// codeHeadedOtherwise: a header led by the code's column under a name not
// known as the code's (Mã số, Mã ĐVHC, Mã đơn vị, Mã ấp khóm), no other
// column named a code: the column is where it should be, only its name is
// to change (told to head it Mã ấp, not to move it).
func codeHeadedOtherwise(fields []string) bool {
	codeLike := func(f string) bool {
		l := strings.ToLower(strings.Join(strings.Fields(f), " "))
		return hamletsHeaderKind(f) == "" && (l == "code" || l == "mã" || l == "ma" || strings.HasPrefix(l, "mã ") || strings.HasPrefix(l, "ma ") || strings.HasPrefix(l, "code "))
	}
	if len(fields) < 2 || !codeLike(fields[0]) || !hamletsHeaderLike(fields) {
		return false
	}
	for _, f := range fields[1:] {
		if codeLike(f) {
			return false // Mã xã,Mã ấp,Tên: the hamlet's code is not first
		}
	}
	return true
}

// nextLeadsWithHamletCode: a line of cr after the header starts with a
// hamlet code. A header led by a column named as a code (Mã xã, Mã hộ) is
// told to rename that column Mã ấp only if it holds the hamlets' codes:
// one of the communes' codes, renamed, would still hold no hamlet code
// (review 177). Not only the first line under it: official forms put a
// row of the columns' numbers ((1),(2)) or a title under the header, and
// Excel keeps blank rows, before the hamlets. Read only to word the error
// of the header before it.
func nextLeadsWithHamletCode(cr *csv.Reader) bool {
	for {
		fields, err := cr.Read()
		if err != nil {
			return false
		}
		if cleanCells(fields) {
			continue
		}
		if ValidateHamletCode(fields[0]) == nil {
			return true
		}
	}
}

// codeHeaderName: f names the hamlet code's column of a header (code, Mã
// ấp, Mã ấp/khóm, with or without marks).
func codeHeaderName(f string) bool {
	return slices.Contains([]string{"code", "mã", "ma", "mã ấp", "ma ap", "mã ấp/khóm", "ma ap/khom", "hamlet_code"}, strings.ToLower(strings.Join(strings.Fields(f), " ")))
}

// headerBelow is the line of a header among the lines of cr before the
// first hamlet code, 0 if there is none: the file's first line, no hamlet,
// is then a title (DANH SÁCH ẤP/KHÓM XÃ ...) above its header. Read only
// to word the error of that first line.
func headerBelow(cr *csv.Reader) int {
	for {
		fields, err := cr.Read()
		if err != nil {
			return 0
		}
		if cleanCells(fields) {
			continue
		}
		if ValidateHamletCode(fields[0]) == nil {
			return 0
		}
		if codeHeaderName(fields[0]) || hamletsHeaderLike(fields) {
			line, _ := cr.FieldPos(0)
			return line
		}
	}
}

// ParseHamlets reads the hamlets file of `unit add-hamlets --file`: rows of
// code,name[,type] (type ap if left out), under a header naming those
// columns or none. Each hamlet's parent is the commune its code starts
// with, as a new hamlet's is (a server keeps an existing hamlet's own).
// Every mistake is a *ParseError naming the line to fix.
func ParseHamlets(r io.Reader) ([]AdminUnit, error) {
	cr, err := newCSVReader(r)
	if err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = -1 // the type may be left out
	var out []AdminUnit
	seen := map[string]int{}
	col := map[string]int{"code": 0, "name": 1, "type": 2}
	// typedAt, untypedAt: the first line whose type cell is written, and
	// the first whose type cell is blank although the line has that cell.
	// Both in one file is refused: a Loại cell merged over several rows in
	// Excel is saved in the first row only, and the rows below would be
	// read as ấp.
	typedAt, untypedAt, untyped := 0, 0, ""
	// first: the first line that is not blank (Excel writes a row left
	// blank above the header as ",,"): the header, if there is one.
	for started, first := false, true; ; first = !started {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if first {
			fields[0] = strings.TrimPrefix(fields[0], "\ufeff") // Excel writes a BOM
		}
		if cleanCells(fields) {
			continue
		}
		started = true
		if first && codeHeaderName(fields[0]) {
			// A header: its columns by name (in English or Vietnamese, with
			// or without marks: code,tên,loại; Mã ấp/khóm,STT,Tên ấp/khóm,
			// Loại ấp/khóm). A type it does not name is absent (ấp), and a
			// column it cannot tell is refused, not read as the type or left
			// out: the operator says which it is. A header of other columns
			// naming neither name nor type (Mã ấp,Số hộ,Ấp) is refused, not
			// read by position: its second column, the households' count,
			// would be each hamlet's name (helper 187). Only a header of
			// the code alone reads its lines as code,name[,type].
			kinds := make([]string, len(fields))
			named := map[string]int{}
			for i, h := range fields[1:] {
				k := hamletsHeaderKind(h)
				kinds[i+1] = k
				if k != "name" && k != "type" {
					continue
				}
				if j, twice := named[k]; twice {
					return nil, &ParseError{Line: line, Msg: fmt.Sprintf("the header has two %s columns, %q and %q; keep one", k, fields[j], h),
						MsgVI: fmt.Sprintf("dòng tên cột có hai cột %s, %q và %q; hãy giữ một cột", map[string]string{"name": "tên", "type": "loại"}[k], fields[j], h)}
				}
				named[k] = i + 1
			}
			// A column headed by the hamlet itself (Ấp, Khóm, Ấp/Khóm,
			// hamlet) holds the names when no column is named so: the
			// commune lists head it that way as often as Tên ấp, and such
			// a file was read (by position) before headers were read by
			// name. Beside a name column it may hold the type: not taken.
			if _, ok := named["name"]; !ok {
				at := 0
				for i, h := range fields {
					if i > 0 && kinds[i] == "" && hamletWordHeader(h) {
						if at != 0 {
							at = -1 // two: which is not told
							break
						}
						at = i
					}
				}
				if at > 0 {
					kinds[at], named["name"] = "name", at
				}
			}
			// An STT or a note named is no name nor type: the header is read
			// by its names (Mã ấp,STT names no name column: refused).
			var unknown []string
			for i, k := range kinds {
				if i > 0 && k == "" && strings.TrimSpace(fields[i]) != "" {
					unknown = append(unknown, fmt.Sprintf("%q", fields[i]))
				}
			}
			if len(named) == 0 && len(unknown) > 0 {
				return nil, &ParseError{Line: line,
					Msg:   fmt.Sprintf("the header does not say which column is the hamlet's name (%s: not known): head the names' column Tên ấp (name), the types' column, if there is one, Loại (type), and delete the other columns", strings.Join(unknown, ", ")),
					MsgVI: fmt.Sprintf("dòng tên cột không cho biết cột nào là tên ấp/khóm (không rõ %s là gì): hãy đặt tên cột chứa tên ấp/khóm là Tên ấp, cột loại (nếu có) là Loại, và xoá các cột khác", strings.Join(unknown, ", "))}
			}
			if len(named) > 0 || slices.Contains(kinds, "skip") {
				delete(col, "type")
				for k, i := range named {
					col[k] = i
				}
				if _, ok := named["name"]; !ok {
					return nil, &ParseError{Line: line, Msg: "the header names no name column (name, tên); name it", MsgVI: "dòng tên cột không có cột tên ấp/khóm (name, tên); hãy đặt tên cột đó"}
				}
				for i, k := range kinds {
					if i > 0 && k == "" && fields[i] != "" { // a blank one: a column Excel kept
						return nil, &ParseError{Line: line,
							Msg:   fmt.Sprintf("column %d, %q, is not known: if it is the hamlet's type, head it type (loại); if not, delete the column", i+1, fields[i]),
							MsgVI: fmt.Sprintf("không rõ cột %d, %q, là gì: nếu là loại ấp/khóm, hãy đặt tên cột là loại; nếu không, hãy xoá cột đó", i+1, fields[i])}
					}
				}
			}
			continue
		}
		cell := func(name string) string {
			if i, ok := col[name]; ok && i < len(fields) {
				return fields[i]
			}
			return ""
		}
		bad := func(vi, en string, args ...any) error {
			return &ParseError{Line: line, Msg: fmt.Sprintf(en, args...), MsgVI: fmt.Sprintf(vi, args...)}
		}
		// A name typed over two lines of its cell (Alt+Enter) is one line.
		u := AdminUnit{Code: cell("code"), Name: strings.Join(strings.Fields(cell("name")), " "), Type: cell("type"), Level: LevelHamlet}
		if i, ok := col["type"]; ok && u.Type == "" && i < len(fields) && untypedAt == 0 {
			untypedAt, untyped = line, u.Code
		}
		if u.Type == "" {
			u.Type = "ap"
		} else if typedAt == 0 {
			typedAt = line
		}
		switch {
		case ValidateHamletCode(u.Code) != nil && first && codeHeadedOtherwise(fields) && nextLeadsWithHamletCode(cr):
			return nil, bad("đây là dòng tên cột, và cột đầu tiên, %q, có vẻ là cột mã ấp/khóm nhưng tên cột chưa đúng: hãy đặt tên cột đó là Mã ấp", "this is a header, and its first column, %q, looks like the hamlet code's under another name: head it code (Mã ấp)", fields[0])
		case ValidateHamletCode(u.Code) != nil && first && hamletsHeaderLike(fields):
			return nil, bad("đây là dòng tên cột nhưng cột đầu tiên không phải cột mã ấp/khóm: hãy đưa cột mã lên đầu, đặt tên là Mã ấp, và xoá cột STT nếu có", "this is a header but its first column is not the hamlet code: move the code column first, head it code (Mã ấp), and delete an STT column if there is one")
		case ValidateHamletCode(u.Code) != nil && first:
			if h := headerBelow(cr); h > 0 {
				return nil, bad("dòng này nằm trên dòng tên cột (dòng %[2]d) và %[1]q không phải mã ấp/khóm: nếu là tiêu đề, hãy xoá nó cùng mọi dòng phía trên dòng tên cột, để dòng tên cột là dòng đầu tiên", "this line is above the header (line %[2]d) and %[1]q is not a hamlet code: if it is a title, delete it and every line above the header, so that the header is the first line", u.Code, h)
			}
			return nil, bad("%q không phải mã ấp/khóm (5 chữ số mã xã, dấu -, 2 chữ số từ 01, như 32002-03); mỗi dòng là mã,tên[,loại]", "%q is not a hamlet code (the 5-digit commune code, -, 2 digits from 01, as in 32002-03); each line is code,name[,type]", u.Code)
		case ValidateHamletCode(u.Code) != nil:
			return nil, bad("%q không phải mã ấp/khóm (5 chữ số mã xã, dấu -, 2 chữ số từ 01, như 32002-03); mỗi dòng là mã,tên[,loại]", "%q is not a hamlet code (the 5-digit commune code, -, 2 digits from 01, as in 32002-03); each line is code,name[,type]", u.Code)
		case u.Name == "":
			return nil, bad("ấp/khóm %s chưa có tên; mỗi dòng là mã,tên[,loại]", "hamlet %s has no name; each line is code,name[,type]", u.Code)
		case !slices.Contains(unitTypes[LevelHamlet], u.Type):
			return nil, bad("loại %q không có; chọn một trong: %s", "type %q is unknown; pick one of: %s", u.Type, strings.Join(unitTypes[LevelHamlet], ", "))
		}
		if l, dup := seen[u.Code]; dup {
			return nil, bad("ấp/khóm %s đã có ở dòng %d; mỗi ấp/khóm chỉ ghi một lần", "hamlet %s is already on line %d; list each hamlet once", u.Code, l)
		}
		seen[u.Code] = line
		u.ParentCode = u.Code[:5]
		if err := u.Validate(); err != nil {
			return nil, bad("%v", "%v", err)
		}
		out = append(out, u)
	}
	if typedAt > 0 && untypedAt > 0 {
		return nil, &ParseError{Line: untypedAt,
			Msg:   fmt.Sprintf("hamlet %s has no type but line %d gives one: if the type cells were merged in Excel, unmerge them and write each line's type; if it is an ấp, write ap", untyped, typedAt),
			MsgVI: fmt.Sprintf("ấp/khóm %s chưa ghi loại nhưng dòng %d có ghi: nếu các ô loại đã được gộp (merge) trong Excel, hãy bỏ gộp và ghi loại ở từng dòng; nếu là ấp, hãy ghi ap", untyped, typedAt)}
	}
	return out, nil
}
