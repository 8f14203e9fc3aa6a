package app

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// The cookie is named by port: cookies are not kept apart by port, and two
// apps (two data folders) may run on one laptop.
func (a *App) cookieName() string { return "hamlet_app_" + a.port }

const (
	langCookie = "hamlet_lang"
	csrfField  = "csrf"
	maxForm    = 1 << 20 // a form is text a person typed: 1 MB is plenty
)

// csp allows nothing from outside: pages, styles, scripts and images all
// come from the app, and no inline script runs.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// guard is what every request passes before a page: loopback only, a Host
// that names the app (no DNS rebinding), the launch secret (in the URL
// once, then the cookie), and for a POST the app's Origin and the form's
// CSRF token. A refusal says what to do and shows no data.
func (a *App) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		lang := a.langOf(r)
		if !loopback(r.RemoteAddr) {
			a.refuse(w, http.StatusForbidden, lang, "refused_remote")
			return
		}
		if !a.hostOK(r.Host) {
			// 421: this server does not answer for that name. A page of
			// another site that rebinds its name to 127.0.0.1 lands here.
			a.refuse(w, http.StatusMisdirectedRequest, lang, "refused_host")
			return
		}
		if k, ok := r.URL.Query()["k"]; ok {
			if len(k) != 1 || subtle.ConstantTimeCompare([]byte(k[0]), []byte(a.secret)) != 1 {
				a.refuse(w, http.StatusForbidden, lang, "refused_secret")
				return
			}
			http.SetCookie(w, &http.Cookie{Name: a.cookieName(), Value: a.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			// On to the same address without the secret: it leaves the
			// address bar, the history and any copy a person makes of the
			// link. Not by an HTTP redirect: the browser was sent here by
			// another site or a file (the launch page), and a redirect in
			// that navigation would not carry a SameSite=Strict cookie; a
			// page of the app's own that moves on does.
			clean := *r.URL
			q := clean.Query()
			q.Del("k")
			clean.RawQuery = q.Encode()
			clean.Scheme, clean.Host = "", ""
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-store")
			_ = a.pages.opening.Execute(w, struct{ Lang, URL, Text string }{lang, clean.String(), tr(lang, "opening")})
			return
		}
		c, err := r.Cookie(a.cookieName())
		if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.session)) != 1 {
			a.refuse(w, http.StatusForbidden, lang, "refused_secret")
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		case http.MethodPost:
			if !a.sameOrigin(r) {
				a.refuse(w, http.StatusForbidden, lang, "refused_origin")
				return
			}
			if isMultipart(r) {
				// A form with photos (pages_photos.go): a few phone photos.
				r.Body = http.MaxBytesReader(w, r.Body, maxPhotoForm)
				if err := r.ParseMultipartForm(photoFormMemory); err != nil {
					a.refuse(w, http.StatusRequestEntityTooLarge, lang, "refused_photo_form")
					return
				}
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
				if err := r.ParseForm(); err != nil {
					a.refuse(w, http.StatusBadRequest, lang, "refused_form")
					return
				}
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get(csrfField)), []byte(a.csrf)) != 1 {
				a.refuse(w, http.StatusForbidden, lang, "refused_csrf")
				return
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			a.refuse(w, http.StatusMethodNotAllowed, lang, "refused_method")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (a *App) hostOK(host string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.hosts[strings.ToLower(host)]
}

// sameOrigin: a browser sends Origin with every POST; it must be this
// app's. A request without one (not a browser) must at least not say it
// comes from another site.
func (a *App) sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Scheme == "http" && u.Path == "" && a.hostOK(u.Host)
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || !a.hostOK(u.Host) {
			return false
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// refuse answers a request the guard turns away: a small page of its own
// (no stylesheet: the stylesheet is behind the same guard) saying why and
// what to do.
func (a *App) refuse(w http.ResponseWriter, status int, lang, key string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = a.pages.refused.Execute(w, struct {
		Lang, Title, Text, Hint string
	}{lang, tr(lang, "refused_title"), tr(lang, key), tr(lang, "refused_hint")})
}

// langOf is the language the volunteer chose (the toggle's cookie), else
// the app's.
func (a *App) langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "vi" || c.Value == "en") {
		return c.Value
	}
	return a.cfg.Lang
}
