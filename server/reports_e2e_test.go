package server_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// eachStore runs f against SQLite and, when the PostgreSQL test cluster is
// there (scripts/pg-test.sh), PostgreSQL. Each call of place gives the
// option that opens a server on that subtest's one store, so several
// servers (processes, in production) can share it.
func eachStore(t *testing.T, f func(t *testing.T, place func() servertest.Option)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		f(t, func() servertest.Option { return servertest.WithDataDir(dir) })
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.MigratedDB(t, pgstore.Migrate)
		f(t, func() servertest.Option {
			st, err := pgstore.Open(context.Background(), url, pgstore.Options{Logger: servertest.Logger()})
			require.NoError(t, err)
			return servertest.WithStore(st)
		})
	})
}

// onEachStore runs f against a real server on loopback on each store
// (eachStore), with a commune leader xa-a and a coordinator dieuphoi of
// commune A and the clock at fixedNow.
func onEachStore(t *testing.T, cfg func(*server.Config), f func(t *testing.T, ts *servertest.TS)) {
	eachStore(t, func(t *testing.T, place func() servertest.Option) {
		ts := servertest.Start(t, place(), servertest.WithConfig(func(c *server.Config) {
			c.Now = func() time.Time { return fixedNow }
			if cfg != nil {
				cfg(c)
			}
		}))
		addUser(t, ts.Admin, "xa-a", analytics.RoleCommuneLeader, servertest.CommuneA)
		addUser(t, ts.Admin, "dieuphoi", analytics.RoleCoordinator, servertest.CommuneA)
		f(t, ts)
	})
}

// syncReport has a volunteer of team A submit a field report at submitted
// with the given description, as the agent would, and returns its id.
func syncReport(t *testing.T, ts *servertest.TS, cl *servertest.Client, w *servertest.Writer, submitted time.Time, description string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	hamlet := ts.HamletsA[0]
	fields := []struct {
		f string
		v syncproto.Value
	}{
		{"hamlet_code", syncproto.String(hamlet)}, {"volunteer_id", syncproto.String(uuid.NewString())},
		{"category", syncproto.String(schema.ReportCategories()[1].Code)}, {"description", syncproto.String(description)},
		{"reporter_name", syncproto.String("Trần Thị Hoa")}, {"reporter_phone", syncproto.String("0912345678")},
		{"consent_disclose", syncproto.Bool(false)}, {"status", syncproto.String("submitted")},
		{"submitted_at", syncproto.Int(submitted.UnixMilli())},
	}
	var changes []syncproto.Change
	for _, f := range fields {
		changes = append(changes, w.Write("field_reports", id, f.f, f.v, hamlet))
	}
	ack, err := cl.Push(w.Seq, changes) // any batch number: the ack names it
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	return id
}

// webGet fetches a dashboard page with an API session's cookie.
func webGet(t *testing.T, c *apiClient, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", c.Base+path, nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: c.Token})
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
