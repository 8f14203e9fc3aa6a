package agent

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
)

// movedToHTTPS: a sync to server, an http:// address, failed with err.
// When err is the server's answer that it speaks https only (Go's 400
// "Client sent an HTTP request to an HTTPS server", nginx's "plain HTTP
// request was sent to HTTPS port", a redirect to https:// on the same
// host), the server was moved to https:// after this laptop enrolled:
// the https:// address it points to, on the same host, is tried. When a
// Hamlet server answers there, with a certificate this laptop trusts, and
// takes the device's token (the server checks it before the WebSocket
// opens: no other server holds it), it is the address from now on: stored
// in the enrollment when server is the enrollment's, and returned. Never
// another host, never http://; a certificate that fails stores nothing,
// and the failure is kept in err (ConnectError.HTTPSErr) for its message
// to say what IT staff must do.
func (r *Replica) movedToHTTPS(ctx context.Context, server, token string, opts *SyncOptions, err error) (string, bool) {
	var ce *ConnectError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, errWantsHTTPS) || ce.HTTPS == "" || ctx.Err() != nil {
		return "", false
	}
	from, perr := url.Parse(server)
	to, terr := url.Parse(ce.HTTPS)
	if perr != nil || terr != nil || from.Scheme != "http" || to.Scheme != "https" || !strings.EqualFold(from.Hostname(), to.Hostname()) {
		return "", false
	}
	var sent, recv atomic.Int64
	w, derr := r.dial(ctx, ce.HTTPS, token, opts, &sent, &recv)
	if derr != nil {
		ce.HTTPSErr = derr
		return "", false
	}
	w.close()
	// In one write transaction: the app's roster fetch edits it too.
	if eerr := r.editEnrollment(ctx, func(en *Enrollment) bool {
		if en.Server != server {
			return false // a run's own --server: that run's only
		}
		en.Server = ce.HTTPS
		return true
	}); eerr != nil {
		ce.HTTPSErr = eerr
		return "", false
	}
	return ce.HTTPS, true
}
