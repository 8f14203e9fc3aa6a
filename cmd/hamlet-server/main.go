// Command hamlet-server runs Hamlet's sync server and the operator's tasks:
// importing admin units, creating teams and members, enrolling and revoking
// devices, sync status and backups. Each subcommand lives in its own file
// with its own flag.FlagSet; flags default from HAMLET_* environment
// variables. Messages are Vietnamese unless --lang en (or HAMLET_LANG=en).
//
// It is where the parts are chosen and wired: openStore (db.go) opens the
// store of --db/HAMLET_DB or the data directory for every command, and
// serve composes the HTTP handler (server/httpapp). Only a main opens a
// store; this one must never import the agent or a test helper.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/internal/cliflag"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

type command struct {
	name string // "serve", "team create", ...
	vi   string // one-line help
	en   string
	run  func(ctx context.Context, env *env, args []string) error
	// args are the positional arguments in the synopsis ("MÃ_THIẾT_BỊ",
	// "DEVICE_ID"), in both languages; none for most commands.
	args [2]string
}

var commands []command

func register(c command) { commands = append(commands, c) }

// env is what every subcommand shares.
type env struct {
	stdout, stderr io.Writer
	lang           string
	dataDir        string
	db             string // a PostgreSQL URL (--db, HAMLET_DB), or "" for SQLite in dataDir
	synchronous    string // SQLite's synchronous setting (serve --synchronous; "": FULL)
	json           bool
	logFormat      string
	logLevel       string
}

func (e *env) msg(vi, en string) string {
	if e.lang == "en" {
		return en
	}
	return vi
}

func (e *env) printf(vi, en string, args ...any) { fmt.Fprintf(e.stdout, e.msg(vi, en), args...) }

// flags makes a FlagSet with the shared flags.
func (e *env) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // e.parse says what is wrong, in the operator's language
	fs.StringVar(&e.dataDir, "data-dir", getenv("HAMLET_DATA_DIR", "./data"), e.msg("`THƯ_MỤC` thư mục dữ liệu (HAMLET_DATA_DIR)", "`DIR` data directory (HAMLET_DATA_DIR)"))
	fs.StringVar(&e.db, "db", getenv("HAMLET_DB", ""), e.msg("`URL` cơ sở dữ liệu PostgreSQL postgres://người-dùng:mật-khẩu@máy:5432/tên; nếu không nêu: SQLite trong thư mục dữ liệu (HAMLET_DB)",
		"`URL` PostgreSQL database postgres://user:password@host:5432/name; if not given: SQLite in the data directory (HAMLET_DB)"))
	// The language is known before the flags are made (run), so that
	// their own descriptions are in it: keep it as the default.
	fs.Func("lang", e.msg("`vi|en` ngôn ngữ thông báo (HAMLET_LANG)", "`vi|en` message language (HAMLET_LANG)"), func(v string) error {
		e.lang = i18n.Lang(v)
		return nil
	})
	fs.StringVar(&e.logFormat, "log-format", getenv("HAMLET_LOG_FORMAT", "text"), e.msg("`text|json` định dạng nhật ký (HAMLET_LOG_FORMAT)", "`text|json` log format (HAMLET_LOG_FORMAT)"))
	fs.StringVar(&e.logLevel, "log-level", getenv("HAMLET_LOG_LEVEL", "info"), e.msg("`debug|info|warn|error` mức nhật ký (HAMLET_LOG_LEVEL)", "`debug|info|warn|error` log level (HAMLET_LOG_LEVEL)"))
	return fs
}

// commonFlags are the flags every command shares (flags, jsonFlag); the
// valued ones may come before the command word.
var (
	commonFlags  = map[string]bool{"data-dir": true, "db": true, "lang": true, "log-format": true, "log-level": true, "json": true}
	valuedCommon = map[string]bool{"data-dir": true, "db": true, "lang": true, "log-format": true, "log-level": true}
)

// errUsage is a command line already explained to the operator (exit 2).
var errUsage = errors.New("usage")

// parse parses args with fs, flags and positional arguments in any order
// ("device revoke ID --data-dir x"), and returns the positional ones.
// -h/--help prints the command's help and returns flag.ErrHelp; a mistake
// is told in the operator's language, with where to look.
func (e *env) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := cliflag.Parse(fs, args)
	if errors.Is(err, cliflag.ErrHelp) {
		e.help(fs)
		return nil, flag.ErrHelp
	}
	var fe *cliflag.Error
	if errors.As(err, &fe) {
		fmt.Fprintf(e.stderr, "%s: %s. %s hamlet-server %s --help\n", e.msg("Lỗi", "Error"), fe.Message(e.lang), e.msg("Xem:", "See:"), fs.Name())
		return nil, errUsage
	}
	return pos, err
}

// parseNone parses a command that takes no positional argument.
func (e *env) parseNone(fs *flag.FlagSet, args []string) error {
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "%s: %s. %s hamlet-server %s --help\n", e.msg("Lỗi", "Error"),
			fmt.Sprintf(e.msg("thừa tham số %q", "unexpected argument %q"), pos[0]), e.msg("Xem:", "See:"), fs.Name())
		return errUsage
	}
	return nil
}

// one is the one thing a command names: given positionally, as README
// writes it ("device revoke ID"), or by its flag as before ("--device ID");
// not both, not two. what says what it is, for the message.
func (e *env) one(fs *flag.FlagSet, pos []string, byFlag, what string) (string, error) {
	switch {
	case len(pos) == 0 && byFlag != "":
		return byFlag, nil
	case len(pos) == 1 && byFlag == "":
		return pos[0], nil
	}
	synopsis := "hamlet-server " + fs.Name()
	for _, c := range commands {
		if c.name == fs.Name() {
			synopsis += " " + e.msg(c.args[0], c.args[1])
		}
	}
	if len(pos)+len(byFlag) == 0 {
		fmt.Fprintf(e.stderr, "%s: %s: %s\n", e.msg("Lỗi", "Error"), fmt.Sprintf(e.msg("cần %s", "%s is required"), what), synopsis)
	} else {
		fmt.Fprintf(e.stderr, "%s: %s: %s\n", e.msg("Lỗi", "Error"), fmt.Sprintf(e.msg("lệnh này nhận đúng một %s", "this command takes exactly one %s"), what), synopsis)
	}
	return "", errUsage
}

func (e *env) jsonFlag(fs *flag.FlagSet) {
	fs.BoolVar(&e.json, "json", false, e.msg("in kết quả dạng JSON (số 64 bit như head, cursor, lag là chuỗi)", "print JSON (64-bit integers such as head, cursor, lag are strings)"))
}

func (e *env) logger() *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(e.logLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if e.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// adminConfig is the configuration of a server opened for an admin task:
// no background collection, and quiet at the default log level since the
// task prints its own result.
func (e *env) adminConfig() server.Config {
	lg := e.logger()
	if e.logLevel == "info" {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return server.Config{Logger: lg, GCInterval: -1}
}

// open opens the server for an admin task on the store every command
// shares (openStore).
func (e *env) open(ctx context.Context) (*server.Server, error) {
	return e.openStore(ctx, e.adminConfig())
}

func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (e *env) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func getenv(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

// checkDurationEnv tells a duration variable that is set but not a
// positive duration: getenvDuration falls back to the default for it, and
// the operator would never learn the setting did nothing.
func (e *env) checkDurationEnv() error {
	for _, f := range durationFlags {
		k := f.env
		v := os.Getenv(k)
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			// The flag's own examples: HAMLET_MAX_SKEW=0 was told "30s,
			// 2m, 1h", the keep-alive's, and an hour's skew lets a laptop
			// whose clock runs ahead win every edit made within it.
			fmt.Fprintln(e.stderr, e.msg(
				fmt.Sprintf("Lỗi: %s=%q không phải một khoảng thời gian dương (ví dụ %s): hãy sửa hoặc bỏ biến này.", k, v, f.examples),
				fmt.Sprintf("Error: %s=%q is not a positive duration (such as %s): fix it or unset it.", k, v, f.examples)))
			return errUsage
		}
	}
	return nil
}

// durationFlag is a duration flag of serve and demo, its environment
// variable, and the least value it takes.
type durationFlag struct {
	name, env string
	min, def  time.Duration
	examples  string // values fit for this flag, for the refusal
}

// durationFlags are serve's and demo's duration flags; getenvDuration
// reads their environment variables.
var durationFlags = []durationFlag{
	{"ping-interval", "HAMLET_PING_INTERVAL", time.Second, 30 * time.Second, "30s, 2m, 1h"},
	{"pong-wait", "HAMLET_PONG_WAIT", time.Second, 60 * time.Second, "30s, 2m, 1h"},
	// A skew of minutes would let a laptop whose clock runs ahead win
	// every edit made within them: the examples stay near the default.
	{"max-skew", "HAMLET_MAX_SKEW", time.Nanosecond, syncproto.DefaultMaxSkew, "500ms, 1s, 2s"},
}

// durationValue is a duration flag of serve and demo (durationFlags): a
// time.Duration, as cliflag reads it (help, default), whose refusal of
// what is not a duration gives the flag's own examples. cliflag's, "24h,
// 30m, 90s", told an operator who mistyped --max-skew to set a skew of a
// day: a laptop whose clock runs a day ahead would win every edit made
// within it.
type durationValue struct {
	p        *time.Duration
	examples string
}

// newDurationValue sets *p to the flag's default, or its variable's value.
func newDurationValue(p *time.Duration, name string) *durationValue {
	for _, d := range durationFlags {
		if d.name == name {
			*p = getenvDuration(d.env, d.def)
			return &durationValue{p: p, examples: d.examples}
		}
	}
	panic("hamlet-server: no duration flag " + name)
}

func (v *durationValue) String() string {
	if v == nil || v.p == nil {
		return "0s"
	}
	return v.p.String()
}

func (v *durationValue) Get() any { return *v.p }

func (v *durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return &notDurationError{value: s, examples: v.examples}
	}
	*v.p = d
	return nil
}

// notDurationError: a duration flag's value is not a duration.
type notDurationError struct{ value, examples string }

func (e *notDurationError) Error() string {
	return fmt.Sprintf("%q is not a duration (such as %s)", e.value, e.examples)
}

func (e *notDurationError) Message(lang string) string {
	return i18n.Pick(lang, fmt.Sprintf("giá trị %q không hợp lệ: cần một khoảng thời gian, ví dụ %s", e.value, e.examples),
		fmt.Sprintf("invalid value %q: want a duration, e.g. %s", e.value, e.examples))
}

// checkDurations refuses a duration that serve would not use as given:
// the server took a ping interval, pong wait or skew of 0 or less for its
// default without a word, and a ping interval under a second would ping
// every laptop that often.
func (e *env) checkDurations(fs *flag.FlagSet) error {
	for _, d := range durationFlags {
		f := fs.Lookup(d.name)
		v := f.Value.(flag.Getter).Get().(time.Duration)
		if v >= d.min {
			continue
		}
		what := "--" + d.name
		set := false
		fs.Visit(func(g *flag.Flag) { set = set || g.Name == d.name })
		if !set {
			what = d.env
		}
		needVI, needEN := "một khoảng thời gian dương", "a positive duration"
		if d.min >= time.Second {
			needVI, needEN = "một khoảng thời gian từ "+d.min.String()+" trở lên", "a duration of "+d.min.String()+" or more"
		}
		fmt.Fprintln(e.stderr, e.msg(
			fmt.Sprintf("Lỗi: %s=%s không dùng được: cần %s (ví dụ %s; mặc định %s): hãy sửa hoặc bỏ giá trị này.", what, v, needVI, d.examples, d.def),
			fmt.Sprintf("Error: %s=%s cannot be used: give %s (such as %s; the default is %s): fix it or leave it out.", what, v, needEN, d.examples, d.def)))
		return errUsage
	}
	return nil
}

func getenvDuration(k string, def time.Duration) time.Duration {
	if v := os.Getenv(k); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, lang: i18n.Lang(getenv("HAMLET_LANG", "vi"))}
	for i, a := range args { // before any text is made: the flags' own descriptions are in it
		switch {
		case strings.HasPrefix(a, "--lang=") || strings.HasPrefix(a, "-lang="):
			e.lang = i18n.Lang(a[strings.IndexByte(a, '=')+1:])
		case (a == "--lang" || a == "-lang") && i+1 < len(args):
			e.lang = i18n.Lang(args[i+1])
		}
	}
	// An argument that is not UTF-8 (a terminal in another encoding) would
	// be stored as it is on SQLite and fail PostgreSQL's text: told here,
	// once, for every command. A path is the file system's business: a
	// file named in a legacy encoding is still a file.
	for i, a := range args {
		if !utf8.ValidString(a) && !pathArg(args, i) {
			fmt.Fprintf(stderr, "%s\n", e.msg(
				fmt.Sprintf("Lỗi: tham số thứ %d (%q) không phải văn bản Unicode (UTF-8), có lẽ do bảng mã của cửa sổ lệnh. Hãy đặt cửa sổ lệnh dùng UTF-8 rồi gõ lại.", i+1, a),
				fmt.Sprintf("Error: argument %d (%q) is not Unicode (UTF-8) text, probably the terminal's encoding. Set the terminal to UTF-8 and type it again.", i+1, a)))
			return 2
		}
	}
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	// Common options may come before the command ("--lang en team list").
	lead, rest := cliflag.SplitLeading(args, valuedCommon)
	helpWanted := cliflag.HasHelp(lead)
	if len(rest) > 0 && rest[0] == "help" {
		helpWanted, rest = true, rest[1:]
	}
	var cmd *command
	var cargs []string
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(rest) >= len(words) && strings.Join(rest[:len(words)], " ") == commands[i].name {
			if cmd == nil || len(words) > len(strings.Fields(cmd.name)) {
				cmd, cargs = &commands[i], rest[len(words):]
			}
		}
	}
	if cmd == nil {
		// A group's first word ("team", "device"): its commands.
		w := stderr
		if helpWanted || len(rest) > 1 && cliflag.IsHelp(rest[1]) || len(rest) == 0 {
			w = stdout
		}
		if len(rest) > 0 && groupUsage(e, w, rest[0]) {
			if w == stdout {
				return 0
			}
			return 2
		}
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "%s: %s\n\n", e.msg("Lệnh không tồn tại", "Unknown command"), strings.Join(rest, " "))
			w = stderr
		}
		usage(e, w)
		if len(rest) == 0 && helpWanted {
			return 0
		}
		return 2
	}
	if helpWanted {
		cargs = append(cargs, "--help")
	}
	if err := cmd.run(ctx, e, append(lead, cargs...)); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "%s: %s\n", e.msg("Lỗi", "Error"), e.errText(err))
		return 1
	}
	return 0
}

// pathFlags are the options whose value is a file or folder path.
var pathFlags = map[string]bool{"data-dir": true, "db": true, "file": true, "out": true, "tls-cert": true, "tls-key": true,
	"password-file": true, "hamlets": true, "from": true}

// pathArg reports whether args[i] is a path: the value of a path option
// (--file X, --file=X), or an argument that is not an option's value and
// names, with a folder in it, a file that exists (units import DIR/FILE).
// An id or a name never holds a folder: one beside a file of its own name
// is still refused.
func pathArg(args []string, i int) bool {
	a := args[i]
	if name, _, ok := strings.Cut(strings.TrimLeft(a, "-"), "="); ok && strings.HasPrefix(a, "-") {
		return pathFlags[name]
	}
	if i > 0 && strings.HasPrefix(args[i-1], "-") {
		return pathFlags[strings.TrimLeft(args[i-1], "-")]
	}
	if !strings.ContainsAny(a, `/\`) {
		return false
	}
	_, err := os.Lstat(a)
	return err == nil
}

func usage(e *env, w io.Writer) {
	fmt.Fprintln(w, e.msg("Cách dùng: hamlet-server <lệnh> [tùy chọn]", "Usage: hamlet-server <command> [options]"))
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, e.msg(c.vi, c.en))
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, e.msg("Tùy chọn chung, đặt ở vị trí nào cũng được: --data-dir, --db, --lang vi|en (hoặc HAMLET_LANG), --log-format, --log-level; --json ở các lệnh in kết quả",
		"Common options, anywhere on the line: --data-dir, --db, --lang vi|en (or HAMLET_LANG), --log-format, --log-level; --json on commands that print results"))
	fmt.Fprintln(w, e.msg("Hướng dẫn của từng lệnh: hamlet-server <lệnh> --help", "Help on a command: hamlet-server <command> --help"))
}

// groupUsage lists the commands starting with word ("team": team create,
// team list, ...); false if there are none.
func groupUsage(e *env, w io.Writer, word string) bool {
	var cs []command
	for _, c := range commands {
		if strings.HasPrefix(c.name, word+" ") {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return false
	}
	fmt.Fprintf(w, "%s hamlet-server %s <%s> [%s]\n\n", e.msg("Cách dùng:", "Usage:"), word, e.msg("lệnh", "command"), e.msg("tùy chọn", "options"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range cs {
		name := "hamlet-server " + c.name
		if a := e.msg(c.args[0], c.args[1]); a != "" {
			name += " " + a
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, e.msg(c.vi, c.en))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%s hamlet-server %s <%s> --help\n", e.msg("Tùy chọn của từng lệnh:", "Options of each:"), word, e.msg("lệnh", "command"))
	return true
}

// help prints a command's help: synopsis, what it does, its options and
// the common ones, all in the operator's language.
func (e *env) help(fs *flag.FlagSet) {
	synopsis, about := "hamlet-server "+fs.Name(), ""
	for _, c := range commands {
		if c.name == fs.Name() {
			about = e.msg(c.vi, c.en)
			if a := e.msg(c.args[0], c.args[1]); a != "" {
				synopsis += " " + a
			}
		}
	}
	cliflag.Usage(e.stdout, e.lang, fs, synopsis+" ["+e.msg("tùy chọn", "options")+"]", about, commonFlags)
}
