package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// ErrHelp is returned by Parse when -h or --help was given.
var ErrHelp = flag.ErrHelp

// Messager is an error that says itself in a language (a flag value's own
// error, such as an age "90d" or a date, can be one).
type Messager interface {
	error
	Message(lang string) string
}

// Error is a command line the flag package refused, in words.
type Error struct {
	Kind  Kind
	Flag  string // without dashes
	Value string
	Type  string // of the flag: "int", "bool", "duration", ""
	Cause error  // the flag value's own error, when it gave one
	Raw   string // flag's English message, for logs
}

// Kind is what was wrong.
type Kind int

const (
	Unknown   Kind = iota + 1 // no such flag
	NeedsArg                  // a flag without its value
	BadValue                  // a value the flag refused
	BadSyntax                 // "---x", "-=x"
)

func (e *Error) Error() string { return e.Raw }

// Message says what is wrong in lang.
func (e *Error) Message(lang string) string {
	switch e.Kind {
	case Unknown:
		return i18n.Pick(lang, fmt.Sprintf("không có tùy chọn --%s", e.Flag), fmt.Sprintf("there is no option --%s", e.Flag))
	case NeedsArg:
		return i18n.Pick(lang, fmt.Sprintf("tùy chọn --%s cần một giá trị", e.Flag), fmt.Sprintf("option --%s needs a value", e.Flag))
	case BadValue:
		var m Messager
		if errors.As(e.Cause, &m) {
			return fmt.Sprintf("--%s: %s", e.Flag, m.Message(lang))
		}
		want := map[string][2]string{
			"int":      {"một số nguyên, ví dụ 10", "a whole number, e.g. 10"},
			"uint":     {"một số nguyên không âm, ví dụ 10", "a whole number, e.g. 10"},
			"float":    {"một số, ví dụ 2,5", "a number, e.g. 2.5"},
			"bool":     {"có hoặc không (true/false)", "yes or no (true/false)"},
			"duration": {"một khoảng thời gian, ví dụ 24h, 30m, 90s", "a duration, e.g. 24h, 30m, 90s"},
		}[e.Type]
		if want[0] == "" {
			return i18n.Pick(lang, fmt.Sprintf("giá trị %q của --%s không hợp lệ", e.Value, e.Flag), fmt.Sprintf("invalid value %q for --%s", e.Value, e.Flag))
		}
		return i18n.Pick(lang, fmt.Sprintf("giá trị %q của --%s không hợp lệ: cần %s", e.Value, e.Flag, want[0]),
			fmt.Sprintf("invalid value %q for --%s: want %s", e.Value, e.Flag, want[1]))
	}
	return i18n.Pick(lang, fmt.Sprintf("không hiểu %q: tùy chọn viết dạng --tên hoặc --tên=giá_trị", e.Value),
		fmt.Sprintf("cannot read %q: write options as --name or --name=value", e.Value))
}

// goErrors are compiled at the first flag error, not at every start of
// a command (package inits run before main: issue 20).
var goErrors = sync.OnceValue(func() []goError {
	return []goError{
		{regexp.MustCompile(`^flag provided but not defined: -+(.*)$`), Unknown},
		{regexp.MustCompile(`^flag needs an argument: -+(.*)$`), NeedsArg},
		{regexp.MustCompile(`^invalid boolean value "(.*)" for -+([^:]*): `), BadValue},
		{regexp.MustCompile(`^invalid value "(.*)" for flag -+([^:]*): `), BadValue},
		{regexp.MustCompile(`^invalid boolean flag ([^:]*): `), BadValue},
		{regexp.MustCompile(`^bad flag syntax: (.*)$`), BadSyntax},
	}
})

type goError struct {
	re   *regexp.Regexp
	kind Kind
}

// recorder keeps the error a flag's Value returned, which flag formats
// into its message with %v and so loses.
type recorder struct {
	flag.Value
	err *error
}

func (r recorder) Set(s string) error {
	err := r.Value.Set(s)
	if err != nil {
		*r.err = err
	}
	return err
}

func (r recorder) Get() any {
	if g, ok := r.Value.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}

type boolRecorder struct{ recorder }

func (boolRecorder) IsBoolFlag() bool { return true }

// typeOf names a flag's type for a message.
func typeOf(v flag.Value) string {
	if r, ok := v.(boolRecorder); ok {
		v = r.Value
	}
	if r, ok := v.(recorder); ok {
		v = r.Value
	}
	g, ok := v.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case int, int64:
		return "int"
	case uint, uint64:
		return "uint"
	case float64:
		return "float"
	case bool:
		return "bool"
	case time.Duration:
		return "duration"
	}
	return ""
}

// Parse parses args with fs, flags before, between or after the positional
// arguments (flag.Parse alone stops at the first of those), and returns
// the positional ones; "--" ends the flags. It prints nothing: -h/--help
// is ErrHelp (the caller prints Usage), anything wrong an *Error.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var cause error
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Value.(type) {
		case recorder, boolRecorder:
			return
		}
		r := recorder{Value: f.Value, err: &cause}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			f.Value = boolRecorder{r}
		} else {
			f.Value = r
		}
	})
	var pos []string
	for {
		cause = nil
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ErrHelp
			}
			return nil, translate(fs, err, cause)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func translate(fs *flag.FlagSet, err error, cause error) error {
	msg := err.Error()
	for _, g := range goErrors() {
		m := g.re.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		e := &Error{Kind: g.kind, Raw: msg, Cause: cause}
		switch {
		case g.kind == BadSyntax:
			e.Value = m[1]
		case len(m) == 3:
			e.Value, e.Flag = m[1], m[2]
		default:
			e.Flag = m[1]
		}
		if f := fs.Lookup(e.Flag); f != nil {
			e.Type = typeOf(f.Value)
		}
		return e
	}
	return &Error{Kind: BadSyntax, Raw: msg, Value: msg}
}

// SplitLeading separates the options given before the command word
// ("hamlet-agent --lang en household list") from the rest; valued names
// the options that take a value ("lang", "data-dir"). Help flags stay in
// lead.
func SplitLeading(args []string, valued map[string]bool) (lead, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return lead, args[i:]
		}
		lead = append(lead, a)
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && valued[name] && i+1 < len(args) {
			lead = append(lead, args[i+1])
			i++
		}
	}
	return lead, nil
}

// IsHelp reports whether a is a request for help.
func IsHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

// HasHelp reports whether args ask for help.
func HasHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// Usage writes a command's help: the synopsis, what it does, its own
// options, then the common ones, every word in lang. A flag's description
// is what it was registered with (the command registers it in lang); a
// default is shown when it is not empty, false or zero.
func Usage(w io.Writer, lang string, fs *flag.FlagSet, synopsis, about string, common map[string]bool) {
	fmt.Fprintf(w, "%s %s\n", i18n.Pick(lang, "Cách dùng:", "Usage:"), synopsis)
	if about != "" {
		fmt.Fprintf(w, "\n%s\n", about)
	}
	var own, shared []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if common[f.Name] {
			shared = append(shared, f)
		} else {
			own = append(own, f)
		}
	})
	section := func(title string, flags []*flag.Flag) {
		if len(flags) == 0 {
			return
		}
		sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
		fmt.Fprintf(w, "\n%s\n", title)
		for _, f := range flags {
			ph, text := placeholder(f, lang)
			fmt.Fprintf(w, "  --%s%s\n", f.Name, ph)
			if text != "" {
				fmt.Fprintf(w, "      %s", text)
			} else {
				fmt.Fprint(w, "     ")
			}
			d := f.DefValue
			if typeOf(f.Value) == "duration" { // as one would type it: 24h, not 24h0m0s
				if strings.HasSuffix(d, "m0s") {
					d = strings.TrimSuffix(d, "0s")
				}
				if strings.HasSuffix(d, "h0m") {
					d = strings.TrimSuffix(d, "0m")
				}
			}
			if d != "" && d != "false" && d != "0" && d != "0s" && d != "[]" {
				fmt.Fprintf(w, " %s", i18n.Pick(lang, "(mặc định: "+d+")", "(default: "+d+")"))
			}
			fmt.Fprintln(w)
		}
	}
	section(i18n.Pick(lang, "Tùy chọn:", "Options:"), own)
	section(i18n.Pick(lang, "Tùy chọn chung (đặt ở vị trí nào cũng được):", "Common options (anywhere on the line):"), shared)
}

// placeholder is what a flag's value looks like in its synopsis: the
// word in backquotes that starts its description ("`THƯ_MỤC` thư mục dữ
// liệu"), removed from the text, or one from the flag's type.
func placeholder(f *flag.Flag, lang string) (ph, text string) {
	text = f.Usage
	if strings.HasPrefix(text, "`") {
		if i := strings.Index(text[1:], "`"); i >= 0 {
			return " " + text[1:1+i], strings.TrimSpace(text[2+i:])
		}
	}
	switch typeOf(f.Value) {
	case "bool":
		if _, ok := f.Value.(boolRecorder); ok {
			return "", text
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			return "", text
		}
	case "int", "uint":
		return i18n.Pick(lang, " SỐ", " N"), text
	case "duration":
		return i18n.Pick(lang, " THỜI_LƯỢNG", " DURATION"), text
	}
	return i18n.Pick(lang, " GIÁ_TRỊ", " VALUE"), text
}
