package pgstore

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"context"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/internal/replicas"
	"github.com/hamlet-vn/hamlet/server/internal/sqlread"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// pgTx is one write transaction.
type pgTx struct {
	s   *Store
	ctx context.Context
	tx  *txConn

	held      map[int64]bool    // advisory locks taken
	logLocked bool              // sync_log_head is locked: head is ours
	head      uint64            // the last seq assigned
	pending   logCopy           // log rows, written at commit
	scopes    map[string]uint64 // highest seq appended per scope (the commit's notification)

	reps replicas.Tx      // replicas this transaction added
	seqs map[int64]uint64 // max_seq set by this transaction

	// absent is the rows Row or LoadRows found missing, under their lock:
	// SaveRows inserts them without ON CONFLICT (cheaper), since no other
	// transaction can add them before this one ends.
	absent map[server.RowRef]bool
}

var _ server.Tx = (*pgTx)(nil)

// idx returns the replica's index, adding the replica if create is set
// (-1 if it is unknown and create is not set).
func (w *pgTx) idx(r syncproto.ReplicaID, create bool) (int64, error) {
	return w.reps.Index(r, create, w)
}

// Find looks r up: another process may have added it.
func (w *pgTx) Find(r syncproto.ReplicaID) (i int64, ok bool, err error) {
	err = w.tx.QueryRow(w.ctx, `SELECT idx FROM replicas WHERE id = $1`, r[:]).Scan(&i)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	return i, err == nil, err
}

// New adds r. Another transaction may add the same replica at once: ON
// CONFLICT waits for it, then the SELECT finds its row.
func (w *pgTx) New(r syncproto.ReplicaID) (i int64, err error) {
	err = w.tx.QueryRow(w.ctx, `INSERT INTO replicas (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING idx`, r[:]).Scan(&i)
	if errors.Is(err, pgx.ErrNoRows) {
		err = w.tx.QueryRow(w.ctx, `SELECT idx FROM replicas WHERE id = $1`, r[:]).Scan(&i)
	}
	return i, err
}

func (w *pgTx) replica(i int64) (syncproto.ReplicaID, error) {
	return w.reps.ID(i, loadReplica(w.ctx, w.tx))
}

func (w *pgTx) OriginSeq(r syncproto.ReplicaID) (uint64, error) {
	// A replica's index never changes once committed, so it may be looked
	// up before the lock; its max_seq is read after it, in the same round
	// trip.
	i, err := w.idx(r, false)
	if err != nil {
		return 0, err
	}
	seq, set := w.seqs[i]
	var n int64
	var read func(pgx.BatchResults) error
	err = w.tx.pipeline(w.ctx, func(b *pgx.Batch) {
		read = w.queueLock(b, replicaKey(r))
		if i >= 0 && !set {
			b.Queue(`SELECT max_seq FROM replicas WHERE idx = $1`, i)
		}
	}, func(br pgx.BatchResults) error {
		if read != nil {
			if err := read(br); err != nil {
				return err
			}
		}
		if i >= 0 && !set {
			if err := br.QueryRow().Scan(&n); err != nil {
				return fmt.Errorf("origin seq: %w", err)
			}
		}
		return nil
	})
	switch {
	case err != nil || i < 0:
		return 0, err
	case set:
		return seq, nil
	}
	return uint64(n), nil
}

func (w *pgTx) SetOriginSeq(r syncproto.ReplicaID, seq uint64) error {
	if err := w.lock(replicaKey(r)); err != nil {
		return err
	}
	i, err := w.idx(r, true)
	if err != nil {
		return err
	}
	if w.seqs == nil {
		w.seqs = map[int64]uint64{}
	}
	w.seqs[i] = seq
	return nil
}

const rowCols = `scope, parent, deleted, tomb_seq, versions`

func (w *pgTx) Row(table string, id syncproto.RowID) (server.RowState, bool, error) {
	refs := []server.RowRef{{Table: table, Row: id}}
	states, err := w.LoadRows(refs)
	if err != nil {
		return server.RowState{}, false, fmt.Errorf("load row %s: %w", id, err)
	}
	st, ok := states[refs[0]]
	return st, ok, nil
}

func (w *pgTx) LoadRows(refs []server.RowRef) (map[server.RowRef]server.RowState, error) {
	out := make(map[server.RowRef]server.RowState, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	keys := make([]int64, len(refs))
	byTable := map[string][]syncproto.RowID{}
	var tables []string
	for i, r := range refs {
		keys[i] = rowKey(r.Table, r.Row)
		if _, ok := byTable[r.Table]; !ok {
			tables = append(tables, r.Table)
		}
		byTable[r.Table] = append(byTable[r.Table], r.Row)
	}
	// Scanned whole before decoding: decoding may look a replica up (one
	// another process added) on this transaction's connection, which is
	// busy until the rows are closed.
	type raw struct {
		ref    server.RowRef
		st     server.RowState
		parent []byte
		tomb   int64
		blob   []byte
		vals   []any // the row table's values (rowTable.cols)
	}
	var raws []raw
	// The locks, then the reads (sync_rows with each row table: the lock
	// holds the row still between them), in one round trip (queueLock).
	var lockRead func(pgx.BatchResults) error
	err := w.tx.pipeline(w.ctx, func(b *pgx.Batch) {
		lockRead = w.queueLock(b, keys...)
		for _, t := range tables {
			tc := rowTables[t]
			if tc == nil {
				continue
			}
			ids := byTable[t]
			bs, texts := make([][]byte, len(ids)), make([]string, len(ids))
			for i, id := range ids {
				bs[i], texts[i] = id[:], id.String()
			}
			b.Queue(tc.loadSQL, bs, texts)
		}
	}, func(br pgx.BatchResults) error {
		if lockRead != nil {
			if err := lockRead(br); err != nil {
				return err
			}
		}
		for _, t := range tables {
			tc := rowTables[t]
			if tc == nil {
				return fmt.Errorf("load rows: unknown table %q", t)
			}
			rows, err := br.Query()
			if err != nil {
				return fmt.Errorf("load rows: %w", err)
			}
			for rows.Next() {
				r := raw{ref: server.RowRef{Table: t}, vals: make([]any, len(tc.Cols))}
				var id []byte
				dst := []any{&id, &r.st.Scope, &r.parent, &r.st.Deleted, &r.tomb, &r.blob}
				for i := range r.vals {
					dst = append(dst, &r.vals[i])
				}
				if err := rows.Scan(dst...); err != nil {
					rows.Close()
					return fmt.Errorf("load rows: %w", err)
				}
				copy(r.ref.Row[:], id)
				raws = append(raws, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("load rows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, r := range raws {
		st := r.st
		st.TombSeq = uint64(r.tomb)
		if len(r.parent) == 16 {
			copy(st.Parent[:], r.parent)
		}
		if st.Versions, err = versions.Decode(r.blob, w.replica, rowTables[r.ref.Table].Values(r.vals)); err != nil {
			return nil, fmt.Errorf("load rows: %s %s: %w", r.ref.Table, r.ref.Row, err)
		}
		out[r.ref] = st
	}
	for _, r := range refs {
		if _, ok := out[r]; !ok {
			if w.absent == nil {
				w.absent = map[server.RowRef]bool{}
			}
			w.absent[r] = true
		}
	}
	return out, nil
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (w *pgTx) PutRow(table string, id syncproto.RowID, st server.RowState) error {
	return w.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: table, Row: id}, State: &st}})
}

func (w *pgTx) Materialize(table string, id syncproto.RowID, fields map[string]syncproto.Value) error {
	return w.SaveRows([]server.RowSave{{Ref: server.RowRef{Table: table, Row: id}, Fields: fields}})
}

// SaveRows queues its statements (txconn.go): they are sent with the
// transaction's next statement or with its COMMIT. Rows known to be new
// (absent) are inserted, the others upserted.
func (w *pgTx) SaveRows(rs []server.RowSave) error {
	var ins, ups rowCols7
	rs = slices.Clone(rs)
	for i := range rs {
		st := rs[i].State
		if st == nil {
			continue
		}
		// A saved state materialises all its fields, the values its blob
		// leaves out.
		rs[i].Fields = sqlread.Materialized(rs[i].Ref.Table, st, rs[i].Fields)
		var parent []byte
		if st.Parent != (syncproto.RowID{}) {
			parent = clone(st.Parent[:]) // sent later: st may change first
		}
		blob, err := versions.Encode(nil, st.Versions, func(r syncproto.ReplicaID) (int64, error) { return w.idx(r, true) }, sqlread.StoredIn(rs[i].Fields))
		if err != nil {
			return fmt.Errorf("save rows: %w", err)
		}
		c := &ups
		if w.absent[rs[i].Ref] {
			c = &ins
			delete(w.absent, rs[i].Ref) // saved: an upsert from now on
		}
		id := make([]byte, 16)
		copy(id, rs[i].Ref.Row[:])
		c.add(rs[i].Ref.Table, id, st.Scope, parent, st.Deleted, int64(st.TombSeq), blob)
	}
	if len(ins.tbls) > 0 {
		w.tx.queue("save rows", `INSERT INTO sync_rows (tbl, row, scope, parent, deleted, tomb_seq, versions)
			SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::bytea[], $5::bool[], $6::int8[], $7::bytea[])`, ins.args()...)
	}
	if len(ups.tbls) > 0 {
		w.tx.queue("save rows", `INSERT INTO sync_rows (tbl, row, scope, parent, deleted, tomb_seq, versions)
			SELECT * FROM unnest($1::text[], $2::bytea[], $3::text[], $4::bytea[], $5::bool[], $6::int8[], $7::bytea[])
			ON CONFLICT (tbl, row) DO UPDATE SET scope = excluded.scope, parent = excluded.parent,
			deleted = excluded.deleted, tomb_seq = excluded.tomb_seq, versions = excluded.versions`, ups.args()...)
	}

	// Materialised rows: grouped by table and field set, one statement
	// each, every column passed as text and cast to its type.
	type group struct {
		t     *schema.Table
		names []string
		cols  [][]*string // per column (id first), per row
	}
	groups := map[string]*group{}
	var order []string
	for i := range rs {
		r := &rs[i]
		if len(r.Fields) == 0 && r.State != nil {
			continue
		}
		t, ok := schema.LookupTable(r.Ref.Table)
		if !ok {
			return fmt.Errorf("materialize: unknown table %q", r.Ref.Table)
		}
		names := make([]string, 0, len(r.Fields))
		for f := range r.Fields {
			if _, ok := t.Field(f); !ok {
				return fmt.Errorf("materialize: table %s has no field %q", t.Name, f)
			}
			names = append(names, f)
		}
		sort.Strings(names)
		key := t.Name + "(" + strings.Join(names, ",") + ")"
		g := groups[key]
		if g == nil {
			g = &group{t: t, names: names, cols: make([][]*string, len(names)+1)}
			groups[key] = g
			order = append(order, key)
		}
		id := r.Ref.Row.String()
		g.cols[0] = append(g.cols[0], &id)
		for j, n := range names {
			v := r.Fields[n]
			if n == schema.DeletedField && v.IsNull() {
				v = syncproto.Bool(false) // the column is NOT NULL
			}
			g.cols[j+1] = append(g.cols[j+1], textValue(v))
		}
	}
	for _, key := range order {
		g := groups[key]
		args := make([]any, len(g.cols))
		for j := range g.cols {
			args[j] = g.cols[j]
		}
		w.tx.queue("materialize "+g.t.Name+" rows", w.s.materializeSQL(g.t.Name, g.names), args...)
	}
	return nil
}

// rowCols7 is sync_rows' columns, one slice each, for unnest.
type rowCols7 struct {
	tbls, scopes        []string
	ids, parents, blobs [][]byte
	deleted             []bool
	tombs               []int64
}

func (c *rowCols7) add(tbl string, id []byte, scope string, parent []byte, deleted bool, tomb int64, blob []byte) {
	c.tbls, c.ids, c.scopes, c.parents = append(c.tbls, tbl), append(c.ids, id), append(c.scopes, scope), append(c.parents, parent)
	c.deleted, c.tombs, c.blobs = append(c.deleted, deleted), append(c.tombs, tomb), append(c.blobs, blob)
}

func (c *rowCols7) args() []any {
	return []any{c.tbls, c.ids, c.scopes, c.parents, c.deleted, c.tombs, c.blobs}
}

// materializeSQL upserts rows of table from one text array per column.
func (s *Store) materializeSQL(table string, names []string) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (id")
	for _, n := range names {
		b.WriteString(", " + n)
	}
	b.WriteString(") SELECT u.c0")
	for i, n := range names {
		c := "u.c" + strconv.Itoa(i+1)
		switch s.colType[table+"."+n] {
		case "bigint", "integer", "smallint":
			c += "::bigint"
		case "double precision", "real":
			c += "::double precision"
		}
		b.WriteString(", " + c)
	}
	b.WriteString(" FROM unnest($1::text[]")
	for i := range names {
		b.WriteString(", $" + strconv.Itoa(i+2) + "::text[]")
	}
	b.WriteString(") AS u(c0")
	for i := range names {
		b.WriteString(", c" + strconv.Itoa(i+1))
	}
	b.WriteString(")")
	if len(names) > 0 {
		b.WriteString(" ON CONFLICT (id) DO UPDATE SET ")
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(n + " = excluded." + n)
		}
	} else {
		b.WriteString(" ON CONFLICT (id) DO NOTHING")
	}
	return b.String()
}

// Append assigns the next server_seq under the log lock (package doc, "The
// log") and buffers the entry; flush writes the buffered entries with COPY.
func (w *pgTx) Append(e *server.LogEntry) error {
	if !w.logLocked {
		var head int64
		err := w.tx.pipeline(w.ctx, func(b *pgx.Batch) { b.Queue(`SELECT seq FROM sync_log_head FOR UPDATE`) },
			func(br pgx.BatchResults) error { return br.QueryRow().Scan(&head) })
		if err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		w.head, w.logLocked = uint64(head), true
	}
	c := &e.Change
	o, err := w.idx(c.Dot.Replica, true)
	if err != nil {
		return err
	}
	b, err := w.idx(c.Base.Replica, true)
	if err != nil {
		return err
	}
	var ns *string
	if e.Kind == server.EntryEviction || e.NewScope != "" {
		ns = &e.NewScope
	}
	w.head++
	e.Seq = w.head
	if w.scopes == nil {
		w.scopes = map[string]uint64{}
	}
	w.scopes[c.Scope] = e.Seq
	w.pending.add(int64(e.Seq), int16(e.Kind), c, o, b, ns)
	return nil
}

var logColumns = []string{"seq", "kind", "scope", "tbl", "row", "field", "vkind", "val", "hlc", "origin", "oseq", "base_origin", "base_seq", "new_scope"}

// commit writes what the transaction buffered and commits, in two round
// trips: the log entries (COPY), then the queued writes, the log head, its
// notification, the origin sequences and COMMIT together.
func (w *pgTx) commit() error {
	if w.pending.n > 0 {
		// The log lock is held, so the transaction has begun: the COPY
		// need not wait for the queued writes, which go with COMMIT.
		if err := w.pending.send(w.ctx, w.tx.conn.PgConn()); err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
	}
	var idxs, seqs []int64
	for i, s := range w.seqs {
		idxs, seqs = append(idxs, i), append(seqs, int64(s))
	}
	if w.logLocked {
		w.tx.queue("append to log", `UPDATE sync_log_head SET seq = $1`, int64(w.head))
		// Delivered at commit, in commit order, to every process (notify.go).
		w.tx.queue("notify commit", `SELECT pg_notify($1, $2)`, notifyChannel, commitPayload(w.scopes, w.head))
	}
	if len(idxs) > 0 {
		w.tx.queue("save origin sequences", `UPDATE replicas r SET max_seq = v.seq FROM unnest($1::int8[], $2::int8[]) AS v(idx, seq) WHERE r.idx = v.idx`,
			idxs, seqs)
	}
	return w.tx.commit(w.ctx, nil, nil)
}

func (w *pgTx) Children(parent syncproto.RowID) ([]server.RowRef, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT tbl, row FROM sync_rows WHERE parent = $1 ORDER BY tbl COLLATE "C", row`, parent[:])
	if err != nil {
		return nil, fmt.Errorf("load children: %w", err)
	}
	defer rows.Close()
	var out []server.RowRef
	for rows.Next() {
		var r server.RowRef
		var id []byte
		if err := rows.Scan(&r.Table, &id); err != nil {
			return nil, fmt.Errorf("load children: %w", err)
		}
		copy(r.Row[:], id)
		out = append(out, r)
	}
	return out, rows.Err()
}

func (w *pgTx) AddConflict(c syncproto.Conflict, at time.Time) error {
	lk, lv := encodeValue(c.Loser.Value)
	w.tx.queue("record conflict", `INSERT INTO sync_conflicts (at_ms, scope, tbl, row, field, loser_kind, loser_val, loser_hlc, loser_origin, loser_seq,
		winner_hlc, winner_origin, winner_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		at.UnixMilli(), c.Scope, c.Key.Table, clone(c.Key.Row[:]), c.Key.Field, lk, lv,
		int64(c.Loser.HLC), clone(c.Loser.Dot.Replica[:]), int64(c.Loser.Dot.Seq), int64(c.Winner.HLC), clone(c.Winner.Dot.Replica[:]), int64(c.Winner.Dot.Seq))
	return nil
}

func (w *pgTx) AddRefused(r server.Refused) error {
	c := &r.Change
	k, v := encodeValue(c.Value)
	var baseOrigin, baseSeq any // NULL: the change overwrote no version
	if !c.Base.IsZero() {
		baseOrigin, baseSeq = clone(c.Base.Replica[:]), int64(c.Base.Seq)
	}
	w.tx.queue("record refused change", `INSERT INTO sync_refused (at_ms, device_id, scope, tbl, row, field, kind, val, hlc, origin, oseq, code, reason, base_origin, base_seq)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		r.At.UnixMilli(), r.DeviceID, c.Scope, c.Table, clone(c.Row[:]), c.Field, k, v,
		int64(c.HLC), clone(c.Dot.Replica[:]), int64(c.Dot.Seq), string(r.Code), r.Reason, baseOrigin, baseSeq)
	return nil
}

func (w *pgTx) Refusals(origin syncproto.ReplicaID, from, to uint64) (map[uint64]server.Refused, error) {
	rows, err := w.tx.Query(w.ctx, `SELECT oseq, code, reason, base_origin, base_seq FROM sync_refused WHERE origin = $1 AND oseq BETWEEN $2 AND $3 AND code <> 'unauthorized'`,
		origin[:], int64(from), int64(to))
	if err != nil {
		return nil, fmt.Errorf("read refusals: %w", err)
	}
	defer rows.Close()
	out := map[uint64]server.Refused{}
	for rows.Next() {
		var seq int64
		var r server.Refused
		var code string
		var baseOrigin []byte
		var baseSeq *int64
		if err := rows.Scan(&seq, &code, &r.Reason, &baseOrigin, &baseSeq); err != nil {
			return nil, fmt.Errorf("read refusals: %w", err)
		}
		r.Code = syncproto.Code(code)
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

// clone copies b: a queued statement's arguments are encoded when it is
// sent, after the caller may have reused what they pointed at.
func clone(b []byte) []byte { return append([]byte(nil), b...) }
