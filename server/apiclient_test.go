package server_test

import (
	"testing"
	"time"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/apitest"
)

// The API as these end-to-end tests call it (apitest.Session).

type apiClient = apitest.Session

const testPassword = apitest.Password

func addUser(t testing.TB, a *server.Admin, username string, role analytics.Role, unit string) {
	t.Helper()
	apitest.AddUser(t, a, username, role, unit)
}

func login(t testing.TB, base, username string) *apiClient {
	t.Helper()
	return apitest.SignIn(t, base, username)
}

func apiError(t testing.TB, b []byte) server.ErrorDetail {
	t.Helper()
	return apitest.ErrorOf(t, b)
}

var fixedNow = time.Date(2026, 11, 16, 9, 0, 0, 0, time.FixedZone("ICT", 7*3600)) // a Monday
