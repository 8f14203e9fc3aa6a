package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
)

// env is what every subcommand shares: where the data is, the language,
// the output format, and the open replica.
type env struct {
	stdout, stderr io.Writer
	lang           string
	dataDir        string
	json           bool
	replica        *agent.Replica
	// shift is HAMLET_CLOCK_SHIFT, a test's (clockshift.go).
	shift time.Duration
}

// common registers the flags every subcommand takes.
func (e *env) common(fs *flag.FlagSet) {
	fs.StringVar(&e.dataDir, "data-dir", "", tr(e.lang, "`THƯ_MỤC` thư mục dữ liệu (nếu không nêu: HAMLET_AGENT_DIR, hoặc thư mục cấu hình của người dùng)", "`DIR` data directory (if not given: HAMLET_AGENT_DIR, else the user's config directory)"))
	fs.BoolVar(&e.json, "json", false, tr(e.lang, "in kết quả dạng JSON (số 64 bit như hlc, seq, cursor, clock_offset_ns là chuỗi)", "print JSON (64-bit integers such as hlc, seq, cursor, clock_offset_ns are strings)"))
	fs.Func("lang", e.tr("`vi|en` ngôn ngữ (hoặc HAMLET_LANG)", "`vi|en` language (or HAMLET_LANG)"), func(s string) error {
		e.lang = normLang(s)
		return nil
	})
}

func normLang(s string) string {
	if strings.HasPrefix(strings.ToLower(s), "en") {
		return "en"
	}
	return "vi"
}

// langFromEnv: --lang anywhere in args wins, then HAMLET_LANG (as
// hamlet-server reads it), LC_ALL, LANG; Vietnamese by default.
func langFromEnv(args []string) string {
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "--lang=") || strings.HasPrefix(a, "-lang="):
			return normLang(a[strings.IndexByte(a, '=')+1:])
		case (a == "--lang" || a == "-lang") && i+1 < len(args):
			return normLang(args[i+1])
		}
	}
	for _, k := range []string{"HAMLET_LANG", "LC_ALL", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return normLang(v)
		}
	}
	return "vi"
}

func tr(lang, vi, en string) string {
	if lang == "en" {
		return en
	}
	return vi
}

func (e *env) tr(vi, en string) string { return tr(e.lang, vi, en) }

// dir is the data directory: --data-dir, HAMLET_AGENT_DIR, or
// os.UserConfigDir()/hamlet (%AppData%\hamlet on Windows).
func (e *env) dir() (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	if d := os.Getenv("HAMLET_AGENT_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "hamlet"), nil
}

func (e *env) tokenPath() (string, error) {
	d, err := e.dir()
	return filepath.Join(d, "token"), err
}

// open opens the replica (creating the directory on first use).
func (e *env) open(ctx context.Context) (*agent.Replica, error) {
	if e.replica != nil {
		return e.replica, nil
	}
	d, err := e.dir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, newDataDirError(d, err)
	}
	r, err := agent.OpenWith(ctx, filepath.Join(d, "replica.db"), e.openOptions())
	if err != nil {
		return nil, err
	}
	e.replica = r
	return r, nil
}

// exit prints err in the volunteer's language and picks the exit code.
func (e *env) exit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	}
	msg := agent.MessageOf(err, e.lang)
	if e.json {
		e.printJSON(map[string]any{"error": map[string]string{"message": msg, "detail": err.Error()}})
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", e.tr("Lỗi", "Error"), msg)
	return exitError
}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table prints rows under a header, aligned (tabwriter counts runes, so
// Vietnamese names line up).
func (e *env) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(e.stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (e *env) usageErr(format string, args ...any) error {
	fmt.Fprintf(e.stderr, format+"\n", args...)
	return errUsage
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func show(v any) string {
	switch t := v.(type) {
	case nil:
		return "-"
	case bool:
		if t {
			return "✓"
		}
		return "✗"
	case string:
		return t
	}
	return fmt.Sprint(v)
}

// setFlags is a repeatable --set field=value.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// fields builds the values of named flags that were given, plus --set.
func (e *env) fields(table string, fs *flag.FlagSet, named map[string]string, sets setFlags) (agent.Fields, error) {
	out := agent.Fields{}
	option := map[string]string{} // field → the option that gave it
	var err error
	fs.Visit(func(f *flag.Flag) {
		field, ok := named[f.Name]
		if !ok || err != nil {
			return
		}
		out[field], err = agent.ParseFieldValue(table, field, f.Value.String())
		option[field] = f.Name
	})
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, &agent.InputError{VI: "--set cần dạng trường=giá_trị, ví dụ --set notes=\"đã cài VNeID\"", EN: "--set takes field=value, e.g. --set notes=\"installed VNeID\"",
				Detail: "--set: no field=value (" + schema.Shape(s) + ")"}
		}
		k = strings.TrimSpace(k)
		pv, err := agent.ParseFieldValue(table, k, v)
		if err != nil {
			return nil, err
		}
		// A field given by its option and by --set with another value:
		// keeping either one quietly would save what was not meant.
		if o, ok := option[k]; ok && !sameFieldValue(table, k, pv, out[k]) {
			return nil, e.usageErr("%s: %s", e.tr("Lỗi", "Error"), e.tr(
				fmt.Sprintf("--%s và --set %s=%s nêu hai giá trị khác nhau cho cùng một trường. Hãy chỉ dùng một trong hai.", o, k, v),
				fmt.Sprintf("--%s and --set %s=%s give two different values for the same field. Use only one of them.", o, k, v)))
		}
		out[k] = pv
	}
	return out, nil
}

// openOptions are the replica options of every command: the zero value,
// except in tests that play an agent built at an older schema.
var openOptions agent.Options

// openOptions are openOptions with the test's clock shift, if any.
func (e *env) openOptions() agent.Options {
	o := openOptions
	if e.shift != 0 {
		shift := e.shift
		o.Now = func() time.Time { return time.Now().Add(shift) } // keeps the monotonic reading
	}
	return o
}

// sameFieldValue: a and b are one value of table's field as it is stored.
func sameFieldValue(table, field string, a, b any) bool {
	if t, ok := schema.LookupTable(table); ok {
		return t.SameValue(field, a, b)
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}

// dataDirError: the data folder cannot be made, for a reason trying again
// does not mend: it is a file, or inside one, or the disk is read-only or
// not this user's. Nothing was written.
type dataDirError struct {
	Dir  string
	File string // the file standing where a folder is needed, if that is the cause
	Err  error
}

// fileOnDataDir is the dataDirError of a data folder that is a file, or
// inside one, for the commands that do not make the folder (repair).
func fileOnDataDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return newDataDirError(dir, syscall.ENOTDIR)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		if de := newDataDirError(dir, err); errors.As(de, new(*dataDirError)) {
			return de
		}
	}
	return nil
}

func newDataDirError(dir string, err error) error {
	e := &dataDirError{Dir: dir, Err: err}
	// By what stands on the path, not by the error's number: Windows
	// answers "path not found" where Unix says "not a directory".
	for p := dir; ; p = filepath.Dir(p) {
		if st, serr := os.Stat(p); serr == nil {
			if !st.IsDir() {
				e.File = p
				return e
			}
			break
		}
		if filepath.Dir(p) == p {
			break
		}
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return e
	}
	return err
}

func (e *dataDirError) Error() string {
	return fmt.Sprintf("make the data folder %s: %v", e.Dir, e.Err)
}

func (e *dataDirError) Unwrap() error { return e.Err }

func (e *dataDirError) Message(lang string) string {
	if e.File != "" {
		return tr(lang,
			fmt.Sprintf("Không dùng được thư mục dữ liệu %s: %s là một tệp, không phải thư mục. Hamlet không động đến tệp đó. Hãy chọn thư mục khác với --data-dir (hoặc HAMLET_AGENT_DIR).", e.Dir, e.File),
			fmt.Sprintf("The data folder %s cannot be used: %s is a file, not a folder. Hamlet left that file untouched. Choose another folder with --data-dir (or HAMLET_AGENT_DIR).", e.Dir, e.File))
	}
	return tr(lang,
		fmt.Sprintf("Không tạo được thư mục dữ liệu %s: ổ đĩa chỉ cho đọc, hoặc tài khoản này không có quyền ghi vào đó. Hãy chọn thư mục khác với --data-dir (hoặc HAMLET_AGENT_DIR), ví dụ trong thư mục của chính bạn.", e.Dir),
		fmt.Sprintf("The data folder %s cannot be made: the disk is read-only, or this account may not write there. Choose another folder with --data-dir (or HAMLET_AGENT_DIR), for example in your own folder.", e.Dir))
}
