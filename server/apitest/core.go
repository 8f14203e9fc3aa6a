package apitest

import (
	"context"
	"net/http"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// FailingCore is a core (api.Core; the dashboard needs the same) every call
// of which fails with Err: what an endpoint or a page answers then depends
// on no store. Its clock stands at At.
type FailingCore struct {
	Err error
	At  time.Time
}

func (f FailingCore) Track(h http.HandlerFunc) http.HandlerFunc { return h }
func (f FailingCore) Now() time.Time                            { return f.At }
func (f FailingCore) Analytics() (*analytics.Index, error)      { return nil, f.Err }
func (f FailingCore) SignIn(context.Context, string, string, string) (server.SignedIn, error) {
	return server.SignedIn{}, f.Err
}
func (f FailingCore) SessionUser(context.Context, string) (server.User, error) {
	return server.User{}, f.Err
}
func (f FailingCore) SignOut(context.Context, string) error { return f.Err }
func (f FailingCore) Photo(context.Context, string, bool) ([]byte, error) {
	return nil, f.Err
}
func (f FailingCore) Transition(context.Context, syncproto.RowID, server.TransitionRequest) (server.TransitionResult, error) {
	return server.TransitionResult{}, f.Err
}
