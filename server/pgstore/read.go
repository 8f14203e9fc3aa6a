package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func (s *Store) PushedSeq(ctx context.Context, r syncproto.ReplicaID) (uint64, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("read pushed seq: %w", err)
	}
	defer s.release(conn)
	var seq int64
	err = conn.QueryRow(ctx, `SELECT max_seq FROM replicas WHERE id = $1`, r[:]).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read pushed seq: %w", err)
	}
	return uint64(seq), nil
}

// Head is the committed log head (package doc, "The log").
func (s *Store) Head(ctx context.Context) (uint64, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("read log head: %w", err)
	}
	defer s.release(conn)
	return readHead(ctx, conn)
}

func readHead(ctx context.Context, q querier) (uint64, error) {
	var head int64
	if err := q.QueryRow(ctx, `SELECT seq FROM sync_log_head`).Scan(&head); err != nil {
		return 0, fmt.Errorf("read log head: %w", err)
	}
	return uint64(head), nil
}

const logSelect = `SELECT seq, kind, scope, tbl, row, field, vkind, val, hlc, origin, oseq, base_origin, base_seq, new_scope FROM sync_log`

// ReadLog reads each scope's entries through the (scope, seq) index in seq
// order, in one round trip, merges them and cuts the page where every
// scope's stream is still complete (as the SQLite store does). Every read
// is bounded by the committed head, below which nothing can still commit.
func (s *Store) ReadLog(ctx context.Context, q server.LogQuery) (server.LogPage, error) {
	if q.Limit <= 0 {
		q.Limit = 1000
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return server.LogPage{}, fmt.Errorf("read log: %w", err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			s.release(conn)
		}
	}
	defer release()
	head, err := readHead(ctx, conn)
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
	excl := int64(-1)
	if q.Exclude != (syncproto.ReplicaID{}) {
		if i, ok := s.reps.Index(q.Exclude); ok {
			excl = i
		}
		if excl < 0 {
			err := conn.QueryRow(ctx, `SELECT idx FROM replicas WHERE id = $1`, q.Exclude[:]).Scan(&excl)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return server.LogPage{}, fmt.Errorf("read log: %w", err)
			}
		}
	}
	scopes := server.DistinctScopes(q.Scopes)
	b := &pgx.Batch{}
	for _, sc := range scopes {
		// One more than the page: the first Limit+1 entries of all the
		// scopes together are among each scope's first Limit+1, so the
		// merge below knows whether another entry follows the page, as
		// SQLite's does (sqlitestore mergeScopes), and a page never ends
		// short of the head with nothing after it.
		b.Queue(logSelect+` WHERE scope = $1 AND seq > $2 AND seq <= $3 AND (origin <> $4 OR kind = 1 OR new_scope IS NOT NULL) ORDER BY seq LIMIT $5`,
			sc, int64(q.After), int64(head), excl, q.Limit+1)
	}
	br := conn.SendBatch(ctx, b)
	var all []server.LogEntry
	var reps [][2]int64 // each entry's origin and base origin, resolved after the batch
	for range scopes {
		rows, err := br.Query()
		if err != nil {
			br.Close()
			return server.LogPage{}, fmt.Errorf("read log: %w", err)
		}
		for rows.Next() {
			e, rep, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				br.Close()
				return server.LogPage{}, err
			}
			all = append(all, e)
			reps = append(reps, rep)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			br.Close()
			return server.LogPage{}, fmt.Errorf("read log: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return server.LogPage{}, fmt.Errorf("read log: %w", err)
	}
	release()
	// Replica ids are looked up once the batch's connection is back in the
	// pool: a lookup needing a second connection while holding one could
	// wait forever on a pool whose connections all do the same.
	for i := range all {
		c := &all[i].Change
		if c.Dot.Replica, err = s.replica(ctx, s.q(), reps[i][0]); err != nil {
			return server.LogPage{}, err
		}
		if reps[i][1] != 0 {
			if c.Base.Replica, err = s.replica(ctx, s.q(), reps[i][1]); err != nil {
				return server.LogPage{}, err
			}
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	if len(all) > q.Limit {
		all = all[:q.Limit]
		page.To, page.More = all[len(all)-1].Seq, true
	}
	page.Entries = all
	return page, nil
}

// scanEntry reads a log row; the entry's replicas are left for the caller
// to resolve from the returned indexes (origin, base origin).
func scanEntry(rows pgx.Rows) (server.LogEntry, [2]int64, error) {
	var e server.LogEntry
	var seq, hlc, origin, oseq, bo, bs int64
	var kind, vkind int16
	var row, val []byte
	var ns *string
	c := &e.Change
	if err := rows.Scan(&seq, &kind, &c.Scope, &c.Table, &row, &c.Field, &vkind, &val, &hlc, &origin, &oseq, &bo, &bs, &ns); err != nil {
		return e, [2]int64{}, fmt.Errorf("read log: %w", err)
	}
	e.Seq, e.Kind = uint64(seq), server.EntryKind(kind)
	if ns != nil {
		e.NewScope = *ns
	}
	copy(c.Row[:], row)
	var err error
	if c.Value, err = decodeValue(vkind, val); err != nil {
		return e, [2]int64{}, fmt.Errorf("read log entry %d: %w", seq, err)
	}
	c.HLC = syncproto.HLC(hlc)
	c.Dot.Seq = uint64(oseq)
	if bo != 0 {
		c.Base.Seq = uint64(bs)
	}
	return e, [2]int64{origin, bo}, nil
}

// Touch records devices' last contact and cursors in one statement.
func (s *Store) Touch(ctx context.Context, acts []server.DeviceActivity) error {
	if len(acts) == 0 {
		return nil
	}
	type act struct {
		at     int64
		cursor *int64
	}
	by := map[string]*act{}
	var order []string
	for _, a := range acts {
		x := by[a.DeviceID]
		if x == nil {
			x = &act{}
			by[a.DeviceID] = x
			order = append(order, a.DeviceID)
		}
		x.at = max(x.at, a.At.UnixMilli())
		if a.Cursor != nil {
			c := int64(*a.Cursor)
			x.cursor = &c
		}
	}
	sort.Strings(order) // one lock order for every process
	ats := make([]int64, len(order))
	curs := make([]*int64, len(order))
	for i, id := range order {
		ats[i], curs[i] = by[id].at, by[id].cursor
	}
	return s.write(ctx, func(w *pgTx) error {
		_, err := w.tx.Exec(w.ctx, `UPDATE devices d SET last_seen_ms = GREATEST(COALESCE(d.last_seen_ms, 0), v.at),
			cursor = COALESCE(v.cur, d.cursor) FROM unnest($1::text[], $2::int8[], $3::int8[]) AS v(id, at, cur) WHERE d.id = v.id`,
			order, ats, curs)
		if err != nil {
			return fmt.Errorf("touch devices: %w", err)
		}
		return nil
	})
}

// ---- enrollment and authentication ----

func (s *Store) PutCode(ctx context.Context, c server.EnrollCode) error {
	return s.write(ctx, func(w *pgTx) error {
		_, err := w.tx.Exec(w.ctx, `INSERT INTO enroll_codes (hash, member_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)`,
			c.Hash, c.MemberID, c.Created.UnixMilli(), c.Expires.UnixMilli())
		if err != nil {
			return fmt.Errorf("store enrollment code: %w", err)
		}
		return nil
	})
}

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func member1(ctx context.Context, q queryer, id string) (server.Member, error) {
	var m server.Member
	err := q.QueryRow(ctx, `SELECT id, team_id, name, role, COALESCE(phone, '') FROM members WHERE id = $1`, id).
		Scan(&m.ID, &m.TeamID, &m.Name, &m.Role, &m.Phone)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("member %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("member %s: %w", id, err)
	}
	return m, nil
}

func team1(ctx context.Context, q queryer, id string) (server.Team, error) {
	var t server.Team
	err := q.QueryRow(ctx, `SELECT id, commune_code, name, COALESCE((SELECT array_agg(hamlet_code ORDER BY hamlet_code) FROM team_hamlets WHERE team_id = $1), '{}')
		FROM teams WHERE id = $1`, id).Scan(&t.ID, &t.CommuneCode, &t.Name, &t.Hamlets)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("team %s: %w", id, server.ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("team %s: %w", id, err)
	}
	if len(t.Hamlets) == 0 {
		t.Hamlets = nil
	}
	return t, nil
}

const deviceCols = `d.id, d.member_id, m.team_id, d.replica_id, d.label, d.client, d.token_hash, d.created_ms, d.revoked_ms, d.last_seen_ms, d.cursor, d.replaces_id`

func scanDevice(sc pgx.Row) (server.Device, error) {
	var d server.Device
	var rep []byte
	var created, cursor int64
	var revoked, seen *int64
	var replaces *string
	if err := sc.Scan(&d.ID, &d.MemberID, &d.TeamID, &rep, &d.Label, &d.Client, &d.TokenHash, &created, &revoked, &seen, &cursor, &replaces); err != nil {
		return d, err
	}
	copy(d.Replica[:], rep)
	d.Created = time.UnixMilli(created).UTC()
	if revoked != nil {
		t := time.UnixMilli(*revoked).UTC()
		d.Revoked = &t
	}
	if seen != nil {
		t := time.UnixMilli(*seen).UTC()
		d.LastSeen = &t
	}
	d.Cursor = uint64(cursor)
	if replaces != nil {
		d.Replaces = *replaces
	}
	return d, nil
}

func (s *Store) DeviceByToken(ctx context.Context, tokenHash []byte) (server.Device, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return server.Device{}, fmt.Errorf("look up device: %w", err)
	}
	defer s.release(conn)
	d, err := scanDevice(conn.QueryRow(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id WHERE d.token_hash = $1`, tokenHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, server.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("look up device: %w", err)
	}
	return d, nil
}

func (s *Store) Scope(ctx context.Context, memberID string) ([]string, error) {
	conn, err := s.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("read scope: %w", err)
	}
	defer s.release(conn)
	var out []string
	err = conn.QueryRow(ctx, `SELECT COALESCE(array_agg(th.hamlet_code ORDER BY th.hamlet_code), '{}') FROM members m
		JOIN team_hamlets th ON th.team_id = m.team_id WHERE m.id = $1`, memberID).Scan(&out)
	if err != nil {
		return nil, fmt.Errorf("read scope: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func (s *Store) Devices(ctx context.Context) ([]server.Device, error) {
	rows, err := s.q().Query(ctx, `SELECT `+deviceCols+` FROM devices d JOIN members m ON m.id = d.member_id ORDER BY d.created_ms, d.id`)
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
	return s.write(ctx, func(w *pgTx) error {
		tag, err := w.tx.Exec(w.ctx, `UPDATE devices SET revoked_ms = COALESCE(revoked_ms, $1) WHERE id = $2`, at.UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("revoke device: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("revoke device %s: %w", id, server.ErrNotFound)
		}
		return nil
	})
}

// ServerID is the server's replica id, one for every process sharing the
// database: the first process to start creates it.
func (s *Store) ServerID(ctx context.Context) (syncproto.ReplicaID, error) {
	if _, err := s.q().Exec(ctx, `INSERT INTO server_meta (key, value) VALUES ('server_id', $1) ON CONFLICT (key) DO NOTHING`,
		uuid.NewString()); err != nil {
		return syncproto.ReplicaID{}, fmt.Errorf("create server id: %w", err)
	}
	var v string
	if err := s.q().QueryRow(ctx, `SELECT value FROM server_meta WHERE key = 'server_id'`).Scan(&v); err != nil {
		return syncproto.ReplicaID{}, fmt.Errorf("read server id: %w", err)
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return id, fmt.Errorf("read server id: %w", err)
	}
	return id, nil
}

// LogEpoch takes a new epoch in one statement when the store carries the
// restore mark (MarkRestored): of two server processes starting on one
// database, one removes the mark and the other reads its epoch.
func (s *Store) LogEpoch(ctx context.Context) (uint64, error) {
	if _, err := s.q().Exec(ctx, `WITH mark AS (DELETE FROM server_meta WHERE key = 'restore_pending' RETURNING 1)
		INSERT INTO server_meta (key, value) SELECT 'log_epoch', $1 FROM mark
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatUint(server.NewLogEpoch(), 10)); err != nil {
		return 0, fmt.Errorf("read the log epoch: %w", err)
	}
	var v string
	err := s.q().QueryRow(ctx, `SELECT value FROM server_meta WHERE key = 'log_epoch'`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the log epoch: %w", err)
	}
	epoch, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the log epoch: %w", err)
	}
	return epoch, nil
}

func (s *Store) MarkRestored(ctx context.Context) error {
	if _, err := s.q().Exec(ctx, `INSERT INTO server_meta (key, value) VALUES ('restore_pending', '1') ON CONFLICT (key) DO NOTHING`); err != nil {
		return fmt.Errorf("mark the store restored: %w", err)
	}
	return nil
}

// Backup is PostgreSQL's business: pg_dump, or a base backup with WAL
// archiving for point-in-time recovery.
func (s *Store) Backup(ctx context.Context, path string) error {
	return errors.New("backup: a PostgreSQL database is backed up with PostgreSQL's tools (pg_dump, or pg_basebackup with WAL archiving), not hamlet-server backup")
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// AnalyticsSource is the read model's source over the store's pool as a
// *sql.DB (pgx stdlib), its '?' placeholders rebound to PostgreSQL's.
// Closing the store closes it.
func (s *Store) AnalyticsSource() analytics.Source { return s.source() }

func (s *Store) source() *sqlread.Source {
	s.readOnce.Do(func() {
		// As stdlib.OpenDBFromPool, with acquire's bound on the wait.
		s.readDB = sql.OpenDB(newReadConnector(s, s.pool))
		s.readDB.SetMaxIdleConns(0)
		s.readSrc = &sqlread.Source{DB: s.readDB, Rebind: sqlread.Rebind}
	})
	return s.readSrc
}

// ConflictCounts implements server.ReadModelStore.
func (s *Store) ConflictCounts(ctx context.Context) (map[string]int, error) {
	return s.source().ConflictCounts(ctx)
}

// SnapshotLosses implements server.SnapshotStore.
func (s *Store) SnapshotLosses(ctx context.Context, table string, rows []syncproto.RowID) ([]syncproto.LostWrite, error) {
	return s.source().SnapshotLosses(ctx, table, rows)
}

// LatestConflicts implements server.ReadModelStore.
func (s *Store) LatestConflicts(ctx context.Context, n int) ([]server.ConflictEntry, error) {
	return s.source().LatestConflicts(ctx, n)
}
