package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/api"
)

// Password is the password AddUser gives every user.
const Password = "mật-khẩu-thử-123"

// AddUser adds a dashboard user with Password, bound to unit.
func AddUser(t testing.TB, a *server.Admin, username string, role analytics.Role, unit string) {
	t.Helper()
	_, err := a.AddUser(context.Background(), server.NewUser{Username: username, DisplayName: "Người dùng " + username, Role: role, UnitCode: unit, Password: Password})
	require.NoError(t, err)
}

// Session calls the API at Base as one signed-in user (Token, sent as the
// bearer token), or as nobody when Token is empty. Every answer is
// checked against the document (Client).
type Session struct {
	T     testing.TB
	Base  string
	Token string
}

// SignIn signs username in with Password.
func SignIn(t testing.TB, base, username string) *Session {
	t.Helper()
	c := &Session{T: t, Base: base}
	st, b := c.Do("POST", Prefix+"/login", map[string]string{"username": username, "password": Password})
	require.Equal(t, 200, st, string(b))
	var lr api.LoginResponse
	require.NoError(t, json.Unmarshal(b, &lr))
	require.NotEmpty(t, lr.Token)
	c.Token = lr.Token
	return c
}

// Do sends a request with body (nil: none; else JSON) and returns the
// status and the body of the answer.
func (c *Session) Do(method, path string, body any) (int, []byte) {
	c.T.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.T, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	require.NoError(c.T, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := Client(c.T).Do(req)
	require.NoError(c.T, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(c.T, err)
	return resp.StatusCode, b
}

// Get sends a GET and, when it answers 200, decodes the body into v (if
// not nil).
func (c *Session) Get(path string, v any) int {
	c.T.Helper()
	st, b := c.Do("GET", path, nil)
	if v != nil && st == 200 {
		require.NoError(c.T, json.Unmarshal(b, v), string(b))
	}
	return st
}

// ErrorOf decodes an error answer and requires both its hints.
func ErrorOf(t testing.TB, b []byte) server.ErrorDetail {
	t.Helper()
	var eb server.ErrorBody
	require.NoError(t, json.Unmarshal(b, &eb), string(b))
	require.NotEmpty(t, eb.Error.Hint)
	require.NotEmpty(t, eb.Error.HintEN)
	return eb.Error
}
