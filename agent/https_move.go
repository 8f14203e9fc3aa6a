package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// errNotThisServer: what answered at the https:// address an http://
// server pointed to took the WebSocket but is not the Hamlet server this
// laptop enrolled with: it sent no Welcome (another protocol), or the
// Welcome of another server.
var errNotThisServer = errors.New("what answered there is not the Hamlet server this laptop enrolled with")

// movedToHTTPS: a sync to server, an http:// address, failed with err.
// When err is the server's answer that it speaks https only (Go's 400
// "Client sent an HTTP request to an HTTPS server", nginx's "plain HTTP
// request was sent to HTTPS port", a redirect to https:// on the same
// host), the server may have moved to https:// after this laptop
// enrolled: the https:// address it points to, on the same host, is
// tried. Only when the Hamlet server this laptop enrolled with answers
// there (its Welcome, with the enrollment's server id: welcomedAt), with
// a certificate this laptop trusts, is it followed (ok): stored in the
// enrollment when server is the enrollment's (stored), else for this run
// only (a run's own --server). A redirect, or a WebSocket that opens, is
// not enough: a hostile network can redirect to any service on the host,
// and one stored would leave the laptop never syncing again, with no way
// back. Never another host, never http://; whatever fails stores nothing,
// and the failure is kept in err (ConnectError.HTTPSErr) for its message
// to say what it is and what to do.
func (r *Replica) movedToHTTPS(ctx context.Context, server, token string, opts *SyncOptions, err error) (to string, stored, ok bool) {
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, errWantsHTTPS) || ce.HTTPS == "" || ctx.Err() != nil {
		return "", false, false
	}
	from, perr := url.Parse(server)
	dest, terr := url.Parse(ce.HTTPS)
	if perr != nil || terr != nil || from.Scheme != "http" || dest.Scheme != "https" || !sameHost(from.Hostname(), dest.Hostname()) {
		return "", false, false
	}
	if werr := r.welcomedAt(ctx, ce.HTTPS, token, opts); werr != nil {
		ce.HTTPSErr = werr
		return "", false, false
	}
	// In one write transaction: the app's roster fetch edits it too.
	if eerr := r.editEnrollment(ctx, func(en *Enrollment) bool {
		if en.Server != server {
			return false // a run's own --server: that run's only
		}
		en.Server = ce.HTTPS
		stored = true
		return true
	}); eerr != nil {
		ce.HTTPSErr = eerr
		return "", false, false
	}
	return ce.HTTPS, stored, true
}

// welcomedAt checks that the Hamlet server this laptop enrolled with
// answers at server: it opens a connection with the device's token,
// sends Hello and reads the Welcome, whose server id must be the
// enrollment's (an enrollment from before the id was kept: a Welcome of
// this protocol). Nil when it is; else why not (errNotThisServer when
// what answered is not it).
func (r *Replica) welcomedAt(ctx context.Context, server, token string, opts *SyncOptions) error {
	en, err := r.Enrollment(ctx)
	if err != nil {
		return err
	}
	var sent, recv atomic.Int64
	w, err := r.dial(ctx, server, token, opts, &sent, &recv)
	if err != nil {
		return err
	}
	defer w.close()
	m, err := r.greet(ctx, w, r.now())
	var pe *syncproto.Error
	switch {
	case errors.As(err, &pe):
		// A frame no Hamlet server sends (text, undecodable).
		return fmt.Errorf("hello and welcome: %w (%w)", errNotThisServer, err)
	case err != nil:
		return &ConnectError{URL: server, Err: fmt.Errorf("hello and welcome: %w", err)}
	}
	wel, ok := m.(*syncproto.Welcome)
	switch {
	case !ok:
		return fmt.Errorf("got %s, not a welcome: %w", m.Type(), errNotThisServer)
	case en != nil && en.ServerID != "" && wel.Server.String() != en.ServerID:
		return fmt.Errorf("welcome of another server: %w", errNotThisServer)
	case (en == nil || en.ServerID == "") && wel.Protocol != syncproto.ProtocolVersion:
		return fmt.Errorf("welcome of protocol %d: %w", wel.Protocol, errNotThisServer)
	}
	return nil
}

// sameHost compares two host names (or host:port) as DNS does: ASCII
// letters in either case alike, nothing else folded (strings.EqualFold folds
// Unicode: "localhoſt", with U+017F, would be "localhost").
func sameHost(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if asciiLower(a[i]) != asciiLower(b[i]) {
			return false
		}
	}
	return true
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
