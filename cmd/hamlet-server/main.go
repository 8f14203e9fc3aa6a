// Command hamlet-server runs Hamlet's sync server and the operator's tasks:
// importing admin units, creating teams and members, enrolling and revoking
// devices, sync status and backups. Each subcommand lives in its own file
// with its own flag.FlagSet; flags default from HAMLET_* environment
// variables. Messages are Vietnamese unless --lang en (or HAMLET_LANG=en).
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

	"github.com/hamlet-vn/hamlet/server"
)

type command struct {
	name string // "serve", "team create", ...
	vi   string // one-line help
	en   string
	run  func(ctx context.Context, env *env, args []string) error
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
	fs := flag.NewFlagSet("hamlet-server "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.dataDir, "data-dir", getenv("HAMLET_DATA_DIR", "./data"), e.msg("thư mục dữ liệu (HAMLET_DATA_DIR)", "data directory (HAMLET_DATA_DIR)"))
	fs.StringVar(&e.db, "db", getenv("HAMLET_DB", ""), e.msg("cơ sở dữ liệu PostgreSQL postgres://người-dùng:mật-khẩu@máy:5432/tên (mặc định: SQLite trong thư mục dữ liệu) (HAMLET_DB)",
		"PostgreSQL database postgres://user:password@host:5432/name (default: SQLite in the data directory) (HAMLET_DB)"))
	fs.StringVar(&e.lang, "lang", getenv("HAMLET_LANG", "vi"), e.msg("ngôn ngữ thông báo: vi hoặc en (HAMLET_LANG)", "message language: vi or en (HAMLET_LANG)"))
	fs.StringVar(&e.logFormat, "log-format", getenv("HAMLET_LOG_FORMAT", "text"), "text|json (HAMLET_LOG_FORMAT)")
	fs.StringVar(&e.logLevel, "log-level", getenv("HAMLET_LOG_LEVEL", "info"), "debug|info|warn|error (HAMLET_LOG_LEVEL)")
	return fs
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
	e := &env{stdout: stdout, stderr: stderr, lang: getenv("HAMLET_LANG", "vi")}
	for _, a := range args {
		if a == "--lang=en" || a == "-lang=en" {
			e.lang = "en"
		}
	}
	for i, a := range args {
		if (a == "--lang" || a == "-lang") && i+1 < len(args) {
			e.lang = args[i+1]
		}
	}
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
	var cmd *command
	var rest []string
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == commands[i].name {
			if cmd == nil || len(words) > len(strings.Fields(cmd.name)) {
				cmd, rest = &commands[i], args[len(words):]
			}
		}
	}
	if cmd == nil {
		usage(e)
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			return 0
		}
		return 2
	}
	if err := cmd.run(ctx, e, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n", e.msg("Lỗi", "Error"), err)
		return 1
	}
	return 0
}

func usage(e *env) {
	fmt.Fprintln(e.stderr, e.msg("Cách dùng: hamlet-server <lệnh> [tùy chọn]   (thêm --lang en cho tiếng Anh)",
		"Usage: hamlet-server <command> [flags]   (--lang vi for Vietnamese)"))
	fmt.Fprintln(e.stderr)
	tw := tabwriter.NewWriter(e.stderr, 0, 4, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, e.msg(c.vi, c.en))
	}
	tw.Flush()
}
