package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Sign-in of dashboard and API users: the password check, the throttle and
// the sessions. The JSON endpoints (server/api) and the dashboard's form
// (server/dashboard) both sign in through SignIn and resolve a session
// through SessionUser, so they cannot differ on who gets in.

// Sign-in throttling (throttle.go): an account may fail loginFailures times
// from one address, then waits loginDelay, doubled after each further
// failure up to loginMaxDelay; an address over all accounts (password
// spraying; an office behind one NAT address shares it, so the bar is
// higher) the same from loginAddrFailures. The account alone is never
// throttled: whoever knows a username could lock its owner out.
const (
	loginFailures     = 5
	loginAddrFailures = 50
	loginDelay        = 15 * time.Second
	loginMaxDelay     = 15 * time.Minute
	loginForget       = time.Hour // ≥ loginMaxDelay (throttle.sweep)
	throttleCap       = 100_000   // keys per throttle
)

// ErrSignInIncomplete is SignIn's answer to a missing (or absurdly long)
// username or password.
var ErrSignInIncomplete = BadParam("username", "give username and password")

// SignedIn is a session SignIn started.
type SignedIn struct {
	Token   string // the secret the client sends back (cookie or bearer)
	Expires time.Time
	User    User
}

// SignIn checks a username and password sent from the client address addr
// and starts a session. It answers ErrSignInIncomplete, ErrBadCredentials
// (also for a disabled account), a 429 *APIError whose RetryAfter says how
// long the account must wait from addr, or the store's error.
func (s *Server) SignIn(ctx context.Context, username, password, addr string) (SignedIn, error) {
	var us UserStore = s.store
	name := strings.ToLower(strings.TrimSpace(username))
	if name == "" || password == "" || len(name) > 64 || len(password) > 1024 {
		return SignedIn{}, ErrSignInIncomplete
	}
	now := s.now()
	wait, done := s.loginBegin(name, addr, now)
	if wait > 0 {
		s.log.Warn("sign-in refused: too many failures", LogRemote, addr)
		return SignedIn{}, errTooManyLogins(wait)
	}
	defer done()
	var u User
	err := ErrNotFound // a name no account can have (PostgreSQL refuses a NUL in a query)
	if utf8.ValidString(name) && !strings.ContainsRune(name, 0) {
		u, err = us.UserByName(ctx, name)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		CheckPassword(dummyHash(), password) // same time as a wrong password
	case err != nil:
		s.log.Error("sign-in: read user", LogErr, err)
		return SignedIn{}, err
	}
	if err != nil || !CheckPassword(u.PasswordHash, password) || u.Disabled != nil {
		s.loginFailed(name, addr, now)
		s.log.Info("sign-in failed", LogRemote, addr)
		return SignedIn{}, ErrBadCredentials
	}
	s.loginSucceeded(name, addr)
	tok, exp, err := s.newUserSession(ctx, u, now)
	if err != nil {
		s.log.Error("sign-in: store session", LogErr, err)
		return SignedIn{}, err
	}
	s.log.Info("signed in", "user", u.ID, "role", string(u.Role))
	return SignedIn{Token: tok, Expires: exp, User: u}, nil
}

// newUserSession stores a fresh session for u and returns its token.
func (s *Server) newUserSession(ctx context.Context, u User, now time.Time) (string, time.Time, error) {
	var us UserStore = s.store
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	exp := now.Add(SessionTTL)
	if err := us.PutSession(ctx, UserSession{TokenHash: hashSessionToken(tok), UserID: u.ID, Created: now, Expires: exp}); err != nil {
		return "", time.Time{}, err
	}
	return tok, exp, nil
}

// SessionUser is the enabled user of an unexpired session token;
// ErrNotFound when there is no such session (or no token).
func (s *Server) SessionUser(ctx context.Context, token string) (User, error) {
	var us UserStore = s.store
	if token == "" || len(token) > 200 {
		return User{}, ErrNotFound
	}
	return us.SessionUser(ctx, hashSessionToken(token), s.now())
}

// SignOut ends the session of token, if there is one.
func (s *Server) SignOut(ctx context.Context, token string) error {
	var us UserStore = s.store
	if token == "" {
		return nil
	}
	return us.DeleteSession(ctx, hashSessionToken(token))
}
