// Command hamlet-agent is the volunteer's tool: it records households,
// visits, tutoring and field reports in a replica on this laptop, offline,
// and syncs them with the team's Hamlet server when a network is there.
//
// Every subcommand lives in its own file with its own flag.FlagSet; this
// file only dispatches and turns errors into a message and an exit code.
//
// It imports the agent and the packages both sides share, never anything
// under server/: the agent talks to the server through the protocol alone
// (internal/archtest holds it to that).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/cliflag"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

type command struct {
	name  string
	vi    string
	en    string
	run   func(ctx context.Context, env *env, args []string) error
	group bool // has sub-subcommands
}

func commands() []command {
	return []command{
		{"app", "mở trang web của Hamlet trên máy này (mặc định khi không nêu lệnh): đăng ký, hộ, lượt thăm, phản ánh, đồng bộ nền", "open Hamlet's web app on this laptop (the default with no command): enroll, households, visits, reports, background sync", runApp, false},
		{"enroll", "đăng ký máy này với máy chủ", "enroll this laptop with the server", runEnroll, false},
		{"household", "hộ gia đình: add, edit, list, search, show, delete, restore", "households: add, edit, list, search, show, delete, restore", runHousehold, true},
		{"visit", "lượt thăm hộ: add, list", "visits: add, list", runVisit, true},
		{"tutor", "lượt hướng dẫn kỹ năng: add, list, skills", "tutoring: add, list, skills", runTutor, true},
		{"report", "phản ánh hiện trường: add, list, categories", "field reports: add, list, categories", runReport, true},
		{"import", "nhập danh sách hộ từ tệp Excel (.xlsx) hoặc CSV: xem trước, liệt kê dòng lỗi, không nhập dở dang", "import a household list from an Excel (.xlsx) or CSV file: preview, refused rows listed, never half-imported", runImport, false},
		{"status", "tình trạng: thay đổi chờ gửi, lần đồng bộ cuối, đồng hồ, địa bàn", "status: pending changes, last sync, clock, scope", runStatus, false},
		{"sync", "đồng bộ với máy chủ (--watch: đồng bộ liên tục)", "sync with the server (--watch: keep syncing)", runSync, false},
		{"conflicts", "các giá trị bị ghi đè đồng thời; restore ID để khôi phục; archive --older-than 90d --out TỆP để lưu ra tệp rồi xóa", "values lost to concurrent edits; restore ID; archive --older-than 90d --out FILE to move old ones to a file", runConflicts, false},
		{"rejected", "thay đổi bị máy chủ từ chối; fix ID hoặc discard ID", "changes the server refused; fix ID or discard ID", runRejected, false},
		{"repair", "sửa tệp dữ liệu bị hỏng: giữ bản sao tệp hỏng, cứu mọi bản ghi còn đọc được và thay đổi chưa gửi, tải phần còn lại từ máy chủ", "repair a damaged data file: keeps a copy of it, saves every readable record and unsent change, fetches the rest from the server", runRepair, false},
		{"compact", "dọn dữ liệu cũ trên máy: bỏ các giá trị cũ đã đồng bộ (lịch sử trong show); giữ giá trị hiện tại, xung đột, thay đổi chờ gửi", "tidy the data on this laptop: drop old values already synced (show's history); keeps current values, conflicts, pending changes", runCompact, false},
	}
}

func main() {
	// SIGTERM as Ctrl+C: a laptop shutting down, a service stopped, and on
	// Windows the console window closed (CTRL_CLOSE_EVENT) end a sync or
	// the app as Ctrl+C does, saving what it has, not mid-way.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks to end; the next one ends the process at once
	// (the default once the handler is stopped): on a stalled link the
	// first may wait out a sync's time-outs, half a minute, and SQLite's
	// transactions leave nothing half-written to a kill.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests call it. Common options may
// come before the command ("hamlet-agent --lang en household list"), and
// help is there at every level: "help", -h, --help (help.go).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	lang := langFromEnv(args)
	shift, err := clockShift(os.Getenv)
	if err != nil || shift != 0 {
		fmt.Fprintln(stderr, shiftMessage(lang, shift, err))
		if err != nil {
			return exitUsage
		}
	}
	lead, rest := cliflag.SplitLeading(args, valuedCommon)
	helpWanted := cliflag.HasHelp(lead)
	if len(rest) > 0 && rest[0] == "help" {
		helpWanted, rest = true, rest[1:]
	}
	if len(rest) == 0 {
		if helpWanted {
			usage(stdout, lang)
			return exitOK
		}
		// No command: the volunteer double-clicked hamlet-agent.exe (or
		// typed its name). The app is what they want; the commands stay
		// one "hamlet-agent help" away, which the app prints.
		rest = []string{"app"}
	}
	if helpWanted {
		rest = append(rest, "--help")
	}
	for _, c := range commands() {
		if c.name != rest[0] {
			continue
		}
		args, ok, code := commandArgs(c, lead, rest[1:], stdout, stderr, lang)
		if !ok {
			return code
		}
		e := &env{stdout: stdout, stderr: stderr, lang: lang, shift: shift}
		err := c.run(ctx, e, args)
		if e.replica != nil {
			// A damaged file is marked before anything else can write
			// to it; a full disk is told as such (agent/damage.go).
			err = e.replica.Classify(err)
			e.replica.Close()
		}
		return e.exit(diskFullOp(c.name, args, err)) // args: the subcommand first
	}
	fmt.Fprintf(stderr, "%s: %s\n\n", tr(lang, "Lệnh không tồn tại", "Unknown command"), rest[0])
	usage(stderr, lang)
	return exitUsage
}

func usage(w io.Writer, lang string) {
	fmt.Fprintln(w, tr(lang, "Cách dùng: hamlet-agent <lệnh> [tùy chọn]", "Usage: hamlet-agent <command> [options]"))
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, tr(lang, c.vi, c.en))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, tr(lang,
		"Tùy chọn chung, đặt ở vị trí nào cũng được: --data-dir THƯ_MỤC (hoặc HAMLET_AGENT_DIR), --json, --lang vi|en (hoặc HAMLET_LANG)",
		"Common options, anywhere on the line: --data-dir DIR (or HAMLET_AGENT_DIR), --json, --lang vi|en (or HAMLET_LANG)"))
	fmt.Fprintln(w, tr(lang, "Hướng dẫn của từng lệnh: hamlet-agent <lệnh> --help", "Help on a command: hamlet-agent <command> --help"))
}

// diskFullOp says what a full disk stopped, from the command: a record
// being saved, a sync, or another command (agent.DiskFullError.Message).
func diskFullOp(name string, args []string, err error) error {
	var df *agent.DiskFullError
	if !errors.As(err, &df) {
		return err
	}
	switch {
	case name == "sync":
		df.Op = "sync"
	case len(args) > 0 && (name == "household" || name == "visit" || name == "tutor" || name == "report") &&
		(args[0] == "add" || args[0] == "edit" || args[0] == "delete" || args[0] == "restore"):
		df.Op = ""
	default:
		df.Op = "command"
	}
	return err
}

// errUsage is a usage error already explained to the volunteer.
var errUsage = errors.New("usage")

// parse parses a FlagSet with the common flags: flags may come after
// positional arguments (household edit ID --phone ...), as volunteers type
// them; afterwards fs.Args() is exactly the positional ones. Help and
// mistakes are told in the volunteer's language (help.go).
func (e *env) parse(fs *flag.FlagSet, args []string) error {
	e.common(fs)
	pos, err := cliflag.Parse(fs, args)
	if errors.Is(err, cliflag.ErrHelp) {
		e.help(fs)
		return errHelp
	}
	var fe *cliflag.Error
	if errors.As(err, &fe) {
		fmt.Fprintf(e.stderr, "%s: %s. %s hamlet-agent %s --help\n", e.tr("Lỗi", "Error"), fe.Message(e.lang), e.tr("Xem:", "See:"), fs.Name())
		return errUsage
	}
	if err != nil {
		return err
	}
	// "--" ends the flags, so fs.Args() becomes exactly the positional ones.
	return fs.Parse(append([]string{"--"}, pos...))
}

// noWords refuses words after a command that takes none (status, sync,
// compact, repair): ignoring them would do something other than what was
// typed ("sync https://other-server" synced with the enrolled server).
func (e *env) noWords(fs *flag.FlagSet) error {
	if fs.NArg() == 0 {
		return nil
	}
	fmt.Fprintf(e.stderr, "%s: %s\n", e.tr("Lỗi", "Error"), e.tr(
		fmt.Sprintf("lệnh %s không nhận thêm chữ %q. Hãy bỏ nó đi; xem: hamlet-agent %s --help", fs.Name(), fs.Arg(0), fs.Name()),
		fmt.Sprintf("%s takes no further words, got %q. Leave it out; see: hamlet-agent %s --help", fs.Name(), fs.Arg(0), fs.Name())))
	return errUsage
}

var errHelp = errors.New("help")
