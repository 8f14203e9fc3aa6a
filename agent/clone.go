package agent

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Snapshot clone (docs/PROTOCOL.md, "Snapshot clone"). A replica that has
// never pulled, or that the server tells to clone again (Welcome.Reclone:
// the log below its cursor was truncated), asks for the current rows of its
// scope in chunks ordered by (table, row) instead of replaying the log.
// Each stored group of chunks commits with its position, so a cut
// connection resumes after the last chunk stored; the log head the clone
// started at is kept across resumes, and after the last chunk it becomes
// the cursor: the log after it is pulled as usual (changes a chunk already
// reflected are duplicates under last-writer-wins; moves and tombstones
// after it arrive through the log).
//
// The clone's state lives in agent_meta while it runs:
//
//	clone_head   the log head of the first chunk (0: no clone running)
//	clone_table  the position: the last row stored
//	clone_row
//	clone_total  rows in scope when the clone started (for progress)
//	clone_done   rows stored so far
//
// and, kept after it ends for the next one, clone_limit: the rows per
// chunk it asks for on a link that drops connections (clonelimit.go).
//
// A cloned replica holds each field's current version, not the versions
// it replaced (the server keeps none): `show` lists no older history for
// cloned rows. Merges use only current versions, so later merges behave
// as after a log replay.

// Grouping of chunks into one transaction.
const (
	cloneGroupRows   = 10000                  // rows per transaction at most
	cloneGroupChunks = 4                      // chunks per transaction at most
	cloneGroupTime   = 500 * time.Millisecond // a transaction takes no new chunk after this
	cloneQueue       = 3                      // chunks received and not yet stored, at most
	// cloneCheckpointEvery is how many clone transactions pass between
	// checkpoints of the write-ahead log.
	cloneCheckpointEvery = 4
)

// cloneState is a clone in progress, as stored in agent_meta.
type cloneState struct {
	head  uint64
	pos   syncproto.SnapshotPos
	total uint64
	done  uint64
}

func (r *Replica) loadClone(ctx context.Context) (cloneState, error) {
	var c cloneState
	h, err := r.metaInt(ctx, r.db, "clone_head")
	if err != nil || h == 0 {
		return c, err
	}
	c.head = uint64(h)
	if c.pos.Table, err = r.meta(ctx, r.db, "clone_table"); err != nil {
		return c, err
	}
	if row, err := r.meta(ctx, r.db, "clone_row"); err != nil {
		return c, err
	} else if row != "" {
		if c.pos.Row, err = uuid.Parse(row); err != nil {
			return c, fmt.Errorf("clone position: %w", err)
		}
	}
	t, err := r.metaInt(ctx, r.db, "clone_total")
	if err != nil {
		return c, err
	}
	d, err := r.metaInt(ctx, r.db, "clone_done")
	c.total, c.done = uint64(t), uint64(d)
	return c, err
}

// cloneStarted reports whether a clone stored a chunk (a running clone
// has clone_head).
func (r *Replica) cloneStarted(ctx context.Context) bool {
	s, err := r.meta(ctx, r.db, "clone_head")
	return err == nil && r.cloneStartedOf(s)
}

// cloneStartedOf is cloneStarted of clone_head's text, already read.
func (r *Replica) cloneStartedOf(cloneHead string) bool {
	h, err := r.noteInt("clone_head", cloneHead)
	return err == nil && h != 0
}

// metaReclone set to 1 makes the next session clone again after pushing.
const metaReclone = "reclone"

// RecloneDueError ends a session that found the log it would read next
// collected (a pull, a back-fill or a resumed clone refused below the log
// floor): the replica is marked to clone again, which the next session
// does after pushing. Sync and Watch start that session at once; the
// error reaches the volunteer only if it cannot.
type RecloneDueError struct{ Why string }

func (e *RecloneDueError) Error() string { return "agent: " + e.Why + ": cloning again" }

func (e *RecloneDueError) Message(lang string) string {
	return pick(lang, "Máy chủ đã dọn phần nhật ký cũ mà máy này chưa tải về. Hamlet tải lại toàn bộ dữ liệu của tổ (những gì máy này ghi đã được gửi lên trước): hãy đồng bộ lại nếu việc này chưa tự xong.",
		"The server cleared old changes this laptop had not fetched. Hamlet fetches the team's data again (what this laptop wrote was sent first): sync again if that does not finish by itself.")
}

// recloneDue marks the replica to clone again and returns the error that
// ends the session for it.
func (r *Replica) recloneDue(ctx context.Context, why string) error {
	if err := setMeta(ctx, r.writer(), metaReclone, int64(1)); err != nil {
		return err
	}
	return &RecloneDueError{Why: why}
}

// clonePosKeys say where a clone under way stands; cloneKeys add what
// holdSynced noted for it (metaCloneOwnSeq, metaCloneKeptRefused).
var (
	clonePosKeys = []string{"clone_head", "clone_table", "clone_row", "clone_total", "clone_done"}
	cloneKeys    = append(slices.Clone(clonePosKeys), metaCloneOwnSeq, metaCloneKeptRefused)
)

// metaCloneKeptRefused lists (JSON) the rows the clone under way kept for
// a refused change rather than list in clone_drop (holdSynced with
// keepRefused) that hold a version the server took: the server held them
// once, and a chunk merges with each it brings (cloneTxn.row), taking it
// off this list. One still listed at the clone's end the server no longer
// holds in this scope (it moved the row out, as a household's children
// follow it there, or collected it): that transaction drops it, as the
// log's eviction does in a pull, its refused changes staying on the
// rejected list (dropKeptRefused). Kept, it stayed here in its old hamlet
// for good: after the discard of its refusal nothing would ever drop it
// (TestCloneDoesNotKeepAStaleRowItWasStillWriting).
const metaCloneKeptRefused = "clone_kept_refused"

// metaCloneOwnSeq is the highest of this replica's changes the server had
// acknowledged when the clone under way listed its rows (holdSynced: after
// the push, before the snapshot's head): its own versions up to it are the
// ones the snapshot's head may be several writes past, through writes of
// others it never saw. One it wrote later reached the server after that
// head, and the pull from the head brings every write over it in order
// (applyAck). Absent: listed by an agent before it (Welcome.PushedSeq
// stands in).
const metaCloneOwnSeq = "clone_own_seq"

// clearClone forgets the clone under way and what holdSynced noted for it.
func (t *txn) clearClone() error { return t.deleteMetas(cloneKeys) }

// clearClonePos forgets only where the clone under way stands: it starts
// again from the first row, with what holdSynced noted for it.
func (t *txn) clearClonePos() error { return t.deleteMetas(clonePosKeys) }

func (t *txn) deleteMetas(keys []string) error {
	for _, k := range keys {
		if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
			return err
		}
	}
	return nil
}

// cloneDropMigration: clone_drop lists the synced rows a clone found here
// when it started (holdSynced). They stay, for the volunteer to see and
// write to, until the snapshot has been stored whole: each stored chunk
// takes the rows it brings off the list (cloneTxn), and the transaction
// that stores the last chunk drops the rows still listed (dropHeld). Kept
// in the database, the list outlives a cut connection, a crash and a
// restarted clone.
const cloneDropMigration = `CREATE TABLE IF NOT EXISTS clone_drop (row_id TEXT PRIMARY KEY) WITHOUT ROWID;`

// holdSynced readies a clone or a re-clone: it lists in clone_drop every
// synced row (row states and their projections), except rows this replica
// made that the server has not taken, and with keepRefused rows with a
// refused change, which the volunteer fixes from the rejected list. A
// synced row with a change not yet pushed (none after a successful push,
// unless a person wrote meanwhile) is listed too; its unpushed versions
// are kept when it goes (dropHeld) or is replaced (cloneTxn.row). The
// outbox (its refused entries), conflicts and the enrollment stay.
//
// The rows listed are not dropped now: a snapshot says nothing of rows it
// does not hold (the server may have moved one out of this scope, or
// collected it), so a listed row the snapshot does not bring goes at the
// clone's end; one it brings is stored as the snapshot has it, as if it
// had been dropped first. Dropped at the start, as before, a volunteer's
// first sync cut during the clone left her laptop without any of the
// records she had just sent (TestSlowLinkFirstSyncCutKeepsOwnRecords), and
// a re-clone showed nothing until it ended.
func (r *Replica) holdSynced(ctx context.Context, keepRefused bool, pushed uint64) error {
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := t.holdSynced(keepRefused, pushed); err != nil {
		return err
	}
	return t.commit()
}

// holdSynced is Replica.holdSynced in t. pushed is the session's
// Welcome.PushedSeq: what the server held of this replica's changes before
// its push.
func (t *txn) holdSynced(keepRefused bool, pushed uint64) error {
	states := fmt.Sprint(outboxPending) + `, ` + fmt.Sprint(outboxUnacked)
	if keepRefused {
		states += `, ` + fmt.Sprint(outboxRejected)
	}
	away, err := t.syncedWithPending(keepRefused)
	if err != nil {
		return fmt.Errorf("find the synced rows with changes awaiting a result: %w", err)
	}
	// The clone brings rows as the server holds them: what this replica
	// kept of rows away that the server has taken goes. Writes still
	// waiting stay kept: a scope change may have just kept them, in this
	// transaction, for rows of a hamlet it dropped (review 32b). So do
	// writes the server took as losers (superseded): the clone meets
	// their winners, and lists the conflicts (cloneTxn.superseded). The
	// outbox numbers the current id's changes; a write answered
	// superseded keeps the id it was pushed under (a former one after a
	// fork).
	// What went is noted (taken): the snapshot may name it as a loss.
	if err := t.exec(`UPDATE own_away SET taken = 1, noted_at = ? WHERE NOT taken AND NOT (own_away.replica = ?
			AND (EXISTS (SELECT 1 FROM outbox o WHERE o.seq = own_away.seq AND o.state IN (?, ?))
			OR EXISTS (SELECT 1 FROM outbox_rows o WHERE own_away.seq BETWEEN o.seq AND o.seq + o.n - 1 AND o.state IN (?, ?))))
		AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.row_id = own_away.row_id AND s.field = own_away.field AND s.replica = own_away.replica AND s.seq = own_away.seq)`,
		t.r.now().UnixMilli(), t.r.id[:], outboxPending, outboxUnacked, outboxPending, outboxUnacked); err != nil {
		return err
	}
	if err := t.exec(`DELETE FROM own_away_hist WHERE row_id NOT IN (SELECT row_id FROM own_away WHERE NOT taken)`); err != nil {
		return err
	}
	// A synced row with a change still awaiting a result (made while the
	// session that clones waited on the network, or pushed and not yet
	// acknowledged) is listed too: the snapshot brings the row back and it
	// starts from its own unpushed versions (cloneTxn.row), or the server
	// moved it out of this scope since, and a snapshot says nothing of rows
	// it does not hold. Kept whole, it stayed here in its old hamlet, live,
	// for good (issue 17, seed 701023). A row this replica made and the
	// server has not taken is not listed: the snapshot cannot bring it,
	// and its author's pulls leave it out.
	gone := make([]string, len(away))
	for i, id := range away {
		gone[i] = id.String()
	}
	keep := `SELECT row_id FROM outbox WHERE state IN (` + states + `) AND row_id NOT IN (SELECT value FROM json_each(?1))
		UNION SELECT row_id FROM outbox_rows WHERE row_id NOT IN (SELECT value FROM json_each(?1))`
	if err := t.exec(`INSERT OR IGNORE INTO clone_drop (row_id) SELECT id FROM row_state WHERE id NOT IN (`+keep+`)`, listJSON(gone)); err != nil {
		return fmt.Errorf("list the synced rows the clone replaces: %w", err)
	}
	if err := t.clearClone(); err != nil {
		return err
	}
	if keepRefused {
		if err := t.noteKeptRefused(); err != nil {
			return fmt.Errorf("list the rows the clone keeps for their refused changes: %w", err)
		}
	}
	// What the server held of this replica's changes: the Acks it had
	// (metaAckedSeq), or its Welcome's PushedSeq, whichever is higher. A
	// repaired replica keeps its id but not metaAckedSeq, and an agent
	// before it never kept one: with that alone, the Acks of a clone they
	// list noted none of their own versions, pushed long before its head,
	// and the teammate's write the pull brings over a version never seen
	// here met one of them as a concurrent write, a conflict no one had.
	acked, err := t.metaInt(metaAckedSeq)
	if err != nil {
		return err
	}
	acked = max(acked, int64(pushed))
	if err := t.setMeta(metaCloneOwnSeq, acked); err != nil {
		return err
	}
	// A synced row kept for its refused change (keepRefused) is not
	// replaced: a chunk merges with it field by field, and leaves out a
	// field's version that the pull from the head brings (§16.3). What it
	// holds may be several writes behind: stored by a clone that had to
	// start again, or pulled long ago. The pull then brought a
	// teammate's write over a version this replica never saw, which met
	// its version as a concurrent write: a conflict no one had. Its
	// versions the server had taken are noted, as for a row an Ack takes
	// off the list (applyAck), until the next complete pull (carriedOut).
	// Rows this replica made that the server has not taken hold none.
	kept, err := t.rowIDs(`SELECT id FROM row_state WHERE id NOT IN (SELECT row_id FROM clone_drop) ORDER BY id`)
	if err != nil {
		return err
	}
	if len(kept) > 0 {
		if err := t.noteTaken(kept, uint64(acked)); err != nil {
			return fmt.Errorf("note the versions of rows the clone keeps: %w", err)
		}
	}
	// A back-fill under way (scope.go) is moot: the clone brings every
	// hamlet of the scope.
	for _, k := range backfillKeys {
		if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, k); err != nil {
			return err
		}
	}
	return t.setMeta("cursor", int64(0))
}

// noteKeptRefused lists the rows holdSynced keeps for a refused change,
// not listed in clone_drop, that hold a version the server took
// (metaCloneKeptRefused). Rows this replica made that the server never
// took are left out: no snapshot brings them, and they stay for their
// volunteer to fix.
func (t *txn) noteKeptRefused() error {
	ids, err := t.rowIDs(`SELECT id FROM row_state WHERE id NOT IN (SELECT row_id FROM clone_drop)
		AND id IN (SELECT row_id FROM outbox WHERE state = ?1 UNION SELECT row_id FROM outbox_rows WHERE state = ?1) ORDER BY id`, outboxRejected)
	if err != nil || len(ids) == 0 {
		return err
	}
	var kept []string
	for _, id := range ids {
		st, err := t.get(id)
		if err != nil {
			return err
		}
		if st == nil {
			continue
		}
		if taken, err := t.holdsTaken(st); err != nil {
			return err
		} else if taken {
			kept = append(kept, id.String())
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return t.setMeta(metaCloneKeptRefused, listJSON(kept))
}

// keptRefused reads metaCloneKeptRefused in t (nil: none listed).
func (t *txn) keptRefused() (map[string]bool, error) {
	l, ok, err := t.r.metaList(t.ctx, t.tx, metaCloneKeptRefused)
	if err != nil || !ok || len(l) == 0 {
		return nil, err
	}
	out := make(map[string]bool, len(l))
	for _, id := range l {
		out[id] = true
	}
	return out, nil
}

// unlistKeptRefused takes ids off metaCloneKeptRefused: a chunk brought
// them, or the server took a change of them (applyAck), so it holds them
// in this scope.
func (t *txn) unlistKeptRefused(kept map[string]bool, ids []string) error {
	n := len(kept)
	for _, id := range ids {
		delete(kept, id)
	}
	if len(kept) == n {
		return nil
	}
	if len(kept) == 0 {
		return t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaCloneKeptRefused)
	}
	l := make([]string, 0, len(kept))
	for id := range kept {
		l = append(l, id)
	}
	slices.Sort(l)
	return t.setMeta(metaCloneKeptRefused, listJSON(l))
}

// cloneBehind splits rows (id → table) by the position of the clone under
// way: behind, those at or before it (their chunk went by); ahead, those
// after it (a chunk still to come brings each the server holds in this
// scope). With no clone under way, every row is behind.
func (t *txn) cloneBehind(rows map[string]string) (behind, ahead []string, err error) {
	head, err := t.metaInt("clone_head")
	if err != nil {
		return nil, nil, err
	}
	var pos syncproto.SnapshotPos
	if head != 0 {
		if pos.Table, err = t.r.meta(t.ctx, t.tx, "clone_table"); err != nil {
			return nil, nil, err
		}
		if row, err := t.r.meta(t.ctx, t.tx, "clone_row"); err != nil {
			return nil, nil, err
		} else if row != "" {
			if pos.Row, err = uuid.Parse(row); err != nil {
				return nil, nil, &FileError{Path: t.r.path, Kind: ErrCorrupt, Err: fmt.Errorf("clone position: %w", err)}
			}
		}
	}
	for id, table := range rows {
		if head == 0 {
			behind = append(behind, id)
			continue
		}
		rid, err := uuid.Parse(id)
		if err != nil {
			return nil, nil, err
		}
		if c := strings.Compare(table, pos.Table); c < 0 || c == 0 && bytes.Compare(rid[:], pos.Row[:]) <= 0 {
			behind = append(behind, id)
		} else {
			ahead = append(ahead, id)
		}
	}
	slices.Sort(behind)
	slices.Sort(ahead)
	return behind, ahead, nil
}

// listKeptRefused adds to metaCloneKeptRefused the rows of listed that are
// in ahead: rows the server took a change of, after the clone's position,
// for a chunk to bring or the clone's end to drop.
func (t *txn) listKeptRefused(listed []syncproto.RowID, ahead []string) error {
	if len(ahead) == 0 {
		return nil
	}
	kept, err := t.keptRefused()
	if err != nil {
		return err
	}
	n := len(kept)
	for _, id := range listed {
		if _, ok := slices.BinarySearch(ahead, id.String()); ok {
			if kept == nil {
				kept = map[string]bool{}
			}
			kept[id.String()] = true
		}
	}
	if len(kept) == n {
		return nil
	}
	l := slices.Sorted(maps.Keys(kept))
	return t.setMeta(metaCloneKeptRefused, listJSON(l))
}

// dropKeptRefused, in the transaction that stores a clone's last chunk,
// lists in clone_drop the rows kept for a refused change that no chunk
// brought (metaCloneKeptRefused), for dropHeld, which runs next, to drop
// them as it drops the other synced rows the snapshot left out: the
// server holds them outside this scope, and a pull would have evicted
// them. Their own unpushed versions are kept (keepAway), their refusals
// stay on the rejected list, and a discard of one finds no row to put
// back.
func (t *txn) dropKeptRefused() error {
	kept, ok, err := t.r.metaList(t.ctx, t.tx, metaCloneKeptRefused)
	if err != nil || !ok || len(kept) == 0 {
		return err
	}
	return t.exec(`INSERT OR IGNORE INTO clone_drop (row_id) SELECT value FROM json_each(?)`, listJSON(kept))
}

// dropHeld drops the rows clone_drop still lists, as a drop before the
// clone did (holdSynced): their own unpushed versions kept (keepAway), the
// photos of their reports noted (keepPhotosAway); a listed row with a
// change awaiting a result that holds no version the server took stays.
// The transaction that stores a clone's last chunk runs it, and a session
// that turns away from a clone it listed rows for (the server no longer
// offers snapshots): the log replayed from the start brings what stays.
func (t *txn) dropHeld() error {
	var listed bool
	if err := t.tx.QueryRowContext(t.ctx, `SELECT EXISTS (SELECT 1 FROM clone_drop)`).Scan(&listed); err != nil {
		return fmt.Errorf("read the rows the clone replaces: %w", err)
	}
	if !listed {
		return nil
	}
	synced, err := t.syncedWithPending(false)
	if err != nil {
		return fmt.Errorf("find the synced rows with changes awaiting a result: %w", err)
	}
	ids := make([]string, len(synced))
	for i, id := range synced {
		ids[i] = id.String()
	}
	away, err := t.rowIDs(`SELECT row_id FROM clone_drop WHERE row_id IN (SELECT value FROM json_each(?)) ORDER BY row_id`, listJSON(ids))
	if err != nil {
		return err
	}
	if err := t.keepAway(away); err != nil {
		return fmt.Errorf("keep the unpushed writes of dropped rows: %w", err)
	}
	gone := make([]string, len(away))
	for i, id := range away {
		gone[i] = id.String()
	}
	drop := `id IN (SELECT row_id FROM clone_drop) AND id NOT IN (SELECT row_id FROM outbox WHERE state IN (` +
		fmt.Sprint(outboxPending) + `, ` + fmt.Sprint(outboxUnacked) + `) AND row_id NOT IN (SELECT value FROM json_each(?1))
		UNION SELECT row_id FROM outbox_rows WHERE row_id NOT IN (SELECT value FROM json_each(?1)))`
	// The other rows it drops note the writes of its own the server took.
	noted, err := t.ownRows(drop+` AND id NOT IN (SELECT value FROM json_each(?1))`, listJSON(gone))
	if err != nil {
		return fmt.Errorf("note the own writes of dropped rows: %w", err)
	}
	if err := t.keepAway(noted); err != nil {
		return fmt.Errorf("note the own writes of dropped rows: %w", err)
	}
	if err := t.keepPhotosAway(drop, listJSON(gone)); err != nil {
		return err
	}
	for table, cols := range t.r.cols {
		if len(cols) == 0 {
			continue
		}
		if err := t.exec(`DELETE FROM `+table+` WHERE `+drop, listJSON(gone)); err != nil {
			return fmt.Errorf("drop synced %s: %w", table, err)
		}
	}
	if err := t.exec(`DELETE FROM row_state WHERE `+drop, listJSON(gone)); err != nil {
		return fmt.Errorf("drop synced rows: %w", err)
	}
	return t.exec(`DELETE FROM clone_drop`)
}

// dropHeld is txn.dropHeld in a transaction of its own. Every session
// that does not clone calls it, and clone_drop is nearly always empty:
// that is read first, outside a write transaction (whose write lock, look
// at the -wal and counts cost a no-op sync more than the read). It is
// read again under the write lock when it lists rows. The damage and
// replaced-file checks of begin stay, as the write did them.
func (r *Replica) dropHeld(ctx context.Context) error {
	if err := r.writable(); err != nil {
		return err
	}
	var listed bool
	if err := r.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM clone_drop)`).Scan(&listed); err != nil {
		return fmt.Errorf("read the rows the clone replaces: %w", err)
	}
	if !listed {
		return nil
	}
	t, err := r.begin(ctx)
	if err != nil {
		return err
	}
	defer t.rollback()
	if err := t.dropHeld(); err != nil {
		return err
	}
	return t.commit()
}

// syncedWithPending lists the rows with a change awaiting a result
// (pending, or sent and not acknowledged) that hold, or wrote over, a
// version the server has taken: another replica's, or one of this
// replica's own neither awaiting a result nor refused. Rows with a
// refused change are left out when keepRefused (they stay for their
// volunteer to fix).
func (t *txn) syncedWithPending(keepRefused bool) ([]syncproto.RowID, error) {
	q := `SELECT DISTINCT row_id FROM outbox WHERE state IN (?, ?)`
	args := []any{outboxPending, outboxUnacked}
	if keepRefused {
		q += ` AND row_id NOT IN (SELECT row_id FROM outbox WHERE state = ?)`
		args = append(args, outboxRejected)
	}
	ids, err := t.rowIDs(q+` ORDER BY row_id`, args...)
	if err != nil {
		return nil, err
	}
	var out []syncproto.RowID
	for _, id := range ids {
		st, err := t.get(id)
		if err != nil {
			return nil, err
		}
		if st == nil {
			continue
		}
		unsettled, err := t.unsettledSeqs(id)
		if err != nil {
			return nil, err
		}
		taken := func(d syncproto.Dot) bool {
			return !d.IsZero() && (d.Replica != t.r.id || !unsettled.holds(d.Seq))
		}
		synced := false
		for _, v := range st.cur {
			synced = synced || taken(v.Dot) || taken(v.Base)
		}
		for _, h := range st.hist {
			synced = synced || taken(h.Ver.Dot)
		}
		if synced {
			out = append(out, id)
		}
	}
	return out, nil
}

// needsClone decides whether this session clones by snapshot: a clone is
// under way, or the replica never pulled and the server's log is not
// empty, or the server asked for a re-clone.
func (s *syncRun) needsClone(ctx context.Context, wel *syncproto.Welcome) (bool, error) {
	clone, err := s.cloneDue(ctx, wel)
	if err != nil || clone {
		return clone, err
	}
	// A clone that listed the rows it replaces (holdSynced) and will not
	// run (the server turned out not to offer snapshots): its rows go now,
	// as they went before the clone did; the log replayed from the start
	// brings back what the server holds of them.
	return false, s.r.dropHeld(ctx)
}

// cloneDue is needsClone's decision.
func (s *syncRun) cloneDue(ctx context.Context, wel *syncproto.Welcome) (bool, error) {
	c, err := s.r.loadClone(ctx)
	if err != nil {
		return false, err
	}
	if c.head == 0 {
		// No clone under way, yet indexes a clone dropped may still be
		// missing: the session that stored its last chunk ended before
		// rebuilding them, or the server turned out not to offer
		// snapshots. Build them now (a clone about to start drops them
		// again; that costs little on the few rows it holds then).
		if err := s.r.restoreIndexes(ctx); err != nil {
			return false, err
		}
	}
	reclone, err := s.r.metaInt(ctx, s.r.db, metaReclone)
	if err != nil {
		return false, err
	}
	if old, err := s.r.metaInt(ctx, s.r.db, "snapshot_unsupported"); err != nil {
		return false, err
	} else if old != 0 {
		if !wel.Reclone && reclone == 0 {
			return false, nil // an older server: replay its log
		}
		// Only a server that offers snapshots keeps a log floor, so the
		// one that asks for a re-clone was upgraded since this replica met
		// it: try a snapshot again (one that does not know them sets the
		// marker again, clone).
		if err := setMeta(ctx, s.r.writer(), "snapshot_unsupported", int64(0)); err != nil {
			return false, err
		}
	}
	switch {
	case c.head != 0:
		return true, nil // resume
	case wel.Reclone || reclone != 0:
		// The agent itself may ask (metaReclone): a copy of a data folder
		// that took a new replica id (fork.go) lacks what the other copy
		// wrote under the old one, which pulls left out; a back-fill of gained
		// hamlets found their log truncated (backfill); a restored log
		// lacks versions this replica pulled before (plan).
		// Pending changes were pushed first (session); now list what the
		// truncated log can no longer bring up to date, for the snapshot to
		// replace or the clone's end to drop (holdSynced). After changes a
		// restored server had lost were sent again (resendLost), a row whose
		// changes it refused may be one it no longer holds at all: it stays,
		// with the refusals listed, rather than go from the laptop too.
		keep, err := s.r.metaInt(ctx, s.r.db, metaResentKeep)
		if err != nil {
			return false, err
		}
		if err := s.r.holdSynced(ctx, keep != 0, s.wel.PushedSeq); err != nil {
			return false, err
		}
		if err := setMeta(ctx, s.r.writer(), metaReclone, int64(0)); err != nil {
			return false, err
		}
		if err := setMeta(ctx, s.r.writer(), metaResentKeep, int64(0)); err != nil {
			return false, err
		}
		s.cursor = 0
		return true, nil
	}
	if s.cursor != 0 || wel.Cursor == 0 || s.opts.LogReplay || s.serverBehind {
		return false, nil
	}
	// A first clone of a replica that wrote before it ever pulled: what it
	// wrote was pushed first, but the server may since have moved a row out
	// of this scope (a household's children follow it on the server, not
	// here) or collected it, and a snapshot says nothing of rows it does
	// not hold. List the synced rows so the snapshot alone decides what
	// becomes of them: it replaces the rows it brings, and the clone's end
	// drops the others (holdSynced). Until then she keeps her records,
	// should the connection drop mid-clone and she return to the field.
	// Rows with a refused change stay for their volunteer to fix.
	if err := s.r.holdSynced(ctx, true, s.wel.PushedSeq); err != nil {
		return false, err
	}
	return true, nil
}

// chunkIn is what the clone pump hands to the storing loop.
type chunkIn struct {
	m   *syncproto.SnapshotChunk
	err error
}

// clone runs or resumes a snapshot clone to its end, then sets the cursor
// to the snapshot's head. Like pull, a pump goroutine receives chunks and
// asks for the next at once while this goroutine stores, several chunks in
// one transaction when they queue up; the queue is bounded, so memory
// holds a few chunks at most.
func (s *syncRun) clone(ctx context.Context) (err error) {
	if err := s.sound(ctx); err != nil {
		return err
	}
	st, err := s.r.loadClone(ctx)
	if err != nil {
		return err
	}
	if err := s.limit.load(ctx, s.r, s.opts.SnapshotLimit); err != nil {
		return err
	}
	storedBefore := s.sum.Cloned
	// A connection cut before a chunk was stored: smaller chunks next
	// time (clonelimit.go).
	defer func() { s.limit.done(ctx, s.r, err, s.sum.Cloned != storedBefore) }()
	if err := s.cloneFrom(ctx, st); err != nil {
		var se *ServerError
		if errors.As(err, &se) && se.Code == syncproto.CodeUnknownType && st.head == 0 && !s.r.cloneStarted(ctx) {
			// A server of an earlier release does not know snapshot
			// requests (and closes the connection): note it, and the
			// next attempt replays its log as before.
			if err := setMeta(ctx, s.r.writer(), "snapshot_unsupported", int64(1)); err != nil {
				return err
			}
			return &ServerError{Code: syncproto.CodeUnavailable, Msg: "the server does not offer snapshot clones; replaying its log instead"}
		}
		if st.head == 0 || !errors.As(err, &se) || se.Code != syncproto.CodeBadCursor {
			return err
		}
		if st.head <= s.wel.Cursor {
			// The server's log reaches past the clone's head, yet it
			// cannot resume: the log above that head was collected while
			// the clone was paused. What the stored chunks hold may have
			// changed or been deleted since, in entries no pull brings:
			// clone anew, the new snapshot replacing it and the clone's
			// end dropping what it does not bring (holdSynced; pending
			// changes were pushed first; rows with a refused change stay
			// for their volunteer to fix).
			if err := s.r.holdSynced(ctx, true, s.wel.PushedSeq); err != nil {
				return err
			}
			s.cursor = 0
			return s.cloneFrom(ctx, cloneState{})
		}
		// The server cannot resume this clone (restored from a backup, or
		// a table it no longer syncs): start again from the beginning,
		// without the rows stored so far. Merged with the new snapshot's,
		// a field written twice between the two heads would come based on
		// a version this replica never saw: a conflict no one else has.
		// The new snapshot replaces them, or the clone's end drops them
		// (holdSynced).
		if err := s.r.holdSynced(ctx, true, s.wel.PushedSeq); err != nil {
			return err
		}
		return s.cloneFrom(ctx, cloneState{})
	}
	return nil
}

func (s *syncRun) cloneFrom(ctx context.Context, st cloneState) error {
	if s.opts.Sched == nil { // process-wide settings: not a simulation's many clones
		defer cloneGC()()
	}
	restore, err := s.r.smallCache(ctx)
	if err != nil {
		return err
	}
	defer restore()
	if err := s.w.send(&syncproto.SnapshotRequest{Head: st.head, After: st.pos, Limit: s.limit.ask()}); err != nil {
		return err
	}
	var notified atomic.Bool
	cp := &clonePump{s: s, expect: st.pos, head: st.head, notified: &notified}
	var take func(wait bool) (chunkIn, bool, bool)
	if s.opts.Sched != nil {
		// No pump goroutine: this task receives each chunk when it needs
		// the next (asking for the one after it at once, as the pump does).
		take = func(wait bool) (chunkIn, bool, bool) { return cp.next(ctx, wait) }
		defer func() {
			if notified.Load() {
				s.notified = true
			}
		}()
	} else {
		pctx, cancel := context.WithCancel(ctx)
		queue := make(chan chunkIn, cloneQueue)
		done := make(chan struct{})
		go func() {
			defer close(done)
			cp.run(pctx, queue)
		}()
		defer func() {
			cancel()
			<-done
			if notified.Load() {
				s.notified = true
			}
		}()
		take = func(wait bool) (chunkIn, bool, bool) {
			if !wait {
				select {
				case p, ok := <-queue:
					return p, ok, true
				default:
					return chunkIn{}, true, false
				}
			}
			// The pump gives up without closing the queue when ctx ends (a
			// closed queue means "the snapshot is complete"), so wait on ctx
			// too or a cancelled clone waits forever.
			select {
			case p, ok := <-queue:
				return p, ok, true
			case <-pctx.Done():
				return chunkIn{err: ctx.Err()}, true, true
			}
		}
	}
	meter := &rateMeter{start: s.r.now(), startDone: int(st.done)}
	commits := 0
	for {
		p, ok, _ := take(true)
		if !ok {
			if s.opts.Sched == nil && st.total >= bulkCloneRows { // process-wide, as cloneGC
				// The chunks are stored and their garbage is all the
				// heap holds: give its pages back before the index
				// rebuild's sort takes memory of its own. The agent's
				// peak RSS on the province was the rebuild's on top of
				// the heap the clone left behind (issue 20: under 150 MB).
				// Not after a small clone: a whole collection and the
				// pages handed back, for a few hundred rows' garbage,
				// cost a team's first sync more than it saved (the agent's
				// tests spent 40 s of their 80 in it).
				debug.FreeOSMemory()
			}
			if err := s.r.restoreIndexes(ctx); err != nil {
				return err
			}
			return s.r.checkpoint(ctx)
		}
		if p.err != nil {
			return p.err
		}
		if commits == 0 && st.head == 0 && p.m.Total >= cmp.Or(s.opts.BulkCloneRows, bulkCloneRows) {
			if err := s.r.dropIndexesForClone(ctx); err != nil {
				return err
			}
		}
		last, err := s.storeChunks(ctx, &st, p.m, take)
		if err != nil {
			return err
		}
		// Pulled transactions skip automatic checkpoints (beginPulled);
		// a clone's would grow the write-ahead log to many times the
		// data: copy it into the database now and then.
		if commits++; commits%cloneCheckpointEvery == 0 {
			if err := s.r.checkpoint(ctx); err != nil {
				return err
			}
		}
		if s.opts.Progress != nil {
			pr := Progress{Phase: "clone", Done: int(st.done), Total: int(max(st.total, st.done))}
			meter.fill(&pr, s.r.now())
			s.opts.Progress(pr)
		}
		if !last.More {
			s.cursor = last.Head
			s.durable.Store(last.Head)
		}
	}
}

// clonePump receives chunks, asks for the next as soon as one arrives,
// and hands them to the storing loop: from a goroutine of its own through
// a queue (run), or to the storing task when it asks (next, under a
// Scheduler).
type clonePump struct {
	s        *syncRun
	expect   syncproto.SnapshotPos
	head     uint64
	notified *atomic.Bool
	done     bool // the last chunk was handed over
}

// run queues every chunk, and closes queue after the last.
func (cp *clonePump) run(ctx context.Context, queue chan<- chunkIn) {
	for {
		p, ok, _ := cp.next(ctx, true)
		if !ok {
			close(queue)
			return
		}
		select {
		case queue <- p:
		case <-ctx.Done():
			return
		}
		if p.err != nil {
			return
		}
	}
}

// next receives until it has a chunk (or an error) to hand over; ok false
// after the last chunk. Without wait it receives only what has arrived,
// and got false says nothing had.
func (cp *clonePump) next(ctx context.Context, wait bool) (p chunkIn, ok, got bool) {
	s := cp.s
	if cp.done {
		return chunkIn{}, false, true
	}
	fail := func(err error) (chunkIn, bool, bool) {
		cp.done = true
		return chunkIn{err: err}, true, true
	}
	for {
		if !wait && !s.w.ready() {
			return chunkIn{}, true, false
		}
		m, err := s.w.recv(ctx)
		if err != nil {
			return fail(err)
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			cp.notified.Store(true) // the pull after the clone takes it
			continue
		case *syncproto.SnapshotChunk:
			if m.From != cp.expect || (cp.head != 0 && m.Head != cp.head) || m.Head == 0 && m.More {
				return fail(syncproto.Errorf(syncproto.CodeUnexpected, "snapshot chunk from %s/%s at head %d, expected %s/%s at head %d",
					m.From.Table, m.From.Row, m.Head, cp.expect.Table, cp.expect.Row, cp.head))
			}
			cp.expect, cp.head = m.To, m.Head
			if m.More {
				s.limit.received()
				if err := s.w.send(&syncproto.SnapshotRequest{Head: cp.head, After: m.To, Limit: s.limit.ask()}); err != nil {
					return fail(err)
				}
			} else {
				cp.done = true
			}
			return chunkIn{m: m}, true, true
		default:
			return fail(syncproto.Errorf(syncproto.CodeUnexpected, "unexpected %s while cloning", m.Type()))
		}
	}
}

// storeChunks stores m, and the chunks queued behind it, in one
// transaction with the position of the last one; after the last chunk of
// the snapshot it sets the cursor to the snapshot's head and ends the
// clone. It returns the last chunk stored.
func (s *syncRun) storeChunks(ctx context.Context, st *cloneState, m *syncproto.SnapshotChunk, take func(wait bool) (chunkIn, bool, bool)) (*syncproto.SnapshotChunk, error) {
	r := s.r
	t, err := r.beginPulled(ctx)
	if err != nil {
		return nil, err
	}
	defer t.rollback()
	g, err := newCloneTxn(r, t)
	if err != nil {
		return nil, err
	}
	start := s.opts.ioNow()
	next := *st
	if next.head == 0 {
		next.total = m.Total
	}
	var last *syncproto.SnapshotChunk
	var stored []*syncproto.SnapshotChunk
	rows, chunks := 0, 0
	// after is a cut the pump handed over right behind the chunks taken:
	// they arrived whole and are committed first (as a pull's pages,
	// applyGroup), not rolled back with it.
	var after error
	for m != nil {
		s.sum.RoundTrips++
		n, err := g.add(m)
		if err != nil {
			return nil, err
		}
		rows += n
		chunks++
		last = m
		stored = append(stored, m)
		m = nil
		if rows >= cloneGroupRows || chunks >= cloneGroupChunks || s.opts.ioNow().Sub(start) >= cloneGroupTime || !last.More {
			break
		}
		p, ok, got := take(false)
		switch {
		case !got || !ok:
		case p.err != nil:
			after = p.err
		default:
			m = p.m
		}
	}
	if err := t.saveMany(g.save); err != nil {
		return nil, err
	}
	if err := g.unlist(); err != nil {
		return nil, err
	}
	next.head, next.pos = last.Head, last.To
	next.done += uint64(rows)
	if last.More {
		for k, v := range map[string]any{"clone_head": int64(next.head), "clone_table": next.pos.Table, "clone_row": next.pos.Row.String(),
			"clone_total": int64(next.total), "clone_done": int64(next.done)} {
			if err := t.setMeta(k, v); err != nil {
				return nil, err
			}
		}
	} else {
		// The snapshot is stored whole: the synced rows held when the
		// clone started that it did not bring go (holdSynced), and the
		// rows kept for a refused change it did not bring with them.
		if err := t.dropKeptRefused(); err != nil {
			return nil, err
		}
		if err := t.dropHeld(); err != nil {
			return nil, err
		}
		if err := t.clearClone(); err != nil {
			return nil, err
		}
		if err := t.setMeta("cursor", int64(last.Head)); err != nil {
			return nil, err
		}
		if err := t.setMeta(metaCloneTombs, int64(1)); err != nil {
			return nil, err
		}
		if next.done > 0 {
			// Told by this session, or by the next that ends well if this
			// one is cut after its last chunk (tellCloned).
			if err := t.setMeta(metaCloneUntold, int64(next.done)); err != nil {
				return nil, err
			}
		}
	}
	if g.maxHLC != 0 {
		_ = r.clk().Observe(g.maxHLC) // beyond the skew bound: stored, our clock stays put
	}
	if err := t.setMeta("clock_last", int64(r.clk().Last())); err != nil {
		return nil, err
	}
	if err := t.commit(); err != nil {
		return nil, err
	}
	// The row states hold copies of what they took from the chunks: the
	// decoder may reuse their changes for the next chunks (a clone decodes
	// some 2 GB of them: issue 20).
	for _, c := range stored {
		syncproto.RecycleChanges(c.Rows)
		c.Rows = nil
	}
	*st = next
	s.sum.Cloned += rows
	for _, rs := range g.save {
		if !rs.deleted() {
			if s.sum.ClonedLive == nil {
				s.sum.ClonedLive = map[string]int{}
			}
			s.sum.ClonedLive[rs.table]++
		}
	}
	s.sum.Conflicts += g.conflicts
	return last, after
}

// metaCloneUntold holds how many rows a clone stored in all (CloneRows),
// from the transaction of its last chunk until a session that ends well
// tells it (tellCloned). A session cut after that chunk (the pull after
// it, on a link that drops every few kilobytes) returns its summary with
// its error, which the CLI does not print; the next sync, with nothing
// left to fetch, said nothing of the finished download. Kept in the
// replica, not in memory: that next sync is often another process (sync
// run again, sync --watch or the app started again).
const metaCloneUntold = "clone_untold"

// tellCloned is a session's last phase: a clone that ended in this session
// or in one cut since goes into the summary (CloneHeld, CloneRows), with
// what the laptop holds now.
func (s *syncRun) tellCloned(ctx context.Context) error {
	r := s.r
	rows, err := r.metaInt(ctx, r.db, metaCloneUntold)
	if err != nil || rows == 0 {
		return err
	}
	// What the laptop holds now, after the pull: counted at the clone's
	// last chunk, the rows whose fields all came through the log above
	// the snapshot's head (a household moved, or added, while the clone
	// ran or was paused) were not there yet, and the sentence told fewer
	// than the laptop held when the sync ended. A count that fails costs
	// the sentence, not the sync.
	if s.sum.CloneHeld, _ = r.liveRows(ctx, cloneHeldTables); s.sum.CloneHeld != nil {
		s.sum.CloneRows = int(rows)
	}
	// Forgotten by the sync that ends well (recordSync), as tellFilled's.
	s.sum.told = append(s.sum.told, toldNote{metaCloneUntold, rows})
	return nil
}

// cloneHeldTables are the tables whose rows a finished clone counts
// (SyncSummary.CloneHeld): the records a volunteer knows.
var cloneHeldTables = []string{"households", "visits", "tutoring_records", "field_reports"}

// liveRows counts the rows of each table that are not deleted.
func (r *Replica) liveRows(ctx context.Context, tables []string) (map[string]int, error) {
	out := make(map[string]int, len(tables))
	for _, tb := range tables {
		var n int
		if err := r.db.QueryRowContext(ctx, liveCountSQL(tb)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", tb, err)
		}
		out[tb] = n
	}
	return out, nil
}

// rateMeter measures a clone's rate over this session (rows stored by an
// earlier session do not count) and estimates the time left.
type rateMeter struct {
	start     time.Time
	startDone int
}

func (m *rateMeter) fill(p *Progress, now time.Time) {
	el := now.Sub(m.start).Seconds()
	if el <= 0 || p.Done <= m.startDone {
		return
	}
	p.Rate = float64(p.Done-m.startDone) / el
	if left := p.Total - p.Done; left > 0 {
		p.Remaining = time.Duration(float64(left) / p.Rate * float64(time.Second))
	}
}

// cloneGC trades memory the clone has room for against collector time:
// chunks are decoded into short-lived changes by the hundred thousand, and
// at the default GOGC the collector took a fifth of the agent's CPU on a
// province clone. A soft limit on the Go heap keeps the agent's peak
// memory where it was (the SQLite cache and the index rebuild are outside
// it). The settings are process-wide: the first clone to start sets them,
// the last to end restores them. It returns the function that ends.
//
// Measured on the province (make bench-clone, medians of 3 on a quiet
// machine): 64.3 s and 190 MB peak RSS at the defaults, 54.6 s and 190 MB
// with GOGC 140 and 28 MB. Issue 20 gave the clone a small page cache
// (smallCache), which took the peak down (the index rebuild's sort is
// bounded by the cache), and so room for the heap: on the 2-million-row
// province on a busy machine, GOGC 140/28 MB cost 42.8 s of agent CPU
// (GC and its preemptions a sixth of it) at a 112 MB peak; 200/56 MB
// 35.7 s at 112 MB; 400/80 MB 34.1 s but 161 MB. Since the clone frees
// the heap's pages before the index rebuild (cloneFrom), the peak is no
// longer the heap's plus the rebuild's: with 200/80 MB, three interleaved
// runs of each on a loaded machine took 27.2-27.7 s of agent CPU at 115-118
// MB peak, against 28.6-29.2 s at 112-118 MB with 200/56 MB.
func cloneGC() func() {
	cloneGCState.Lock()
	defer cloneGCState.Unlock()
	if cloneGCState.active == 0 {
		cloneGCState.percent = debug.SetGCPercent(cloneGCPercent)
		cloneGCState.limit = debug.SetMemoryLimit(cloneHeapLimit)
	}
	cloneGCState.active++
	return func() {
		cloneGCState.Lock()
		defer cloneGCState.Unlock()
		if cloneGCState.active--; cloneGCState.active == 0 {
			debug.SetGCPercent(cloneGCState.percent)
			debug.SetMemoryLimit(cloneGCState.limit)
		}
	}
}

var cloneGCState struct {
	sync.Mutex
	active  int
	percent int
	limit   int64
}

const (
	cloneGCPercent = 200
	cloneHeapLimit = 80 << 20
	cloneCacheKiB  = 8000
)

// smallCache gives the clone a small page cache: a clone inserts rows in
// key order, so each B-tree needs little more than its rightmost pages
// cached, and the memory is better left to the index rebuild's sort and
// to the decoder. It returns the function that gives the usual cache back.
func (r *Replica) smallCache(ctx context.Context) (func(), error) {
	if _, err := r.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, cloneCacheKiB)); err != nil {
		return nil, err
	}
	return func() {
		_, _ = r.db.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -32000`)
	}, nil
}
