package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/api"
)

const reorgPassword = "mật-khẩu-dài-đủ"

// apiAs signs in to the dashboard API and returns a function that GETs a
// path as that user: status and error code ("" on success).
func apiAs(t *testing.T, base, username string) (login api.LoginResponse, get func(path string) (int, string)) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": reorgPassword})
	resp, err := http.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s signs in: %s", username, b)
	require.NoError(t, json.Unmarshal(b, &login))
	return login, func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var eb server.ErrorBody
		if resp.StatusCode != http.StatusOK {
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&eb))
			require.NotEmpty(t, eb.Error.Hint)
			require.NotEmpty(t, eb.Error.HintEN)
		}
		return resp.StatusCode, string(eb.Error.Code)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// dashboardAs signs in through the dashboard's form, as a browser does,
// and returns the page it lands on.
func dashboardAs(t *testing.T, base, username string) (int, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(b)
	require.NotNil(t, m, "the sign-in form has a CSRF token: %s", b)
	resp, err = c.PostForm(base+"/login", url.Values{"username": {username}, "password": {reorgPassword}, "csrf": {string(m[1])}, "next": {"/coverage"}})
	require.NoError(t, err)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, "/coverage", resp.Request.URL.Path, "signed in, the browser lands on coverage: %s", b)
	return resp.StatusCode, string(b)
}

// A leader bound to commune code 32002 before the 2025 merger (then Phường
// 4) must not silently become leader of all of An Xuyên, which reuses the
// code: units reorganise lists the accounts and teams bound to a unit whose
// extent changed, such an account signs in to a page that says so and who
// can confirm it, sees no data of the wider unit, and user rebind confirms.
// Against a real server on loopback, on SQLite and on PostgreSQL.
func TestReorganisationDoesNotWidenAccounts(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(reorgPassword+"\n"), 0o600))
	for _, kind := range bothStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "2") // Phường 4
			st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2") // Phường 1, part of An Xuyên from 2025
			for _, u := range [][]string{
				{"lanh-dao-p4", "commune_leader", "32002"},
				{"lanh-dao-p1", "commune_leader", "32005"},
				{"so-tttt", "provincial", "96"},
			} {
				st.ok(t, "user", "add", "--username", u[0], "--name", "Tài khoản "+u[0], "--role", u[1], "--unit", u[2], "--password-file", pwFile)
			}
			st.ok(t, "team", "create", "--commune", "32002", "--name", "Tổ CNTS Phường 4", "--hamlets", "32002-01,32002-02")

			_, url, stop := st.open(t)
			_, get := apiAs(t, url, "lanh-dao-p4")
			status, code := get("/api/v1/units/32005-01")
			require.Equal(t, http.StatusForbidden, status, "before the merger, Phường 1 is not Phường 4's")
			require.Equal(t, "out_of_unit", code)
			stop()

			out := st.ok(t, "units", "reorganise")
			require.Contains(t, out, "lanh-dao-p4", "the account bound to the reused code is listed")
			require.Contains(t, out, "lanh-dao-p1", "the account bound to a retired unit is listed")
			require.NotContains(t, out, "so-tttt", "the province's extent did not change")
			require.Contains(t, out, "Tổ CNTS Phường 4", "the team bound to the reused code is listed")
			require.Contains(t, out, "hamlet-server user rebind lanh-dao-p4")

			_, url, stop = st.open(t)
			login, get := apiAs(t, url, "lanh-dao-p4")
			require.Equal(t, "32002", login.User.UnitCode)
			require.NotEmpty(t, login.User.UnitChangedOn, "the API says the account awaits confirmation")
			for _, path := range []string{"/api/v1/units/32005-01", "/api/v1/units/32002", "/api/v1/coverage?unit=32002-01", "/api/v1/reports", "/api/v1/stats"} {
				status, code = get(path)
				require.Equal(t, http.StatusForbidden, status, "%s: no data of the wider unit until confirmed", path)
				require.Equal(t, "unit_changed", code, path)
			}
			_, provincial := apiAs(t, url, "so-tttt")
			status, code = provincial("/api/v1/units/32005-01")
			require.Equal(t, http.StatusOK, status, code)

			status, page := dashboardAs(t, url, "lanh-dao-p4")
			require.Equal(t, http.StatusForbidden, status)
			require.Contains(t, page, "Địa bàn của tài khoản đã thay đổi")
			require.Contains(t, page, "hamlet-server user rebind --username lanh-dao-p4")
			require.Contains(t, page, "01/07/2025", "dates as people write them (issue 21, item 21)")
			require.NotContains(t, page, "32005-01")
			_, page = dashboardAs(t, url, "lanh-dao-p1")
			require.Contains(t, page, "Địa bàn của tài khoản đã thay đổi")
			require.Contains(t, page, "32002 An Xuyên", "a retired unit's page names its successor, name beside code")
			require.Contains(t, page, "sắp xếp (sáp nhập)", "merged, not dissolved (issue 21, item 21)")
			stop()

			require.Contains(t, st.ok(t, "user", "list"), "chờ xác nhận địa bàn")
			// Applying the same tree again changes no extent: nothing new to confirm.
			require.NotContains(t, st.ok(t, "units", "reorganise"), "so-tttt")

			out = st.ok(t, "user", "rebind", "--username", "lanh-dao-p4")
			require.Contains(t, out, "32002")
			code2, _, errOut := st.cli(t, "user", "rebind", "--username", "lanh-dao-p1")
			require.Equal(t, 1, code2)
			require.Contains(t, errOut, "--unit", "a retired unit cannot be confirmed: say which unit")
			require.Contains(t, errOut, "32002", "and the message names the successor")
			st.ok(t, "user", "rebind", "--username", "lanh-dao-p1", "--unit", "32002")
			require.NotContains(t, st.ok(t, "user", "list"), "chờ xác nhận địa bàn")

			_, url, stop = st.open(t)
			defer stop()
			login, get = apiAs(t, url, "lanh-dao-p4")
			require.Empty(t, login.User.UnitChangedOn)
			status, code = get("/api/v1/units/32005-01")
			require.Equal(t, http.StatusOK, status, "confirmed by the operator: An Xuyên is this leader's now (%s)", code)
			status, page = dashboardAs(t, url, "lanh-dao-p4")
			require.Equal(t, http.StatusOK, status)
			require.NotContains(t, page, "Địa bàn của tài khoản đã thay đổi")
		})
	}
}

// units import of a reorganised tree over an older one reuses codes just
// as units reorganise does, and flags the same accounts.
func TestUnitsImportFlagsReusedCodes(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(pwFile, []byte(reorgPassword+"\n"), 0o600))
	for _, kind := range bothStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "user", "add", "--username", "lanh-dao-p4", "--name", "Lãnh đạo", "--role", "commune_leader", "--unit", "32002", "--password-file", pwFile)
			out := st.ok(t, "units", "import", "--file", dataFile(t, "camau-2025.csv"), "--format", "2025", "--lang", "en")
			require.Contains(t, out, "lanh-dao-p4")
			require.Contains(t, out, "hamlet-server user rebind lanh-dao-p4")
			code, out, _ := st.cli(t, "user", "list", "--json")
			require.Equal(t, 0, code)
			var us []server.User
			require.NoError(t, json.Unmarshal([]byte(out), &us))
			require.Len(t, us, 1)
			require.Equal(t, "2025-07-01", us[0].UnitChangedOn)
		})
	}
}
