package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/internal/migrate/migratetest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/server/storetest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

var ctx = context.Background()

func open(t *testing.T, url string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(ctx, url, pgstore.Options{MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) server.Store {
		s, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 8})
		require.NoError(t, err)
		return s
	})
}

func TestMigrationsUpgradeFromEveryVersion(t *testing.T) {
	sm, err := pgstore.SchemaMigrations()
	require.NoError(t, err)
	vm, err := pgstore.ServerMigrations()
	require.NoError(t, err)
	pgtest.UpgradeFromEveryVersion(t, []pgtest.Set{{Name: pgstore.SchemaSet, Migs: sm}, {Name: pgstore.ServerSet, Migs: vm}})
}

// The PostgreSQL data model has the SQLite one's tables and columns, so the
// same registry field lands in the same column on both stores.
func TestColumnsMatchSQLite(t *testing.T) {
	lite := migratetest.OpenSQLite(t)
	require.NoError(t, migrate.Apply(ctx, lite, schema.MigrationSet, schema.SQLiteMigrations()))
	migs, err := sqlitestore.ServerMigrations()
	require.NoError(t, err)
	require.NoError(t, migrate.Apply(ctx, lite, sqlitestore.MigrationSet, migs))
	want := map[string][]string{}
	rows, err := lite.Query(`SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name`)
	require.NoError(t, err)
	for rows.Next() {
		var tbl, col string
		require.NoError(t, rows.Scan(&tbl, &col))
		want[tbl] = append(want[tbl], col)
	}
	require.NoError(t, rows.Err())
	rows.Close()

	s := open(t, pgtest.FreshDB(t)) // not MigratedDB: Open's own migration of an empty database is checked
	got := map[string][]string{}
	prows, err := s.Pool().Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() ORDER BY table_name, column_name`)
	require.NoError(t, err)
	for prows.Next() {
		var tbl, col string
		require.NoError(t, prows.Scan(&tbl, &col))
		got[tbl] = append(got[tbl], col)
	}
	require.NoError(t, prows.Err())
	delete(got, "sync_log_head") // PostgreSQL only: the log lock and committed head
	// Photos: the bytes are files beside the SQLite database and rows here
	// (server/pgstore/migrations/server/0010_blobs.sql).
	delete(got, "blob_upload_chunks")
	got["blobs"] = slices.DeleteFunc(got["blobs"], func(c string) bool { return c == "data" })
	for _, tb := range schema.SyncedTables() {
		require.Contains(t, got, tb.Name)
	}
	require.Equal(t, want, got)
}

func TestOpenBadURL(t *testing.T) {
	base := pgtest.URL(t)
	cases := map[string][2]string{ // English, Vietnamese
		"postgres://hamlet@127.0.0.1:1/hamlet?sslmode=disable&connect_timeout=5": {"cannot connect to PostgreSQL at 127.0.0.1:1/hamlet", "không kết nối được PostgreSQL tại 127.0.0.1:1/hamlet"},
		"postgres://[::1": {"PostgreSQL URL is not valid", "URL PostgreSQL không hợp lệ"},
		strings.Replace(base, "/hamlet?", "/no_such_db?", 1): {"create the database", "tạo cơ sở dữ liệu (createdb)"},
	}
	for url, want := range cases {
		_, err := pgstore.Open(ctx, url, pgstore.Options{})
		require.Error(t, err, url)
		require.Contains(t, err.Error(), want[0])
		require.NotContains(t, err.Error(), "\n", "one line")
		// The operator reads it in their language (the CLI's --lang).
		var oe *pgstore.OpenError
		require.ErrorAs(t, err, &oe)
		require.Equal(t, err.Error(), oe.Message("en"))
		require.Contains(t, oe.Message("vi"), want[1])
		require.NotContains(t, oe.Message("vi"), "\n", "one line")
	}
}

// Two stores on one database stand for two server processes: concurrent
// read-modify-write of one row through both loses nothing, and a reader
// paging the log while they write never skips an entry.
func TestTwoProcessesOneDatabase(t *testing.T) {
	url := pgtest.MigratedDB(t, pgstore.Migrate)
	a, b := open(t, url), open(t, url)
	row := uuid.New()
	const writers, each = 4, 40
	stop := make(chan struct{})
	var readErr error
	var readMu sync.Mutex
	seen := map[uint64]bool{}
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() { // a reader with a cursor, as a pulling agent
		defer rwg.Done()
		var cursor uint64
		for done := false; !done; {
			select {
			case <-stop:
				done = true
			default:
			}
			p, err := a.ReadLog(ctx, server.LogQuery{After: cursor, Scopes: []string{"32002-01"}, Limit: 7})
			if err != nil {
				readMu.Lock()
				readErr = err
				readMu.Unlock()
				return
			}
			for _, e := range p.Entries {
				seen[e.Seq] = true
			}
			cursor = p.To
			if done && p.More {
				done = false
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		st := a
		if w%2 == 1 {
			st = b
		}
		origin := uuid.New()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				err := st.Update(ctx, func(tx server.Tx) error {
					seq, err := tx.OriginSeq(origin)
					if err != nil {
						return err
					}
					if seq >= uint64(i) {
						return fmt.Errorf("origin seq %d already at %d", i, seq)
					}
					rs, ok, err := tx.Row("households", row)
					if err != nil {
						return err
					}
					if !ok {
						rs = server.RowState{Scope: "32002-01", Versions: map[string]syncproto.Version{}}
					}
					n := rs.Versions["members_count"].Value.AsInt()
					c := syncproto.Change{Table: "households", Row: row, Field: "members_count", Value: syncproto.Int(n + 1), Scope: "32002-01",
						HLC: syncproto.MakeHLC(time.Now().UnixMilli(), 0), Dot: syncproto.Dot{Replica: origin, Seq: uint64(i)}}
					rs.Versions["members_count"] = syncproto.VersionOf(&c)
					e := server.LogEntry{Change: c}
					if err := tx.Append(&e); err != nil {
						return err
					}
					if err := tx.SetOriginSeq(origin, uint64(i)); err != nil {
						return err
					}
					return tx.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: "households", Row: row}, State: &rs,
						Fields: map[string]syncproto.Value{"members_count": c.Value}}})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	close(stop)
	rwg.Wait()
	require.NoError(t, readErr)
	head, err := b.Head(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(writers*each), head, "seqs are gapless here: no transaction rolled back")
	require.Len(t, seen, writers*each, "the reader saw every entry")
	var members int64
	require.NoError(t, b.Pool().QueryRow(ctx, `SELECT members_count FROM households WHERE id = $1`, row.String()).Scan(&members))
	require.Equal(t, int64(writers*each), members)
}
