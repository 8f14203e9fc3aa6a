package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
)

// Listen opens addr for Handler: with TLS (HTTPS and WSS) when cert and
// key (PEM files) are set, plain otherwise. scheme is "https" or "http",
// for the addresses the operator is shown. It needs no Server: a command
// binds before it opens a store, so that a start refused for the address
// or the certificate changes nothing.
func Listen(addr, cert, key string) (ln net.Listener, scheme string, err error) {
	tc, err := TLSConfig(cert, key)
	if err != nil {
		return nil, "", err
	}
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	if tc == nil {
		return ln, "http", nil
	}
	return tls.NewListener(ln, tc), "https", nil
}

// TLSConfig is the TLS configuration of cert and key (PEM files), or nil
// when neither is set.
func TLSConfig(cert, key string) (*tls.Config, error) {
	if cert == "" && key == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		return nil, errors.New("TLS needs both a certificate and a key")
	}
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}
