package servertest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The fixture's communes (Cà Mau 2025 codes) and hamlets.
const (
	CommuneA  = "32002" // phường An Xuyên
	CommuneB  = "32167" // xã Tân Thuận
	TeamAName = "Tổ CNSCĐ Khóm 1"
	TeamBName = "Tổ CNSCĐ Ấp 1"
)

// TS is a running test server.
type TS struct {
	URL     string // http://127.0.0.1:port
	DataDir string
	Server  *server.Server
	Admin   *server.Admin
	Store   server.Store // the store the server runs on
	// TeamA covers HamletsA (two hamlets of CommuneA); TeamB covers
	// HamletsB in CommuneB. OtherHamletA is a hamlet of CommuneA no team covers.
	TeamA, TeamB       string
	HamletsA, HamletsB []string
	OtherHamletA       string

	http *httptest.Server
}

type options struct {
	cfg     func(*server.Config)
	dataDir string
	store   server.Store
	sync    string
}

// Option configures Start.
type Option func(*options)

// WithConfig edits the server configuration before Open.
func WithConfig(f func(*server.Config)) Option { return func(o *options) { o.cfg = f } }

// WithDataDir uses dir instead of a fresh temporary directory (to restart a
// server on the same data).
func WithDataDir(dir string) Option { return func(o *options) { o.dataDir = dir } }

// WithSynchronous sets the SQLite store's synchronous setting (FULL by
// default): NORMAL for tests about something other than durability.
func WithSynchronous(sync string) Option { return func(o *options) { o.sync = sync } }

// WithStore runs the server on st instead of SQLite in the data directory: a PostgreSQL store, several servers on one
// database. The fixture is loaded only if the store has no teams yet.
func WithStore(st server.Store) Option { return func(o *options) { o.store = st } }

// Logger is the test logger: quiet unless HAMLET_TEST_LOG=1.
func Logger() *slog.Logger {
	if os.Getenv("HAMLET_TEST_LOG") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Start runs a server on 127.0.0.1:0 with the fixture loaded; t.Cleanup
// closes it.
func Start(t testing.TB, opts ...Option) *TS {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	dir := o.dataDir
	if dir == "" {
		dir = t.TempDir()
	}
	cfg := server.Config{Logger: Logger(), GCInterval: -1}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	ctx := context.Background()
	st := o.store
	if st == nil {
		lite, err := OpenStore(ctx, dir, o.sync)
		require.NoError(t, err)
		st = lite
	}
	srv, err := server.OpenWithStore(ctx, cfg, st)
	require.NoError(t, err)
	ts := &TS{Server: srv, Admin: srv.Admin(), Store: st, DataDir: dir}
	require.NoError(t, ts.loadFixture(ctx))
	ts.http = httptest.NewServer(httpapp.Handler(srv))
	ts.URL = ts.http.URL
	t.Cleanup(ts.Close)
	return ts
}

// OpenStore opens (creating) the SQLite store of the data directory dir,
// as hamlet-server does without --db; sync is its synchronous setting
// ("": FULL).
//
// A directory with no store yet gets a copy of storeTemplate first, an
// empty store this process migrated once: sqlitestore.Open then finds every
// migration recorded and does the rest of its work (the server's id, the
// replicas, the read pool) on it as on a store it created. Running the 21
// migrations again for every test server parsed their SQL each time: 9.8 of
// the agent package's 115 CPU-seconds. sqlitestore's own tests, the
// template itself and hamlet-server's still migrate from nothing.
func OpenStore(ctx context.Context, dir, sync string) (*sqlitestore.Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, sqlitestore.DBFile)
	if err := copyTemplate(path); err != nil {
		return nil, err
	}
	return sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: sync})
}

// copyTemplate writes storeTemplate to path if no store is there (no file,
// nor its -wal or -journal).
func copyTemplate(path string) error {
	for _, suf := range []string{"", "-wal", "-journal"} {
		if _, err := os.Lstat(path + suf); !errors.Is(err, fs.ErrNotExist) {
			return nil // a store, or something Open must see as it is
		}
	}
	b, err := storeTemplate()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("copy the store template: %w", err)
	}
	return nil
}

// storeTemplate returns the bytes of an empty store file with the data
// model's and the server's migrations applied by sqlitestore.Migrate, as
// sqlitestore.Open applies them, and nothing else: no server id (each copy gets its own at Open).
// It is built once per process.
var storeTemplate = sync.OnceValues(func() ([]byte, error) {
	return buildStoreTemplate(context.Background())
})

func buildStoreTemplate(ctx context.Context) ([]byte, error) {
	dir, err := os.MkdirTemp("", "hamlet-store-template-")
	if err != nil {
		return nil, fmt.Errorf("build the store template: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, sqlitestore.DBFile)
	// Open's writer runs the migrations with foreign keys off too; the
	// journal stays a rollback journal, so the file is whole once closed.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(0)&_pragma=synchronous(OFF)&_pragma=temp_store(MEMORY)")
	if err != nil {
		return nil, fmt.Errorf("build the store template: %w", err)
	}
	db.SetMaxOpenConns(1)
	err = sqlitestore.Migrate(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("build the store template: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("build the store template: %w", err)
	}
	return b, nil
}

// Open runs a server on the SQLite store of the data directory dir (see
// OpenStore), without the fixture or a listener: a second process on a
// test server's data, or a server of a test's own.
func Open(ctx context.Context, dir, sync string, cfg server.Config) (*server.Server, error) {
	st, err := OpenStore(ctx, dir, sync)
	if err != nil {
		return nil, err
	}
	return server.OpenWithStore(ctx, cfg, st)
}

// WaitSessionsEnded waits until the server has no agent session open: a
// sync the client finished may still be ending on the server, which notes
// the device's last activity then, by its clock. A test that moves a fake
// clock ahead to make a device silent waits first.
func (ts *TS) WaitSessionsEnded(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.Server.Sessions() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d agent sessions still open after 10s", ts.Server.Sessions())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Close stops the server (idempotent).
func (ts *TS) Close() {
	_ = ts.Server.Close()
	ts.http.Close()
}

func (ts *TS) loadFixture(ctx context.Context) error {
	a := ts.Admin
	teams, err := a.Teams(ctx)
	if err != nil {
		return err
	}
	if len(teams) == 0 {
		if err := a.ImportUnits(ctx, schema.EmbeddedUnits2025()); err != nil {
			return err
		}
		for _, c := range []string{CommuneA, CommuneB} {
			if _, err := a.AddHamlets(ctx, c, 1, 4); err != nil {
				return err
			}
		}
		if _, err := a.CreateTeam(ctx, CommuneA, TeamAName, []string{schema.HamletCode(CommuneA, 1), schema.HamletCode(CommuneA, 2)}); err != nil {
			return err
		}
		if _, err := a.CreateTeam(ctx, CommuneB, TeamBName, []string{schema.HamletCode(CommuneB, 1), schema.HamletCode(CommuneB, 2)}); err != nil {
			return err
		}
		if teams, err = a.Teams(ctx); err != nil {
			return err
		}
	}
	for _, t := range teams {
		switch t.Name {
		case TeamAName:
			ts.TeamA, ts.HamletsA = t.ID, t.Hamlets
		case TeamBName:
			ts.TeamB, ts.HamletsB = t.ID, t.Hamlets
		}
	}
	ts.OtherHamletA = schema.HamletCode(CommuneA, 3)
	return nil
}

// EnrollCode adds a member to team and returns a fresh enrollment code.
func (ts *TS) EnrollCode(t testing.TB, team string) string {
	t.Helper()
	ctx := context.Background()
	m, err := ts.Admin.AddMember(ctx, team, "Thành viên thử", "member", "")
	require.NoError(t, err)
	code, _, err := ts.Admin.IssueCode(ctx, m.ID, time.Hour)
	require.NoError(t, err)
	return code
}

// Device is an enrolled test device.
type Device struct {
	Replica syncproto.ReplicaID
	Token   string
	Enroll  syncproto.EnrollResponse
}

// NewDevice enrolls a fresh replica in team.
func (ts *TS) NewDevice(t testing.TB, team string) Device {
	t.Helper()
	replica := uuid.New()
	er, status, eb, err := Enroll(context.Background(), ts.URL, ts.EnrollCode(t, team), replica, "máy thử")
	require.NoError(t, err)
	require.Equal(t, 200, status, "enroll: %+v", eb)
	return Device{Replica: replica, Token: er.Token, Enroll: er}
}

// Connect dials and says Hello as the device.
func (ts *TS) Connect(t testing.TB, d Device) *Client {
	t.Helper()
	c, status, eb, err := Dial(context.Background(), ts.URL, d.Token)
	require.NoError(t, err, "dial: status %d %+v", status, eb)
	t.Cleanup(func() { c.Close() })
	_, err = c.Hello(d.Replica)
	require.NoError(t, err)
	return c
}
