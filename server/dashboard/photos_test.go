package dashboard_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestReportPhotosFollowTheReportsRights: the report page shows the
// photo's server-made thumbnail linking to the full photo; both open for
// exactly the users who may see the report (a leader of another commune
// gets 403, a visitor without a session the sign-in page), and the
// report export lists a link that behaves the same.
func TestReportPhotosFollowTheReportsRights(t *testing.T) {
	ts := servertest.Start(t)
	ctx := context.Background()
	for _, u := range []server.NewUser{
		{Username: "dieu-phoi", DisplayName: "Điều phối", Role: analytics.RoleCoordinator, UnitCode: servertest.CommuneA},
		{Username: "lanh-dao-b", DisplayName: "Lãnh đạo xã B", Role: analytics.RoleCommuneLeader, UnitCode: servertest.CommuneB},
	} {
		u.Password = webPassword
		_, err := ts.Admin.AddUser(ctx, u)
		require.NoError(t, err)
	}
	// A volunteer's device files a report with a photo and sends it.
	row, digest, jpg := reportWithPhoto(t, ts)

	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signIn := func(user string) *http.Client {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		resp, err := c.Get(ts.URL + "/login")
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp, err = c.PostForm(ts.URL+"/login", url.Values{"csrf": {csrfRE.FindStringSubmatch(string(b))[1]}, "username": {user}, "password": {webPassword}})
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return c
	}
	fetch := func(c *http.Client, path string) (int, string, []byte) {
		resp, err := c.Get(ts.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	page := "/reports/" + row.String()
	full, thumb := page+"/photos/"+digest, page+"/photos/"+digest+"/thumb"

	coord := signIn("dieu-phoi")
	st, _, html := fetch(coord, page)
	require.Equal(t, 200, st)
	require.Contains(t, string(html), `<a href="`+full+`"`, "the thumbnail opens the full photo")
	require.Contains(t, string(html), `<img src="`+thumb+`"`)
	st, ct, b := fetch(coord, thumb)
	require.Equal(t, 200, st)
	require.Equal(t, "image/jpeg", ct)
	in, err := photo.Inspect(b, photo.Limits{})
	require.NoError(t, err)
	require.Equal(t, photo.ThumbSide, in.Width, "made on the server")
	_, err = ts.Store.Blob(ctx, server.BlobKey(digest, true))
	require.NoError(t, err, "and kept")
	st, _, b = fetch(coord, full)
	require.Equal(t, 200, st)
	require.Equal(t, jpg, b)
	st, _, _ = fetch(coord, page+"/photos/"+photo.Digest([]byte("another")))
	require.Equal(t, 404, st, "only a photo the report names")

	other := signIn("lanh-dao-b")
	for _, p := range []string{page, thumb, full} {
		st, _, b := fetch(other, p)
		require.Equal(t, 403, st, p)
		require.NotContains(t, string(b), "Rác thải", "a refusal says nothing of the report")
	}
	noSession := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noSession.Get(ts.URL + full)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"))

	// The export's link is the same address, under the same rights.
	st, _, b = fetch(coord, "/api/v1/export/reports.csv?unit="+servertest.CommuneA)
	require.Equal(t, 200, st)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	require.NoError(t, err)
	col := -1
	for i, h := range recs[0] {
		if strings.HasPrefix(h, "Ảnh") {
			col = i
		}
	}
	require.GreaterOrEqual(t, col, 0, "a photos column: %q", recs[0])
	link := ""
	for _, r := range recs[1:] {
		if r[0] == row.String() {
			link = r[col]
		}
	}
	require.Equal(t, ts.URL+full, link)
	st, _, b = fetch(coord, strings.TrimPrefix(link, ts.URL))
	require.Equal(t, 200, st)
	require.Equal(t, jpg, b)
	st, _, _ = fetch(other, strings.TrimPrefix(link, ts.URL))
	require.Equal(t, 403, st)
}
