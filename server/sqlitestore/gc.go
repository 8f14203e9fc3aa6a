package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Collection's primitives (server.GCTx): the policy is server.Collect's.

var _ server.GCTx = (*writeTx)(nil)

func (w *writeTx) Head() (uint64, error) {
	row, err := w.queryRow(`SELECT ` + sqliteHead)
	if err != nil {
		return 0, err
	}
	var head int64
	if err := row.Scan(&head); err != nil {
		return 0, err
	}
	return uint64(head), nil
}

func (w *writeTx) MinCursors(silentBefore time.Time, acked bool) (map[string]uint64, error) {
	lowest := 0
	if acked {
		lowest = 1
	}
	rows, err := w.query(`SELECT th.hamlet_code, MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		JOIN team_hamlets th ON th.team_id = m.team_id WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= ? AND (d.last_seen_ms IS NOT NULL OR d.cursor > 0) AND d.cursor >= ?
		GROUP BY th.hamlet_code`, sqlread.SilentMs(silentBefore), lowest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint64{}
	for rows.Next() {
		var sc string
		var c int64
		if err := rows.Scan(&sc, &c); err != nil {
			return nil, err
		}
		out[sc] = uint64(c)
	}
	return out, rows.Err()
}

func (w *writeTx) Tombstones() ([]server.Tombstone, error) {
	rows, err := w.query(`SELECT tbl, row, scope, tomb_seq FROM sync_rows WHERE deleted = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []server.Tombstone
	for rows.Next() {
		var d server.Tombstone
		var id []byte
		var tomb int64
		if err := rows.Scan(&d.Table, &id, &d.Scope, &tomb); err != nil {
			return nil, err
		}
		copy(d.Row[:], id)
		d.TombSeq = uint64(tomb)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (w *writeTx) MovedFrom(r server.RowRef) ([]string, error) {
	rows, err := w.query(`SELECT DISTINCT from_scope FROM scope_moves WHERE row = ? AND tbl = ? ORDER BY from_scope`, r.Row[:], r.Table)
	return collectStrings(rows, err)
}

// DropTombstone always drops: the writer is this transaction alone, so
// the row is still the tombstone Tombstones listed.
func (w *writeTx) DropTombstone(d server.Tombstone) (bool, int, error) {
	var n int64
	for _, sc := range append([]string{d.Scope}, d.MovedFrom...) {
		res, err := w.exec(`DELETE FROM sync_log WHERE scope = ? AND tbl = ? AND row = ?`, sc, d.Table, d.Row[:])
		if err != nil {
			return false, 0, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	w.cut = w.cut || n > 0
	if _, err := w.exec(`DELETE FROM sync_rows WHERE tbl = ? AND row = ?`, d.Table, d.Row[:]); err != nil {
		return false, 0, err
	}
	if _, err := w.exec(`INSERT INTO sync_collected (tbl, row) VALUES (?, ?) ON CONFLICT DO NOTHING`, d.Table, d.Row[:]); err != nil {
		return false, 0, fmt.Errorf("keep the collected row's id: %w", err)
	}
	if _, err := w.exec(`DELETE FROM scope_moves WHERE row = ? AND tbl = ?`, d.Row[:], d.Table); err != nil {
		return false, 0, fmt.Errorf("drop the collected row's scope moves: %w", err)
	}
	if err := w.deleteRowData(d.Table, d.Row); err != nil {
		return false, 0, err
	}
	return true, int(n), nil
}

func (w *writeTx) TruncateLog(scope string, upTo uint64) (uint64, int, error) {
	var top sql.NullInt64
	row, err := w.queryRow(`SELECT MAX(seq) FROM sync_log WHERE scope = ? AND seq <= ?`, scope, int64(upTo))
	if err != nil {
		return 0, 0, err
	}
	if err := row.Scan(&top); err != nil || !top.Valid {
		return 0, 0, err
	}
	res, err := w.exec(`DELETE FROM sync_log WHERE scope = ? AND seq <= ?`, scope, int64(upTo))
	if err != nil {
		return 0, 0, err
	}
	n, _ := res.RowsAffected()
	w.cut = w.cut || n > 0
	return uint64(top.Int64), int(n), nil
}

func (w *writeTx) RowScopes() ([]string, error) {
	rows, err := w.query(`SELECT DISTINCT scope FROM sync_rows`)
	return collectStrings(rows, err)
}

func (w *writeTx) LoggedChanges(scope string, upTo uint64) ([]server.LoggedChange, error) {
	rows, err := w.query(`SELECT seq, tbl, row, field, origin, oseq FROM sync_log WHERE scope = ? AND seq <= ? AND kind = 0`, scope, int64(upTo))
	if err != nil {
		return nil, err
	}
	type ent struct {
		server.LoggedChange
		origin int64
	}
	var ents []ent
	for rows.Next() {
		var e ent
		var id []byte
		var seq, oseq int64
		if err := rows.Scan(&seq, &e.Ref.Table, &id, &e.Field, &e.origin, &oseq); err != nil {
			rows.Close()
			return nil, err
		}
		copy(e.Ref.Row[:], id)
		e.Seq, e.Dot.Seq = uint64(seq), uint64(oseq)
		ents = append(ents, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]server.LoggedChange, len(ents))
	for i, e := range ents {
		if e.Dot.Replica, err = w.replica(e.origin); err != nil {
			return nil, err
		}
		out[i] = e.LoggedChange
	}
	return out, nil
}

func (w *writeTx) Versions(r server.RowRef) (map[string]syncproto.Version, error) {
	st, _, err := w.Row(r.Table, r.Row)
	return st.Versions, err
}

func (w *writeTx) DeleteEntries(seqs []uint64) error {
	for _, seq := range seqs {
		if _, err := w.exec(`DELETE FROM sync_log WHERE seq = ?`, int64(seq)); err != nil {
			return err
		}
	}
	w.cut = w.cut || len(seqs) > 0
	return nil
}

// KeepHead records the head as gc_head (sqliteHead reads it).
func (w *writeTx) KeepHead(head uint64) error {
	_, err := w.exec(`INSERT INTO server_meta (key, value) VALUES ('gc_head', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strconv.FormatUint(head, 10))
	return err
}

func (w *writeTx) RaiseFloor(scope string, seq uint64) error {
	_, err := w.exec(`INSERT INTO sync_log_floor (scope, seq) VALUES (?, ?)
		ON CONFLICT (scope) DO UPDATE SET seq = MAX(seq, excluded.seq)`, scope, int64(seq))
	return err
}

func (w *writeTx) CollectDigests(window int) (int, error) {
	// The floor first, and the digests by it: what is dropped is never
	// above the floor.
	if _, err := w.exec(`INSERT INTO sync_digest_floor (origin, seq) SELECT idx, max_seq - ? FROM replicas WHERE max_seq > ?
		ON CONFLICT (origin) DO UPDATE SET seq = max(seq, excluded.seq)`, window, window); err != nil {
		return 0, err
	}
	// Found from each floor down the primary key: a correlated test of
	// every digest scanned the whole table at each collection (20,000 a
	// replica), though few lie below a floor. CROSS JOIN keeps the floor
	// outer, which SQLite's planner does not choose without statistics.
	res, err := w.exec(`DELETE FROM sync_digests WHERE (origin, seq) IN
		(SELECT d.origin, d.seq FROM sync_digest_floor f CROSS JOIN sync_digests d ON d.origin = f.origin AND d.seq <= f.seq)`)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Horizon implements Store.Horizon: the lowest durable cursor of the active
// devices (not silent since silentBefore) covering any of scopes.
func (s *Store) Horizon(ctx context.Context, scopes []string, silentBefore time.Time) (uint64, error) {
	if len(scopes) == 0 {
		return 0, nil
	}
	js, err := json.Marshal(scopes)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	st, err := s.horizonStmt.get(ctx, s.rdb, `SELECT MIN(d.cursor) FROM devices d JOIN members m ON m.id = d.member_id
		WHERE d.revoked_ms IS NULL AND COALESCE(d.last_seen_ms, d.created_ms) >= ? AND (d.last_seen_ms IS NOT NULL OR d.cursor > 0)
		AND m.team_id IN (SELECT th.team_id FROM team_hamlets th WHERE th.hamlet_code IN (SELECT value FROM json_each(?)))`)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	var h sql.NullInt64
	err = st.QueryRowContext(ctx, sqlread.SilentMs(silentBefore), string(js)).Scan(&h)
	if err != nil {
		return 0, fmt.Errorf("horizon: %w", err)
	}
	return uint64(h.Int64), nil
}

// ForgetBases implements server.GCTx.ForgetBases: the blob is rewritten
// with the same row table values (so what it leaves out stays out), and
// only if it is still the one read.
func (w *writeTx) ForgetBases(r server.RowRef, dots map[string][]syncproto.Dot) (int, error) {
	tc, err := rowTableOf(r.Table)
	if err != nil {
		return 0, err
	}
	vals := make([]any, len(tc.Cols))
	var blob []byte
	dst := []any{&blob}
	for i := range vals {
		dst = append(dst, &vals[i])
	}
	row, err := w.queryRow(`SELECT s.versions`+prefixedCols(", t.", tc.Cols)+` FROM sync_rows s LEFT JOIN `+r.Table+
		` t ON t.id = ? WHERE s.tbl = ? AND s.row = ?`, r.Row.String(), r.Table, r.Row[:])
	if err != nil {
		return 0, err
	}
	if err := row.Scan(dst...); errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	cols := tc.Values(vals)
	vs, err := versions.Decode(blob, w.replica, cols)
	if err != nil {
		return 0, fmt.Errorf("row %s: %w", r.Row, err)
	}
	n := sqlread.ForgetBases(vs, dots)
	if n == 0 && versions.InTable(blob) {
		return 0, nil // nothing to clear, and already in the current format
	}
	nb, err := versions.Encode(nil, vs, func(id syncproto.ReplicaID) (int64, error) { return w.idx(id, true) }, cols)
	if err != nil {
		return 0, err
	}
	res, err := w.exec(`UPDATE sync_rows SET versions = ? WHERE tbl = ? AND row = ? AND versions = ?`, nb, r.Table, r.Row[:], blob)
	if err != nil {
		return 0, err
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return 0, nil
	}
	return n, nil
}

// collectStrings reads a one-column text result whole, as pgx.CollectRows
// does for the PostgreSQL store.
func collectStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
