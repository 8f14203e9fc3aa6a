package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// LoginResponse is what POST /api/v1/login returns (the token is also set
// as the hamlet_session cookie).
type LoginResponse struct {
	Token   string      `json:"token"`
	Expires time.Time   `json:"expires"`
	User    server.User `json:"user"`
}

func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return &server.APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "send the body as application/json",
				HintVI: "Dữ liệu gửi lên phải ở dạng JSON (Content-Type: application/json).", HintEN: "Send the body as JSON (Content-Type: application/json)."}
		}
	} else {
		// A browser form cannot post JSON cross-site without this header;
		// requiring it is the CSRF guard of cookie-authenticated POSTs.
		return &server.APIError{Status: http.StatusUnsupportedMediaType, Code: "bad_content_type", Message: "Content-Type: application/json is required",
			HintVI: "Thiếu Content-Type: application/json.", HintEN: "Content-Type: application/json is required."}
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &server.APIError{Status: http.StatusBadRequest, Code: "bad_body", Message: "the body is not the JSON this endpoint takes: " + err.Error(),
			HintVI: "Dữ liệu gửi lên không đúng dạng JSON của yêu cầu này.", HintEN: "The body is not the JSON this endpoint takes."}
	}
	return nil
}

func (a *API) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	in, err := a.core.SignIn(r.Context(), req.Username, req.Password, server.ClientAddr(r))
	if err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	SetSessionCookie(w, r, in.Token, in.Expires)
	server.WriteJSON(w, http.StatusOK, LoginResponse{Token: in.Token, Expires: in.Expires, User: in.User})
}

// SetSessionCookie sets the session cookie the API and the dashboard share
// (so the export links of /api/v1 work from a page), or with tok "" clears
// it: HttpOnly, SameSite=Lax, Secure under TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, tok string, exp time.Time) {
	c := &http.Cookie{Name: server.SessionCookie, Value: tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: server.IsHTTPS(r)}
	if tok == "" {
		c.MaxAge = -1
	} else {
		c.Expires, c.MaxAge = exp, int(server.SessionTTL.Seconds())
	}
	http.SetCookie(w, c)
}

// sessionToken is the bearer token or the session cookie.
func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(server.SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (a *API) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := a.core.SignOut(r.Context(), sessionToken(r)); err != nil {
		server.WriteHTTPError(w, err)
		return
	}
	SetSessionCookie(w, r, "", time.Time{})
	server.WriteJSON(w, http.StatusOK, map[string]bool{"signed_out": true})
}

type authedHandler func(w http.ResponseWriter, r *http.Request, u server.User, x *analytics.Index)

// authed resolves the session to a user (401 JSON otherwise).
func (a *API) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		x, err := a.core.Analytics()
		if err != nil {
			server.WriteHTTPError(w, err)
			return
		}
		u, err := a.core.SessionUser(r.Context(), sessionToken(r))
		if errors.Is(err, server.ErrNotFound) {
			server.WriteHTTPError(w, errNotSignedIn)
			return
		}
		if err != nil {
			a.log.Error("read session", server.LogErr, err)
			server.WriteHTTPError(w, err)
			return
		}
		if u.UnitChangedOn != "" {
			server.WriteHTTPError(w, errUnitChanged(u)) // no data until the operator confirms the unit (server/unit_review.go)
			return
		}
		h(w, r, u, x)
	}
}
