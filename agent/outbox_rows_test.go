package agent_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestImportedLogPushedInPieces: an import's compact change log (one entry
// per row) reaches the real server field for field when everything that
// splits an entry happens to it: pushes of 7 changes (entries cut across
// batches), the first Ack lost (Welcome.PushedSeq lands inside an entry),
// the server refusing every field of the rows in a hamlet the team lost,
// a local edit of an imported row before the sync (its base is an entry's
// change), the clock restamping what was never sent. At the end nothing is
// pending, each refused field is in the rejected list, a fresh laptop holds
// exactly the accepted rows with the edit, and the replica's invariants
// hold (agenttest checks them at cleanup).
func TestImportedLogPushedInPieces(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	a, tok := realAgent(t, ts, ts.TeamA)
	// A stale scope: the laptop still takes HamletsB[0], the server refuses it.
	e, err := a.Enrollment(ctx)
	require.NoError(t, err)
	e.Scope = append(e.Scope, agent.Hamlet{Code: ts.HamletsB[0]})
	require.NoError(t, a.SetEnrollment(ctx, e))

	sh := &agent.ImportSheet{Rows: [][]string{{"Họ tên chủ hộ", "Mã ấp", "Địa chỉ", "Số điện thoại", "Số nhân khẩu"}}}
	for i := 0; i < 30; i++ {
		h := ts.HamletsA[0]
		if i%3 == 2 {
			h = ts.HamletsB[0]
		}
		sh.Rows = append(sh.Rows, []string{fmt.Sprintf("Hộ nhập %d", i), h, fmt.Sprintf("Số %d", i), fmt.Sprintf("09%08d", i), fmt.Sprint(1 + i%5)})
	}
	res, err := a.Import(ctx, sh, agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 30, res.Imported)
	pending, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, res.Changes, pending)

	hs, err := a.Search(ctx, "Hộ nhập 4", agent.ListOptions{})
	require.NoError(t, err)
	edited := ""
	for _, h := range hs {
		if h.Str("head_name") == "Hộ nhập 4" {
			edited = h.ID
		}
	}
	require.NotEmpty(t, edited)
	require.NoError(t, a.EditHousehold(ctx, uuid.MustParse(edited), agent.Fields{"phone": "0911111111"}))

	proxy, dropped := ackDropProxy(t, ts.URL[len("http://"):])
	opts := agent.SyncOptions{IOTimeout: 5 * time.Second, BatchSize: 7}
	s, err := a.Sync(ctx, proxy, tok, opts)
	require.EqualValues(t, 1, dropped.Load(), "the first session's Ack was dropped")
	if err != nil {
		s, err = a.Sync(ctx, proxy, tok, opts)
	}
	require.NoError(t, err)
	require.NotZero(t, s.Rejected)

	left, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	refusedRows := map[string]bool{}
	for _, x := range rej {
		require.Equal(t, "out_of_scope", x.Code)
		require.Equal(t, ts.HamletsB[0], x.Hamlet)
		refusedRows[x.Row] = true
	}
	require.Len(t, refusedRows, 10, "every field of the 10 rows out of scope refused")
	require.Equal(t, res.Changes/30*10, len(rej))
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, len(rej), st.Rejected)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	got, err := b.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, got, 20)
	for _, h := range got {
		require.False(t, refusedRows[h.ID])
		want := ""
		fmt.Sscanf(h.Str("head_name"), "Hộ nhập %s", &want)
		require.NotEmpty(t, want)
		if h.ID == edited {
			require.Equal(t, "0911111111", h.Str("phone"))
		} else {
			require.Equal(t, "09"+fmt.Sprintf("%08s", want), h.Str("phone"))
		}
		require.Equal(t, "Số "+want, h.Str("address"))
	}
}

// TestPerFieldLogOfOldReplicaStillPushed: a replica written before the
// compact log (its outbox holds one row per field, and it has no
// outbox_rows table) is upgraded on open and pushes what it queued, beside
// an import made after the upgrade.
func TestPerFieldLogOfOldReplicaStillPushed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "replica.db")
	a, err := agent.Open(ctx, path)
	require.NoError(t, err)
	tok, _, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy cũ")
	require.NoError(t, err)
	old, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ ghi trước", "phone": "0912345678"})
	require.NoError(t, err)
	require.NoError(t, a.Close())

	// Back to the format before the migration.
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `DROP TABLE outbox_rows; DROP TABLE own_away; DROP TABLE own_away_hist; ALTER TABLE photos DROP COLUMN away_held; ALTER TABLE photos DROP COLUMN away; DELETE FROM schema_migrations WHERE set_name = 'agent' AND version >= 6;
		DELETE FROM agent_meta WHERE key = 'restate_after'; ALTER TABLE row_state ADD COLUMN folded TEXT NOT NULL DEFAULT ''`)
	require.NoError(t, err)
	var perField int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE state = 0`).Scan(&perField))
	require.Greater(t, perField, 2)
	require.NoError(t, db.Close())

	a = agenttest.Open(t, path)
	n, err := a.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, perField, n, "the old log read after the upgrade")
	res, err := a.Import(ctx, &agent.ImportSheet{Rows: [][]string{{"Họ tên chủ hộ", "Mã ấp"}, {"Hộ nhập sau", ts.HamletsA[0]}}}, agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, res.Imported)
	s, err := a.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.NoError(t, err)
	require.Equal(t, perField+res.Changes, s.Pushed)
	require.Zero(t, s.Rejected)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	h, err := b.Show(ctx, "households", old.String())
	require.NoError(t, err)
	require.Equal(t, "0912345678", h.Str("phone"))
	hs, err := b.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, hs, 2)
}

// TestImportedStampsRestamped: a laptop whose clock is 4 minutes behind
// imports a list before its first sync, so the compact log stamps every
// field 4 minutes early (the server admits stamps from the past as they
// are). The sync restamps them into the clock's bound before pushing, as
// it does per-field writes: every replica then holds the same stamp, within
// seconds of the real time, and an edit made 3 s later on a laptop with a
// right clock wins on every replica, the importing one included.
func TestImportedStampsRestamped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = real.now }))
	ahead := laptopClock{real: real, start: real.now(), shift: -4 * time.Minute}
	a := agenttest.New(t, agent.Options{Now: ahead.now})
	ta, e, err := a.Enroll(ctx, ts.URL, ts.EnrollCode(t, ts.TeamA), "máy chậm")
	require.NoError(t, err)
	require.NotEmpty(t, e.Scope)
	_, err = a.Import(ctx, &agent.ImportSheet{Rows: [][]string{{"Họ tên chủ hộ", "Mã ấp", "Số điện thoại", "Ngày đăng ký"},
		{"Hộ nhập trước", ts.HamletsA[0], "0901234567", "15/07/2025"}, {"Hộ khác", ts.HamletsA[0], "0907654321", "15/07/2025"}}}, agent.ImportOptions{})
	require.NoError(t, err)
	s := realSync(t, a, ts, ta)
	require.Zero(t, s.Rejected)

	b, tb := realAgent(t, ts, ts.TeamA)
	realSync(t, b, ts, tb)
	real.advance(3 * time.Second)
	hs, err := b.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, hs, 2)
	var id string
	for _, h := range hs {
		if h.Str("head_name") == "Hộ nhập trước" {
			id = h.ID
		}
	}
	require.NotEmpty(t, id)
	// One version, one stamp, on every replica, and within the bound.
	da, err := a.Show(ctx, "households", id)
	require.NoError(t, err)
	db, err := b.Show(ctx, "households", id)
	require.NoError(t, err)
	stamps := func(d *agent.Detail) map[string]uint64 {
		m := map[string]uint64{}
		for _, fh := range d.History {
			for _, v := range fh.Versions {
				if v.Current {
					m[fh.Field] = v.HLC
				}
			}
		}
		return m
	}
	require.Equal(t, stamps(db), stamps(da), "the importer's stamps are the server's")
	for _, fh := range db.History {
		for _, v := range fh.Versions {
			require.WithinDuration(t, real.now(), v.At, 5*time.Second, "%s stamped within the bound", fh.Field)
		}
	}
	require.NoError(t, b.EditHousehold(ctx, uuid.MustParse(id), agent.Fields{"phone": "0922222222"}))
	realSync(t, b, ts, tb)
	realSync(t, a, ts, ta)
	for who, r := range map[string]*agent.Replica{"importer": a, "editor": b} {
		d, err := r.Show(ctx, "households", id)
		require.NoError(t, err)
		require.Equal(t, "0922222222", d.Fields["phone"], "laptop %s: the later real-time edit wins", who)
	}
}
