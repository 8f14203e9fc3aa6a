package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// sqliteHead is the log head in SQL: the highest seq in the log, or the
// head GC recorded before it removed the last entries (so a collected log
// never hands out a seq again, nor tells a device its cursor is beyond it).
const sqliteHead = `MAX(COALESCE((SELECT MAX(seq) FROM sync_log), 0), COALESCE((SELECT CAST(value AS INTEGER) FROM server_meta WHERE key = 'gc_head'), 0))`

func (s *Store) PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error) {
	var seq int64
	err := s.rdb.QueryRowContext(ctx, `SELECT max_seq FROM replicas WHERE id = ?`, r[:]).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pushed seq: %w", err)
	}
	return uint64(seq), nil
}

func (s *Store) Head(ctx context.Context) (uint64, error) {
	st, err := s.headStmt.get(ctx, s.rdb, `SELECT `+sqliteHead)
	if err != nil {
		return 0, fmt.Errorf("read log head: %w", err)
	}
	var head sql.NullInt64
	if err := st.QueryRowContext(ctx).Scan(&head); err != nil {
		return 0, fmt.Errorf("read log head: %w", err)
	}
	return uint64(head.Int64), nil
}

// ReadLog merges the scopes' streams of the log: one query per scope walks
// the (scope, seq) index in seq order, all of them open at once on one
// connection, and the merge takes the lowest seq until the page is full.
// So a page reads exactly the entries it returns (plus one look-ahead per
// scope), however many scopes a team covers and however the log interleaves
// them, and never sorts. Rows are read through the driver directly: no
// database/sql conversions, and the scope string is the query's own.
func (s *Store) ReadLog(ctx context.Context, q server.LogQuery) (server.LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	// No transaction needed: the head is read first and every query is
	// bounded by it; one writer commits seqs in order, so everything at or
	// below a visible head is visible.
	head, err := s.Head(ctx)
	if err != nil {
		return server.LogPage{}, err
	}
	if q.After > head {
		return server.LogPage{}, syncproto.Errorf(syncproto.CodeBadCursor, "cursor %d is beyond the log head %d", q.After, head)
	}
	page := server.LogPage{To: head}
	if q.After == head || len(q.Scopes) == 0 {
		return page, nil
	}
	var excl int64 = -1
	if i, ok := s.reps.Index(q.Exclude); ok {
		excl = i
	}
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return server.LogPage{}, fmt.Errorf("read log: %w", err)
	}
	defer conn.Close()
	var refs []replicaRefs
	err = conn.Raw(func(dc any) error {
		var err error
		page.Entries, refs, page.More, err = mergeScopes(ctx, dc, &s.logStmts, server.DistinctScopes(q.Scopes), q.After, head, excl, q.Limit)
		return err
	})
	if err != nil {
		return server.LogPage{}, fmt.Errorf("read log: %w", err)
	}
	// Replica ids, resolved once the connection is released (replicaOf
	// may need the pool).
	last := [2]int64{-1, -1}
	var lastID [2]syncproto.ReplicaID
	resolve := func(slot int, idx int64) (syncproto.ReplicaID, error) {
		if idx == last[slot] {
			return lastID[slot], nil
		}
		r, err := s.replicaOf(ctx, idx)
		if err != nil {
			return r, err
		}
		last[slot], lastID[slot] = idx, r
		return r, nil
	}
	for i := range page.Entries {
		c := &page.Entries[i].Change
		if c.Dot.Replica, err = resolve(0, refs[i].origin); err != nil {
			return server.LogPage{}, err
		}
		if refs[i].base != 0 {
			if c.Base.Replica, err = resolve(1, refs[i].base); err != nil {
				return server.LogPage{}, err
			}
		}
	}
	if page.More {
		page.To = page.Entries[len(page.Entries)-1].Seq
	}
	return page, nil
}

// replicaRefs are an entry's replica indexes before they are resolved.
type replicaRefs struct{ origin, base int64 }

const readLogQuery = `SELECT seq, kind, tbl, row, field, vkind, val, hlc, origin, oseq, base_origin, base_seq, new_scope
	FROM sync_log WHERE scope = ? AND seq > ? AND seq <= ? AND (origin != ? OR kind = 1 OR new_scope IS NOT NULL) ORDER BY seq LIMIT ?`

// logStream is one scope's open query and its next row.
type logStream struct {
	scope string
	st    driver.Stmt
	rows  driver.Rows
	row   []driver.Value
	seq   uint64
	done  bool
}

func (ls *logStream) next() error {
	err := ls.rows.Next(ls.row)
	if err == io.EOF {
		ls.done = true
		return nil
	}
	if err != nil {
		return err
	}
	ls.seq = uint64(asInt(ls.row[0]))
	return nil
}

// logStmtCache keeps, per connection of the read pool, the prepared
// statements of readLogQuery its pulls used (one per scope a pull reads at
// once), for the next pull on that connection.
type logStmtCache struct {
	mu sync.Mutex
	m  map[any][]driver.Stmt // driver connection -> free statements
}

// take removes and returns the free statements of connection dc, which
// the caller holds alone (conn.Raw) until put.
func (c *logStmtCache) take(dc any) []driver.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[dc]
	delete(c.m, dc)
	return st
}

func (c *logStmtCache) put(dc any, st []driver.Stmt) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[any][]driver.Stmt{}
	}
	c.m[dc] = st
}

// close finalises every cached statement (the store is closing: no pull
// holds a connection).
func (c *logStmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, sts := range c.m {
		for _, st := range sts {
			st.Close()
		}
	}
	c.m = nil
}

// mergeScopes runs on a raw driver connection: it opens one stream per
// scope and takes up to limit entries in seq order. more reports that an
// entry after the last one taken matches.
func mergeScopes(ctx context.Context, dc any, cache *logStmtCache, scopes []string, after, head uint64, excl int64, limit int) (out []server.LogEntry, refs []replicaRefs, more bool, err error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, nil, false, fmt.Errorf("driver %T cannot prepare with a context", dc)
	}
	stmts := cache.take(dc)
	streams := make([]*logStream, 0, len(scopes))
	defer func() {
		for _, ls := range streams {
			if ls.rows != nil {
				ls.rows.Close()
			}
		}
		// Every stream's rows are closed: its statement is free for the
		// next pull on this connection.
		for _, ls := range streams {
			stmts = append(stmts, ls.st)
		}
		cache.put(dc, stmts)
	}()
	for _, sc := range scopes {
		var st driver.Stmt
		if n := len(stmts); n > 0 {
			st, stmts = stmts[n-1], stmts[:n-1]
		} else if st, err = prep.PrepareContext(ctx, readLogQuery); err != nil {
			return nil, nil, false, err
		}
		ls := &logStream{scope: sc, st: st}
		streams = append(streams, ls)
		sq, ok := st.(driver.StmtQueryContext)
		if !ok {
			return nil, nil, false, fmt.Errorf("driver statement %T cannot query with a context", st)
		}
		args := []driver.NamedValue{{Ordinal: 1, Value: sc}, {Ordinal: 2, Value: int64(after)}, {Ordinal: 3, Value: int64(head)},
			{Ordinal: 4, Value: excl}, {Ordinal: 5, Value: int64(limit + 1)}}
		if ls.rows, err = sq.QueryContext(ctx, args); err != nil {
			return nil, nil, false, err
		}
		ls.row = make([]driver.Value, len(ls.rows.Columns()))
		if err := ls.next(); err != nil {
			return nil, nil, false, err
		}
	}
	out = make([]server.LogEntry, 0, min(limit, 128))
	refs = make([]replicaRefs, 0, cap(out))
	names := map[string]string{} // table and field names, interned
	intern := func(v driver.Value) string {
		var b string
		switch t := v.(type) {
		case string:
			b = t
		case []byte:
			if n, ok := names[string(t)]; ok {
				return n
			}
			b = string(t)
		}
		if n, ok := names[b]; ok {
			return n
		}
		names[b] = b
		return b
	}
	for {
		var ls *logStream
		for _, x := range streams {
			if !x.done && (ls == nil || x.seq < ls.seq) {
				ls = x
			}
		}
		if ls == nil {
			return out, refs, false, nil
		}
		if len(out) == limit {
			return out, refs, true, nil
		}
		r := ls.row
		var e server.LogEntry
		c := &e.Change
		e.Seq, e.Kind, c.Scope = ls.seq, server.EntryKind(asInt(r[1])), ls.scope
		c.Table, c.Field = intern(r[2]), intern(r[4])
		if b, ok := r[3].([]byte); ok {
			copy(c.Row[:], b)
		}
		v, err := versions.FromSQL(asInt(r[5]), r[6])
		if err != nil {
			return nil, nil, false, fmt.Errorf("log entry %d: %w", ls.seq, err)
		}
		c.Value = v
		c.HLC = syncproto.HLC(asInt(r[7]))
		c.Dot.Seq = uint64(asInt(r[9]))
		ref := replicaRefs{origin: asInt(r[8])}
		if bo := asInt(r[10]); bo != 0 {
			ref.base = bo
			c.Base.Seq = uint64(asInt(r[11]))
		}
		if ns, ok := r[12].(string); ok {
			e.NewScope = ns
		}
		out = append(out, e)
		refs = append(refs, ref)
		if err := ls.next(); err != nil {
			return nil, nil, false, err
		}
	}
}

func asInt(v driver.Value) int64 {
	switch t := v.(type) {
	case int64:
		return t
	case float64:
		return int64(t)
	}
	return 0
}

func (w *writeTx) Refusals(origin syncproto.ReplicaID, from, to uint64) (map[uint64]server.Refused, error) {
	rows, err := w.query(`SELECT oseq, code, reason, base_origin, base_seq FROM sync_refused WHERE origin = ? AND oseq BETWEEN ? AND ? AND code <> 'unauthorized'`,
		origin[:], int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read refusals: %w", err)
	}
	defer rows.Close()
	out := map[uint64]server.Refused{}
	for rows.Next() {
		var seq int64
		var r server.Refused
		var baseOrigin []byte
		var baseSeq *int64
		if err := rows.Scan(&seq, &r.Code, &r.Reason, &baseOrigin, &baseSeq); err != nil {
			return nil, fmt.Errorf("read refusals: %w", err)
		}
		if r.Change.Base, err = server.RefusedBase(baseOrigin, baseSeq); err != nil {
			return nil, fmt.Errorf("read refusals: %w", err)
		}
		r.Change.Dot = syncproto.Dot{Replica: origin, Seq: uint64(seq)}
		out[uint64(seq)] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read refusals: %w", err)
	}
	return out, nil
}

func (s *Store) Touch(ctx context.Context, acts []server.DeviceActivity) error {
	if len(acts) == 0 {
		return nil
	}
	return s.write(ctx, func(w *writeTx) error {
		for _, a := range acts {
			if _, err := w.exec(`UPDATE devices SET last_seen_ms = MAX(COALESCE(last_seen_ms, 0), ?) WHERE id = ?`, a.At.UnixMilli(), a.DeviceID); err != nil {
				return fmt.Errorf("touch device: %w", err)
			}
			if a.Cursor != nil {
				if _, err := w.exec(`UPDATE devices SET cursor = ? WHERE id = ?`, int64(*a.Cursor), a.DeviceID); err != nil {
					return fmt.Errorf("touch device: %w", err)
				}
			}
		}
		return nil
	})
}

// ---- enrollment and authentication ----

func (s *Store) PutCode(ctx context.Context, c server.EnrollCode) error {
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO enroll_codes (hash, member_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)`,
			c.Hash, c.MemberID, c.Created.UnixMilli(), c.Expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("store enrollment code: %w", err)
		}
		return nil
	})
}

const deviceCols = `d.id, d.member_id, m.team_id, d.replica_id, d.label, d.client, d.token_hash, d.created_ms, d.revoked_ms, d.last_seen_ms, d.cursor, d.replaces_id`

func scanDevice(sc interface{ Scan(...any) error }) (server.Device, error) {
	var d server.Device
	var rep []byte
	var created int64
	var revoked, seen sql.NullInt64
	var replaces sql.NullString
	var cursor int64
	if err := sc.Scan(&d.ID, &d.MemberID, &d.TeamID, &rep, &d.Label, &d.Client, &d.TokenHash, &created, &revoked, &seen, &cursor, &replaces); err != nil {
		return d, err
	}
	copy(d.Replica[:], rep)
	d.Created = time.UnixMilli(created).UTC()
	if revoked.Valid {
		t := time.UnixMilli(revoked.Int64).UTC()
		d.Revoked = &t
	}
	if seen.Valid {
		t := time.UnixMilli(seen.Int64).UTC()
		d.LastSeen = &t
	}
	d.Cursor = uint64(cursor)
	d.Replaces = replaces.String
	return d, nil
}

func (s *Store) DeviceByToken(ctx context.Context, tokenHash []byte) (server.Device, error) {
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return d, server.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("look up device: %w", err)
	}
	return d, nil
}

func (s *Store) Scope(ctx context.Context, memberID string) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT th.hamlet_code FROM members m JOIN team_hamlets th ON th.team_id = m.team_id
		WHERE m.id = ? ORDER BY th.hamlet_code`, memberID)
	if err != nil {
		return nil, fmt.Errorf("read scope: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("read scope: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *Store) Devices(ctx context.Context) ([]server.Device, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id ORDER BY d.created_ms, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []server.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Store) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?`, at.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("revoke device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke device %s: %w", id, server.ErrNotFound)
		}
		return nil
	})
}

func (s *Store) ServerID(ctx context.Context) (syncproto.ReplicaID, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		id := uuid.New()
		err = s.write(ctx, func(w *writeTx) error {
			_, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('server_id', ?) ON CONFLICT (key) DO NOTHING`, id.String())
			return err
		})
		if err != nil {
			return id, fmt.Errorf("create server id: %w", err)
		}
		err = s.rdb.QueryRowContext(ctx, `SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&v)
	}
	if err != nil {
		return syncproto.ReplicaID{}, fmt.Errorf("read server id: %w", err)
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return id, fmt.Errorf("read server id: %w", err)
	}
	return id, nil
}

// Backup writes a consistent copy of the database to path with VACUUM INTO,
// which reads one snapshot and so works while the server is writing.
func (s *Store) Backup(ctx context.Context, path string) error {
	if strings.ContainsRune(path, 0) {
		return fmt.Errorf("backup: bad path")
	}
	// A connection of its own: the read pool is query_only, and the writer
	// must stay free for pushes while the copy is made.
	db, err := sql.Open("sqlite", "file:"+s.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// The copy is a restore to be: the server's first start on it takes a
	// new log epoch (LogEpoch), which tells every laptop that pulled from
	// this log that its numbers past the copy are not the same entries.
	if err := markCopyRestored(ctx, path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := s.backupBlobs(ctx, path); err != nil {
		return fmt.Errorf("backup to %s: photos: %w", path, err)
	}
	return nil
}

func markCopyRestored(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO server_meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING`, restorePending)
	return err
}

// BackupBlobsDir is where Backup puts the photos of a backup written to
// path: the data directory's blobs/ layout, so a restore is the backup
// file as hamlet.db and this directory as blobs/ beside it.
func BackupBlobsDir(path string) string { return path + ".blobs" }

// backupBlobs copies every photo the backup at path names (its blobs
// table: the files are written before their rows and never replaced, so
// each one it names is whole) into BackupBlobsDir(path): hard links where
// the file system allows, which cost no space and stay whole when
// collection later removes the original, else copies, synced.
func (s *Store) backupBlobs(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT key FROM blobs`)
	if err != nil {
		return err
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	dir := BackupBlobsDir(path)
	for _, k := range keys {
		if err := checkKey(k); err != nil {
			return err
		}
		src, dst := s.blobPath(k), filepath.Join(dir, k[:2], k)
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		if err := os.Link(src, dst); err == nil {
			continue
		}
		data, err := os.ReadFile(src)
		if errors.Is(err, fs.ErrNotExist) {
			// Collected since the copy was read (no report named it for
			// the grace period): the backup forgets it too.
			if _, err := db.ExecContext(ctx, `DELETE FROM blobs WHERE key = ?`, k); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := writeFileSynced(dst, data); err != nil {
			return err
		}
	}
	return nil
}

// restorePending is the server_meta key a backup's copy carries (Backup,
// MarkRestored): the first LogEpoch on it takes a new epoch and removes it.
const restorePending = "restore_pending"

func (s *Store) LogEpoch(ctx context.Context) (uint64, error) {
	var epoch uint64
	err := s.write(ctx, func(w *writeTx) error {
		var pending int
		row, err := w.queryRow(`SELECT count(*) FROM server_meta WHERE key = ?`, restorePending)
		if err != nil {
			return err
		}
		if err := row.Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			if _, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('log_epoch', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
				strconv.FormatUint(server.NewLogEpoch(), 10)); err != nil {
				return err
			}
			if _, err := w.exec(`DELETE FROM server_meta WHERE key = ?`, restorePending); err != nil {
				return err
			}
		}
		var v string
		row, err = w.queryRow(`SELECT value FROM server_meta WHERE key = 'log_epoch'`)
		if err != nil {
			return err
		}
		err = row.Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		epoch, err = strconv.ParseUint(v, 10, 64)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read the log epoch: %w", err)
	}
	return epoch, nil
}

func (s *Store) MarkRestored(ctx context.Context) error {
	return s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO server_meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING`, restorePending)
		return err
	})
}
