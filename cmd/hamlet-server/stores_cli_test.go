package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// operatorStore is one way an operator names the store every command works
// on: embedded SQLite in the data directory, or a PostgreSQL database given
// with --db or with HAMLET_DB.
type operatorStore struct {
	name string
	dir  string // the data directory
	url  string // the PostgreSQL database, "" for SQLite
	args []string
}

func operatorStores() []string { return []string{"sqlite", "postgres --db", "postgres HAMLET_DB"} }

// bothStores are the two stores, for a test about what the store keeps
// rather than how a command is told which one (operatorStores).
func bothStores() []string { return []string{"sqlite", "postgres --db"} }

// newOperatorStore makes a fresh store of the named kind for one test.
// HAMLET_DB is set for the test's duration (so no test here is parallel).
func newOperatorStore(t *testing.T, kind string) *operatorStore {
	t.Helper()
	st := &operatorStore{name: kind, dir: t.TempDir()}
	switch kind {
	case "sqlite":
		t.Setenv("HAMLET_DB", "")
	case "postgres --db":
		t.Setenv("HAMLET_DB", "")
		st.url = pgtest.MigratedDB(t, pgstore.Migrate)
		st.args = []string{"--db", st.url}
	case "postgres HAMLET_DB":
		st.url = pgtest.MigratedDB(t, pgstore.Migrate)
		t.Setenv("HAMLET_DB", st.url)
	default:
		t.Fatalf("unknown store %q", kind)
	}
	return st
}

// cli runs one command on this store, as an operator would type it.
func (st *operatorStore) cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cli(t, st.dir, append(args, st.args...)...)
}

// ok runs a command that must succeed and returns its output.
func (st *operatorStore) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := st.cli(t, args...)
	require.Equal(t, 0, code, "%v on %s: %s", args, st.name, errOut)
	return out
}

// open is the other path to the same data: a server opened directly on the
// store (not through the CLI), serving HTTP on loopback until the returned
// function is called.
func (st *operatorStore) open(t *testing.T) (*server.Server, string, func()) {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{Logger: servertest.Logger(), GCInterval: -1}
	var srv *server.Server
	var err error
	if st.url == "" {
		srv, err = servertest.Open(ctx, st.dir, "", cfg)
	} else {
		var pg *pgstore.Store
		pg, err = pgstore.Open(ctx, st.url, pgstore.Options{})
		require.NoError(t, err)
		srv, err = server.OpenWithStore(ctx, cfg, pg)
	}
	require.NoError(t, err)
	hs := httptest.NewServer(httpapp.Handler(srv))
	stop := func() {
		hs.Close()
		_ = srv.Close()
	}
	t.Cleanup(stop)
	return srv, hs.URL, stop
}

// noSQLiteUnlessSQLite: a command told to use PostgreSQL leaves no SQLite
// database in the data directory.
func (st *operatorStore) noSQLiteUnlessSQLite(t *testing.T) {
	t.Helper()
	_, err := os.Stat(filepath.Join(st.dir, sqlitestore.DBFile))
	if st.url == "" {
		require.NoError(t, err, "the SQLite store is the data directory's %s", sqlitestore.DBFile)
		return
	}
	require.True(t, os.IsNotExist(err), "%s: commands on PostgreSQL wrote a SQLite database in the data directory", st.name)
}

// coveredElsewhere are the commands this suite leaves to a test of their
// own, which runs them against both stores too.
var coveredElsewhere = map[string]string{
	"demo": "TestDemoBothStores",
}

// Every operator command, run against SQLite and against PostgreSQL (named
// by --db and by HAMLET_DB), and each effect checked through the other path:
// a server opened directly on the same store.
func TestOperatorCommandsBothStores(t *testing.T) {
	type state struct {
		team, member, code, device, token, serverID string
	}
	passwordFile := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(passwordFile, []byte("mật-khẩu-dài-đủ\n"), 0o600))
	steps := []struct {
		cmd string
		run func(t *testing.T, st *operatorStore, s *state)
	}{
		{"units import", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
		}},
		{"unit add-hamlets", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "3")
		}},
		{"unit list", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "unit", "list"), "32002")
			require.Contains(t, st.ok(t, "unit", "list", "--commune", "32002"), "32002-03")
		}},
		{"user add", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "user", "add", "--username", "lanh-dao-p4", "--name", "Lãnh đạo Phường 4", "--role", "commune_leader",
				"--unit", "32002", "--password-file", passwordFile)
		}},
		{"team create", func(t *testing.T, st *operatorStore, s *state) {
			out := st.ok(t, "team", "create", "--commune", "32002", "--name", "Tổ CNTS Khóm 1", "--hamlets", "32002-01,32002-02", "--json")
			var team struct{ ID string }
			require.NoError(t, json.Unmarshal([]byte(out), &team))
			s.team = team.ID
		}},
		{"units reorganise", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "units", "reorganise"), "hamlet-server user rebind lanh-dao-p4")
		}},
		{"user rebind", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "user", "rebind", "--username", "lanh-dao-p4")
			srv, _, stop := st.open(t)
			defer stop()
			us, err := srv.Admin().Users(context.Background())
			require.NoError(t, err)
			require.Len(t, us, 1)
			require.Empty(t, us[0].UnitChangedOn, "confirmed on the store the server reads")
		}},
		{"team list", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "team", "list"), "Tổ CNTS Khóm 1")
		}},
		{"team add-hamlet", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "team", "add-hamlet", "--team", s.team, "--hamlet", "32002-03")
		}},
		{"team remove-hamlet", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "team", "remove-hamlet", "--team", s.team, "--hamlet", "32002-03")
			srv, _, stop := st.open(t)
			defer stop()
			teams, err := srv.Admin().Teams(context.Background())
			require.NoError(t, err)
			require.Len(t, teams, 1)
			require.Equal(t, "32002", teams[0].CommuneCode)
			require.Equal(t, []string{"32002-01", "32002-02"}, teams[0].Hamlets)
		}},
		{"member add", func(t *testing.T, st *operatorStore, s *state) {
			out := st.ok(t, "member", "add", "--team", s.team, "--name", "Nguyễn Thị Lan", "--json")
			var m struct{ ID string }
			require.NoError(t, json.Unmarshal([]byte(out), &m))
			s.member = m.ID
		}},
		{"code issue", func(t *testing.T, st *operatorStore, s *state) {
			out := st.ok(t, "code", "issue", "--member", s.member, "--json")
			var c struct{ Code string }
			require.NoError(t, json.Unmarshal([]byte(out), &c))
			require.NotEmpty(t, c.Code)
			s.code = c.Code
			// The code the operator was given is one the server accepts.
			_, url, stop := st.open(t)
			defer stop()
			er, status, eb, err := servertest.Enroll(context.Background(), url, s.code, uuid.New(), "máy của Lan")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, status, "a code issued on %s is refused by a server on it: %+v", st.name, eb)
			s.device, s.token = er.DeviceID, er.Token
		}},
		{"code list", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "code", "list", "--member", s.member), s.device)
		}},
		{"device list", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "device", "list", "--member", s.member), s.device)
		}},
		{"status", func(t *testing.T, st *operatorStore, s *state) {
			out := st.ok(t, "status", "--json")
			var status server.Status
			require.NoError(t, json.Unmarshal([]byte(out), &status))
			require.Len(t, status.Devices, 1)
			require.Equal(t, s.device, status.Devices[0].ID)
			s.serverID = status.ServerID
			// The laptop by its member's name (issue 21, item 18).
			require.Equal(t, "Nguyễn Thị Lan", status.Devices[0].MemberName)
			require.Contains(t, st.ok(t, "status"), "Nguyễn Thị Lan")
		}},
		{"device revoke", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "device", "revoke", "--device", s.device)
			// A lost laptop revoked: a server on that store refuses it.
			_, url, stop := st.open(t)
			defer stop()
			_, status, eb, _ := servertest.Dial(context.Background(), url, s.token)
			require.NotNil(t, eb, "a revoked device is refused (HTTP %d)", status)
			require.Equal(t, "token_revoked", string(eb.Error.Code))
		}},
		{"device restore", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "device", "restore", s.device)
			_, url, stop := st.open(t)
			defer stop()
			c, status, eb, err := servertest.Dial(context.Background(), url, s.token)
			require.NoError(t, err, "HTTP %d %+v", status, eb)
			c.Close()
		}},
		{"calendar import", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "calendar", "import", filepath.Join("..", "..", "workcal", "official", "vn-2025.csv"))
			srv, _, stop := st.open(t)
			defer stop()
			years, err := srv.Admin().HolidayYears(context.Background())
			require.NoError(t, err)
			imported := false
			for _, y := range years {
				imported = imported || (y.Year == 2025 && y.Imported != nil)
			}
			require.True(t, imported, "the schedule is in the store the server reads: %+v", years)
		}},
		{"calendar list", func(t *testing.T, st *operatorStore, s *state) {
			require.True(t, json.Valid([]byte(st.ok(t, "calendar", "list", "--json"))))
		}},
		{"calendar show", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "calendar", "show", "2025"), "02/09/2025")
		}},
		{"gc", func(t *testing.T, st *operatorStore, s *state) {
			require.True(t, json.Valid([]byte(st.ok(t, "gc", "--json"))))
		}},
		{"conflicts archive", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "conflicts", "archive", "--older-than", "1d", "--out", filepath.Join(t.TempDir(), "conflicts.jsonl"))
		}},
		{"user list", func(t *testing.T, st *operatorStore, s *state) {
			require.Contains(t, st.ok(t, "user", "list"), "lanh-dao-p4")
		}},
		{"user disable", func(t *testing.T, st *operatorStore, s *state) {
			st.ok(t, "user", "disable", "--username", "lanh-dao-p4")
			srv, _, stop := st.open(t)
			defer stop()
			us, err := srv.Admin().Users(context.Background())
			require.NoError(t, err)
			require.Len(t, us, 1)
			require.NotNil(t, us[0].Disabled)
		}},
		{"backup", func(t *testing.T, st *operatorStore, s *state) {
			out := filepath.Join(t.TempDir(), "backup.db")
			code, _, errOut := st.cli(t, "backup", "--out", out)
			if st.url == "" {
				require.Equal(t, 0, code, errOut)
				require.FileExists(t, out)
				return
			}
			require.Equal(t, 1, code)
			require.Contains(t, errOut, "pg_dump", "PostgreSQL is backed up with its own tools, and the operator is told so")
			require.NoFileExists(t, out)
		}},
		{"restored", func(t *testing.T, st *operatorStore, s *state) {
			srv, _, done := st.open(t)
			before := srv.LogEpoch()
			done()
			require.Contains(t, st.ok(t, "restored"), "tải lại nhật ký từ đầu")
			srv, _, done = st.open(t)
			defer done()
			require.NotZero(t, srv.LogEpoch(), "the next start takes a log epoch")
			require.NotEqual(t, before, srv.LogEpoch())
		}},
		{"serve", func(t *testing.T, st *operatorStore, s *state) {
			var out, errOut bytes.Buffer
			e := &env{stdout: &out, stderr: &errOut, lang: "vi"}
			var sf serveFlags
			require.NoError(t, e.serveFlagSet("serve", &sf).Parse(append([]string{"--data-dir", st.dir, "--addr", "127.0.0.1:0", "--log-level", "error"}, st.args...)))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var id string
			require.NoError(t, serve(ctx, e, sf, func(_ string, srv *server.Server) {
				id = srv.ID().String()
				cancel()
			}), errOut.String())
			require.Equal(t, s.serverID, id, "serve opens the store the other commands wrote")
		}},
		{"migrate-store", func(t *testing.T, st *operatorStore, s *state) {
			if st.url != "" {
				// The source is always a SQLite data directory, and there is none.
				code, _, errOut := st.cli(t, "migrate-store")
				require.Equal(t, 1, code)
				require.Contains(t, errOut, "không có cơ sở dữ liệu SQLite tại")
				return
			}
			to := pgtest.FreshDB(t)
			st.ok(t, "migrate-store", "--db", to)
			pg, err := pgstore.Open(context.Background(), to, pgstore.Options{})
			require.NoError(t, err)
			srv, err := server.OpenWithStore(context.Background(), server.Config{Logger: servertest.Logger(), GCInterval: -1}, pg)
			require.NoError(t, err)
			defer srv.Close()
			require.Equal(t, s.serverID, srv.ID().String(), "migrate-store --db names the target database")
		}},
	}

	covered := map[string]bool{}
	for _, s := range steps {
		covered[s.cmd] = true
	}
	var missing []string
	for _, c := range commands {
		if !covered[c.name] && coveredElsewhere[c.name] == "" {
			missing = append(missing, c.name)
		}
	}
	sort.Strings(missing)
	require.Empty(t, missing, "every operator command runs against both stores here (or says in coveredElsewhere where)")

	for _, kind := range operatorStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			var s state
			for _, step := range steps {
				if !t.Run(strings.ReplaceAll(step.cmd, " ", "_"), func(t *testing.T) { step.run(t, st, &s) }) {
					return
				}
			}
			st.noSQLiteUnlessSQLite(t)
		})
	}
}
