package agent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Issue 14, defect 2: a command killed while it creates the replica file
// (`enroll` with the lid closed, or cut by `| head -1`) left a file that
// every later command refused as "not a Hamlet replica": in WAL mode the
// whole new database, its application id included, sat in the -wal file
// until a checkpoint, and the start-up check read the id from the main
// file only.
//
// A new replica is now built whole in a temporary file beside it (rollback
// journal, so that everything is in the one file when it closes), synced,
// and only then given its name: killed at any point, the folder holds
// either no replica (the next command starts again) or a complete one.
// Since a half-built file never gets the name, its transactions need no
// durability of their own: the journal is kept in memory and nothing is
// synced until the file is whole (the first command on a new laptop paid
// 106 fsyncs for its 22 transactions, 0.33 s against 0.14 s on this
// machine's disk; on a volunteer's hard disk, seconds).
// The start-up check also reads the application id through SQLite when a
// -wal file is there, so a folder an earlier release left that way opens
// (and finishes its creation) instead of being refused for good.

// tempPrefix names a replica being built: path + tempPrefix + random.
const tempPrefix = ".new-"

// createReplica builds a new replica file at path (which holds no replica:
// it is missing, or empty). A replica another process gave the name first
// is kept, not replaced.
func createReplica(ctx context.Context, path string, opts Options) error {
	dir := filepath.Dir(path)
	removeStaleTemps(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+tempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create the replica: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		for _, suf := range []string{"", "-journal", "-wal", "-shm"} {
			os.Remove(tmp + suf)
		}
	}()
	dsn := "file:" + (&url.URL{Path: tmp}).EscapedPath() + "?_txlock=immediate&_pragma=journal_mode(MEMORY)&_pragma=synchronous(OFF)&_pragma=foreign_keys(0)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	r := &Replica{db: db, path: tmp, now: opts.Now, sch: opts.Schema}
	err = r.init(ctx, true, opts)
	if err == nil {
		// The fork check (fork.go) applies from the first sync: a copy of
		// this file made before it ever pushed is still a copy.
		err = setMeta(ctx, db, "sent_seq", int64(0))
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create the replica: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("create the replica: %w", err)
	}
	if err := place(tmp, path); err != nil {
		return fmt.Errorf("create the replica: %w", err)
	}
	return syncDir(dir)
}

// place gives the finished file its name. A -wal or -shm left beside a
// missing or empty replica belongs to no database that exists (a file
// deleted by hand, say): SQLite would replay it into the new one, so it
// goes first.
func place(tmp, path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, suf := range []string{"-wal", "-shm", "-journal"} {
			os.Remove(path + suf)
		}
		// A hard link never replaces a file: if another process placed its
		// replica meanwhile, that one stays and this one is dropped.
		err := os.Link(tmp, path)
		if err == nil || errors.Is(err, fs.ErrExist) {
			return nil
		}
		// No hard links here (a FAT-formatted USB disk): rename, which
		// replaces, so check again just before.
		if _, serr := os.Stat(path); serr == nil {
			return nil
		}
		return os.Rename(tmp, path)
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", path)
	}
	// An empty file, or an empty SQLite file nobody marked (precheck).
	for _, suf := range []string{"-wal", "-shm", "-journal"} {
		os.Remove(path + suf)
	}
	return os.Rename(tmp, path)
}

// removeStaleTemps drops replicas a killed process left half built. One
// being built by a live process right now is younger than a minute.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), filepath.Base(path)+tempPrefix
	ents, _ := os.ReadDir(dir) // not a glob: a user's folder may hold [ or *
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a new name durable. Not every system can sync a directory
// (Windows cannot open one for writing); the name is then as durable as
// that system makes it.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// walApplicationID reads the application id through SQLite, which sees a
// transaction still in the -wal file (the main file's header does not).
// ok is false when there is no -wal content or SQLite cannot read it.
func walApplicationID(ctx context.Context, path string) (id uint32, ok bool) {
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		return 0, false
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return 0, false
	}
	defer db.Close()
	var v int64
	if err := db.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&v); err != nil {
		return 0, false
	}
	return uint32(v), true
}

// halfCreated: a replica file marked ours whose creation stopped before
// its replica id was written (an earlier release killed then): nothing was
// ever written to it, so opening it finishes its creation.
func halfCreated(ctx context.Context, path string) bool {
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro")
	if err != nil {
		return false
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'agent_meta'`).Scan(&n); err != nil {
		return false
	}
	if n == 0 {
		return true
	}
	var v any
	err = db.QueryRowContext(ctx, `SELECT value FROM agent_meta WHERE key = 'replica_id'`).Scan(&v)
	if !errors.Is(err, sql.ErrNoRows) {
		return false
	}
	for _, t := range []string{"outbox", "outbox_rows", "row_state"} {
		var rows int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM `+t).Scan(&rows)
		if err == nil && rows > 0 {
			return false // not what a creation leaves
		}
	}
	return true
}
