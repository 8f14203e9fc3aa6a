package agent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
)

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
