package agent

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// errSignIn: what answered at the server's address is the network's
// sign-in page (a captive portal: the Wi-Fi of a café, a commune hall, a
// hotel), not the server, which the network lets no one reach before
// signing in. The address may well be right.
var errSignIn = errors.New("the network answered with its sign-in page (captive portal)")

// answerError is the ConnectError of an answer at the server's address
// (reqURL, what was asked) that is no Hamlet answer. A network's sign-in
// page is told as one: a 511, a redirect to another host, or a page of
// HTML where an API answers JSON or a WebSocket (the Hamlet server never
// answers /v1/ with HTML); a redirect to the same host in https://, and
// the refusal of a server that speaks https only, as wanting https://;
// anything else is not a Hamlet server (notHamlet).
func answerError(server string, reqURL *url.URL, resp *http.Response, body []byte, what string) *ConnectError {
	status := resp.StatusCode
	switch {
	case status == http.StatusNetworkAuthenticationRequired:
		return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s: %w", status, what, errSignIn)}
	case status >= 300 && status < 400 && resp.Header.Get("Location") != "":
		loc, err := reqURL.Parse(resp.Header.Get("Location"))
		if err != nil {
			break
		}
		if (reqURL.Scheme == "http" || reqURL.Scheme == "ws") && loc.Scheme == "https" && sameHost(loc.Hostname(), reqURL.Hostname()) {
			// nginx's "return 301 https://$host$request_uri": the server, in https://.
			return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s to https: %w", status, what, errWantsHTTPS), HTTPS: redirectedBase(server, reqURL, loc)}
		}
		if !sameHost(loc.Host, reqURL.Host) {
			return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s to another host: %w", status, what, errSignIn)}
		}
	case status == http.StatusOK && isHTML(resp.Header.Get("Content-Type"), body):
		return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s, a page of HTML: %w", status, what, errSignIn)}
	}
	return notHamlet(server, status, body, what)
}

// redirectedBase is the server's address that a redirect of reqURL (made
// from the server's address, server) to loc, an https:// address on the
// same host, names: loc less the API path reqURL asked for (nginx's
// "return 301 https://$host$request_uri" keeps it); "" when loc does not
// end with it, or when the server's address has a query.
func redirectedBase(server string, reqURL, loc *url.URL) string {
	su, err := url.Parse(server)
	if err != nil || su.RawQuery != "" {
		return ""
	}
	api := strings.TrimPrefix(reqURL.Path, strings.TrimSuffix(su.Path, "/"))
	if api == reqURL.Path && su.Path != "" && su.Path != "/" || !strings.HasSuffix(loc.Path, api) {
		return ""
	}
	return (&url.URL{Scheme: "https", Host: loc.Host, Path: strings.TrimSuffix(loc.Path, api)}).String()
}

// isHTML: the answer is a web page, by its type or its first bytes.
func isHTML(contentType string, body []byte) bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html") {
		return true
	}
	b := bytes.ToLower(bytes.TrimSpace(body))
	return bytes.HasPrefix(b, []byte("<!doctype html")) || bytes.HasPrefix(b, []byte("<html"))
}

// noRedirects is c that does not follow a redirect: the answer is told by
// answerError, and the enrollment code is not posted again to wherever
// the redirect points (a 307 resends the body).
func noRedirects(c *http.Client) *http.Client {
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &nc
}

// signInMessage: the network asks to sign in (a Wi-Fi login page) before
// it lets the laptop reach the server.
func (e *ConnectError) signInMessage(lang string) string {
	if e.Enrolling {
		return pick(lang,
			fmt.Sprintf("Mạng đang dùng đòi đăng nhập (trang đăng nhập Wi-Fi) nên chưa tới được máy chủ %s. Hãy mở một trang web bất kỳ trong trình duyệt, đăng nhập Wi-Fi, rồi đăng ký lại. Máy này chưa được đăng ký; mã đăng ký chưa bị dùng. Nếu không thấy trang đăng nhập nào, hãy kiểm tra lại địa chỉ máy chủ.", e.URL),
			fmt.Sprintf("The network asks you to sign in (Wi-Fi login page), so the server at %s was not reached. Open a web page, sign in, then enroll again. This laptop is not enrolled; the code is not used up. If no login page shows, check the server address.", e.URL))
	}
	return pick(lang,
		fmt.Sprintf("Mạng đang dùng đòi đăng nhập (trang đăng nhập Wi-Fi) nên chưa tới được máy chủ %s. Hãy mở một trang web bất kỳ trong trình duyệt, đăng nhập Wi-Fi, rồi đồng bộ lại. Dữ liệu đã lưu trên máy và sẽ được gửi khi kết nối được. Nếu không thấy trang đăng nhập nào, hãy kiểm tra lại địa chỉ máy chủ.", e.URL),
		fmt.Sprintf("The network asks you to sign in (Wi-Fi login page), so the server at %s was not reached. Open a web page, sign in, then sync again. Your data is saved on this laptop and will be sent once connected. If no login page shows, check the server address.", e.URL))
}
