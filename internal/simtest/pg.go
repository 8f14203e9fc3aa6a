package simtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hamlet-vn/hamlet/server/pgstore"
)

// The server's store on PostgreSQL (Config.Postgres). Each schedule gets a
// database of its own, copied from a template this process migrates once
// (a fresh migration per schedule would cost more than the schedule).
// The store runs with pgstore.Options.LocalFeed: its commit feed is told
// in the committing task, not by a LISTEN goroutine the scheduler does
// not drive, so a seed replays as on SQLite.
//
// A server crash is PostgreSQL's view of a dying process: the database
// stops taking connections, the server's connections are terminated (an
// open transaction rolls back), its tasks unwind against connections that
// are gone, and only then is the pool closed (pgxpool's Close waits for
// every connection a task holds). The checks' connections are named
// apart and survive.

const (
	pgServerApp = "hamlet-sim-server"
	pgChecksApp = "hamlet-sim-checks"
)

// pgDB is a schedule's database.
type pgDB struct {
	name  string
	url   string  // the server's (application_name pgServerApp)
	ro    *sql.DB // the checks' connections, for the whole schedule
	admin *sql.DB // the cluster's maintenance database, to create and drop
}

var (
	pgTemplateMu   sync.Mutex
	pgTemplateName string // "" until made
	pgDBCount      atomic.Int64
)

// pgCluster opens the maintenance database of the cluster base names.
func pgCluster(base string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL URL %q: %w", base, err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxIdleConns(1)
	return db, nil
}

// withDB is base with its database and application name replaced.
func withDB(base, name, app string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// pgTemplate makes (once per process) the migrated database every
// schedule's is copied from.
func pgTemplate(ctx context.Context, admin *sql.DB, base string) (string, error) {
	pgTemplateMu.Lock()
	defer pgTemplateMu.Unlock()
	if pgTemplateName != "" {
		return pgTemplateName, nil
	}
	name := "hamlet_sim_tpl_" + strconv.Itoa(os.Getpid())
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("drop an old template: %w", err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create the template: %w", err)
	}
	u, err := withDB(base, name, pgServerApp)
	if err != nil {
		return "", err
	}
	st, err := pgstore.Open(ctx, u, pgstore.Options{MaxConns: 2})
	if err != nil {
		return "", fmt.Errorf("migrate the template: %w", err)
	}
	st.Close()
	pgTemplateName = name
	return name, nil
}

// DropPostgresTemplate drops the template this process made, if any (the
// end of the tests).
func DropPostgresTemplate(base string) {
	pgTemplateMu.Lock()
	defer pgTemplateMu.Unlock()
	if pgTemplateName == "" || base == "" {
		return
	}
	if admin, err := pgCluster(base); err == nil {
		_, _ = admin.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+pgTemplateName+` WITH (FORCE)`)
		admin.Close()
	}
	pgTemplateName = ""
}

// createPG makes the schedule's database, its server id from the seed.
func (s *Sim) createPG(serverID string) (*pgDB, error) {
	base := s.cfg.Postgres
	admin, err := pgCluster(base)
	if err != nil {
		return nil, err
	}
	d := &pgDB{admin: admin, name: fmt.Sprintf("hamlet_sim_%d_%d_%d", os.Getpid(), s.cfg.Seed, pgDBCount.Add(1))}
	fail := func(what string, err error) (*pgDB, error) {
		d.drop(s.ctx)
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	tpl, err := pgTemplate(s.ctx, admin, base)
	if err != nil {
		return fail("template", err)
	}
	// A template copies only while nobody else copies it.
	pgTemplateMu.Lock()
	_, err = admin.ExecContext(s.ctx, `CREATE DATABASE `+d.name+` TEMPLATE `+tpl)
	pgTemplateMu.Unlock()
	if err != nil {
		return fail("create the database", err)
	}
	if d.url, err = withDB(base, d.name, pgServerApp); err != nil {
		return fail("its URL", err)
	}
	ro, err := withDB(base, d.name, pgChecksApp)
	if err != nil {
		return fail("its URL", err)
	}
	cfg, err := pgx.ParseConfig(ro)
	if err != nil {
		return fail("its URL", err)
	}
	d.ro = stdlib.OpenDB(*cfg)
	d.ro.SetMaxIdleConns(2) // a check may read inside another's rows
	if _, err := d.ro.ExecContext(s.ctx, `INSERT INTO server_meta (key, value) VALUES ('server_id', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, serverID); err != nil {
		return fail("set the server id", err)
	}
	return d, nil
}

func (s *Sim) openPGStore() (*pgstore.Store, error) {
	return pgstore.Open(s.ctx, s.pg.url, pgstore.Options{MaxConns: 4, AcquireTimeout: 10 * time.Second, LocalFeed: true, Logger: s.log})
}

// cutServer ends the server's connections as its process dies, and
// refuses new ones until allowServer.
func (d *pgDB) cutServer(ctx context.Context) error {
	if _, err := d.admin.ExecContext(ctx, `ALTER DATABASE `+d.name+` ALLOW_CONNECTIONS false`); err != nil {
		return fmt.Errorf("refuse connections: %w", err)
	}
	if _, err := d.admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, d.name, pgServerApp); err != nil {
		return fmt.Errorf("end the server's connections: %w", err)
	}
	return nil
}

func (d *pgDB) allowServer(ctx context.Context) error {
	_, err := d.admin.ExecContext(ctx, `ALTER DATABASE `+d.name+` ALLOW_CONNECTIONS true`)
	return err
}

// drop removes the schedule's database.
func (d *pgDB) drop(ctx context.Context) {
	if d.ro != nil {
		d.ro.Close()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = d.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+d.name+` WITH (FORCE)`)
	d.admin.Close()
}

// rebind writes a check's ? placeholders as $1, $2, … for PostgreSQL.
func rebind(pg bool, q string) string {
	if !pg || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
