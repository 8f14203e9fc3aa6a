package agent

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// StateValueBytes is, for the metadata benchmark, how many bytes of the
// replica's row_state blobs are copies of field values (the blob as
// stored, less the same blob with every value, current and past, nulled).
func StateValueBytes(ctx context.Context, r *Replica) (int64, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, tbl, scope, state FROM row_state`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var total int64
	var raws []rawState
	for rows.Next() {
		var idText, table, scope string
		var blob []byte
		if err := rows.Scan(&idText, &table, &scope, &blob); err != nil {
			return 0, err
		}
		id, err := uuid.Parse(idText)
		if err != nil {
			return 0, err
		}
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	states, err := r.decodeRows(ctx, r.db, raws)
	if err != nil {
		return 0, err
	}
	for i, s := range states {
		blob := raws[i].blob
		for _, v := range s.cur {
			v.Value = syncproto.Null()
		}
		for i := range s.hist {
			s.hist[i].Ver.Value = syncproto.Null()
		}
		bare, err := s.encode(nil)
		if err != nil {
			return 0, err
		}
		total += int64(len(blob) - len(bare))
	}
	return total, nil
}

// ApplyGroup applies pulled batches in one transaction, as a sync does
// with the pages that arrive behind each other (applyGroup in
// agent/pull.go), which a test over a real link cannot make happen at
// will.
func ApplyGroup(ctx context.Context, r *Replica, batches ...*syncproto.Changes) error {
	g, err := r.beginPull(ctx)
	if err != nil {
		return err
	}
	defer g.rollback()
	for _, b := range batches {
		if err := g.apply(b); err != nil {
			return err
		}
	}
	return g.commit(batches[len(batches)-1].To)
}

// AckPending answers every pending change as a server would (res), as a
// push's Ack does (applyAck).
func AckPending(ctx context.Context, r *Replica, res func(c syncproto.Change) syncproto.Result) error {
	batch, err := r.pendingBatch(ctx, r.db, 0, 1000)
	if err != nil {
		return err
	}
	results := make([]syncproto.Result, len(batch))
	for i := range batch {
		results[i] = res(batch[i])
	}
	_, _, err = r.applyAck(ctx, batch, results, 0)
	return err
}

// AfterBatchRead makes f run between reading a batch to push that goes
// above sent_seq and recording it as sent; the returned func undoes it.
func AfterBatchRead(f func()) (undo func()) {
	afterBatchRead = f
	return func() { afterBatchRead = nil }
}

// SyncUnlocked is Sync without the sync lock (SyncOptions.unlocked).
func (r *Replica) SyncUnlocked(ctx context.Context, server, token string, opts SyncOptions) (SyncSummary, error) {
	opts.unlocked = true
	return r.Sync(ctx, server, token, opts)
}

// SyncCommandRuns is what the app's Watch looks at before each session:
// whether a sync command of this folder holds the sync lock.
func (r *Replica) SyncCommandRuns() bool { return r.syncCommandRuns() }

// WithCommandWait bounds Watch's wait for a sync command by d
// (SyncOptions.commandWait).
func WithCommandWait(o SyncOptions, d time.Duration) SyncOptions {
	o.commandWait = d
	return o
}

// HoldSyncLock takes the sync lock of the replica in path as a sync
// command does; release gives it back.
func HoldSyncLock(path string) (release func(), ok bool, err error) {
	return tryLockFile(syncLockPath(path))
}
