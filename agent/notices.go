package agent

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Notice is what a sync told that the volunteer must see, kept for an
// interface that shows it until she has read it (the app: a sync runs in
// its background, and its pages may be opened hours later, or after the
// app was closed and opened again). Kept by Told, in the transaction that
// forgets the notes it was told from.
type Notice struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Scope is a change of the team's hamlets: gained and fetched
	// (Gained, Filled), lost and their rows removed (Lost, Dropped,
	// KeptEdits).
	Scope *ScopeChange `json:"scope,omitempty"`
	// Fork: this data folder turned out to be a copy of another and took
	// a new replica id.
	Fork *ForkInfo `json:"fork,omitempty"`
	// Resent is how many changes the server had lost (restored from a
	// backup) that the sync sent again: IT staff should be told.
	Resent int `json:"resent,omitempty"`
}

// metaNotices holds the notices not read yet (keptNotices), at most
// maxNotices: a laptop left syncing for weeks with no one reading keeps
// the latest.
const (
	metaNotices = "notices"
	maxNotices  = 20
)

// keptNotices is metaNotices' value: the notices, oldest first, and the
// last id given, never given again (a page left open since the notices it
// lists were read dismisses none kept later).
type keptNotices struct {
	Last int64    `json:"last"`
	List []Notice `json:"list"`
}

// noticeOf is what s tells that the volunteer must see, nil for nothing:
// the records refused and the conflicts are not among it (the replica
// lists them until someone acts), nor a clone that ended (its records are
// on the laptop to see).
func noticeOf(s SyncSummary) *Notice {
	var n Notice
	if c := s.ScopeChange; c != nil && len(c.Gained)+len(c.Filled)+len(c.Lost) > 0 {
		sc := *c
		n.Scope = &sc
	}
	n.Fork, n.Resent = s.Fork, s.Resent
	if n.Scope == nil && n.Fork == nil && n.Resent == 0 {
		return nil
	}
	return &n
}

// Notices are the notices kept and not dismissed, oldest first.
func (r *Replica) Notices(ctx context.Context) ([]Notice, error) {
	k, err := r.notices(ctx, r.db)
	return k.List, err
}

func (r *Replica) notices(ctx context.Context, q querier) (keptNotices, error) {
	return metaJSON[keptNotices](ctx, r, q, metaNotices) // unreadable: none to show, as none
}

func (t *txn) setNotices(k keptNotices) error { return t.setMetaJSON(metaNotices, k) }

// keepNotice adds n, numbered after the last, dropping the oldest beyond
// maxNotices.
func (t *txn) keepNotice(n Notice, at time.Time) error {
	k, err := t.r.notices(t.ctx, t.tx)
	if err != nil {
		return fmt.Errorf("read the notices kept: %w", err)
	}
	k.Last++
	n.ID, n.At = k.Last, at
	k.List = append(k.List, n)
	if len(k.List) > maxNotices {
		k.List = k.List[len(k.List)-maxNotices:]
	}
	return t.setNotices(k)
}

// DismissNotices forgets the notices up to id, read: one kept since the
// page that showed them stays.
func (r *Replica) DismissNotices(ctx context.Context, upTo int64) error {
	return r.inCounted(ctx, func(t *txn) error {
		k, err := r.notices(ctx, t.tx)
		if err != nil {
			return err
		}
		n := len(k.List)
		k.List = slices.DeleteFunc(k.List, func(x Notice) bool { return x.ID <= upTo })
		if len(k.List) == n {
			return nil
		}
		return t.setNotices(k)
	})
}
