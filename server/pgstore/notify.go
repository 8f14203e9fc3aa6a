package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hamlet-vn/hamlet/server"
)

// notifyChannel is the channel every commit that grew the log notifies
// (pg_notify in flush). PostgreSQL delivers a transaction's notifications
// at its commit, to the sessions listening in that database, in commit
// order; appends commit in seq order (package doc, "The log"), so a
// listener hears of the log's entries in seq order, from every process.
const notifyChannel = "hamlet_log"

// maxPayload keeps a payload under PostgreSQL's 8000-byte limit; a commit
// whose scopes do not fit says "all" instead.
const maxPayload = 7000

// payload is a commit's notification: the log head after it and the
// highest seq it logged under each scope; All means the scopes were too
// many to list.
type payload struct {
	Head   uint64            `json:"h"`
	Scopes map[string]uint64 `json:"s,omitempty"`
	All    bool              `json:"all,omitempty"`
}

func commitPayload(scopes map[string]uint64, head uint64) string {
	b, err := json.Marshal(payload{Head: head, Scopes: scopes})
	if err != nil || len(b) > maxPayload {
		b, _ = json.Marshal(payload{Head: head, All: true})
	}
	return string(b)
}

// FeedCommits reports every commit that grew the log, by any process on
// this database, in commit order (server.CommitEvent), from a goroutine
// that LISTENs on a connection of its own and reconnects with backoff when
// it is lost; each (re)connection is reported as a Restart. It waits up to
// 5 seconds for the first connection. Close stops it.
func (s *Store) FeedCommits(fn func(server.CommitEvent)) error {
	s.feedMu.Lock()
	defer s.feedMu.Unlock()
	if s.feedCancel != nil || s.localWatch != nil {
		panic("pgstore: FeedCommits called twice")
	}
	if s.localFeed {
		var head int64
		if err := s.pool.QueryRow(context.Background(), `SELECT seq FROM sync_log_head`).Scan(&head); err != nil {
			return fmt.Errorf("read log head: %w", err)
		}
		s.localWatch = fn
		fn(server.CommitEvent{Head: uint64(head), Restart: true})
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.feedCancel, s.feedDone = cancel, make(chan struct{})
	ready := make(chan struct{})
	go s.listen(ctx, fn, ready)
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
	}
	return nil
}

// Quiet: the feed hears every process's commits (LISTEN/NOTIFY, or this
// process alone with Options.LocalFeed); the hub's own checks (hub.local,
// Restart) cover what it has not heard of yet.
func (s *Store) Quiet(context.Context) bool { return true }

// Shared: several server processes may share the database, unless the
// store was opened with Options.LocalFeed.
func (s *Store) Shared() bool { return !s.localFeed }

// feedLocal reports a commit that locked the log to FeedCommits' fn, with
// Options.LocalFeed (after the COMMIT, in the committing goroutine).
func (s *Store) feedLocal(scopes map[string]uint64, head uint64) {
	s.feedMu.Lock()
	fn := s.localWatch
	s.feedMu.Unlock()
	if fn != nil {
		fn(server.CommitEvent{Scopes: maps.Clone(scopes), Head: head})
	}
}

// stopFeed ends FeedCommits' goroutine and waits for it.
func (s *Store) stopFeed() {
	s.feedMu.Lock()
	cancel, done := s.feedCancel, s.feedDone
	s.feedMu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

func (s *Store) listen(ctx context.Context, fn func(server.CommitEvent), ready chan struct{}) {
	defer close(s.feedDone)
	const minWait, maxWait = 50 * time.Millisecond, 5 * time.Second
	wait := minWait
	for {
		connected, err := s.listenOnce(ctx, fn, ready)
		if ctx.Err() != nil {
			return
		}
		if connected {
			wait = minWait
		}
		s.log.Warn("PostgreSQL commit feed lost; reconnecting", "err", oneLine(err), "wait", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxWait)
	}
}

// listenOnce connects, LISTENs, reports a Restart with the head read after
// LISTEN took effect (every commit above it will be heard of) and then the
// notifications, until the connection fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, fn func(server.CommitEvent), ready chan struct{}) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, s.pool.Config().ConnConfig.Copy())
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN `+notifyChannel); err != nil {
		return false, err
	}
	var head int64
	if err := conn.QueryRow(ctx, `SELECT seq FROM sync_log_head`).Scan(&head); err != nil {
		return false, err
	}
	fn(server.CommitEvent{Head: uint64(head), Restart: true})
	s.feedStarts.Add(1)
	select {
	case <-ready:
	default:
		close(ready)
	}
	for {
		// A quiet minute: check the connection is alive (a peer that
		// vanished without closing it would otherwise be waited on forever).
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) || wctx.Err() != nil {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := conn.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
				return true, err
			}
			return true, err
		}
		var p payload
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			return true, fmt.Errorf("commit notification %q: %w", n.Payload, err)
		}
		if p.All {
			fn(server.CommitEvent{Head: p.Head, Restart: true})
			continue
		}
		fn(server.CommitEvent{Scopes: p.Scopes, Head: p.Head})
	}
}

// FeedStarts is how many times the commit feed has connected and started
// listening (tests, status).
func (s *Store) FeedStarts() int64 { return s.feedStarts.Load() }
