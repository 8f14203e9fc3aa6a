package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/cliflag"
)

// The common options every command takes (env.common), and those of them
// that take a value: they may come before the command word.
var (
	commonFlags  = map[string]bool{"data-dir": true, "json": true, "lang": true}
	valuedCommon = map[string]bool{"data-dir": true, "lang": true}
)

// sub is one subcommand of a group (household add, visit list, ...): its
// positional arguments and what it does, in both languages.
type sub struct {
	name           string
	argsVI, argsEN string
	vi, en         string
}

var subcommands = map[string][]sub{
	"household": {
		{"add", "", "", "thêm một hộ (--hamlet, --head, ...)", "add a household (--hamlet, --head, ...)"},
		{"edit", "MÃ", "ID", "sửa thông tin một hộ (các tùy chọn như add, hoặc --set trường=giá_trị)", "edit a household (the options of add, or --set field=value)"},
		{"list", "", "", "liệt kê các hộ (--hamlet, --deleted, --limit)", "list households (--hamlet, --deleted, --limit)"},
		{"search", "TỪ_KHÓA...", "WORDS...", "tìm hộ theo tên, địa chỉ, số điện thoại, ấp/khóm (không cần dấu)", "find households by name, address, phone, hamlet (accents optional)"},
		{"show", "MÃ", "ID", "xem một hộ: từng trường, ai ghi, lúc nào; các lượt thăm hộ, hướng dẫn, phản ánh", "show a household: each field, who wrote it and when; its visits, tutoring, reports"},
		{"delete", "MÃ", "ID", "xóa một hộ (khôi phục được)", "delete a household (can be restored)"},
		{"restore", "MÃ", "ID", "khôi phục một hộ đã xóa", "restore a deleted household"},
	},
	"visit": {
		{"add", "", "", "ghi một lượt thăm hộ (--household, --date, --notes)", "record a visit (--household, --date, --notes)"},
		{"list", "", "", "liệt kê các lượt thăm hộ (--household, --hamlet, --limit)", "list visits (--household, --hamlet, --limit)"},
	},
	"tutor": {
		{"add", "", "", "ghi một lượt hướng dẫn kỹ năng (--household, --skill, --person, --outcome)", "record tutoring (--household, --skill, --person, --outcome)"},
		{"list", "", "", "liệt kê các lượt hướng dẫn (--household, --hamlet, --limit)", "list tutoring records (--household, --hamlet, --limit)"},
		{"skills", "", "", "danh mục kỹ năng và mã của chúng", "the skills and their codes"},
	},
	"report": {
		{"add", "", "", "ghi một phản ánh hiện trường (--category, --description, --photo TỆP, ...)", "record a field report (--category, --description, --photo FILE, ...)"},
		{"list", "", "", "liệt kê các phản ánh (--household, --hamlet, --limit)", "list field reports (--household, --hamlet, --limit)"},
		{"categories", "", "", "danh mục lĩnh vực phản ánh và mã của chúng", "the report categories and their codes"},
		{"attach", "MÃ TỆP", "ID FILE", "gắn một ảnh (JPEG, PNG, WebP) vào phản ánh; --use-photo-location lấy vị trí GPS trong ảnh", "attach a photo (JPEG, PNG, WebP) to a report; --use-photo-location takes its GPS position"},
		{"photos", "MÃ", "ID", "các ảnh của một phản ánh và nơi chúng nằm trên máy", "a report's photos and where they are on this laptop"},
		{"photo", "MÃ_ẢNH", "PHOTO_ID", "mở một ảnh đầy đủ: tải về từ máy chủ lần đầu rồi giữ lại (--out TỆP)", "open a full photo: fetched from the server the first time, then kept (--out FILE)"},
	},
}

// leafArgs are the positional arguments of the commands without
// subcommands, for their synopsis.
var leafArgs = map[string][2]string{
	"conflicts":         {"[restore MÃ | archive --older-than 90d --out TỆP]", "[restore ID | archive --older-than 90d --out FILE]"},
	"rejected":          {"[fix MÃ [--value GIÁ_TRỊ] | discard MÃ]", "[fix ID [--value VALUE] | discard ID]"},
	"conflicts archive": {"--out TỆP", "--out FILE"},
	"import":            {"TỆP.xlsx|csv", "FILE.xlsx|csv"},
}

// commandArgs turns what follows a command word into its arguments: the
// leading common options go after a group's subcommand word, and a group
// without its subcommand (or with --help) prints the group's help. ok is
// false when the command must not run; code is then the exit code.
func commandArgs(c command, lead, args []string, stdout, stderr io.Writer, lang string) (out []string, ok bool, code int) {
	if !c.group {
		return append(append([]string{}, lead...), args...), true, 0
	}
	more, rest := cliflag.SplitLeading(args, valuedCommon)
	lead = append(lead, more...)
	switch {
	case len(rest) > 0 && cliflag.IsHelp(rest[0]), len(rest) == 0 && cliflag.HasHelp(lead):
		groupUsage(stdout, lang, c)
		return nil, false, exitOK
	case len(rest) == 0:
		groupUsage(stderr, lang, c)
		return nil, false, exitUsage
	}
	return append(append([]string{rest[0]}, lead...), rest[1:]...), true, 0
}

func groupUsage(w io.Writer, lang string, c command) {
	fmt.Fprintf(w, "%s hamlet-agent %s <%s> [%s]\n\n%s\n\n", tr(lang, "Cách dùng:", "Usage:"), c.name,
		tr(lang, "lệnh", "command"), tr(lang, "tùy chọn", "options"), tr(lang, c.vi, c.en))
	width := 0
	for _, s := range subcommands[c.name] {
		width = max(width, len([]rune(s.name+" "+tr(lang, s.argsVI, s.argsEN))))
	}
	for _, s := range subcommands[c.name] {
		left := strings.TrimSpace(s.name + " " + tr(lang, s.argsVI, s.argsEN))
		fmt.Fprintf(w, "  %s%s  %s\n", left, strings.Repeat(" ", width-len([]rune(left))), tr(lang, s.vi, s.en))
	}
	fmt.Fprintf(w, "\n%s hamlet-agent %s <%s> --help\n", tr(lang, "Tùy chọn của từng lệnh:", "Options of each:"), c.name, tr(lang, "lệnh", "command"))
}

// help prints a command's help for its FlagSet (named "household add",
// "sync", ...): synopsis, what it does, its options, the common ones.
func (e *env) help(fs *flag.FlagSet) {
	name := fs.Name()
	synopsis, about := "hamlet-agent "+name, ""
	words := strings.Fields(name)
	for _, c := range commands() {
		if c.name != words[0] {
			continue
		}
		about = e.tr(c.vi, c.en)
		for _, s := range subcommands[c.name] {
			if len(words) > 1 && s.name == words[1] {
				about = e.tr(s.vi, s.en)
				if a := e.tr(s.argsVI, s.argsEN); a != "" {
					synopsis += " " + a
				}
			}
		}
	}
	if a, ok := leafArgs[name]; ok {
		synopsis += " " + e.tr(a[0], a[1])
	}
	synopsis += " [" + e.tr("tùy chọn", "options") + "]"
	cliflag.Usage(e.stdout, e.lang, fs, synopsis, about, commonFlags)
}
