package simtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// Template files. Every schedule starts a new server store and four or
// more new replicas, and creating a SQLite file and running every
// migration on it was a fifth of a schedule's CPU. So each process makes
// one new store and one new replica per schema version, the real way
// (sqlitestore.Open, agent.OpenWith), keeps their bytes, and a world
// writes them where it would have created its files: they are real SQLite
// files still, as new as the ones Open makes (TestTemplatesAreNew
// compares them), and each gets the id the world would have made for it.
//
// The store's template holds the world's units too: the country's
// provinces and communes and the commune's four hamlets, imported through
// the server's Admin as loadWorld did in every schedule (a thirtieth of
// its CPU). They are the same in every world: no id, no time, nothing of
// the seed.

// templateID is the replica id a template is made with; each copy gets
// its own (placeReplica).
var templateID = uuid.MustParse("00000000-0000-4000-8000-000000000001")

type templateFiles struct {
	mu       sync.Mutex
	store    *template
	replicas map[int]*template // by schema version
}

// template is a template file's bytes, which hold templateID once, as
// text, at offset at.
type template struct {
	b  []byte
	at int
}

// newTemplate finds templateID in b, which must hold it once.
func newTemplate(b []byte) (*template, error) {
	id := []byte(templateID.String())
	if n := bytes.Count(b, id); n != 1 {
		return nil, fmt.Errorf("it holds its id %d times, not once", n)
	}
	return &template{b: b, at: bytes.Index(b, id)}, nil
}

// writeWithID writes a copy of the template to path with id in place of
// templateID: text of the same length, a change that leaves every page's
// layout as it was. Written in three parts, around the id: the file is
// not searched for it nor copied in memory first (bytes.Replace did both,
// for every laptop started).
func writeWithID(path string, t *template, id uuid.UUID) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	text := id.String()
	for _, part := range [][]byte{t.b[:t.at], []byte(text), t.b[t.at+len(text):]} {
		if _, err := f.Write(part); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

var templates templateFiles

// storeTemplate is the bytes of a new server store.
func (tf *templateFiles) storeTemplate(ctx context.Context, base string) (*template, error) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.store != nil {
		return tf.store, nil
	}
	b, err := makeTemplate(base, "server.db", func(path string) error {
		st, err := sqlitestore.Open(ctx, path, sqlitestore.Options{Synchronous: "NORMAL", ReadConns: 2})
		if err != nil {
			return err
		}
		srv, err := server.OpenWithStore(ctx, server.Config{
			Logger: slog.New(slog.DiscardHandler),
			Now:    func() time.Time { return simStart },
			// The units take no id: one drawn would be missing from
			// the world's sequence.
			NewID: func() uuid.UUID { panic("simtest: the units' template drew an id") },
		}, st)
		if err != nil {
			return err
		}
		if err := importUnits(ctx, srv.Admin()); err != nil {
			srv.Close()
			return err
		}
		if err := srv.Close(); err != nil {
			return err
		}
		// The server id the server made is replaced by templateID, which
		// placeStore replaces by the world's own.
		db, err := openRW(path)
		if err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, `UPDATE server_meta SET value = ? WHERE key = 'server_id'`, templateID.String())
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("make the template store: %w", err)
	}
	t, err := newTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("the template store's server id: %w", err)
	}
	tf.store = t
	return t, nil
}

// replicaTemplate is the bytes of a new replica of sch, its replica id
// templateID.
func (tf *templateFiles) replicaTemplate(ctx context.Context, base string, sch *schema.Registry) (*template, error) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if t, ok := tf.replicas[sch.Version()]; ok {
		return t, nil
	}
	b, err := makeTemplate(base, replicaFile, func(path string) error {
		rep, err := agent.OpenWith(ctx, path, agent.Options{
			Now:    func() time.Time { return simStart },
			Schema: sch,
			NewID:  func() uuid.UUID { return templateID },
		})
		if err != nil {
			return err
		}
		return rep.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("make the template replica of schema %d: %w", sch.Version(), err)
	}
	// The id is written once, as text (agent_meta), and nowhere else:
	// placeReplica writes each copy's own over it.
	t, err := newTemplate(b)
	if err != nil {
		return nil, fmt.Errorf("the template replica of schema %d: %w", sch.Version(), err)
	}
	if tf.replicas == nil {
		tf.replicas = map[int]*template{}
	}
	tf.replicas[sch.Version()] = t
	return t, nil
}

// makeTemplate creates a file with create in a directory of its own and
// returns its bytes: the whole database, the write-ahead log folded into
// it when the last connection closed.
func makeTemplate(base, name string, create func(path string) error) ([]byte, error) {
	dir, err := os.MkdirTemp(base, "hamlet-sim-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, name)
	if err := create(path); err != nil {
		return nil, err
	}
	for _, suf := range []string{"-wal", "-journal"} {
		if fi, err := os.Stat(path + suf); err == nil && fi.Size() > 0 {
			return nil, fmt.Errorf("%s left a %s file of %d bytes", name, suf, fi.Size())
		}
	}
	return os.ReadFile(path)
}

// importUnits imports the world's units: the country's, and the
// commune's hamlets.
func importUnits(ctx context.Context, a *server.Admin) error {
	if err := a.ImportUnits(ctx, schema.EmbeddedUnits2025()); err != nil {
		return err
	}
	_, err := a.AddHamlets(ctx, commune, 1, len(hamlets))
	return err
}

// placeStore writes a new store where the server will open it (nothing
// when the file is there already), the world's units in it, with the
// server id the world would have set on it (its next id): the id is
// text of the template's length, so it takes its place in the bytes
// (placeReplica), where a connection of the harness's own wrote it after
// the store opened, parsing the whole schema once more in every schedule.
func (s *Sim) placeStore(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return err
	}
	b, err := templates.storeTemplate(s.ctx, baseDir(s.cfg))
	if err != nil {
		return err
	}
	return writeWithID(path, b, s.newID())
}

// placeReplica writes a new replica where the laptop's agent will open it,
// when none is there, with the replica id the agent would have made for it
// (from the world's ids, at the same point of the schedule). The id is
// text of the same length as the template's, so it takes its place in the
// bytes: a change that leaves every page's layout as it was, and costs no
// connection (opening one reads and parses the whole schema).
func (s *Sim) placeReplica(l *laptop, path string) error {
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmpl, err := templates.replicaTemplate(s.ctx, baseDir(s.cfg), l.sch)
	if err != nil {
		return err
	}
	return writeWithID(path, tmpl, s.newID())
}
