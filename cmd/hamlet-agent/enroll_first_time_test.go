package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

func startLenient(t *testing.T) *servertest.TS {
	return servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.EnrollFailures = 1000 }))
}

// 1. A code pasted from Zalo carries invisible or stray characters around
// (or inside) the 8 symbols: the code is right, the agent refuses it with
// "check each character", and every such try counts toward the server's
// wrong-code throttle.
func TestEnrollPastedCodeAccepted(t *testing.T) {
	t.Parallel()
	ts := startLenient(t)
	for name, f := range map[string]func(string) string{
		"zero-width space after":  func(c string) string { return c + "\u200b" },
		"zero-width space inside": func(c string) string { return c[:4] + "\u200b" + c[4:] },
		"no-break space as dash":  func(c string) string { return c[:4] + "\u00a0" + c[5:] },
		"trailing period":         func(c string) string { return c + "." },
		"in quotes":               func(c string) string { return `"` + c + `"` },
		"in Zalo quotes":          func(c string) string { return "“" + c + "”" },
		"the whole Zalo line":     func(c string) string { return "Mã đăng ký: " + c + ", hạn 24 giờ" },
	} {
		t.Run(name, func(t *testing.T) {
			code := f(ts.EnrollCode(t, ts.TeamA))
			r := cli(t, t.TempDir(), "enroll", "--server", ts.URL, "--code", code)
			assert.Equal(t, 0, r.code, "code %q: %s", code, r.stderr)
		})
	}
}

// 2. Telex/VNI left on turns the code's letters into Vietnamese ones
// (DD→Đ, W→Ư, AS→Á; VNI A2→À). The volunteer reads only "the code is
// wrong, check each character": nothing says the input method did it.
func TestEnrollTelexCodeSaysInputMethod(t *testing.T) {
	t.Parallel()
	ts := startLenient(t)
	for _, code := range []string{"ĐƯ3Á-K7MN", "À3BC-DEF2"} {
		r := cli(t, t.TempDir(), "enroll", "--server", ts.URL, "--code", code)
		require.NotEqual(t, 0, r.code)
		low := strings.ToLower(r.stderr)
		assert.True(t, strings.Contains(low, "bộ gõ") || strings.Contains(low, "unikey") || strings.Contains(low, "telex"),
			"code %q: nothing says the Vietnamese input method changed the code:\n%s", code, r.stderr)
	}
}

// 3. After the server's wrong-code limit (10 from one address: a commune
// office behind one connection, or a few Telex tries), the RIGHT code is
// refused with "the code is wrong, check each character"; nothing says to
// wait (the server sends 429 and Retry-After).
func TestEnrollThrottledSaysWait(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	for i := 0; i < 10; i++ {
		cli(t, t.TempDir(), "enroll", "--server", ts.URL, "--code", "ABCD-EFGH")
	}
	r := cli(t, t.TempDir(), "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	require.NotEqual(t, 0, r.code)
	assert.NotContains(t, r.stderr, "không đúng", "the right code is called wrong")
	assert.Contains(t, r.stderr, "phút", "nothing says to wait:\n%s", r.stderr)
}

// 4. The address read over the phone as "IP:port" (the server's default is
// plain HTTP on :8750): the agent assumes https, the TLS handshake meets
// HTTP, and the volunteer reads "cannot reach https://…, check the network
// (4G/Wi-Fi)" – the server answered.
func TestEnrollAddressWithoutSchemeHTTPServer(t *testing.T) {
	t.Parallel()
	ts := startLenient(t)
	hostport := strings.TrimPrefix(ts.URL, "http://")
	r := cli(t, t.TempDir(), "enroll", "--server", hostport, "--code", ts.EnrollCode(t, ts.TeamA))
	if r.code != 0 {
		assert.Contains(t, r.stderr, "http://"+hostport, "neither enrolled nor told to type http://:\n%s", r.stderr)
	}
}

// 5. An https server with a self-signed certificate: the volunteer reads
// "cannot reach the server, check the network (4G/Wi-Fi)"; nothing says
// the laptop does not trust the server's certificate (IT staff's job).
func TestEnrollSelfSignedSaysCertificate(t *testing.T) {
	t.Parallel()
	ts := startLenient(t)
	certFile, keyFile := selfSignedCert(t)
	ln, _, err := server.Listen("127.0.0.1:0", certFile, keyFile)
	require.NoError(t, err)
	hs := &http.Server{Handler: httpapp.Handler(ts.Server), ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	r := cli(t, t.TempDir(), "enroll", "--server", "https://"+ln.Addr().String(), "--code", ts.EnrollCode(t, ts.TeamA))
	require.NotEqual(t, 0, r.code)
	assert.Contains(t, r.stderr, "chứng chỉ", "nothing says the certificate is not trusted:\n%s", r.stderr)
}

// 6. Enrolling twice: the coordinator sent a second code, the laptop is
// already enrolled and syncing. The volunteer is told the laptop "is still
// enrolled on an active device" and to have IT staff revoke the old
// device – the active device is this very laptop, which needs nothing.
func TestEnrollAgainWhileEnrolledSaysAlreadyEnrolled(t *testing.T) {
	t.Parallel()
	ts := startLenient(t)
	dir := t.TempDir()
	require.Equal(t, 0, cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA)).code)
	require.Equal(t, 0, cli(t, dir, "sync").code)
	r := cli(t, dir, "enroll", "--server", ts.URL, "--code", ts.EnrollCode(t, ts.TeamA))
	fmt.Println(r.stderr)
	assert.NotContains(t, r.stderr, "thu hồi thiết bị cũ", "told to revoke the device that is this working laptop")
	assert.Contains(t, r.stderr, "đã được đăng ký", "nothing says this laptop is already enrolled")
}

func selfSignedCert(t *testing.T) (string, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hamlet"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	c, k := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(k, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return c, k
}
