package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
)

// Dashboard sign-in, sign-out and CSRF protection.
//
// CSRF: every POST form carries a token the page was rendered with, checked
// before anything else. For a signed-in user it is an HMAC of a fixed label
// keyed with the session token: the token is a 256-bit secret that only the
// HttpOnly cookie holds, so another site can neither read nor compute it;
// it needs no server secret (several server processes sharing one database
// agree on it) and dies with the session. The sign-in form, before there is
// a session, uses a double-submit token: a random value in an HttpOnly,
// SameSite=Strict cookie that the form must repeat.

const (
	loginCSRFCookie = "hamlet_login_csrf"
	csrfField       = "csrf"
)

// csrfToken is the CSRF token of a session token.
func csrfToken(sessionTok string) string {
	m := hmac.New(sha256.New, []byte(sessionTok))
	m.Write([]byte("hamlet dashboard csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func sameToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

var errCSRF = &server.APIError{Status: http.StatusForbidden, Code: "csrf", Message: "the form's CSRF token is missing or wrong",
	HintVI: "Yêu cầu bị từ chối vì mã bảo vệ biểu mẫu (CSRF) bị thiếu hoặc không đúng. Có thể trang đã mở quá lâu hoặc yêu cầu đến từ một trang khác. Hãy tải lại trang rồi thử lại.",
	HintEN: "Refused: the form's protection code (CSRF) is missing or wrong. The page may be too old or the request came from another site. Reload the page and try again."}

// webSessionToken is the session cookie (pages never take a bearer token).
func webSessionToken(r *http.Request) string {
	if c, err := r.Cookie(server.SessionCookie); err == nil && len(c.Value) <= 200 {
		return c.Value
	}
	return ""
}

// webUser resolves the session cookie; server.ErrNotFound when there is none.
func (d *Dashboard) webUser(r *http.Request) (server.User, string, error) {
	tok := webSessionToken(r)
	u, err := d.core.SessionUser(r.Context(), tok)
	return u, tok, err
}

type webHandler func(w http.ResponseWriter, r *http.Request, c *webCtx)

// webAuthed resolves the session (a GET without one goes to the sign-in
// page and comes back) and checks the CSRF token of a POST.
func (d *Dashboard) webAuthed(h webHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x, err := d.core.Analytics()
		if err != nil {
			d.webError(w, r, nil, err)
			return
		}
		u, tok, err := d.webUser(r)
		if errors.Is(err, server.ErrNotFound) {
			if r.Method == http.MethodGet {
				next := r.URL.RequestURI()
				http.Redirect(w, r, pageURL("/login", "next", next), http.StatusSeeOther)
				return
			}
			// A POST without a session (it expired, or was signed out
			// elsewhere, while the form was open) changes nothing: the user
			// signs in again and comes back to the page the form was on.
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			http.Redirect(w, r, pageURL("/login", "next", safeNext(r.PostFormValue("back"))), http.StatusSeeOther)
			return
		}
		if err != nil {
			d.webError(w, r, nil, err)
			return
		}
		c := &webCtx{User: u, X: x, Lang: webLang(w, r), CSRF: csrfToken(tok), token: tok}
		if u.UnitChangedOn != "" {
			d.renderUnitChanged(w, r, c) // no data until the operator confirms the unit (unit_changed.go)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !sameToken(r.PostFormValue(csrfField), c.CSRF) {
				d.log.Warn("dashboard form refused: bad CSRF token", "user", u.ID, "path", r.URL.Path)
				d.webError(w, r, c, errCSRF)
				return
			}
		}
		h(w, r, c)
	}
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	// No backslash anywhere: browsers read it as a slash, and http.Redirect
	// cleans dot-segments, so "/a/../\host" would leave as "/\host" (//host).
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		strings.ContainsAny(next, "\r\n") || strings.HasPrefix(next, "/login") {
		return "/coverage"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/coverage"
	}
	return next
}

type loginView struct {
	Username string
	Next     string
	Error    string // message key
	Wait     string // how long, for too many attempts (server.WaitText)
}

// loginCSRF returns the sign-in form's token, setting its cookie if needed.
func loginCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(loginCSRFCookie); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", MaxAge: 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: server.IsHTTPS(r)})
	return tok
}

func (d *Dashboard) handleWebLoginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, _, err := d.webUser(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := &webPage{Title: "sign_in", CSRF: loginCSRF(w, r), Body: &loginView{Next: next}}
	if r.URL.Query().Get("out") == "1" {
		p.Notice = "signed_out"
	}
	d.render(w, r, http.StatusOK, "login", p)
}

func (d *Dashboard) handleWebLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	view := &loginView{Username: strings.ToLower(strings.TrimSpace(r.PostFormValue("username"))), Next: safeNext(r.PostFormValue("next"))}
	again := func(status int, msg string) {
		view.Error = msg
		d.render(w, r, status, "login", &webPage{Title: "sign_in", CSRF: loginCSRF(w, r), Body: view})
	}
	c, err := r.Cookie(loginCSRFCookie)
	if err != nil || !sameToken(r.PostFormValue(csrfField), c.Value) {
		d.log.Warn("dashboard sign-in refused: bad CSRF token", server.LogRemote, server.ClientAddr(r))
		d.webError(w, r, nil, errCSRF)
		return
	}
	in, err := d.core.SignIn(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"), server.ClientAddr(r))
	var ae *server.APIError
	switch {
	case err == nil:
	case errors.Is(err, server.ErrSignInIncomplete):
		again(http.StatusBadRequest, "login_missing")
		return
	case errors.Is(err, server.ErrBadCredentials):
		again(http.StatusUnauthorized, "login_bad")
		return
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(server.RetrySeconds(ae.RetryAfter)))
		view.Wait = server.WaitText(ae.RetryAfter, webLang(w, r))
		again(http.StatusTooManyRequests, "login_too_many")
		return
	default:
		d.webError(w, r, nil, err)
		return
	}
	api.SetSessionCookie(w, r, in.Token, in.Expires)
	http.Redirect(w, r, view.Next, http.StatusSeeOther)
}

func (d *Dashboard) handleWebLogout(w http.ResponseWriter, r *http.Request) {
	u, tok, err := d.webUser(r)
	if err == nil {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if !sameToken(r.PostFormValue(csrfField), csrfToken(tok)) {
			d.webError(w, r, &webCtx{User: u, Lang: webLang(w, r), CSRF: csrfToken(tok)}, errCSRF)
			return
		}
		if err := d.core.SignOut(r.Context(), tok); err != nil {
			d.webError(w, r, nil, err)
			return
		}
		d.log.Info("signed out of the dashboard", "user", u.ID)
	}
	api.SetSessionCookie(w, r, "", time.Time{})
	http.Redirect(w, r, "/login?out=1", http.StatusSeeOther)
}
