package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key
// as PEM files, and returns them with a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "hamlet test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With Config.TLSCert and TLSKey the server's listener (the one
// `hamlet-server serve` uses) speaks HTTPS and WSS only: enrollment over
// HTTPS, the agent syncing over wss://, a client that does not trust the
// certificate refused.
func TestTLSServesHTTPSAndWSS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }))
	ln, scheme, err := server.Listen("127.0.0.1:0", certFile, keyFile)
	require.NoError(t, err)
	require.Equal(t, "https", scheme)
	hs := &http.Server{Handler: httpapp.Handler(ts.Server), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	base := "https://" + ln.Addr().String()
	tlsCfg := &tls.Config{RootCAs: pool}
	ctx := context.Background()

	// Plain HTTP on the TLS port gets no answer a client could use.
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		require.NotEqual(t, http.StatusOK, resp.StatusCode)
		resp.Body.Close()
	}
	// A client that does not trust the certificate is refused.
	_, err = http.Get(base + "/healthz")
	require.Error(t, err)
	var uerr x509.UnknownAuthorityError
	require.ErrorAs(t, err, &uerr)

	// Enrollment over HTTPS.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg}, Timeout: 10 * time.Second}
	a := agenttest.New(t)
	body, _ := json.Marshal(syncproto.EnrollRequest{Code: ts.EnrollCode(t, ts.TeamA), ReplicaID: a.ID().String(), Label: "tls", Client: "test"})
	resp, err := hc.Post(base+"/v1/enroll", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	var er syncproto.EnrollResponse
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&er))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.True(t, resp.TLS != nil && resp.TLS.HandshakeComplete)

	// The agent's client over wss://: push a household.
	opts := agent.SyncOptions{TLS: tlsCfg, IOTimeout: 10 * time.Second}
	hh, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Trần Văn Ba"})
	require.NoError(t, err)
	sum, err := a.Sync(ctx, base, er.Token, opts)
	require.NoError(t, err)
	require.Positive(t, sum.Pushed)

	// A second agent, enrolled by the agent's own code, pulls it over wss://.
	b := agenttest.New(t)
	tb, _, err := b.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "tls b")
	require.NoError(t, err)
	sum, err = b.Sync(ctx, base, tb, opts)
	require.NoError(t, err)
	require.Positive(t, sum.Pulled+sum.Cloned) // a first sync clones by snapshot
	_, err = b.Show(ctx, "households", hh.String())
	require.NoError(t, err)

	// The WebSocket really is wss: a raw dial with the pool says Hello.
	d := websocket.Dialer{TLSClientConfig: tlsCfg, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial(servertest.SyncURL(base), http.Header{"Authorization": {"Bearer " + tb}})
	require.NoError(t, err)
	c := &servertest.Client{WS: ws, Limits: syncproto.DefaultLimits, Timeout: 5 * time.Second}
	defer c.Close()
	require.Equal(t, "wss", servertest.SyncURL(base)[:3])
	_, err = c.Hello(b.ID())
	require.NoError(t, err)
}
