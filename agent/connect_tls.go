package agent

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// errWantsHTTPS: the server answered http:// with the refusal of a server
// that speaks https only (hamlet-server --tls-cert, Go's "Client sent an
// HTTP request to an HTTPS server"; nginx's "The plain HTTP request was
// sent to HTTPS port"). It is the server, at that address, in https://.
var errWantsHTTPS = errors.New("the server speaks https only")

// errServerDown: what answered at the server's address is a gateway (nginx,
// a load balancer) whose Hamlet server behind it is not answering for now
// (502, 503, 504 while it restarts for an upgrade or a reboot; 520-524
// from a CDN in front of it), without the Hamlet server's JSON error body.
// The address is right: a sync tries again, and sync --watch and the app
// go on.
var errServerDown = errors.New("the server is not answering for now")

// notHamlet is the ConnectError of a server's answer that is no Hamlet
// answer (status, body): a server that wants https:// is told as one, a
// gateway's 502, 503 or 504 (its page while the server restarts) as a
// server not answering for now (gatewayDown). Any other 5xx is no Hamlet
// answer: the Hamlet server writes its own errors as JSON, and another
// application at a mistyped address answers 500 (its error page) or 501
// (python3 -m http.server to any POST) for good; told as a server
// restarting, the volunteer would try again for ever, and sync --watch
// would retry it for ever (review 177).
func notHamlet(server string, status int, body []byte, what string) *ConnectError {
	if gatewayDown(status) {
		return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s: %w", status, what, errServerDown)}
	}
	if status == http.StatusBadRequest && (bytes.Contains(body, []byte("HTTP request to an HTTPS server")) || bytes.Contains(body, []byte("plain HTTP request was sent to HTTPS port"))) {
		return &ConnectError{URL: server, Err: fmt.Errorf("HTTP %d%s: %w", status, what, errWantsHTTPS),
			HTTPS: "https://" + strings.TrimPrefix(server, "http://")}
	}
	return &ConnectError{URL: server, NotHamlet: true, Err: fmt.Errorf("HTTP %d%s", status, what)}
}

// gatewayDown: status is what a gateway (nginx, a load balancer, a CDN)
// answers while the server behind it does not: 502, 503, 504, the CDNs'
// 520-524 (the origin down, refusing, timing out), and Cloudflare's 530
// (error 1033: the Cloudflare Tunnel's cloudflared, on the server's own
// machine, is not connected while that machine reboots).
func gatewayDown(status int) bool {
	switch {
	case status == http.StatusBadGateway, status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return true
	case status >= 520 && status <= 524, status == 530:
		return true
	}
	return false
}

// connectCause tells why a connection failed, for ConnectError.Message:
// the server answered plain HTTP to https (plain), or the laptop does not
// trust the server's certificate (cert).
func connectCause(err error) (plain, cert bool) {
	if err == nil {
		return false, false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return true, false
	}
	// The WebSocket dial does the TLS handshake itself: a plain-HTTP
	// server's answer reaches it as a record that is no handshake, and
	// the record's first bytes say it is HTTP.
	var rh tls.RecordHeaderError
	if errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/" {
		return true, false
	}
	return false, isCertError(err)
}

// isCertError: the TLS handshake failed because the server's certificate
// is not one this laptop trusts (self-signed, an unknown authority, another
// name, expired).
func isCertError(err error) bool {
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
