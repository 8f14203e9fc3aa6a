package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A province on SQLite moves to PostgreSQL: migrate-store copies and
// verifies it, and a laptop enrolled on SQLite syncs with the PostgreSQL
// server on its old token, replica sequence and cursor.
func TestMigrateStoreToPostgres(t *testing.T) {
	url := pgtest.FreshDB(t) // not MigratedDB: the operator's target is a new database (createdb)
	ctx := context.Background()
	dir := t.TempDir()

	srv, err := servertest.Open(ctx, dir, "NORMAL", server.Config{Logger: servertest.Logger(), GCInterval: -1})
	require.NoError(t, err)
	res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{Reorganise: true})
	require.NoError(t, err)
	code, _, err := srv.Admin().IssueCode(ctx, res.Structure.Teams[0].Members[0].ID, time.Hour)
	require.NoError(t, err)
	hs := httptest.NewServer(httpapp.Handler(srv))
	replica := uuid.New()
	er, status, eb, err := servertest.Enroll(ctx, hs.URL, code, replica, "máy thử")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	c, _, _, err := servertest.Dial(ctx, hs.URL, er.Token)
	require.NoError(t, err)
	wl, err := c.Hello(replica)
	require.NoError(t, err)
	hamlet := wl.Scope[0]
	w := servertest.NewWriter(replica, nil)
	_, err = c.Push(1, w.Household(uuid.New(), hamlet, "Hộ thử"))
	require.NoError(t, err)
	before, _, cur, err := c.PullAll(0)
	require.NoError(t, err)
	require.NotEmpty(t, before)
	require.NoError(t, c.Send(&syncproto.Pull{Cursor: cur, Durable: cur})) // the agent says it holds cur
	_, err = c.RecvAnswer()
	require.NoError(t, err)
	c.Close()
	hs.Close()
	oldID := srv.ID()
	require.NoError(t, srv.Close())

	code2, out, errOut := cli(t, dir, "migrate-store", "--lang", "en", "--to", url, "--batch", "1000")
	require.Zero(t, code2, "%s", errOut)
	require.Contains(t, out, "sync_log")
	require.Contains(t, out, "Copied and verified")
	t.Logf("%s", out)
	code2, _, errOut = cli(t, dir, "migrate-store", "--lang", "en", "--to", url)
	require.NotZero(t, code2)
	require.Contains(t, errOut, "already holds a deployment")

	st, err := pgstore.Open(ctx, url, pgstore.Options{Logger: servertest.Logger()})
	require.NoError(t, err)
	pg, err := server.OpenWithStore(ctx, server.Config{Logger: servertest.Logger(), GCInterval: -1}, st)
	require.NoError(t, err)
	defer pg.Close()
	require.Equal(t, oldID, pg.ID(), "the server keeps its id")
	phs := httptest.NewServer(httpapp.Handler(pg))
	defer phs.Close()
	devs, err := pg.Admin().ListDevices(ctx)
	require.NoError(t, err)
	require.Len(t, devs, 1)
	require.Equal(t, cur, devs[0].Cursor, "the device's acknowledged cursor came along")

	pc, status, eb, err := servertest.Dial(ctx, phs.URL, er.Token)
	require.NoError(t, err, "the old token works: %d %+v", status, eb)
	defer pc.Close()
	pw, err := pc.Hello(replica)
	require.NoError(t, err)
	require.Equal(t, oldID, pw.Server)
	require.Equal(t, uint64(2), pw.PushedSeq, "the replica's sequence came along")
	m, err := pc.Pull(cur, 0) // the old cursor is valid: nothing new
	require.NoError(t, err)
	require.Empty(t, m.Changes)
	require.Equal(t, cur, m.To)
	after, _, _, err := pc.PullAll(0) // and the same log from the start
	require.NoError(t, err)
	require.Equal(t, before, after)
	ack, err := pc.Push(3, w.Household(uuid.New(), hamlet, "Hộ thử"))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)

	// A laptop enrolled after the move gets a new replica index (the
	// identity sequences moved past the copied ones) and syncs too.
	code3, _, err := pg.Admin().IssueCode(ctx, res.Structure.Teams[0].Members[1].ID, time.Hour)
	require.NoError(t, err)
	r3 := uuid.New()
	er3, status, eb, err := servertest.Enroll(ctx, phs.URL, code3, r3, "máy mới")
	require.NoError(t, err)
	require.Equal(t, 200, status, "%+v", eb)
	c3, _, _, err := servertest.Dial(ctx, phs.URL, er3.Token)
	require.NoError(t, err)
	defer c3.Close()
	_, err = c3.Hello(r3)
	require.NoError(t, err)
	w3 := servertest.NewWriter(r3, nil)
	ack, err = c3.Push(1, w3.Household(uuid.New(), hamlet, "Hộ thử"))
	require.NoError(t, err)
	require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
	got, _, _, err := c3.PullAll(0)
	require.NoError(t, err)
	require.Len(t, got, len(before)+4, "everything but its own changes, and both households of the first laptop")
}
