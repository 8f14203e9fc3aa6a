package server

import (
	"sync"
	"time"

	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/workcal"
)

// The leaders' read model (server/analytics): one per server, made on first
// use, shared by the JSON API and the dashboard.

// readModel is the server's read model, made on first use.
type readModel struct {
	once  sync.Once
	index *analytics.Index
	err   error
}

// newReadModel makes the read model over the source the store gives it.
func newReadModel(st ReadModelStore, cal *workcal.Calendar) (*analytics.Index, error) {
	return analytics.New(st.AnalyticsSource(), cal), nil
}

// Analytics is the server's read model (one per server), or an error when
// the store cannot feed one.
func (s *Server) Analytics() (*analytics.Index, error) {
	s.rm.once.Do(func() { s.rm.index, s.rm.err = newReadModel(s.store, s.cfg.Calendar) })
	return s.rm.index, s.rm.err
}

// WarmAnalytics loads the leaders' read model in the background, so the
// first dashboard user after a start does not wait while a whole province
// loads (about 10 s for 300,000 households). The load belongs to the server
// and stops with Close; a failure only means the first request loads it.
func (s *Server) WarmAnalytics() {
	idx, err := s.Analytics()
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return
	}
	s.bg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.bg.Done()
		start := time.Now()
		if err := idx.Refresh(s.ctx); err != nil {
			if s.ctx.Err() == nil {
				s.log.Warn("loading the analytics read model failed; the first dashboard request will load it", LogErr, err)
			}
			return
		}
		s.log.Info("analytics read model loaded", LogDuration, time.Since(start))
	}()
}
