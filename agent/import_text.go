package agent

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/schema"
)

// Text a spreadsheet holds in a form that is no longer the letters typed,
// found before anything is imported: the whole file is refused, since it
// is the file that must be saved again, not a row to fix.
//
//   - Excel's "CSV (Comma delimited)" on a Windows not set to Vietnamese
//     writes every letter outside its code page as "?": "Nguy?n V?n An".
//     The letters are lost; a "?" between two letters is the sign (a note
//     ending with "?" is no such thing).
//   - Text typed in the old VNI or TCVN3 (ABC) fonts is Latin-1 that only
//     the font shows as Vietnamese: "Nguyeãn Vaên An" (VNI),
//     "NguyÔn V¨n B×nh" (TCVN3). Signs: letters Vietnamese never uses
//     (ä å æ ç ë î ï ñ ö ø û ü ÿ ß þ and capitals), Latin-1 symbols
//     between two letters (V¨n, B×nh), an accented Latin-1 letter right
//     after a or e (VNI's marks: aê, eã; no Vietnamese syllable has a or
//     e before another vowel but i, o, u, y), and a Latin-1 capital right
//     after a small ASCII letter (TCVN3's small letters: NguyÔn). Ð and ð
//     are not signs: some fonts show them for Đ and đ.

// ImportTextError: a cell's text was mangled before the file reached
// Hamlet: Excel replaced its letters with "?" (Legacy false), or it was
// typed in the VNI or TCVN3 fonts (Legacy true). Nothing is imported.
type ImportTextError struct {
	Legacy bool
	Line   int
	Column string // the cell's header; "" in the rows above the header
	Text   string
}

func (e *ImportTextError) Error() string {
	if e.Legacy {
		return fmt.Sprintf("agent: line %d is typed in the VNI or TCVN3 encoding", e.Line)
	}
	return fmt.Sprintf("agent: line %d has letters replaced by question marks", e.Line)
}

func (e *ImportTextError) Message(lang string) string {
	where := func(lang string) string {
		s := pick(lang, fmt.Sprintf("Dòng %d", e.Line), fmt.Sprintf("Line %d", e.Line))
		if e.Column != "" {
			s += pick(lang, ", cột «"+e.Column+"»", ", column «"+e.Column+"»")
		}
		return s + ": «" + e.Text + "»"
	}
	if e.Legacy {
		return pick(lang,
			where("vi")+" được gõ bằng bảng mã cũ VNI hoặc TCVN3/ABC (phông VNI-Times, .VnTime...), không phải Unicode: nhập vào sẽ thành chữ sai. Chưa nhập dòng nào. Hãy chuyển bảng sang Unicode bằng Unikey: trong Excel chọn cả bảng và chép (Ctrl+C); mở công cụ chuyển mã của Unikey (Ctrl+Shift+F6), chọn Nguồn: VNI Windows hoặc TCVN3 (ABC), Đích: Unicode, bấm \"Chuyển mã\"; dán lại vào Excel (Ctrl+V), đổi phông sang Times New Roman, lưu rồi nhập lại.",
			where("en")+" is typed in the old VNI or TCVN3/ABC encoding (fonts VNI-Times, .VnTime...), not Unicode: imported, it would be garbled. Nothing was imported. Convert the table to Unicode with Unikey: in Excel select the table and copy it (Ctrl+C); open Unikey's converter (Ctrl+Shift+F6), choose source VNI Windows or TCVN3 (ABC), destination Unicode, click \"Chuyển mã\" (Convert); paste it back into Excel (Ctrl+V), set the font to Times New Roman, save and import again.")
	}
	return pick(lang,
		where("vi")+": Excel đã thay các chữ có dấu bằng dấu \"?\". Excel làm vậy khi lưu dạng \"CSV (Comma delimited)\" trên máy Windows không đặt tiếng Việt: các chữ đó đã mất khỏi tệp này. Chưa nhập dòng nào. Hãy mở lại danh sách gốc trong Excel và lưu dạng \"CSV UTF-8 (Comma delimited)\" (hoặc .xlsx), rồi nhập tệp mới.",
		where("en")+": Excel replaced the letters with Vietnamese marks by \"?\". Excel does this when it saves \"CSV (Comma delimited)\" on a Windows not set to Vietnamese: those letters are lost from this file. Nothing was imported. Open the original list in Excel again and save it as \"CSV UTF-8 (Comma delimited)\" (or .xlsx), and import the new file.")
}

// shortText is the longest text field checkText reads: names, addresses,
// places (schema's lenShort). Longer ones (notes, descriptions) are free
// text, where "có không?chưa hỏi" or "Renée" may be what was typed; a
// mangled file shows it in its names anyway.
const shortText = 500

// checkText looks for mangled text in the cells of the columns imported
// as short text (names, addresses), in the rows under the header.
func checkText(t *schema.Table, sheet *ImportSheet, hi int, cols []ImportColumn) error {
	var text []ImportColumn
	for _, c := range cols {
		if f, ok := t.Field(c.Field); ok && c.Field != "" && f.Type == schema.TypeString && f.MaxLen > 0 && f.MaxLen <= shortText {
			text = append(text, c)
		}
	}
	if len(text) == 0 {
		return nil
	}
	for i := hi + 1; i < len(sheet.Rows); i++ {
		cells := sheet.Rows[i]
		for _, c := range text {
			if c.Index >= len(cells) {
				continue
			}
			if legacy, found := mangled(cells[c.Index]); found {
				return &ImportTextError{Legacy: legacy, Line: sheet.line(i), Column: c.Header, Text: strings.TrimSpace(cells[c.Index])}
			}
		}
	}
	return nil
}

// checkHeaderText looks for mangled text in the rows where the header
// was looked for and not found: the reason it was not.
func checkHeaderText(sheet *ImportSheet) error {
	for i := 0; i < len(sheet.Rows) && i < headerScan; i++ {
		for _, cell := range sheet.Rows[i] {
			if legacy, found := mangled(cell); found {
				return &ImportTextError{Legacy: legacy, Line: sheet.line(i), Text: strings.TrimSpace(cell)}
			}
		}
	}
	return nil
}

// mangled reports whether s shows one of the signs above, and which.
func mangled(s string) (legacy, found bool) {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c == '?' {
			plain = false
			break
		}
	}
	if plain {
		return false, false
	}
	if strings.Contains(s, "://") || strings.HasPrefix(strings.ToLower(s), "www.") {
		return false, false // a link (a map's, in a report's location): its ? is a query
	}
	prev := rune(-1)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		next, end := rune(-1), i+n
		if end < len(s) {
			next, _ = utf8.DecodeRuneInString(s[end:])
		}
		switch {
		case r == '?':
			for end < len(s) && s[end] == '?' {
				end++
			}
			if end < len(s) {
				next, _ = utf8.DecodeRuneInString(s[end:])
			}
			if unicode.IsLetter(prev) && unicode.IsLetter(next) {
				return false, true
			}
			n = end - i
		case strings.ContainsRune("äåæçëîïñöøûüÿßþÄÅÆÇËÎÏÑÖØÛÜÞ", r):
			return true, true
		case r >= 0xA1 && r <= 0xBF && r != 0xB4 || r == '×' || r == '÷': // not ´: the highlands' names (Đăk R´Lấp, H´Hen Niê)
			if unicode.IsLetter(prev) && unicode.IsLetter(next) {
				return true, true
			}
		case r >= 0xC0 && r <= 0xFF && r != 0xD7 && r != 0xF7 && r != 0xD0 && r != 0xF0:
			if strings.ContainsRune("aeAE", prev) || r <= 0xDE && prev >= 'a' && prev <= 'z' {
				return true, true
			}
		}
		prev = r
		i += n
	}
	return false, false
}
