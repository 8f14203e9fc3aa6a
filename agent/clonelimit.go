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
//
// A pull from the log is paged the same way (Pull.Limit, docs/PROTOCOL.md
// §7.5): a laptop back from a week away pulls its teammates' thousands of
// changes in pages of up to 10,000 (some 70 KB), which a link that drops
// every 20 KB never carries whole either (pull_limit).
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

	metaPullLimit = "pull_limit" // changes per page a pull asks for; 0 or absent: the server's default
	// pullLimitFirst is the first step down from the default page of
	// 10,000 changes: about 7 KB.
	pullLimitFirst = 1000
	// pullLimitFloor is the smallest page asked for.
	pullLimitFloor = 100
)

// limitSteps is what a chunkLimit keeps and between which bounds it moves.
type limitSteps struct {
	meta  string // its agent_meta key
	first uint32 // the first step down from the server's default
	floor uint32 // never asks for fewer (unless capped lower)
	most  uint32 // the server's largest: a stored limit above it is read as that
}

var (
	cloneSteps = &limitSteps{meta: metaCloneLimit, first: cloneLimitFirst, floor: cloneLimitFloor, most: syncproto.SnapshotRows}
	pullSteps  = &limitSteps{meta: metaPullLimit, first: pullLimitFirst, floor: pullLimitFloor, most: uint32(syncproto.DefaultLimits.MaxChanges)}
)

// chunkLimit is the rows per chunk a clone asks for, or the changes per
// page a pull asks for. The pump (a goroutine of its own) grows it while
// the storing loop reads it.
type chunkLimit struct {
	steps  *limitSteps   // cloneSteps or pullSteps
	cap    uint32        // SyncOptions.SnapshotLimit or PullLimit: never more (0: none)
	stored uint32        // the limit as loaded from agent_meta
	cur    atomic.Uint32 // 0: the server's default
	whole  atomic.Int32  // chunks received whole at cur on this connection
	// grownFrom is the limit before the last growth while no chunk has
	// arrived whole at the grown one (0: none such): a connection cut
	// then goes back to it (done).
	grownFrom atomic.Uint32
}

// load reads the stored limit; cap (SyncOptions.SnapshotLimit or
// PullLimit) caps it.
func (l *chunkLimit) load(ctx context.Context, r *Replica, cap uint32) error {
	k := l.steps
	n, err := r.metaInt(ctx, r.db, k.meta)
	if err != nil {
		return err
	}
	l.cap = cap
	l.stored = uint32(max(0, min(n, int64(k.most))))
	l.cur.Store(l.stored)
	l.whole.Store(0)
	l.grownFrom.Store(0)
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
// goes back to the default. Every user asks for the next chunk after
// received, one at a time, so the chunk after a growth is the first asked
// for at the grown limit.
func (l *chunkLimit) received() {
	l.grownFrom.Store(0) // this chunk, asked for at cur, arrived whole
	c := l.cur.Load()
	if c == 0 || l.whole.Add(1) < cloneLimitGrowAfter {
		return
	}
	l.whole.Store(0)
	l.grownFrom.Store(c)
	if c >= l.steps.first {
		c = 0 // the first step down, back up
	} else {
		c *= 2
	}
	l.cur.Store(c)
}

// cut lowers the limit after a connection that dropped before a chunk
// was stored.
func (l *chunkLimit) cut() {
	k := l.steps
	c := l.ask()
	if c == 0 || c > k.first*2 {
		c = k.first
	} else {
		c = max(c/2, k.floor)
	}
	l.cur.Store(c)
	l.whole.Store(0)
}

// save stores the limit when it changed (a hint: a failure to store it
// costs a chunk cut once more, not data, so it fails nothing).
func (l *chunkLimit) save(ctx context.Context, r *Replica) {
	if c := l.cur.Load(); c != l.stored {
		if setMeta(ctx, r.writer(), l.steps.meta, int64(c)) == nil {
			l.stored = c
		}
	}
}

// done ends a clone's, a back-fill's or a pull's use of the limit on a
// connection: one cut (err dropped) before it stored a chunk or a page
// (stored false) asks for smaller ones next time; the limit is kept unless err is a refusal,
// this laptop's file or a cancel.
//
// A cut just after the limit grew, on the first chunk asked for at the
// grown limit, goes back to the limit before: the link carried chunks of
// that size whole, never one of the grown size. Kept grown, the next
// connection would spend itself on a chunk the link cannot carry (after a
// connection that stored some, so no cut lowers it), and the one after
// would grow it again: every other connection wasted.
func (l *chunkLimit) done(ctx context.Context, r *Replica, err error, stored bool) {
	if err != nil && !dropped(err) {
		return
	}
	if err != nil {
		if c := l.grownFrom.Swap(0); c != 0 {
			l.cur.Store(c)
			l.whole.Store(0)
		}
		if !stored {
			l.cut()
		}
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
