package agent

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// A clone's chunk size on a link that drops connections (docs/PROTOCOL.md
// §16.4). A cut connection resumes the clone after the last chunk stored,
// so a chunk larger than what the link carries between two cuts (a
// default chunk is 1,000 to 2,000 rows, some 75 KB compressed; a rural 3G
// link may drop every 20 or 30 KB) is asked for again and again, and the
// clone never ends. After a connection that stored nothing the clone asks
// for smaller chunks (SnapshotRequest.Limit): a quarter of the default
// first, then half as many each time, down to a floor; once chunks arrive
// whole again it asks for twice as many, back up to the default. The
// limit lives in agent_meta (clone_limit), so the retries of one sync and
// the next sync start from what the link carried last.
const (
	metaCloneLimit = "clone_limit" // rows per chunk the clone asks for; 0 or absent: the server's default
	// cloneLimitFirst is the first step down from the default: a chunk of
	// the default holds 1,000 to 2,000 rows (MaxChanges caps it), so a
	// half would often be no smaller.
	cloneLimitFirst = 500
	// cloneLimitFloor is the smallest chunk asked for: a few KB, whose
	// round trips are already most of the time on a slow link.
	cloneLimitFloor = 50
	// cloneLimitGrowAfter is how many chunks must arrive whole on one
	// connection at a reduced limit before it doubles.
	cloneLimitGrowAfter = 4
)

// chunkLimit is the rows per chunk a clone asks for. The pump (a
// goroutine of its own) grows it while the storing loop reads it.
type chunkLimit struct {
	cap    uint32        // SyncOptions.SnapshotLimit: never more (0: none)
	stored uint32        // the limit as loaded from agent_meta
	cur    atomic.Uint32 // 0: the server's default
	whole  atomic.Int32  // chunks received whole at cur on this connection
}

// load reads the stored limit; opts.SnapshotLimit caps it.
func (l *chunkLimit) load(ctx context.Context, r *Replica, opts *SyncOptions) error {
	n, err := r.metaInt(ctx, r.db, metaCloneLimit)
	if err != nil {
		return err
	}
	l.cap = opts.SnapshotLimit
	l.stored = uint32(max(0, min(n, syncproto.SnapshotRows)))
	l.cur.Store(l.stored)
	l.whole.Store(0)
	return nil
}

// ask is the Limit of the next SnapshotRequest.
func (l *chunkLimit) ask() uint32 {
	c := l.cur.Load()
	switch {
	case c == 0:
		return l.cap
	case l.cap != 0 && l.cap < c:
		return l.cap
	}
	return c
}

// received counts a chunk that arrived whole; after a few at a reduced
// limit the limit doubles, and from the first step down (or above it)
// goes back to the default.
func (l *chunkLimit) received() {
	c := l.cur.Load()
	if c == 0 || l.whole.Add(1) < cloneLimitGrowAfter {
		return
	}
	l.whole.Store(0)
	if c >= cloneLimitFirst {
		c = 0 // the first step down, back up
	} else {
		c *= 2
	}
	l.cur.Store(c)
}

// cut lowers the limit after a connection that dropped before a chunk
// was stored.
func (l *chunkLimit) cut() {
	c := l.ask()
	if c == 0 || c > cloneLimitFirst*2 {
		c = cloneLimitFirst
	} else {
		c = max(c/2, cloneLimitFloor)
	}
	l.cur.Store(c)
	l.whole.Store(0)
}

// save stores the limit when it changed (a hint: a failure to store it
// costs a chunk cut once more, not data, so it fails nothing).
func (l *chunkLimit) save(ctx context.Context, r *Replica) {
	if c := l.cur.Load(); c != l.stored {
		if setMeta(ctx, r.writer(), metaCloneLimit, int64(c)) == nil {
			l.stored = c
		}
	}
}

// done ends a clone's or a back-fill's use of the limit on a connection:
// one cut (err dropped) before it stored a chunk (stored false) asks for
// smaller chunks next time; the limit is kept unless err is a refusal,
// this laptop's file or a cancel.
func (l *chunkLimit) done(ctx context.Context, r *Replica, err error, stored bool) {
	if err != nil && !dropped(err) {
		return
	}
	if err != nil && !stored {
		l.cut()
	}
	l.save(ctx, r)
}

// dropped: err is the network failing under an open session (a cut, a
// stall past the deadline), as opposed to a refusal, this laptop's file
// or a cancel.
func dropped(err error) bool {
	var se *ServerError
	var pe *syncproto.Error
	return err != nil && !errors.As(err, &se) && !errors.As(err, &pe) && !IsStoreError(err) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}
