package simtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// serverURL is the simulated server's address (never dialled: the
// network is in memory).
const serverURL = "http://hamlet.sim.invalid"

// The world's units: one commune, four hamlets; team 0 covers the first
// two, team 1 the third; the fourth is nobody's until a team gains it.
const commune = "32002"

var hamlets = []string{schema.HamletCode(commune, 1), schema.HamletCode(commune, 2), schema.HamletCode(commune, 3), schema.HamletCode(commune, 4)}

// serverNode is the server process: the real server.Server on the real
// SQLite store (or PostgreSQL's: pg.go), its tasks a process of the
// scheduler.
type serverNode struct {
	proc  *proc
	srv   *server.Server
	store server.Store
	mux   *http.ServeMux
	up    bool
	gen   int
	teams []string // team ids by index
	// importer is the coordinators' import replica (hamlet moves across
	// teams, Admin.ApplyChanges).
	importer syncproto.ReplicaID
	skew     time.Duration // the server's clock against true time
	// ro reads the store for the checks while the server runs
	// (Sim.serverRO).
	ro *sql.DB
}

// serverRO is a read-only connection to the server's store for the checks,
// and what to call when done with it. While the server runs, one is kept
// and its statements stay prepared: one opened for each check parsed the
// whole schema again every time (issue 17). It is closed as the server
// crashes, before the store, so the store's own close is the last, as
// before.
func (s *Sim) serverRO() (*sql.DB, func(), error) {
	if s.pg != nil {
		return s.pg.ro, func() {}, nil
	}
	n := s.srv
	if n == nil || !n.up {
		db, err := openRO(s.dataPath("server.db"))
		if err != nil {
			return nil, nil, err
		}
		return db, func() { db.Close() }, nil
	}
	if n.ro == nil {
		db, err := openRO(s.dataPath("server.db"))
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxIdleConns(2) // a check may read inside another's rows
		n.ro = db
	}
	return n.ro, func() {}, nil
}

func (s *Sim) serverConfig() server.Config {
	return server.Config{
		Logger:      s.log,
		Now:         func() time.Time { return s.sch.now.Add(s.srv.skew) },
		Sched:       s.sch,
		NewID:       s.newID,
		PullLimit:   7,
		Limits:      s.limits(),
		SilentAfter: 6 * time.Hour,
		TruncateLog: s.cfg.Truncate,
		GCInterval:  -1,
		RevokeCheck: -1,
		HelloWait:   10 * time.Second,
	}
}

// startServer starts the server process; fresh: create the store and the
// world's units, teams and members.
func (s *Sim) startServer(fresh bool) error {
	if s.srv == nil {
		s.srv = &serverNode{importer: s.newID()}
	}
	n := s.srv
	n.gen++
	n.proc = &proc{name: fmt.Sprintf("server#%d", n.gen)}
	st, err := s.openStore(fresh)
	if err != nil {
		return err
	}
	s.sch.procFor = n.proc
	srv, err := server.OpenWithStore(s.ctx, s.serverConfig(), st)
	s.sch.procFor = nil
	if err != nil {
		return fmt.Errorf("open server: %w", err)
	}
	n.srv, n.store, n.up = srv, st, true
	n.mux = http.NewServeMux()
	srv.Mount(n.mux)
	if fresh {
		var err error
		s.call(n.proc, "setup", func() { err = s.loadWorld() })
		if err != nil {
			return err
		}
	}
	s.tr.printf("server starts (%s)", n.proc.name)
	return nil
}

// openStore opens the server's store; fresh: a new one, its server id
// from the seed (a store makes a random one when it has none; Welcome
// carries it).
func (s *Sim) openStore(fresh bool) (server.Store, error) {
	if s.cfg.Postgres != "" {
		if fresh {
			d, err := s.createPG(s.newID().String())
			if err != nil {
				return nil, fmt.Errorf("PostgreSQL: %w", err)
			}
			s.pg = d
		}
		st, err := s.openPGStore()
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	if fresh {
		if err := s.placeStore(s.dataPath("server.db")); err != nil {
			return nil, fmt.Errorf("place the store: %w", err)
		}
	}
	st, err := sqlitestore.Open(s.ctx, s.dataPath("server.db"), sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 2})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

func (s *Sim) loadWorld() error {
	a := s.srv.srv.Admin()
	ctx := s.ctx
	if s.cfg.Postgres != "" { // on SQLite the store's template holds them (placeStore)
		if err := importUnits(ctx, a); err != nil {
			return err
		}
	}
	for i, hs := range [][]string{hamlets[:2], hamlets[2:3]} {
		t, err := a.CreateTeam(ctx, commune, fmt.Sprintf("Tổ %d", i+1), hs)
		if err != nil {
			return err
		}
		s.srv.teams = append(s.srv.teams, t.ID)
	}
	return nil
}

// crashServer kills the server process: what it committed stays in its
// files; sessions, queued writes, device activity not yet flushed and its
// read model are gone. Agents see their connections end.
func (n *serverNode) crash(s *Sim) { n.down(s, true) }

// down stops the server process; killed, its files are left as the kill
// found them, else (at the end of a schedule, whose files go) as its
// close leaves them.
func (n *serverNode) down(s *Sim, killed bool) {
	if !n.up {
		return
	}
	n.up = false
	if s.pg != nil {
		if err := s.pg.cutServer(s.ctx); err != nil {
			s.fail("crash the server: %v", err)
		}
		s.sch.kill(n.proc)
		_ = n.store.Close()
		if err := s.pg.allowServer(s.ctx); err != nil {
			s.fail("crash the server: %v", err)
		}
	} else {
		// Its files as the kill left them, not as a clean close does
		// (laptop.crash): the next start recovers the write-ahead log.
		// Copied: the store's Close checkpoints the log whoever else has
		// the file open.
		k := &kill{}
		var err error
		if killed {
			k, err = copiedKill(s.dataPath("server.db"))
		}
		if err != nil {
			s.fail("crash the server: read its files: %v", err)
		}
		if n.ro != nil {
			_ = n.ro.Close()
			n.ro = nil
		}
		_ = n.store.Close()
		s.sch.kill(n.proc)
		if err := k.end(); err != nil {
			s.fail("crash the server: leave its files as the crash found them: %v", err)
		}
	}
	for _, l := range s.links {
		if !l.srv.closed {
			l.srv.closed = true
			l.toAg.closed = true
			l.toSrv.flight = nil
		}
	}
}

// admin runs f against the server's Admin as a task of the server: an
// operator's command (or the operator's CLI: cli, on the store alone).
func (s *Sim) admin(name string, f func(a *server.Admin) error) {
	n := s.srv
	if !n.up {
		return
	}
	srv := n.srv
	s.sch.spawn(n.proc, name, func() {
		err := f(srv.Admin())
		s.tr.printf("%s: %s", name, errText(err))
	})
}

// httpClient is a laptop's HTTP client: its requests are served by the
// server's handler in a task of the server process.
func (s *Sim) httpClient(l *laptop) *http.Client {
	return &http.Client{Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
		n := s.srv
		if !n.up || !l.online {
			return nil, errDown
		}
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
			req.Body.Close()
		}
		sreq := httptest.NewRequestWithContext(req.Context(), req.Method, req.URL.Path, bytes.NewReader(body))
		sreq.Header = req.Header.Clone()
		sreq.RemoteAddr = fmt.Sprintf("10.0.0.%d:40000", l.idx+1)
		rec := httptest.NewRecorder()
		done := false
		p := n.proc
		s.sch.spawn(p, "http "+req.URL.Path, func() { n.mux.ServeHTTP(rec, sreq); done = true })
		s.sch.Block(func() bool { return done || p.dead })
		if !done {
			return nil, errDown
		}
		return rec.Result(), nil
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// frames is a laptop's dialer: a new link whose server end a session task
// of the server serves (GET /v1/sync, as over the network).
func (s *Sim) frames(l *laptop) func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
	return func(ctx context.Context, u string, h http.Header) (agent.FrameConn, *http.Response, error) {
		n := s.srv
		if !n.up || !l.online {
			return nil, nil, errDown
		}
		lk := newLink(s, l.name)
		lk.device = l.tokenDevice     // the server knows the device by the token (seed 914)
		s.links = append(s.links, lk) // a crash from now on closes it
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/v1/sync", nil)
		req.Header = h.Clone()
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-Websocket-Version", "13")
		req.Header.Set("Sec-Websocket-Key", "c2ltdWxhdGVkLXNlc3Npb24=")
		req.RemoteAddr = fmt.Sprintf("10.0.0.%d:40001", l.idx+1)
		rw := &acceptor{ResponseRecorder: httptest.NewRecorder(), link: lk}
		p := n.proc
		s.sch.spawn(p, "session "+l.name, func() {
			n.mux.ServeHTTP(rw, req)
			rw.done = true
			lk.srv.Close()
		})
		s.sch.Block(func() bool { return rw.accepted || rw.done || p.dead })
		switch {
		case rw.accepted:
			return lk.ag, nil, nil
		case rw.done:
			return nil, rw.Result(), websocket.ErrBadHandshake
		}
		return nil, nil, errDown
	}
}

// acceptor is the session's ResponseWriter: it hands the server the
// link's end instead of upgrading (server.FrameAcceptor).
type acceptor struct {
	*httptest.ResponseRecorder
	link     *link
	accepted bool
	done     bool
}

func (a *acceptor) AcceptFrames() server.FrameConn {
	a.accepted = true
	return a.link.srv
}

// limits are the server's limits: the default, or with Config.Budget a
// page's and a chunk's budget of 25 changes.
func (s *Sim) limits() syncproto.Limits {
	l := syncproto.DefaultLimits
	if s.cfg.Budget {
		l.MaxChanges = 25
	}
	return l
}
