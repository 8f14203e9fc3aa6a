package agent_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The agent "built at the previous schema" is this agent with
// agent.Options{Schema: schema.At(1)}: the registry, the migrations and the
// Hello of schema 1, everything else the same code. A build tag would need
// a second compilation of the package per test run and could not put an old
// and a new replica in one test; the registry is the only thing a schema
// version changes in the agent, so injecting it is the faithful double.
func schemaAt(t testing.TB, v int) agent.Options {
	t.Helper()
	reg, err := schema.At(v)
	require.NoError(t, err)
	return agent.Options{Schema: reg}
}

func enrollAgent(t *testing.T, r *agent.Replica, ts *servertest.TS, team string) string {
	t.Helper()
	tok, _, err := r.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, team), "máy thử")
	require.NoError(t, err)
	return tok
}

// TestSchemaOldAgentKeepsNewField: an agent at schema 1 syncs with the
// schema 2 server next to schema 2 agents. It receives the new field, keeps
// it (same version as everyone), cannot write it, and its edits of other
// fields of the same household leave the field's value on the server as it
// was. Its pushes are accepted; all replicas converge.
func TestSchemaOldAgentKeepsNewField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	old := agenttest.New(t, schemaAt(t, 1))
	to := enrollAgent(t, old, ts, ts.TeamA)
	a, ta := realAgent(t, ts, ts.TeamA)
	b, tb := realAgent(t, ts, ts.TeamA)
	hamlet := ts.HamletsA[0]

	hh, err := old.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Lê Văn Sáu", "phone": "0912345678"})
	require.NoError(t, err)
	require.Zero(t, realSync(t, old, ts, to).Rejected)
	realSync(t, a, ts, ta)

	// A schema 2 agent sets the field; the other schema 2 agent gets it.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"uses_camau_g": true}))
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	got, err := b.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, true, got.Fields["uses_camau_g"], "a schema 2 agent gets the field")
	var col sql.NullInt64
	require.NoError(t, b.DB().QueryRow(`SELECT uses_camau_g FROM households WHERE id = ?`, hh.String()).Scan(&col))
	require.Equal(t, sql.NullInt64{Int64: 1, Valid: true}, col)

	// The old agent gets it too and keeps it in its row state, although
	// its households table has no such column.
	realSync(t, old, ts, to)
	got, err = old.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, true, got.Fields["uses_camau_g"], "the old agent keeps the field it does not know")
	_, err = old.DB().Exec(`SELECT uses_camau_g FROM households`)
	require.Error(t, err, "schema 1 has no column for it")
	err = old.EditHousehold(ctx, hh, agent.Fields{"uses_camau_g": false})
	var ve *schema.ValidationError
	require.True(t, errors.As(err, &ve), "schema 1 cannot write the field: %v", err)
	require.Equal(t, schema.CodeUnknownField, ve.Code)

	// The old agent edits other fields of the household and pushes.
	require.NoError(t, old.EditHousehold(ctx, hh, agent.Fields{"notes": "Đã hướng dẫn phản ánh hiện trường", "members_count": int64(4)}))
	s := realSync(t, old, ts, to)
	require.EqualValues(t, 2, s.Pushed)
	require.Zero(t, s.Rejected, "the old agent's pushes are accepted")
	rej, err := old.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)

	// The server's value of the field is unchanged (a fresh schema 2 clone
	// is the server's state), and every replica holds the same versions.
	realSync(t, a, ts, ta)
	realSync(t, b, ts, tb)
	c, tc := realAgent(t, ts, ts.TeamA)
	realSync(t, c, ts, tc)
	want, err := c.Snapshot(ctx)
	require.NoError(t, err)
	key := syncproto.FieldKey{Table: "households", Row: hh, Field: "uses_camau_g"}
	require.Equal(t, syncproto.Bool(true), want[key].Value)
	require.Equal(t, a.ID(), want[key].Dot.Replica, "still the write of the schema 2 agent")
	for name, r := range map[string]*agent.Replica{"old": old, "a": a, "b": b} {
		snap, err := r.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, snap, "replica %s equals the server\n%s", name, diffSnap(want, snap))
	}
	got, err = c.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, "Đã hướng dẫn phản ánh hiện trường", got.Fields["notes"])
	require.Equal(t, true, got.Fields["uses_camau_g"])
}

// replicaMeta is the sync metadata of a replica file, read raw.
type replicaMeta struct {
	meta     map[string]any
	states   map[string]string // id -> table, scope, state blob
	outbox   []string
	conflict int
}

func readMeta(t *testing.T, db *sql.DB) replicaMeta {
	t.Helper()
	m := replicaMeta{meta: map[string]any{}, states: map[string]string{}}
	// txn_no, wal_base, wal_salt and wal_salt_txn count the file's write
	// transactions (walcheck.go): an upgrade is one, and rewrites no sync
	// metadata.
	rows, err := db.Query(`SELECT key, value FROM agent_meta WHERE key NOT IN ('txn_no', 'wal_base', 'wal_salt', 'wal_salt_txn')`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		var v any
		require.NoError(t, rows.Scan(&k, &v))
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		m.meta[k] = v
	}
	require.NoError(t, rows.Close())
	rows, err = db.Query(`SELECT id, tbl, scope, hex(state) FROM row_state`)
	require.NoError(t, err)
	for rows.Next() {
		var id, tbl, scope, blob string
		require.NoError(t, rows.Scan(&id, &tbl, &scope, &blob))
		m.states[id] = tbl + "|" + scope + "|" + blob
	}
	require.NoError(t, rows.Close())
	rows, err = db.Query(`SELECT seq, tbl, row_id, field, kind, quote(value), hlc, hex(base_replica), base_seq, scope, state, code, reason, created_at FROM outbox ORDER BY seq`)
	require.NoError(t, err)
	for rows.Next() {
		var seq, kind, hlc, baseSeq, state, created int64
		var tbl, row, field, value, baseRep, scope, code, reason string
		require.NoError(t, rows.Scan(&seq, &tbl, &row, &field, &kind, &value, &hlc, &baseRep, &baseSeq, &scope, &state, &code, &reason, &created))
		m.outbox = append(m.outbox, tbl+row+field+value+scope+code+reason+string(rune(seq))+string(rune(kind))+string(rune(state)))
	}
	require.NoError(t, rows.Close())
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM conflicts`).Scan(&m.conflict))
	return m
}

// TestSchemaUpgradeInPlace opens a schema 1 replica with the schema 2
// agent: the households table gains its column in place, the column is
// filled from the values the replica kept as unknown fields, and nothing of
// the sync metadata changes: cursor, row state blobs, outbox, conflicts,
// clock. The next sync pulls nothing again and pushes the pending edit.
func TestSchemaUpgradeInPlace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ts := servertest.Start(t)
	path := filepath.Join(t.TempDir(), "replica.db")
	old, err := agent.OpenWith(ctx, path, schemaAt(t, 1))
	require.NoError(t, err)
	to := enrollAgent(t, old, ts, ts.TeamA)
	a, ta := realAgent(t, ts, ts.TeamA)
	hamlet := ts.HamletsA[0]

	var ids []syncproto.RowID
	for i, head := range []string{"Hộ Một", "Hộ Hai", "Hộ Ba"} {
		id, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": head})
		require.NoError(t, err)
		ids = append(ids, id)
		if i < 2 {
			require.NoError(t, a.EditHousehold(ctx, id, agent.Fields{"uses_camau_g": i == 0}))
		}
	}
	realSync(t, a, ts, ta)
	realSync(t, old, ts, to)
	// A pending local edit, not yet pushed: it must survive the upgrade.
	require.NoError(t, old.EditHousehold(ctx, ids[2], agent.Fields{"notes": "sửa lúc offline"}))
	require.NoError(t, old.Check(ctx))
	before := readMeta(t, old.DB())
	require.NotEmpty(t, before.outbox)
	require.Len(t, before.states, 3)
	require.NoError(t, old.Close())

	up, err := agent.OpenWith(ctx, path, agent.Options{}) // the current schema
	require.NoError(t, err)
	defer up.Close()
	require.NoError(t, up.Check(ctx), "the projection equals the row states, new column included")
	after := readMeta(t, up.DB())
	require.EqualValues(t, 1, before.meta["projected_schema"])
	require.EqualValues(t, schema.Version, after.meta["projected_schema"])
	delete(before.meta, "projected_schema")
	delete(after.meta, "projected_schema")
	require.Equal(t, before, after, "the upgrade rewrites no sync metadata")

	for i, want := range []sql.NullInt64{{Int64: 1, Valid: true}, {Int64: 0, Valid: true}, {}} {
		var col sql.NullInt64
		require.NoError(t, up.DB().QueryRow(`SELECT uses_camau_g FROM households WHERE id = ?`, ids[i].String()).Scan(&col))
		require.Equal(t, want, col, "household %d: the column is filled from the row state", i)
	}
	n, err := up.Pending(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	s := realSync(t, up, ts, to)
	require.Zero(t, s.Pulled, "no re-clone")
	require.EqualValues(t, 1, s.Pushed)
	require.Zero(t, s.Rejected)

	// The upgraded agent writes the field like any other.
	require.NoError(t, up.EditHousehold(ctx, ids[2], agent.Fields{"uses_camau_g": true}))
	realSync(t, up, ts, to)
	realSync(t, a, ts, ta)
	d, err := a.Show(ctx, "households", ids[2].String())
	require.NoError(t, err)
	require.Equal(t, true, d.Fields["uses_camau_g"])
	require.Equal(t, "sửa lúc offline", d.Fields["notes"])

	// And a schema 1 build refuses the upgraded file instead of guessing.
	require.NoError(t, up.Check(ctx))
	require.NoError(t, up.Close())
	_, err = agent.OpenWith(ctx, path, schemaAt(t, 1))
	require.ErrorIs(t, err, agent.ErrNewer)
}

// TestSchemaTooOldAgent: a server that no longer accepts schema 1 tells the
// agent which schema it needs and where to get hamlet-agent, in Vietnamese
// and English; the agent's data stays. An agent older than every server
// (schema 0) hears the same from a default server.
func TestSchemaTooOldAgent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const update = "https://hamlet.camau.gov.vn/tai-ve/hamlet-agent"
	for _, tc := range []struct {
		name      string
		agent     int
		minSchema int
	}{
		{"server needs 2", 1, 2},
		{"agent at 0", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := servertest.Start(t, servertest.WithConfig(func(c *server.Config) {
				c.MinAgentSchema, c.AgentUpdate = tc.minSchema, update
			}))
			old := agenttest.New(t, schemaAt(t, tc.agent))
			tok := enrollAgent(t, old, ts, ts.TeamA)
			_, err := old.AddHousehold(ctx, agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Hộ Chờ"})
			require.NoError(t, err)
			pending, err := old.Pending(ctx)
			require.NoError(t, err)

			_, err = old.Sync(ctx, ts.URL, tok, agent.SyncOptions{IOTimeout: 10 * time.Second})
			var se *agent.ServerError
			require.True(t, errors.As(err, &se), "%v", err)
			require.Equal(t, syncproto.CodeVersionMismatch, se.Code)
			need := max(tc.minSchema, 1)
			vi := agent.MessageOf(err, "vi")
			en := agent.MessageOf(err, "en")
			for _, want := range []string{strconv.Itoa(tc.agent), "từ " + strconv.Itoa(need), "phiên bản dữ liệu " + strconv.Itoa(need), update, "hamlet-agent sync"} {
				require.Contains(t, vi, want)
			}
			for _, want := range []string{"schema " + strconv.Itoa(tc.agent), "needs " + strconv.Itoa(need), update} {
				require.Contains(t, en, want)
			}
			require.NotEqual(t, syncproto.Hint(syncproto.CodeVersionMismatch, "vi"), vi, "not the generic hint")

			n, err := old.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, pending, n, "nothing was lost or sent")
		})
	}
}
