package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// A session's phases, one message at a time under the session's lock
// (handle): Hello (onHello: the device's schema and scope, its pushed
// sequence and the log head), then any number of Push (onPush: the
// committer applies the batch, the Ack follows), Pull (onPull: a page of
// the log in the device's scope, or of the hamlets it gained) and
// SnapshotRequest (snapshot.go).

// handle answers one message; false ends the session.
func (c *conn) handle(m syncproto.Message) bool {
	c.lockOp()
	defer c.opMu.Unlock()
	if c.finished {
		return false
	}
	ctx := c.s.ctx
	if _, ok := m.(*syncproto.SnapshotRequest); !ok {
		c.dropAhead() // answered from the store as it is now
	}
	switch m := m.(type) {
	case *syncproto.Hello:
		if c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "hello was already received"))
			return !c.finished
		}
		return c.onHello(ctx, m)
	case *syncproto.Push:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onPush(ctx, m)
	case *syncproto.Pull:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onPull(ctx, m)
	case *syncproto.SnapshotRequest:
		if !c.hello {
			c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "send hello first"))
			return !c.finished
		}
		if !c.authorizedLocked(ctx) { // devices.go
			return !c.finished
		}
		c.onSnapshot(ctx, m)
	case *syncproto.ErrorMsg:
		c.s.log.Info("agent reported an error", LogDevice, c.dev.ID, LogCode, string(m.Code), "fatal", m.Fatal)
		if m.Fatal {
			c.reason = "agent error " + string(m.Code)
			c.finishLocked()
		}
	default:
		c.failLocked(syncproto.Errorf(syncproto.CodeUnexpected, "a %s message is not sent to the server", m.Type()))
	}
	return !c.finished
}

func (c *conn) onHello(ctx context.Context, h *syncproto.Hello) bool {
	switch {
	case h.Protocol != syncproto.ProtocolVersion:
		c.failLocked(syncproto.Errorf(syncproto.CodeVersionMismatch,
			"this server speaks sync protocol %d and the agent speaks %d: update hamlet-agent to the latest release", syncproto.ProtocolVersion, h.Protocol))
		return false
	case int(h.Schema) < c.s.cfg.MinAgentSchema || int(h.Schema) > schema.Version:
		c.failLocked(c.s.schemaRefusal(c.dev, int(h.Schema)))
		return false
	case h.Replica != c.dev.Replica:
		c.failLocked(syncproto.Errorf(syncproto.CodeUnauthorized, "this token was issued for another replica"))
		return false
	}
	pushed, err := c.st.PushedSeq(ctx, c.dev.Replica)
	if err != nil {
		c.failLocked(storeError("read pushed seq", err))
		return false
	}
	head, err := c.st.Head(ctx)
	if err != nil {
		c.failLocked(storeError("read head", err))
		return false
	}
	// Before the floor is read: a collection after this counts the device.
	if err := c.s.markReturned(ctx, c.dev); err != nil {
		c.failLocked(storeError("record device activity", err))
		return false
	}
	reclone, err := c.s.recloneNeeded(ctx, c.dev, c.scopeList)
	if err != nil {
		c.failLocked(storeError("read log floor", err))
		return false
	}
	c.hello = true
	c.schema = int(h.Schema)
	if !c.enqueueLocked(&syncproto.Welcome{Reclone: reclone,
		Protocol: syncproto.ProtocolVersion, Schema: schema.Version, MinSchema: uint16(c.s.cfg.MinAgentSchema),
		Server: c.s.id, ServerTime: c.s.now().UnixMilli(), EchoSentAt: h.SentAt, MaxSkewMs: c.s.cfg.MaxSkew.Milliseconds(),
		Scope: c.scopeList, PushedSeq: pushed, Cursor: head, LogEpoch: c.s.epoch,
		MaxFrame: uint32(c.s.cfg.Limits.MaxFrame), MaxChanges: uint32(c.s.cfg.Limits.MaxChanges),
	}) {
		return false
	}
	c.welcomed.Store(head)
	c.greeted.Store(true)
	c.poke() // a commit since the connection opened may be due
	return true
}

func (c *conn) onPush(ctx context.Context, p *syncproto.Push) {
	start := time.Now()
	out, err := c.s.applyPush(ctx, pusher{deviceID: c.dev.ID, replica: c.dev.Replica, scope: c.scope, schema: c.schema, team: c.dev.TeamID,
		writer: schema.WriterVolunteer, since: c.since, holds: c.holds, backOwn: true}, p.Changes)
	if err != nil {
		var ge *gapError
		if !errors.As(err, &ge) {
			c.s.log.Error("push failed", LogDevice, c.dev.ID, LogBatch, p.Batch, LogChanges, len(p.Changes), LogErr, err)
			err = storeError("store failed", err)
		}
		c.failLocked(err)
		return
	}
	el := time.Since(start)
	c.s.metrics.recordPush(out, el.Seconds())
	c.s.noteActivity(c.dev.ID, nil)
	c.s.log.Debug("push applied", LogDevice, c.dev.ID, LogBatch, p.Batch, LogChanges, len(p.Changes),
		"applied", out.applied, "superseded", out.superseded, "refused", out.refused, LogDuration, el)
	c.enqueueLocked(&syncproto.Ack{Batch: p.Batch, Results: out.results, ServerTime: c.s.now().UnixMilli()})
	c.endForkedLocked(out) // fork.go
}

func (c *conn) onPull(ctx context.Context, p *syncproto.Pull) {
	limit := c.s.cfg.PullLimit
	if p.Limit > 0 && int(p.Limit) < limit {
		limit = int(p.Limit)
	}
	q := LogQuery{After: p.Cursor, Scopes: c.scopeList, Exclude: c.dev.Replica, Limit: limit}
	// A back-fill of hamlets the device gained (Pull.Scopes): the log of
	// those hamlets only, evictions from them included (LogQuery).
	backfill := len(p.Scopes) > 0
	if backfill {
		if err := c.pullScopes(p.Scopes); err != nil {
			c.failLocked(err)
			return
		}
		// Its own writes too: the replica may have dropped them when the
		// team lost the hamlet before.
		q.Scopes, q.Exclude = p.Scopes, syncproto.ReplicaID{}
	}
	page, err := c.s.readLog(ctx, q)
	if err != nil {
		var pe *syncproto.Error
		if !errors.As(err, &pe) {
			c.s.log.Error("pull failed", LogDevice, c.dev.ID, LogErr, err)
			err = storeError("store failed", err)
		}
		c.failLocked(err)
		return
	}
	// The floor is read after the page, not before: a collection deletes
	// entries and raises the floor in one transaction, so a floor still at
	// or below the cursor once the page is read means nothing above the
	// cursor was deleted before or during the read. Checked first, a
	// collection committing between the check and the read would thin the
	// page unseen.
	if backfill {
		err = c.checkBackfillFloor(ctx, p.Cursor, p.Scopes)
	} else {
		err = c.checkFloor(ctx, p.Cursor)
	}
	if err != nil {
		c.failLocked(err)
		return
	}
	c.horizon = 0
	if !page.More {
		c.horizon = c.s.horizon(ctx, c.scopeList)
	}
	losses, err := c.relogLosses(ctx, page.Entries)
	if err != nil {
		c.s.log.Error("pull failed", LogDevice, c.dev.ID, LogErr, err)
		c.failLocked(storeError("store failed", err))
		return
	}
	b, msg, err := c.changesFrame(p.Cursor, page, losses)
	if err != nil {
		c.s.log.Error("encode changes", LogDevice, c.dev.ID, LogErr, err)
		c.failLocked(&syncproto.Error{Code: syncproto.CodeUnavailable, Msg: "encode failed", Err: err})
		return
	}
	c.s.metrics.pulls.Inc()
	// Pull.Durable, not Pull.Cursor, is what the agent holds: a pipelining
	// agent asks for the next page before it has stored the last one, and a
	// tombstone collected on the strength of Cursor could be lost if it then
	// crashed. A client cannot hold more than it asked for, so Durable is
	// capped by Cursor. Zero means "unchanged".
	if !backfill && !c.pulled {
		c.pulled = true
		c.s.noteSynced(c.dev.ID, c.began)
	}
	if d := min(p.Durable, p.Cursor); d != 0 && !backfill {
		c.holds = max(c.holds, d)
		c.s.noteActivity(c.dev.ID, &d)
	} else {
		c.s.noteActivity(c.dev.ID, nil)
	}
	c.enqueueFrameLocked(b, msg)
}

// changesFrame encodes a page as one Changes frame. The page is cut short
// (To = the last entry kept, More = true) where its change list would need
// more than MaxDict names or replicas, more than MaxEvict evictions, or a
// frame above MaxFrame; the rest is the next page.
func (c *conn) changesFrame(from uint64, page LogPage, losses map[fieldKey][]syncproto.LostWrite) ([]byte, *syncproto.Changes, error) {
	lim := c.s.cfg.Limits
	entries := page.Entries
	for {
		msg, n := c.changesMsg(from, page.To, page.More, entries, lim, losses)
		b, err := syncproto.Encode(nil, msg)
		if err != nil {
			return nil, nil, err
		}
		if len(b) <= lim.MaxFrame || n <= 1 {
			return b, msg, nil
		}
		// Large values: keep the share that fits, with a margin.
		keep := int(int64(n) * int64(lim.MaxFrame) / int64(len(b)) * 9 / 10)
		entries = entries[:max(1, min(keep, n-1))]
		page.To, page.More = entries[len(entries)-1].Seq, true
	}
}

// changesMsg builds the Changes of entries (all of them, or a prefix cut at
// the dictionary or eviction limits); n is the number of entries it covers.
// Of losses (relogLosses), it names those whose winner a re-logged change
// it sends is, or was written over.
func (c *conn) changesMsg(from, to uint64, more bool, entries []LogEntry, lim syncproto.Limits, losses map[fieldKey][]syncproto.LostWrite) (*syncproto.Changes, int) {
	msg := &syncproto.Changes{From: from, To: to, More: more, Changes: make([]syncproto.Change, 0, len(entries)), Horizon: c.horizon}
	names := make(map[string]struct{}, 64)
	reps := make(map[syncproto.ReplicaID]struct{}, 8)
	maxDict := lim.MaxDict
	if maxDict <= 0 {
		maxDict = syncproto.DefaultLimits.MaxDict
	}
	maxLost := lim.MaxChanges
	if maxLost <= 0 {
		maxLost = syncproto.DefaultLimits.MaxChanges
	}
	var evicted map[syncproto.RowID]bool
	for i := range entries {
		e := &entries[i]
		if e.Kind == EntryEviction {
			if c.scope[e.NewScope] {
				continue // moved within the device's scope: its changes follow
			}
			if lim.MaxEvict > 0 && len(msg.Evict) == lim.MaxEvict {
				msg.To, msg.More = entries[i-1].Seq, true
				return msg, i
			}
			msg.Evict = append(msg.Evict, syncproto.Eviction{Table: e.Change.Table, Row: e.Change.Row, NewScope: e.NewScope})
			if evicted == nil {
				evicted = map[syncproto.RowID]bool{}
			}
			evicted[e.Change.Row] = true
			continue
		}
		ch := &e.Change
		if evicted[ch.Row] {
			// The row left and came back: a client applies a batch's
			// changes before its evictions, so its return is the next page.
			msg.To, msg.More = entries[i-1].Seq, true
			return msg, i
		}
		nn, nr := len(names), len(reps)
		for _, s := range [...]string{ch.Table, ch.Scope, ch.Field} {
			if _, ok := names[s]; !ok {
				nn++
			}
		}
		_, okDot := reps[ch.Dot.Replica]
		if !okDot {
			nr++
		}
		if !ch.Base.IsZero() && ch.Base.Replica != ch.Dot.Replica {
			if _, ok := reps[ch.Base.Replica]; !ok {
				nr++
			}
		}
		if (nn > maxDict || nr > maxDict) && i > 0 {
			msg.To, msg.More = entries[i-1].Seq, true
			return msg, i
		}
		names[ch.Table], names[ch.Scope], names[ch.Field] = struct{}{}, struct{}{}, struct{}{}
		reps[ch.Dot.Replica] = struct{}{}
		if !ch.Base.IsZero() {
			reps[ch.Base.Replica] = struct{}{}
		}
		msg.Changes = append(msg.Changes, *ch)
		if e.NewScope == "" {
			continue
		}
		ls := losses[fieldKey{ch.Row, ch.Field}]
		for _, l := range ls {
			if l.NamedAfter(ch, ls[len(ls)-1]) && len(msg.Lost) < maxLost {
				msg.Lost = append(msg.Lost, l)
			}
		}
	}
	return msg, len(entries)
}

// fieldKey is one field of one row.
type fieldKey struct {
	row   syncproto.RowID
	field string
}

// relogLosses reads the conflicts logged on the rows a move logged again
// among entries (PROTOCOL.md §5.6 Lost): such a row comes back to a device
// that may have dropped it while its own write there lost, and the
// versions the move sends cannot tell it so. Entries of no move, nearly
// every page, cost nothing.
func (c *conn) relogLosses(ctx context.Context, entries []LogEntry) (map[fieldKey][]syncproto.LostWrite, error) {
	var byTable map[string][]syncproto.RowID
	for i := range entries {
		e := &entries[i]
		if e.Kind != EntryChange || e.NewScope == "" {
			continue
		}
		if byTable == nil {
			byTable = map[string][]syncproto.RowID{}
		}
		ids := byTable[e.Change.Table]
		if len(ids) == 0 || ids[len(ids)-1] != e.Change.Row { // a re-log's fields are consecutive
			byTable[e.Change.Table] = append(ids, e.Change.Row)
		}
	}
	var out map[fieldKey][]syncproto.LostWrite
	for _, table := range slices.Sorted(maps.Keys(byTable)) {
		ids := byTable[table]
		slices.SortFunc(ids, func(a, b syncproto.RowID) int { return bytes.Compare(a[:], b[:]) })
		ls, err := c.st.SnapshotLosses(ctx, table, slices.Compact(ids))
		if err != nil {
			return nil, fmt.Errorf("read the conflicts logged on rows a move logged again: %w", err)
		}
		for _, l := range ls {
			if out == nil {
				out = map[fieldKey][]syncproto.LostWrite{}
			}
			k := fieldKey{l.Row, l.Field}
			out[k] = append(out[k], l)
		}
	}
	return out, nil
}
