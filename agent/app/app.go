package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/workcal"
)

// Config is what the app needs from its command.
type Config struct {
	// Replica is the volunteer's replica, open for the app's lifetime.
	Replica *agent.Replica
	// TokenPath is the file that holds the device token (the CLI's file).
	TokenPath string
	// Server is the address the enrollment form offers. With one, the
	// volunteer types only the code; without, the address too.
	Server string
	// Lang is the language pages start in: Vietnamese unless "en".
	Lang string
	// Label names this laptop at enrollment (the host name).
	Label string
	// Sync tunes the background sync; zero fields take the app's
	// defaults (a push within 2 s of a save, retries every 1 s to 1 min).
	Sync agent.SyncOptions
	// Logger gets what an operator reads (never personal data); nil: none.
	Logger *slog.Logger
	// Calendar computes the reports' expected deadlines (workcal.Default()
	// when nil: the holidays computed from the Labour Code).
	Calendar *workcal.Calendar

	// recheck is how often a stopped or unenrolled sync looks for a
	// change (0: every 3 s); tests shorten it (export_test.go) rather than
	// sleep through several 3 s looks.
	recheck time.Duration
}

// App is the volunteer's web app over one replica.
type App struct {
	cfg     Config
	r       *agent.Replica
	log     *slog.Logger
	secret  string // in the launch URL
	session string // the cookie's value, derived from the secret
	csrf    string // every form's token, derived from the secret
	pages   *pages
	idx     *index
	sync    *syncer
	cal     *workcal.Calendar
	mux     *http.ServeMux

	mu    sync.Mutex
	ln    net.Listener
	port  string
	hosts map[string]bool // Host headers that name this app
}

// New makes the app. It does not listen yet (Listen) nor sync (Run).
func New(cfg Config) (*App, error) {
	if cfg.Replica == nil {
		return nil, errors.New("app: no replica")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Lang = i18n.Lang(cfg.Lang)
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("app: make the launch secret: %w", err)
	}
	a := &App{cfg: cfg, r: cfg.Replica, log: cfg.Logger, secret: base64.RawURLEncoding.EncodeToString(raw), cal: cfg.Calendar}
	a.session = derive(raw, "session")
	a.csrf = derive(raw, "csrf")
	if a.cal == nil {
		a.cal = workcal.Default()
	}
	var err error
	if a.pages, err = loadPages(); err != nil {
		return nil, err
	}
	a.idx = newIndex(cfg.Replica)
	a.sync = newSyncer(a)
	a.routes()
	return a, nil
}

func derive(secret []byte, purpose string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return hex.EncodeToString(m.Sum(nil))
}

// ErrNotLoopback refuses an address other machines could reach.
var ErrNotLoopback = errors.New("app: the app listens on a loopback address only (127.0.0.1, ::1 or localhost)")

// Listen opens the app's port on a loopback address ("127.0.0.1:0" picks
// a free port) and returns the URL to open the browser on: it carries the
// launch secret, so it is for this laptop's browser only.
func (a *App) Listen(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("app: address %q: %w", addr, err)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", ErrNotLoopback
		}
	} else {
		addr = net.JoinHostPort("127.0.0.1", addr[len(host)+1:])
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	a.bind(ln)
	return a.LaunchURL(), nil
}

// bind takes ln as the app's listener and the Host headers it answers.
func (a *App) bind(ln net.Listener) {
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ip := ln.Addr().(*net.TCPAddr).IP
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ln, a.port = ln, port
	a.hosts = map[string]bool{net.JoinHostPort(ip.String(), port): true, "localhost:" + port: true}
	if ip.To4() != nil {
		a.hosts["127.0.0.1:"+port] = true
	} else {
		a.hosts["[::1]:"+port] = true
	}
}

// LaunchURL is the address to open the browser on, with the secret.
func (a *App) LaunchURL() string {
	return a.BaseURL() + "/?k=" + a.secret
}

// BaseURL is the app's address without the secret.
func (a *App) BaseURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ln == nil {
		return ""
	}
	return "http://" + a.ln.Addr().String()
}

// Handler serves every page behind the guard (guard.go).
func (a *App) Handler() http.Handler { return a.guard(a.mux) }

// Run serves the app on the listener Listen opened and syncs in the
// background until ctx ends, then stops both.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	ln := a.ln
	a.mu.Unlock()
	if ln == nil {
		return errors.New("app: Run before Listen")
	}
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		a.sync.run(ctx)
	}()
	// The first page should not pay for the index: read it now (a sort
	// key and a folded text per household, once).
	warmDone := make(chan struct{})
	go func() {
		defer close(warmDone)
		if _, err := a.idx.get(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("household index not read", "err", err)
		}
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	<-syncDone
	<-warmDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// SyncNow makes the background sync try at once (what the sync page's
// button does).
func (a *App) SyncNow() { a.sync.kickNow() }
