package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/agent/app"
)

// defaultServer is the address the app's enrollment form offers, so that
// a volunteer types only the code: a province builds its installer with
// -ldflags "-X main.defaultServer=https://hamlet.example.gov.vn", or sets
// HAMLET_SERVER. Without either, the form asks for the address too.
var defaultServer = ""

// appFile holds the running app's address (with its launch secret) in the
// data folder, readable by this user only: a second double-click opens
// the browser on the app already running instead of starting another.
const appFile = "app.json"

type appInfo struct {
	URL string `json:"url"`
	PID int    `json:"pid"`
	// Dir is the data folder the app serves. A copy of the folder made
	// while the app ran carries this file: on the same laptop the
	// original's app still answers, and the copy must not send the
	// browser to it.
	Dir string `json:"dir,omitempty"`
}

// runApp serves the volunteer's web app on this laptop and keeps syncing
// in the background until Ctrl+C (or the window is closed).
func runApp(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", e.tr("`ĐỊA_CHỈ` địa chỉ trên máy này (chỉ 127.0.0.1, ::1 hoặc localhost; cổng 0: tự chọn cổng trống)",
		"`ADDR` address on this laptop (127.0.0.1, ::1 or localhost only; port 0: any free port)"))
	noBrowser := fs.Bool("no-browser", os.Getenv("HAMLET_NO_BROWSER") != "", e.tr("không tự mở trình duyệt, chỉ in địa chỉ (HAMLET_NO_BROWSER)", "do not open the browser, print the address only (HAMLET_NO_BROWSER)"))
	server := fs.String("server", serverDefault(), e.tr("`ĐỊA_CHỈ` máy chủ mà trang đăng ký điền sẵn (HAMLET_SERVER)", "`URL` the server the enrollment page fills in (HAMLET_SERVER)"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	dir, err := e.dir()
	if err != nil {
		return err
	}
	info := filepath.Join(dir, appFile)
	if url, ok := runningApp(info, dir); ok {
		fmt.Fprintln(e.stdout, e.tr("Hamlet đang chạy sẵn trên máy này: mở trình duyệt tới trang của nó.", "Hamlet is already running on this laptop: opening the browser on it."))
		if page := filepath.Join(dir, launchFile); !*noBrowser {
			if _, err := os.Stat(page); err == nil {
				return openBrowser(page) // the running app wrote it
			}
		}
		fmt.Fprintln(e.stdout, url)
		return nil
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	token, err := e.tokenPath()
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	a, err := app.New(app.Config{Replica: r, TokenPath: token, Server: *server, Lang: e.lang, Label: host,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return err
	}
	url, err := a.Listen(*addr)
	if errors.Is(err, app.ErrNotLoopback) {
		return e.usageErr("%s", e.tr("--addr phải là địa chỉ trên chính máy này (127.0.0.1, ::1 hoặc localhost): trang của Hamlet chứa dữ liệu cá nhân.",
			"--addr must be an address on this laptop (127.0.0.1, ::1 or localhost): Hamlet's pages hold personal data."))
	}
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(dir)
	if b, err := json.Marshal(appInfo{URL: url, PID: os.Getpid(), Dir: abs}); err == nil {
		_ = os.WriteFile(info, b, 0o600)
		defer os.Remove(info)
	}
	fmt.Fprintf(e.stdout, e.tr("Hamlet đang chạy trên máy này tại %s (đóng cửa sổ này hoặc bấm Ctrl+C để dừng).\n",
		"Hamlet is running on this laptop at %s (close this window or press Ctrl+C to stop).\n"), a.BaseURL())
	fmt.Fprintf(e.stdout, e.tr("Nếu trình duyệt không tự mở, hãy mở địa chỉ này (chỉ dùng trên máy này): %s\n",
		"If the browser does not open by itself, open this address (on this laptop only): %s\n"), url)
	fmt.Fprintln(e.stdout, e.tr("Dùng dòng lệnh thay cho trang web: hamlet-agent help", "For the command line instead: hamlet-agent help"))
	page := filepath.Join(dir, launchFile)
	if err := a.WriteLaunchPage(page); err == nil {
		defer os.Remove(page)
	}
	if !*noBrowser {
		if err := openBrowser(page); err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", e.tr("Không tự mở được trình duyệt", "Could not open the browser"), err)
		}
	}
	return a.Run(ctx)
}

func serverDefault() string {
	if s := os.Getenv("HAMLET_SERVER"); s != "" {
		return s
	}
	return defaultServer
}

// runningApp reads the address an app left in the data folder dir and
// checks that it serves this folder (a copy of the folder carries the
// file of the original's app) and still answers (a killed app leaves its
// file behind).
func runningApp(info, dir string) (string, bool) {
	b, err := os.ReadFile(info)
	if err != nil {
		return "", false
	}
	var ai appInfo
	if json.Unmarshal(b, &ai) != nil || !strings.HasPrefix(ai.URL, "http://127.0.0.1:") && !strings.HasPrefix(ai.URL, "http://[::1]:") {
		return "", false
	}
	if ai.Dir != "" {
		// A folder the app serves that is no longer where it started
		// (renamed or moved while the app ran: it keeps its files open)
		// is read as before the name was kept: the app that answers is
		// taken to be this folder's. Started again, that folder's app ran
		// twice on one replica, in two windows. A copy is told apart only
		// while its original is still there.
		served, err1 := os.Stat(ai.Dir)
		here, err2 := os.Stat(dir)
		if err2 != nil || err1 == nil && !os.SameFile(served, here) || err1 != nil && !errors.Is(err1, fs.ErrNotExist) {
			return "", false
		}
	}
	c := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(ai.URL)
	if err != nil {
		return "", false
	}
	resp.Body.Close()
	// The launch URL answers with the session cookie.
	return ai.URL, resp.StatusCode == http.StatusOK && len(resp.Cookies()) > 0
}

// launchFile is the page in the data folder that sends the browser on
// to the app (app.WriteLaunchPage): opening it keeps the launch secret off
// the browser's command line.
const launchFile = "open-hamlet.html"

// openBrowser opens the default browser on a page: the app's launch page,
// or a running app's address.
func openBrowser(page string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", page)
	case "darwin":
		cmd = exec.Command("open", page)
	default:
		cmd = exec.Command("xdg-open", page)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // the opener exits at once; its status says nothing about the browser
	return nil
}
