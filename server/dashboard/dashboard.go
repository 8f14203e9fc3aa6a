package dashboard

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
	"github.com/hamlet-vn/hamlet/syncproto"
	"github.com/hamlet-vn/hamlet/workcal"
)

// Core is what the dashboard needs of the server (*server.Server): what
// the JSON API needs (its request tracking and clock, the read model, the
// sign-in domain, the report workflow), since every page mirrors an
// endpoint, and nothing more.
type Core interface {
	api.Core
	// Photo is a stored photo of a report, or its thumbnail (made once,
	// kept); the page checks who may see it first.
	Photo(ctx context.Context, digest string, thumb bool) ([]byte, error)
}

// Directory is what the pages read of the operator's records
// (*server.Admin): units and teams for names, users for who can confirm a
// changed unit, and the sync page's devices and conflicts.
type Directory interface {
	Units(ctx context.Context, level schema.Level, parent string) ([]schema.AdminUnit, error)
	Teams(ctx context.Context) ([]server.Team, error)
	Users(ctx context.Context) ([]server.User, error)
	SyncStatus(ctx context.Context) (server.Status, error)
	RecentConflicts(ctx context.Context, within func(scope string) bool, limit int) ([]server.ConflictEntry, int, error)
}

// Dashboard serves the pages.
type Dashboard struct {
	core Core
	dir  Directory
	log  *slog.Logger
	q    api.Query // the API's reading of a request, so a page and the API agree
}

// New makes the dashboard over core and dir; log takes its lines (ids and
// codes only).
func New(core Core, dir Directory, log *slog.Logger) *Dashboard {
	return &Dashboard{core: core, dir: dir, log: log, q: api.Query{Now: core.Now, Log: log}}
}

// vnZone is the zone of every time a page shows: Vietnam's, fixed.
var vnZone = workcal.Vietnam

//go:embed web/templates/*.html
var webTemplateFS embed.FS

//go:embed web/static
var webStaticFS embed.FS

// webAsset is an embedded static file with its precomputed gzip form.
type webAsset struct {
	body, gz []byte
	ctype    string
	etag     string
}

type webState struct {
	once    sync.Once
	pages   map[string]*template.Template
	assets  map[string]*webAsset
	cssURL  string // /static/style.css?v=<hash>
	iconURL string
}

var web webState

func webInit() {
	web.once.Do(func() {
		web.assets = map[string]*webAsset{}
		sub, _ := fs.Sub(webStaticFS, "web/static")
		_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(sub, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			a := &webAsset{body: b, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
			switch path.Ext(p) {
			case ".css":
				a.ctype = "text/css; charset=utf-8"
			case ".svg":
				a.ctype = "image/svg+xml"
			default:
				a.ctype = http.DetectContentType(b)
			}
			var gz bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
			_, _ = zw.Write(b)
			_ = zw.Close()
			a.gz = gz.Bytes()
			web.assets[p] = a
			return nil
		})
		web.cssURL = "/static/style.css?v=" + strings.Trim(web.assets["style.css"].etag, `"`)
		web.iconURL = "/static/icon.svg?v=" + strings.Trim(web.assets["icon.svg"].etag, `"`)
		web.pages = map[string]*template.Template{}
		for _, p := range []string{"login", "coverage", "teams", "reports", "report", "sync", "error", "unit_changed"} {
			web.pages[p] = template.Must(template.New("").Funcs(webFuncs).ParseFS(webTemplateFS,
				"web/templates/layout.html", "web/templates/report_card.html", "web/templates/"+p+".html"))
		}
	})
}

var webFuncs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	// dict passes several values to a sub-template.
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			k, _ := kv[i].(string)
			m[k] = kv[i+1]
		}
		return m
	},
}

// Mount adds the dashboard's pages to mux, at / beside the API.
func (d *Dashboard) Mount(mux *http.ServeMux) {
	webInit()
	mux.HandleFunc("GET /{$}", d.core.Track(d.webAuthed(func(w http.ResponseWriter, r *http.Request, c *webCtx) {
		http.Redirect(w, r, "/coverage", http.StatusSeeOther)
	})))
	mux.HandleFunc("GET /login", d.core.Track(d.handleWebLoginForm))
	mux.HandleFunc("POST /login", d.core.Track(d.handleWebLogin))
	mux.HandleFunc("POST /logout", d.core.Track(d.handleWebLogout))
	mux.HandleFunc("GET /coverage", d.core.Track(d.webAuthed(d.handleWebCoverage)))
	mux.HandleFunc("GET /teams", d.core.Track(d.webAuthed(d.handleWebTeams)))
	mux.HandleFunc("GET /reports", d.core.Track(d.webAuthed(d.handleWebReports)))
	mux.HandleFunc("GET /reports/{id}", d.core.Track(d.webAuthed(d.handleWebReport)))
	mux.HandleFunc("POST /reports/{id}/transition", d.core.Track(d.webAuthed(d.handleWebTransition)))
	mux.HandleFunc("GET /reports/{id}/photos/{digest}", d.core.Track(d.webAuthed(d.handleWebPhoto(false))))
	mux.HandleFunc("GET /reports/{id}/photos/{digest}/thumb", d.core.Track(d.webAuthed(d.handleWebPhoto(true))))
	mux.HandleFunc("GET /sync", d.core.Track(d.webAuthed(d.handleWebSync)))
	mux.HandleFunc("GET /static/{file}", handleWebStatic)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, web.iconURL, http.StatusMovedPermanently)
	})
	// An internal dashboard: no search engine is to list it. A crawler
	// reads a text answer, not the HTML error page.
	mux.HandleFunc("GET /robots.txt", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = io.WriteString(w, "User-agent: *\nDisallow: /\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A signed-in user keeps the menu and sign-out on a mistyped
		// address (helper 145): the page is drawn with their session.
		var c *webCtx
		if u, tok, err := d.webUser(r); err == nil {
			c = &webCtx{User: u, Lang: webLang(w, r), CSRF: csrfToken(tok), token: tok}
		}
		d.webError(w, r, c, &server.APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such page",
			HintVI: "Không có trang này. Hãy mở các trang từ trình đơn.", HintEN: "There is no such page. Open the pages from the menu."})
	})
}

func handleWebStatic(w http.ResponseWriter, r *http.Request) {
	a, ok := web.assets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Vary", "Accept-Encoding")
	// The URL carries the content hash: a new binary gets new URLs.
	if r.URL.Query().Get("v") != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, max-age=3600")
	}
	if match := r.Header.Get("If-None-Match"); match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// webCtx is one signed-in page request.
type webCtx struct {
	User  server.User
	X     *analytics.Index
	Lang  string
	CSRF  string
	token string
}

// webPage is what the layout renders; Body is the page's own data.
type webPage struct {
	Lang     string
	Title    string
	Nav      string
	User     *server.User
	UnitName string
	CSRF     string
	LangURL  string // the same page in the other language
	CSSURL   string
	IconURL  string
	Notice   string
	CanSync  bool
	Body     any
}

// T translates a message key into the page's language.
func (p *webPage) T(key string) string { return webT(p.Lang, key) }

// render executes a page template and writes it, compressed when the
// browser takes gzip (provincial links are slow; pages compress ~10×).
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p *webPage) {
	webInit()
	p.CSSURL, p.IconURL = web.cssURL, web.iconURL
	if p.Lang == "" {
		p.Lang = webLang(w, r)
	}
	p.LangURL = langSwitchURL(r, p.Lang)
	var buf bytes.Buffer
	if err := web.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		d.log.Error("render page", "page", name, server.LogErr, err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeWebBody(w, r, status, "text/html; charset=utf-8", buf.Bytes())
}

func writeWebBody(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding, Cookie")
	setWebSecurityHeaders(h)
	if len(body) > 1024 && acceptsGzip(r) {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		h.Set("Content-Encoding", "gzip")
		body = gz.Bytes()
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// setWebSecurityHeaders: no script at all, nothing from elsewhere, never
// framed (clickjacking), forms post only here.
func setWebSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// webError renders an error page: the status and hints HTTPError gives
// err, in the page's language. A busy store and an internal error get a
// page's advice (reload, tell IT staff) instead of a client's.
func (d *Dashboard) webError(w http.ResponseWriter, r *http.Request, c *webCtx, err error) {
	ae := server.HTTPError(err)
	switch ae.Code {
	case string(syncproto.CodeBusy):
		d.log.Warn("dashboard page: store busy", "path", r.URL.Path, server.LogErr, err)
		ae = &server.APIError{Status: http.StatusServiceUnavailable, Code: ae.Code, Message: "the server is busy", RetryAfter: 5 * time.Second,
			HintVI: "Máy chủ đang bận. Hãy tải lại trang sau vài giây.",
			HintEN: "The server is busy. Reload the page in a few seconds."}
	case string(syncproto.CodeInternal):
		d.log.Error("dashboard page failed", "path", r.URL.Path, server.LogErr, err)
		ae = &server.APIError{Status: http.StatusInternalServerError, Code: ae.Code, Message: ae.Message,
			HintVI: "Máy chủ gặp lỗi. Hãy thử lại sau ít phút; nếu vẫn lỗi, báo cán bộ CNTT.",
			HintEN: "The server hit an error. Try again in a few minutes; if it persists, tell IT staff."}
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(ae.RetryAfter.Seconds())+1))
	}
	p := &webPage{Title: "error", Body: ae}
	if c != nil {
		p.Lang, p.User, p.CSRF = c.Lang, &c.User, c.CSRF
		p.CanSync = canSeeSync(c.User.Role)
	}
	d.render(w, r, ae.Status, "error", p)
}

// ---- language ----

const langCookie = "hamlet_lang"

// webLang is ?lang= (remembered in a cookie), else the cookie, else
// Vietnamese.
func webLang(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "vi" || l == "en" {
		if c, err := r.Cookie(langCookie); err != nil || c.Value != l {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: server.IsHTTPS(r)})
		}
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "en" || c.Value == "vi") {
		return c.Value
	}
	return "vi"
}

func langSwitchURL(r *http.Request, lang string) string {
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	if r.Method != http.MethodGet {
		return "/coverage?lang=" + other
	}
	q := r.URL.Query()
	q.Set("lang", other)
	return r.URL.Path + "?" + q.Encode()
}

// pageURL builds a dashboard link from a path and query values, dropping
// empty ones.
func pageURL(p string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

func canSeeSync(r analytics.Role) bool {
	return r == analytics.RoleOperator || r == analytics.RoleProvincial
}
