package agent_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/apitest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

var transCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func transBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// transCoordinator signs dieuphoi (coordinator, commune A) into the dashboard
// and returns a function posting the report page's transition form.
func transCoordinator(t *testing.T, ts *servertest.TS) func(id, to, agency, reason string) (int, string) {
	apitest.AddUser(t, ts.Admin, "dieuphoi", analytics.RoleCoordinator, servertest.CommuneA)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(ts.URL + "/login")
	require.NoError(t, err)
	m := transCSRF.FindStringSubmatch(transBody(resp))
	require.NotNil(t, m)
	resp, err = c.PostForm(ts.URL+"/login", url.Values{"csrf": {m[1]}, "username": {"dieuphoi"}, "password": {apitest.Password}})
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode, transBody(resp))
	return func(id, to, agency, reason string) (int, string) {
		resp, err := c.Get(ts.URL + "/reports/" + id)
		require.NoError(t, err)
		m := transCSRF.FindStringSubmatch(transBody(resp))
		require.NotNil(t, m)
		resp, err = c.PostForm(ts.URL+"/reports/"+id+"/transition", url.Values{"csrf": {m[1]}, "to": {to}, "agency": {agency}, "reason": {reason}, "back": {"/reports/" + id}})
		require.NoError(t, err)
		b := transBody(resp)
		return resp.StatusCode, b
	}
}

func transReport(t *testing.T, ts *servertest.TS) (*agent.Replica, string, uuid.UUID) {
	a, ta := realAgent(t, ts, ts.TeamA)
	id, err := a.AddReport(context.Background(), uuid.Nil, agent.Fields{"hamlet_code": ts.HamletsA[0], "category": "ha_tang_do_thi",
		"description": "Đèn đường hỏng ở đầu ấp", "reporter_name": "Trần Thị Hoa", "reporter_phone": "0912345678"})
	require.NoError(t, err)
	realSync(t, a, ts, ta)
	return a, ta, id
}

// Handed back, then dispatched again without a reason: the laptop, report
// list and the dashboard showed the hand-back's reason ("not the power
// company's") beside "dispatched" to the commune (helper 135). A reason is
// the latest transition's.
func TestReDispatchWithoutAReasonClearsTheHandBacksReason(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	move := transCoordinator(t, ts)
	a, ta, id := transReport(t, ts)
	for _, s := range [][3]string{{"dispatched", "Điện lực Cà Mau", "Chuyển Điện lực xử lý"},
		{"redispatch", "", "Không đúng thẩm quyền của Điện lực"}, {"dispatched", "UBND xã", ""}} {
		st, b := move(id.String(), s[0], s[1], s[2])
		require.Equal(t, 200, st, b)
	}
	realSync(t, a, ts, ta)
	d, err := a.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	require.Equal(t, "dispatched", d.Fields["status"])
	require.Equal(t, "UBND xã", d.Fields["agency"])
	require.NotEqual(t, "Không đúng thẩm quyền của Điện lực", d.Fields["status_reason"],
		"status_reason still the hand-back's after a re-dispatch without a reason")
}

// A 2000-character reason typed decomposed (NFD, from a Mac or some
// Vietnamese keyboards) is 2000 characters as stored (NFC), but was counted
// before normalising and refused as too long (helper 135).
func TestTransitionReasonIsCountedAsStored(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	move := transCoordinator(t, ts)
	_, _, id := transReport(t, ts)
	st, b := move(id.String(), "returned", "", strings.Repeat("e\u0323\u0302", 2000)) // "ệ" ×2000, NFD
	require.Equal(t, 200, st, regexp.MustCompile(`id="error-hint">[^<]*`).FindString(b))
}
