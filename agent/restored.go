package agent

import (
	"context"
)

// noteSent records that changes up to seq are about to be sent: written
// before the Push, so a copy of this file (a restored backup, a copied
// folder) can tell that the server holds changes it never sent (fork.go).
func (r *Replica) noteSent(ctx context.Context, seq uint64) (uint64, error) {
	cur, err := r.metaInt(ctx, r.db, "sent_seq")
	if err != nil {
		return 0, err
	}
	if uint64(cur) >= seq {
		return uint64(cur), nil
	}
	// Mark the whole counter: one write covers this session's later batches.
	top, err := r.metaInt(ctx, r.db, "seq")
	if err != nil {
		return 0, err
	}
	top = max(top, int64(seq))
	return uint64(top), setMeta(ctx, r.db, "sent_seq", top)
}
