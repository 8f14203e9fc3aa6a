package simtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// TestTemplatesAreNew: a store or a replica a world copies from its
// template holds exactly what one Open creates holds (tables, indexes,
// rows, marks), once both carry the same id; the store, once its server
// has imported the world's units into it, as loadWorld did.
func TestTemplatesAreNew(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	id := uuid.MustParse("3f0e8a52-6a35-4c7e-9d0c-4a1b2c3d4e5f")
	s := &Sim{ctx: ctx, cfg: Config{Dir: dir}}

	setServerID := func(path string) {
		db, err := openRW(path)
		require.NoError(t, err)
		defer db.Close()
		_, err = db.ExecContext(ctx, `UPDATE server_meta SET value = ? WHERE key = 'server_id'`, id.String())
		require.NoError(t, err)
	}
	openStore := func(path string) {
		st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 2})
		require.NoError(t, err)
		require.NoError(t, st.Close())
	}
	made := filepath.Join(dir, "made.db")
	openStore(made)
	setServerID(made)
	st, err := sqlitestore.Open(ctx, made, sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 2})
	require.NoError(t, err)
	srv, err := server.OpenWithStore(ctx, server.Config{Now: func() time.Time { return simStart.Add(time.Hour) }}, st)
	require.NoError(t, err)
	require.NoError(t, srv.Admin().ImportUnits(ctx, schema.EmbeddedUnits2025()))
	_, err = srv.Admin().AddHamlets(ctx, commune, 1, len(hamlets))
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	copied := filepath.Join(dir, "copied.db")
	want := (&Sim{cfg: s.cfg, idSeq: s.idSeq}).newID() // the world's next id
	require.NoError(t, s.placeStore(copied))
	require.Equal(t, want.String(), serverID(t, copied), "the placed store's server id")
	openStore(copied)
	setServerID(copied)
	require.Equal(t, dump(t, made), dump(t, copied), "the server's store")
	require.Equal(t, "ok", integrity(t, copied))

	prev, err := schema.At(schema.Version - 1)
	require.NoError(t, err)
	for _, sch := range []*schema.Registry{schema.Current(), prev} {
		openReplica := func(path string) {
			rep, err := agent.OpenWith(ctx, path, agent.Options{
				Now: func() time.Time { return simStart.Add(time.Hour) }, Schema: sch,
				NewID: func() uuid.UUID { return id },
			})
			require.NoError(t, err)
			require.Equal(t, id, rep.ID())
			require.NoError(t, rep.Close())
		}
		sub := filepath.Join(dir, fmt.Sprint(sch.Version()))
		require.NoError(t, os.MkdirAll(sub, 0o755))
		made := filepath.Join(sub, "made.db")
		openReplica(made)
		copied := filepath.Join(sub, "copied.db")
		s.idSeq, s.cfg.Seed = 0, 0
		want := s.newID() // what placeReplica draws
		s.idSeq = 0
		require.NoError(t, s.placeReplica(&laptop{sch: sch}, copied))
		require.Equal(t, "ok", integrity(t, copied))
		setReplicaIDTo(t, copied, want, id)
		openReplica(copied)
		require.Equal(t, dump(t, made), dump(t, copied), "a replica of schema %d", sch.Version())
	}
}

// setReplicaIDTo checks that placeReplica gave the copy the world's next
// id, then gives it another.
func setReplicaIDTo(t *testing.T, path string, want, id uuid.UUID) {
	db, err := openRW(path)
	require.NoError(t, err)
	defer db.Close()
	var got string
	require.NoError(t, db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'replica_id'`).Scan(&got))
	require.Equal(t, want.String(), got)
	_, err = db.Exec(`UPDATE agent_meta SET value = ? WHERE key = 'replica_id'`, id.String())
	require.NoError(t, err)
}

// integrity is what PRAGMA integrity_check says of a file.
func integrity(t *testing.T, path string) string {
	db, err := openRO(path)
	require.NoError(t, err)
	defer db.Close()
	var out []string
	rows, err := db.Query(`PRAGMA integrity_check`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return strings.Join(out, "; ")
}

// dump is a SQLite file's content as text: its marks, its schema, and
// every table's rows, sorted.
func dump(t *testing.T, path string) string {
	t.Helper()
	db, err := openRO(path)
	require.NoError(t, err)
	defer db.Close()
	var b strings.Builder
	for _, p := range []string{"application_id", "user_version", "journal_mode", "page_size", "auto_vacuum", "encoding"} {
		var v string
		require.NoError(t, db.QueryRow(`PRAGMA `+p).Scan(&v))
		fmt.Fprintf(&b, "%s=%s\n", p, v)
	}
	var tables []string
	rows, err := db.Query(`SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	require.NoError(t, err)
	for rows.Next() {
		var typ, name, tbl, text string
		require.NoError(t, rows.Scan(&typ, &name, &tbl, &text))
		fmt.Fprintf(&b, "%s %s on %s: %s\n", typ, name, tbl, text)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, tbl := range tables {
		lines := tableLines(t, db, tbl)
		fmt.Fprintf(&b, "table %s: %d rows\n%s\n", tbl, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

func tableLines(t *testing.T, db *sql.DB, table string) []string {
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		out = append(out, fmt.Sprintf("%q", vals))
	}
	require.NoError(t, rows.Err())
	slices.Sort(out)
	return out
}

// serverID is the server id a store file holds.
func serverID(t *testing.T, path string) string {
	db, err := openRO(path)
	require.NoError(t, err)
	defer db.Close()
	var v string
	require.NoError(t, db.QueryRow(`SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&v))
	return v
}
