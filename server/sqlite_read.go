package server

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

func (s *sqliteStore) PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error) {
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

func (s *sqliteStore) Head(ctx context.Context) (uint64, error) {
	var head sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT `+sqliteHead).Scan(&head); err != nil {
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
func (s *sqliteStore) ReadLog(ctx context.Context, q LogQuery) (LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	// No transaction needed: the head is read first and every query is
	// bounded by it; one writer commits seqs in order, so everything at or
	// below a visible head is visible.
	var hv sql.NullInt64
	if err := s.rdb.QueryRowContext(ctx, `SELECT `+sqliteHead).Scan(&hv); err != nil {
		return LogPage{}, fmt.Errorf("read log head: %w", err)
	}
	head := uint64(hv.Int64)
	if q.After > head {
		return LogPage{}, syncproto.Errorf(syncproto.CodeBadCursor, "cursor %d is beyond the log head %d", q.After, head)
	}
	page := LogPage{To: head}
	if q.After == head || len(q.Scopes) == 0 {
		return page, nil
	}
	var excl int64 = -1
	s.repMu.RLock()
	if i, ok := s.repIdx[q.Exclude]; ok {
		excl = i
	}
	s.repMu.RUnlock()
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return LogPage{}, fmt.Errorf("read log: %w", err)
	}
	defer conn.Close()
	var refs []replicaRefs
	err = conn.Raw(func(dc any) error {
		var err error
		page.Entries, refs, page.More, err = mergeScopes(ctx, dc, dedupe(q.Scopes), q.After, head, excl, q.Limit)
		return err
	})
	if err != nil {
		return LogPage{}, fmt.Errorf("read log: %w", err)
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
			return LogPage{}, err
		}
		if refs[i].base != 0 {
			if c.Base.Replica, err = resolve(1, refs[i].base); err != nil {
				return LogPage{}, err
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
	FROM sync_log WHERE scope = ? AND seq > ? AND seq <= ? AND (origin != ? OR kind = 1) ORDER BY seq LIMIT ?`

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

func (ls *logStream) close() {
	if ls.rows != nil {
		ls.rows.Close()
	}
	if ls.st != nil {
		ls.st.Close()
	}
}

// mergeScopes runs on a raw driver connection: it opens one stream per
// scope and takes up to limit entries in seq order. more reports that an
// entry after the last one taken matches.
func mergeScopes(ctx context.Context, dc any, scopes []string, after, head uint64, excl int64, limit int) (out []LogEntry, refs []replicaRefs, more bool, err error) {
	prep, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, nil, false, fmt.Errorf("driver %T cannot prepare with a context", dc)
	}
	streams := make([]*logStream, 0, len(scopes))
	defer func() {
		for _, ls := range streams {
			ls.close()
		}
	}()
	for _, sc := range scopes {
		st, err := prep.PrepareContext(ctx, readLogQuery)
		if err != nil {
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
	out = make([]LogEntry, 0, min(limit, 128))
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
		var e LogEntry
		c := &e.Change
		e.Seq, e.Kind, c.Scope = ls.seq, EntryKind(asInt(r[1])), ls.scope
		c.Table, c.Field = intern(r[2]), intern(r[4])
		if b, ok := r[3].([]byte); ok {
			copy(c.Row[:], b)
		}
		c.Value = decodeValue(asInt(r[5]), r[6])
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

func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (w *sqliteTx) Refusals(origin syncproto.ReplicaID, from, to uint64) (map[uint64]Refused, error) {
	rows, err := w.query(`SELECT oseq, code, reason FROM sync_refused WHERE origin = ? AND oseq BETWEEN ? AND ?`,
		origin[:], int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read refusals: %w", err)
	}
	defer rows.Close()
	out := map[uint64]Refused{}
	for rows.Next() {
		var seq int64
		var r Refused
		if err := rows.Scan(&seq, &r.Code, &r.Reason); err != nil {
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

func (s *sqliteStore) Touch(ctx context.Context, acts []DeviceActivity) error {
	if len(acts) == 0 {
		return nil
	}
	return s.write(ctx, func(w *sqliteTx) error {
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

func (s *sqliteStore) PutCode(ctx context.Context, c EnrollCode) error {
	return s.write(ctx, func(w *sqliteTx) error {
		_, err := w.exec(`INSERT INTO enroll_codes (hash, member_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)`,
			c.Hash, c.MemberID, c.Created.UnixMilli(), c.Expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("store enrollment code: %w", err)
		}
		return nil
	})
}

func (s *sqliteStore) Enroll(ctx context.Context, codeHash []byte, now time.Time, d Device) (Enrollment, error) {
	var out Enrollment
	err := s.write(ctx, func(w *sqliteTx) error {
		row, err := w.queryRow(`SELECT member_id, expires_ms, used_ms, COALESCE(device_id, '') FROM enroll_codes WHERE hash = ?`, codeHash)
		if err != nil {
			return err
		}
		var member, usedBy string
		var expires int64
		var used sql.NullInt64
		if err := row.Scan(&member, &expires, &used, &usedBy); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrCodeInvalid
			}
			return fmt.Errorf("enroll: %w", err)
		}
		if used.Valid {
			// The same replica again, its enroll cut off before it kept the
			// token: the same device, a new token (enroll_again.go).
			if err := w.enrollAgain(usedBy, &d, now.UnixMilli() < expires); err != nil {
				return err
			}
		} else if now.UnixMilli() >= expires {
			return ErrCodeExpired
		}
		m, err := w.member(member)
		if err != nil {
			return err
		}
		t, err := w.team(m.TeamID)
		if err != nil {
			return err
		}
		if used.Valid {
			out = Enrollment{Device: d, Member: m, Team: t, Again: true}
			return nil
		}
		d.MemberID, d.TeamID = m.ID, m.TeamID
		if err := w.reenroll(&d, m); err != nil { // sqlite_devices.go
			return err
		}
		if _, err := w.exec(`UPDATE enroll_codes SET used_ms = ?, device_id = ? WHERE hash = ?`, now.UnixMilli(), d.ID, codeHash); err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		if _, err := w.exec(`INSERT INTO devices (id, member_id, replica_id, label, client, token_hash, created_ms, cursor, replaces_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULLIF(?, ''))`,
			d.ID, d.MemberID, d.Replica[:], d.Label, d.Client, d.TokenHash, d.Created.UnixMilli(), int64(d.Cursor), d.Replaces); err != nil {
			if isReplicaActive(err) {
				return &ReplicaError{Kind: ErrReplicaActive}
			}
			return fmt.Errorf("enroll: store device: %w", err)
		}
		out = Enrollment{Device: d, Member: m, Team: t}
		return nil
	})
	return out, err
}

func (w *sqliteTx) member(id string) (Member, error) {
	row, err := w.queryRow(`SELECT id, team_id, name, role, COALESCE(phone, '') FROM members WHERE id = ?`, id)
	if err != nil {
		return Member{}, err
	}
	var m Member
	if err := row.Scan(&m.ID, &m.TeamID, &m.Name, &m.Role, &m.Phone); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return m, fmt.Errorf("member %s: %w", id, ErrNotFound)
		}
		return m, fmt.Errorf("member %s: %w", id, err)
	}
	return m, nil
}

func (w *sqliteTx) team(id string) (Team, error) {
	row, err := w.queryRow(`SELECT id, commune_code, name FROM teams WHERE id = ?`, id)
	if err != nil {
		return Team{}, err
	}
	var t Team
	if err := row.Scan(&t.ID, &t.CommuneCode, &t.Name); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return t, fmt.Errorf("team %s: %w", id, ErrNotFound)
		}
		return t, fmt.Errorf("team %s: %w", id, err)
	}
	rows, err := w.query(`SELECT hamlet_code FROM team_hamlets WHERE team_id = ? ORDER BY hamlet_code`, id)
	if err != nil {
		return t, fmt.Errorf("team %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return t, fmt.Errorf("team %s: %w", id, err)
		}
		t.Hamlets = append(t.Hamlets, h)
	}
	return t, rows.Err()
}

const deviceCols = `d.id, d.member_id, m.team_id, d.replica_id, d.label, d.client, d.token_hash, d.created_ms, d.revoked_ms, d.last_seen_ms, d.cursor, d.replaces_id`

func scanDevice(sc interface{ Scan(...any) error }) (Device, error) {
	var d Device
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

func (s *sqliteStore) DeviceByToken(ctx context.Context, tokenHash []byte) (Device, error) {
	d, err := scanDevice(s.rdb.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("look up device: %w", err)
	}
	return d, nil
}

func (s *sqliteStore) Scope(ctx context.Context, memberID string) ([]string, error) {
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

func (s *sqliteStore) Devices(ctx context.Context) ([]Device, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id ORDER BY d.created_ms, d.id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *sqliteStore) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	return s.write(ctx, func(w *sqliteTx) error {
		res, err := w.exec(`UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?`, at.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("revoke device: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke device %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

func (s *sqliteStore) ServerID(ctx context.Context) (syncproto.ReplicaID, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		id := uuid.New()
		err = s.write(ctx, func(w *sqliteTx) error {
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
func (s *sqliteStore) Backup(ctx context.Context, path string) error {
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
	return nil
}
