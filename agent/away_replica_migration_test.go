package agent_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestKeptLossSurvivesTheAwayReplicaMigration: a laptop of the build
// before agent migration 15 keeps aside a correction the server answered
// superseded, its household away with a hamlet the team lost (own_away,
// which named the write by its sequence alone). Opened by this build, the
// kept write is named by the laptop's replica id, and when the team
// regains the hamlet the laptop still lists the correction as lost.
func TestKeptLossSurvivesTheAwayReplicaMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &fakeClock{t: time.Now()}
	ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) { c.Now = clk.now }))
	path := filepath.Join(t.TempDir(), "replica.db")
	a, ta, hh := lossKeptAway(t, ts, clk, path)
	id := a.ID()
	require.NoError(t, a.Close())

	// Back to the format before the migration.
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `CREATE TABLE own_away_v14 (
			row_id TEXT NOT NULL, field TEXT NOT NULL, tbl TEXT NOT NULL, kind INTEGER NOT NULL, value,
			hlc INTEGER NOT NULL, seq INTEGER NOT NULL, base_replica BLOB, base_seq INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (row_id, field)) WITHOUT ROWID;
		INSERT INTO own_away_v14 SELECT row_id, field, tbl, kind, value, hlc, seq, base_replica, base_seq FROM own_away;
		DROP TABLE own_away;
		ALTER TABLE own_away_v14 RENAME TO own_away;
		CREATE INDEX own_away_seq ON own_away(seq);
		ALTER TABLE photos DROP COLUMN away_held;
		DELETE FROM schema_migrations WHERE set_name = 'agent' AND version >= 15`)
	require.NoError(t, err)
	var cols int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('own_away') WHERE name = 'replica'`).Scan(&cols))
	require.Zero(t, cols, "own_away as the build before kept it")
	require.NoError(t, db.Close())

	a = agenttest.Open(t, path, agent.Options{Now: clk.now})
	var replicas [][]byte
	rows, err := a.DB().QueryContext(ctx, `SELECT replica FROM own_away`)
	require.NoError(t, err)
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		replicas = append(replicas, b)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, [][]byte{id[:]}, replicas, "the kept correction is the laptop's replica's")

	changed, err := ts.Admin.AddTeamHamlet(ctx, ts.TeamA, ts.HamletsA[1])
	require.NoError(t, err)
	require.True(t, changed)
	clk.advance(time.Minute)
	realSync(t, a, ts, ta)
	realSync(t, a, ts, ta)
	d, err := a.Show(ctx, "households", hh.String())
	require.NoError(t, err, "the household came back with the hamlet")
	require.Equal(t, "Quách Văn Tư Em", d.Fields["head_name"])
	require.Equal(t, []any{"Quách Văn Tứ"}, myLostValues(t, a, hh, "head_name"), "her laptop lists her correction as lost")
}
