package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// /healthz answers "ok" only if the store can write: a load balancer or an
// operator must not see a healthy server while every push fails (a full
// disk, a read-only database). It commits a small write (Store.ProbeWrite)
// within HealthTimeout, and remembers whether the server's own writes
// (pushes, device activity) failed since the last one that succeeded: a
// small probe row can fit where a batch of pushes does not, so a failed
// push keeps the answer at 503 until a push commits or a probe that needs
// probeRoom bytes of new space does.

// probeRoom is the new space a probe needs while writes are failing.
const probeRoom = 1 << 20

// writeFailure is a failed write of the server's own, kept until one
// succeeds.
type writeFailure struct {
	err error
	at  time.Time
}

// healthState is the server's probe in flight and its writes' last outcome.
type healthState struct {
	failed atomic.Pointer[writeFailure]

	mu      sync.Mutex
	running chan struct{} // the probe in flight (nil: none), closed when done
	err     error         // its outcome, valid once running is closed
}

// noteWrite records the outcome of one of the server's own writes: a push
// commit, or a failed update of device activity.
func (s *Server) noteWrite(err error) {
	switch {
	case err == nil:
		s.health.failed.Store(nil)
	case errors.Is(err, ErrBusy) || errors.Is(err, context.Canceled):
		// Overload and shutdown are not a store that cannot write.
	default:
		s.health.failed.Store(&writeFailure{err: err, at: s.now()})
	}
}

// probe runs one write probe at a time (a load balancer polling faster
// than a stuck store answers does not pile them up) and waits for it at
// most until ctx ends.
func (s *Server) probe(ctx context.Context) error {
	h := &s.health
	h.mu.Lock()
	done := h.running
	if done == nil {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			h.mu.Unlock()
			return errShuttingDown
		}
		s.wg.Add(1) // Close waits for it before closing the store
		s.mu.Unlock()
		done = make(chan struct{})
		h.running = done
		size := 0
		if h.failed.Load() != nil {
			size = probeRoom
		}
		go func() {
			defer s.wg.Done()
			// Not the request's context: the probe finishes for the next
			// caller even if this one gave up.
			pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := s.store.ProbeWrite(pctx, size)
			cancel()
			if err == nil && size > 0 {
				h.failed.Store(nil) // room again
			}
			h.mu.Lock()
			h.err, h.running = err, nil
			close(done)
			h.mu.Unlock()
		}()
	}
	h.mu.Unlock()
	select {
	case <-done:
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// healthBody is /healthz's answer when the store cannot write.
type healthBody struct {
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// writeTrouble says why a write failed, without the error's text (which
// may name paths or hosts): disk_full, read_only, timeout or write_failed.
func writeTrouble(err error) healthBody {
	b := healthBody{Status: "store_cannot_write", Reason: "write_failed", Message: "the store could not commit a write; see the server log"}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		b.Reason, b.Message = "timeout", "the store did not commit a write in time"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, ErrStoreFull):
		b.Reason, b.Message = "disk_full", "the disk or the database is full: free space, then check again"
	case errors.Is(err, syscall.EROFS), errors.Is(err, ErrStoreReadOnly):
		b.Reason, b.Message = "read_only", "the database is read-only"
	}
	return b
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting_down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthTimeout)
	defer cancel()
	if err := s.probe(ctx); err != nil {
		if errors.Is(err, errShuttingDown) {
			WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting_down"})
			return
		}
		s.log.Error("health check: the store cannot write", LogErr, err)
		WriteJSON(w, http.StatusServiceUnavailable, writeTrouble(err))
		return
	}
	if f := s.health.failed.Load(); f != nil {
		s.log.Error("health check: the server's writes fail", LogErr, f.err, "since", f.at)
		WriteJSON(w, http.StatusServiceUnavailable, writeTrouble(f.err))
		return
	}
	head, err := s.store.Head(ctx)
	if err != nil {
		s.log.Error("health check: store unreadable", LogErr, err)
		WriteJSON(w, http.StatusServiceUnavailable, healthBody{Status: "store_unavailable", Reason: "read_failed", Message: "the store could not be read"})
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "server_id": s.id.String(), "head": head, "agents": s.hub.count()})
}
