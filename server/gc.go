package server

import (
	"context"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// GCOptions tunes Collect.
type GCOptions struct {
	// SilentBefore, when set, excludes active devices whose last contact
	// (or enrollment, if never seen) is before it: a device silent that
	// long no longer holds collection back. When it returns, its cursor is
	// below its scopes' log floor and it is told to re-clone
	// (Welcome.Reclone) after pushing what it has.
	SilentBefore time.Time
	// Truncate drops every log entry at or below the lowest durable cursor
	// of the active devices covering its scope, not only superseded ones:
	// every such device holds them already, and a new or returning device
	// behind the floor clones from the snapshot of rows instead. Scopes no
	// active device covers keep their log (a team that gains one reads it).
	Truncate bool
}

// DefaultSilentAfter is how long a device may stay silent before it stops
// holding collection back (Config.SilentAfter).
const DefaultSilentAfter = 180 * 24 * time.Hour

// gcOptions is the options the server's own collection runs with.
func (s *Server) gcOptions() GCOptions {
	o := GCOptions{Truncate: s.cfg.TruncateLog}
	if s.cfg.SilentAfter > 0 {
		o.SilentBefore = s.now().Add(-s.cfg.SilentAfter)
	}
	return o
}

// markReturned writes at once that dev, which the store holds for silent
// past the horizon (its last contact, or its enrollment, before the
// cutoff) or nearly so, is back: collection, in this process or another
// (hamlet-server gc from the command line), reads the store, not the
// activity this process holds in memory until its next flush. Taken for
// silent while it pulls, the device would see collection drop entries
// above its cursor (tombstones, or the whole log with --truncate-log)
// and never learn of the deletes. The margin of one flush interval covers
// a device that turns silent, by what the store says, before the next
// flush writes this session's activity. Called from Hello, before the
// Welcome reads the log floor: a collection that committed first raised
// the floor and the device is told to clone again; one that commits after
// counts the device.
//
// A device's first contact is written at once too: collection does not
// count a device that never said Hello and holds no cursor (it holds
// nothing; GCTx.MinCursors), and from this Hello on it may be cloning.
func (s *Server) markReturned(ctx context.Context, dev Device) error {
	if dev.LastSeen == nil {
		return s.store.Touch(ctx, []DeviceActivity{{DeviceID: dev.ID, At: s.now()}})
	}
	cutoff := s.silentBefore()
	if cutoff.IsZero() {
		return nil
	}
	seen := *dev.LastSeen
	if !seen.Before(cutoff.Add(s.cfg.FlushInterval)) {
		return nil
	}
	return s.store.Touch(ctx, []DeviceActivity{{DeviceID: dev.ID, At: s.now()}})
}

// silentBefore is the cutoff for Horizon (zero: no device is silent).
func (s *Server) silentBefore() time.Time { return s.gcOptions().SilentBefore }

// horizon is Changes.Horizon for a device of these scopes; 0 when unknown
// (the agent then keeps its tombstones).
func (s *Server) horizon(ctx context.Context, scopes []string) uint64 {
	h, err := s.store.Horizon(ctx, scopes, s.silentBefore())
	if err != nil {
		s.log.Warn("read collection horizon", LogErr, err)
		return 0
	}
	return h
}

// checkFloor refuses a pull from below the log floor of the device's
// scopes: collection removed entries there, so the pull would silently
// miss them. An agent that understands Welcome.Reclone never asks (it
// re-clones first); an older one is told what to do. Every pull is
// checked, not only a session's first: a collection may raise the floor
// while the session is open (compaction past a device counted silent,
// gc --truncate-log from another process), and a pull answered from a log
// thinned above its cursor brings versions without the ones they
// overwrote (issue 17). The floor is one read of a table of a row per hamlet.
// Cursor 0 is not checked: a replica that holds nothing misses no
// tombstone, and one that clones never pulls from 0 (Config.TruncateLog is
// for fleets whose agents all clone: an agent too old to clone would pull
// a truncated log from 0).
func (c *conn) checkFloor(ctx context.Context, cursor uint64) error {
	if cursor == 0 {
		return nil
	}
	floor, err := c.st.LogFloor(ctx, withEveryHamlet(c.scopeList))
	if err != nil {
		return storeError("read log floor", err)
	}
	if cursor < floor {
		return syncproto.Errorf(syncproto.CodeBadCursor,
			"the log before %d was collected and this replica's cursor %d is below it: update hamlet-agent and sync again (it clones the current data after pushing its own changes)", floor, cursor)
	}
	return nil
}

// checkBackfillFloor refuses a log back-fill (Pull.Scopes, sent only by
// agents of releases before the scoped-snapshot back-fill, or to a server
// without snapshots) that may be incomplete: the stored floor of those
// hamlets' log (sync_log_floor), whichever process's collection raised
// it, is above the back-fill's cursor. Below a floor raised by truncation
// the log no longer holds the current values of live rows; below one
// raised by tombstone collection a back-fill cut after storing a row may
// have missed its delete. The agent clones again instead (by snapshot,
// which misses neither). The check never depends on this process's
// Config.TruncateLog: `hamlet-server gc --truncate-log` from the CLI
// truncates while serve runs without it.
func (c *conn) checkBackfillFloor(ctx context.Context, cursor uint64, scopes []string) error {
	floor, err := c.st.LogFloor(ctx, withEveryHamlet(scopes))
	if err != nil {
		return storeError("read log floor", err)
	}
	if cursor < floor {
		return syncproto.Errorf(syncproto.CodeBadCursor,
			"the log of the gained hamlets before %d was collected and a back-fill from %d may not be complete: clone again", floor, cursor)
	}
	return nil
}
