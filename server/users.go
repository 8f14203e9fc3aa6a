package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// User is a dashboard or API user: a commune leader, provincial staff, a
// report coordinator or an operator, bound to one admin unit. DisplayName is
// personal data: never log it (log the id).
type User struct {
	ID           string         `json:"id"`
	Username     string         `json:"username"`
	DisplayName  string         `json:"display_name"`
	Role         analytics.Role `json:"role"`
	UnitCode     string         `json:"unit_code"`
	Created      time.Time      `json:"created"`
	Disabled     *time.Time     `json:"disabled,omitempty"`
	PasswordHash string         `json:"-"`

	// UnitChangedOn is set (the day, YYYY-MM-DD) while the account awaits
	// the operator's confirmation of its unit, whose extent a
	// reorganisation changed (Admin.RebindUser): until then it sees no data.
	UnitChangedOn string `json:"unit_changed_on,omitempty"`
}

// UserSession is a signed-in session, stored as the hash of its token so
// several server processes sharing a database share it.
type UserSession struct {
	TokenHash []byte
	UserID    string
	Created   time.Time
	Expires   time.Time
}

// UserStore is what sign-in and the user commands need of a store.
type UserStore interface {
	// AddUser creates u; ErrConflict when the username is taken.
	AddUser(ctx context.Context, u User) error
	// UserByName finds a user by username, case-insensitively (ErrNotFound).
	UserByName(ctx context.Context, username string) (User, error)
	Users(ctx context.Context) ([]User, error)
	// DisableUser disables a user and ends their sessions (ErrNotFound).
	DisableUser(ctx context.Context, username string, at time.Time) error
	PutSession(ctx context.Context, s UserSession) error
	// SessionUser is the enabled user of an unexpired session (ErrNotFound).
	SessionUser(ctx context.Context, tokenHash []byte, now time.Time) (User, error)
	DeleteSession(ctx context.Context, tokenHash []byte) error
	// RebindUser binds a user to unitCode and clears UnitChangedOn
	// (ErrNotFound).
	RebindUser(ctx context.Context, username, unitCode string) error
}

// SessionTTL is how long a dashboard session lasts.
const SessionTTL = 12 * time.Hour

// SessionCookie is the dashboard's session cookie.
const SessionCookie = "hamlet_session"

// argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane), which
// takes about 30 ms on a server core.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPassword hashes a password with argon2id and a fresh random salt, in
// the PHC string form, so the parameters can be raised later.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(norm.NFC.String(password)), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a HashPassword hash, in
// constant time. A password is hashed NFC (HashPassword), so one with
// Vietnamese letters works whichever form the keyboard types (Unikey's
// "dựng sẵn" is NFC, "tổ hợp" NFD); a hash made before, of the password
// as it was typed, still matches that.
func CheckPassword(hash, password string) bool {
	if checkPassword(hash, norm.NFC.String(password)) {
		return true
	}
	return !norm.NFC.IsNormalString(password) && checkPassword(hash, password)
}

func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 || m > 1<<20 || t > 16 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when a username is unknown, so a wrong username
// takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("not a password")
	return h
})

func hashSessionToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// MinPasswordLen is the shortest password user add accepts.
const MinPasswordLen = 10

// NewUser describes a user to create.
type NewUser struct {
	Username    string
	DisplayName string
	Role        analytics.Role
	UnitCode    string
	Password    string
}

// AddUser creates a dashboard user bound to an admin unit that exists and is
// in force. Provincial staff and operators are usually bound to the
// province, a commune leader to their commune.
func (a *Admin) AddUser(ctx context.Context, nu NewUser) (User, error) {
	var us UserStore = a.s.store
	nu.Username = strings.ToLower(strings.TrimSpace(nu.Username))
	nu.DisplayName = strings.TrimSpace(norm.NFC.String(nu.DisplayName))
	switch {
	case !usernameRE.MatchString(nu.Username):
		return User{}, fmt.Errorf("add user: username must be 3-64 lowercase letters, digits, '.', '_' or '-'")
	case nu.DisplayName == "" || utf8.RuneCountInString(nu.DisplayName) > 100:
		return User{}, fmt.Errorf("add user: display name must be 1-100 characters")
	case !utf8.ValidString(nu.DisplayName) || strings.ContainsFunc(nu.DisplayName, unicode.IsControl):
		return User{}, fmt.Errorf("add user: display name must be Unicode (UTF-8) text without control characters")
	case !nu.Role.Valid():
		return User{}, fmt.Errorf("add user: role must be provincial, commune_leader, coordinator or operator, not %q", nu.Role)
	case utf8.RuneCountInString(nu.Password) < MinPasswordLen:
		return User{}, fmt.Errorf("add user: the password must have at least %d characters", MinPasswordLen)
	case len(nu.Password) > 1024:
		return User{}, fmt.Errorf("add user: the password is longer than 1024 bytes")
	}
	units, err := a.s.store.Units(ctx, "", "")
	if err != nil {
		return User{}, err
	}
	var unit *schema.AdminUnit
	for i := range units {
		if units[i].Code == nu.UnitCode {
			unit = &units[i]
		}
	}
	switch {
	case unit == nil:
		return User{}, fmt.Errorf("add user: unit %q: %w (import the units first)", nu.UnitCode, ErrNotFound)
	case unit.RetiredOn != "":
		return User{}, fmt.Errorf("add user: unit %s was retired on %s; bind the user to its successor", unit.Code, unit.RetiredOn)
	case nu.Role == analytics.RoleCommuneLeader && unit.Level != schema.LevelCommune:
		return User{}, fmt.Errorf("add user: a commune leader is bound to a commune, and %s is a %s", unit.Code, unit.Level)
	}
	hash, err := HashPassword(nu.Password)
	if err != nil {
		return User{}, err
	}
	u := User{ID: uuid.NewString(), Username: nu.Username, DisplayName: nu.DisplayName, Role: nu.Role, UnitCode: nu.UnitCode,
		Created: a.s.now().UTC().Truncate(time.Millisecond), PasswordHash: hash}
	if err := us.AddUser(ctx, u); err != nil {
		return User{}, fmt.Errorf("add user %s: %w", u.Username, err)
	}
	a.s.log.Info("user added", "user", u.ID, "role", string(u.Role), "unit", u.UnitCode)
	return u, nil
}

// Users lists the dashboard users.
func (a *Admin) Users(ctx context.Context) ([]User, error) {
	var us UserStore = a.s.store
	return us.Users(ctx)
}

// DisableUser disables a user and signs them out everywhere.
func (a *Admin) DisableUser(ctx context.Context, username string) error {
	var us UserStore = a.s.store
	if err := us.DisableUser(ctx, strings.ToLower(strings.TrimSpace(username)), a.s.now()); err != nil {
		return fmt.Errorf("disable user %s: %w", username, err)
	}
	a.s.log.Info("user disabled")
	return nil
}

// loginBegin is how long a sign-in of name from addr must still wait; when
// it may go ahead (0) the try is reserved in both throttles until done is
// called (after loginFailed or loginSucceeded), so sign-ins sent at once
// cannot all pass the throttle before any of them has failed.
func (s *Server) loginBegin(name, addr string, now time.Time) (wait time.Duration, done func()) {
	pk, ak := loginKey(name, addr), addrKey(addr)
	if w := s.loginPair.begin(pk, now); w > 0 {
		return w, nil
	}
	if w := s.loginAddr.begin(ak, now); w > 0 {
		s.loginPair.end(pk)
		return w, nil
	}
	return 0, func() { s.loginPair.end(pk); s.loginAddr.end(ak) }
}

func (s *Server) loginFailed(name, addr string, now time.Time) {
	s.loginPair.fail(loginKey(name, addr), now)
	s.loginAddr.fail(addrKey(addr), now)
}

// loginSucceeded forgets the account's failures from addr; the address's
// failures over all accounts stay (a sprayer's one good guess does not
// clear the others).
func (s *Server) loginSucceeded(name, addr string) {
	s.loginPair.reset(loginKey(name, addr))
}

func loginKey(name, addr string) string { return name + "\x00" + addrKey(addr) }
