package server

import (
	"context"
	"slices"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Reading ahead. An agent asks for a snapshot's next chunk only once the
// previous one has arrived, since the request names where that one
// ended; so the server read chunk k+1 only while the agent waited for it,
// and the two processes took turns instead of working side by side: a
// province clone (make bench-clone) took 39.7 s for 28.7 s of the agent's
// CPU and 22.8 s of the server's on two cores, and 28.1-28.8 s reading
// ahead. Once a chunk is queued, the session reads the next one at once,
// as if its request had come, and answers the request from it if it asks
// for just that. A chunk is one moment of the store, whichever moment:
// the read earlier is what a quicker agent would have got.
//
// Anything else the agent sends first, or a request for something else,
// drops what was read ahead, and the session answers from the store as
// before: no message is answered from a read made before an earlier
// message. A chunk read before the agent's own push would hold the row
// as it was, and the agent puts a chunk's version over its own write the
// server took (docs/PROTOCOL.md §16.4, step 3): its correction lost on
// the laptop for good (TestSnapshotReadAheadAnswersAfterTheMessagesBeforeIt).
//
// Under a Scheduler (internal/simtest) nothing is read ahead: its steps
// must replay exactly, and a read ahead gives the answers a read on
// request gives.

// snapAhead is a chunk being read, or read, ahead of its request.
type snapAhead struct {
	req    syncproto.SnapshotRequest // the request it answers
	cancel context.CancelFunc
	done   chan struct{} // closed when ch, frame and err are set
	ch     *syncproto.SnapshotChunk
	frame  []byte
	err    error
}

// readAhead starts reading the chunk after ch, which the agent will ask
// for with the same limit and hamlets as m. Called under opMu.
func (c *conn) readAhead(m *syncproto.SnapshotRequest, ch *syncproto.SnapshotChunk) {
	if c.s.cfg.Sched != nil || !ch.More || c.finished {
		return
	}
	ctx, cancel := context.WithCancel(c.s.ctx)
	a := &snapAhead{
		req:    syncproto.SnapshotRequest{Head: ch.Head, After: ch.To, Limit: m.Limit, Scopes: slices.Clone(m.Scopes)},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	c.ahead = a
	req := a.req
	go func() {
		defer close(a.done)
		a.ch, a.frame, a.err = c.chunkFrame(ctx, &req)
	}()
}

// takeAhead returns the chunk read ahead for m, waiting for its read to
// end; nil when none was read for m (or its read failed: the session
// reads again, and says what fails). Called under opMu.
func (c *conn) takeAhead(m *syncproto.SnapshotRequest) (*syncproto.SnapshotChunk, []byte) {
	a := c.ahead
	if a == nil {
		return nil, nil
	}
	if m.Head != a.req.Head || m.After != a.req.After || m.Limit != a.req.Limit || !slices.Equal(m.Scopes, a.req.Scopes) {
		c.dropAhead()
		return nil, nil
	}
	<-a.done
	a.cancel()
	c.ahead = nil
	if a.err != nil {
		return nil, nil
	}
	return a.ch, a.frame
}

// dropAhead stops the read ahead, if any, and waits for it to end: the
// session's state (c.above) is the handler's again. Called under opMu.
func (c *conn) dropAhead() {
	if a := c.ahead; a != nil {
		a.cancel()
		<-a.done
		c.ahead = nil
	}
}
