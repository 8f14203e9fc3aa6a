package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// APIError is an answer to an HTTP request that failed: its status, a
// stable code, an English message and hints in both languages. The JSON
// endpoints write it as the error body (WriteHTTPError), the dashboard as a
// page; HTTPError (errors.go) makes one of any error.
type APIError struct {
	Status     int
	Code       string
	Message    string
	HintVI     string
	HintEN     string
	RetryAfter time.Duration // 429: how long to wait
	DeviceID   string        // replica_active, replica_team: the device in the way (ErrorDetail.DeviceID)
}

func (e *APIError) Error() string { return e.Message }

// BadParam is a 400 naming the query parameter or body field at fault.
func BadParam(name, detail string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "bad_parameter", Message: fmt.Sprintf("parameter %s: %s", name, detail),
		HintVI: fmt.Sprintf("Tham số %q không hợp lệ: %s.", name, detail),
		HintEN: fmt.Sprintf("Parameter %q is invalid: %s.", name, detail)}
}

// BadParamText is a 400 naming the parameter at fault whose hints say
// what is wrong in each language, whole: BadParam's Vietnamese hint
// carries its English detail, which a page a leader reads must not
// (issue 21, item 22).
func BadParamText(name, vi, en string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: "bad_parameter", Message: fmt.Sprintf("parameter %s: %s", name, en),
		HintVI: vi, HintEN: en}
}

var (
	// ErrBadCredentials is SignIn's answer to a wrong username or password
	// (or a disabled account: the caller cannot tell).
	ErrBadCredentials = &APIError{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: "wrong username or password",
		HintVI: "Sai tên đăng nhập hoặc mật khẩu. Hãy kiểm tra lại (chú ý bộ gõ tiếng Việt và phím Caps Lock).",
		HintEN: "Wrong username or password. Check them (mind the Vietnamese keyboard and Caps Lock)."}
)

// errTooManyLogins is SignIn's answer while an account must wait before it
// tries again from an address.
func errTooManyLogins(wait time.Duration) *APIError {
	return &APIError{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Message: "too many failed sign-ins from this address; wait before trying again",
		HintVI:     fmt.Sprintf("Đăng nhập sai quá nhiều lần. Hãy đợi khoảng %s rồi thử lại, hoặc nhờ cán bộ CNTT đặt lại mật khẩu.", WaitText(wait, "vi")),
		HintEN:     fmt.Sprintf("Too many failed sign-ins. Wait about %s and try again, or ask IT staff to reset the password.", WaitText(wait, "en")),
		RetryAfter: wait}
}

// RetrySeconds is a Retry-After for wait: whole seconds, rounded up.
func RetrySeconds(wait time.Duration) int {
	return int((wait + time.Second - 1) / time.Second)
}

// WaitText says how long wait is, for a person: seconds under a minute,
// else minutes, rounded up.
func WaitText(wait time.Duration, lang string) string {
	if s := RetrySeconds(wait); s < 60 {
		if lang == "en" {
			return fmt.Sprintf("%d seconds", s)
		}
		return fmt.Sprintf("%d giây", s)
	}
	m := int((wait + time.Minute - 1) / time.Minute)
	if lang == "en" {
		if m == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", m)
	}
	return fmt.Sprintf("%d phút", m)
}

func writeAPIError(w http.ResponseWriter, e *APIError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(RetrySeconds(e.RetryAfter)))
	}
	WriteJSON(w, e.Status, ErrorBody{Error: ErrorDetail{Code: syncproto.Code(e.Code), Message: e.Message, Hint: e.HintVI, HintEN: e.HintEN, DeviceID: e.DeviceID}})
}

// BaseURL is the address the request reached this server by (scheme and
// host, no path): where links in exports point back to.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// IsHTTPS says whether the browser reached the server over TLS: its own
// (--tls-cert), or a reverse proxy's that terminates TLS and says so with
// X-Forwarded-Proto. Cookies are marked Secure and HSTS sent by it. A
// client that sends the header over plain HTTP only gets cookies its
// browser will not send back, and an HSTS header browsers ignore there.
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",") // the first proxy's
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
