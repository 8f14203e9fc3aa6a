package replicas

import (
	"fmt"
	"sync"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Cache is the committed mapping a store has read or written so far. An
// index never changes once committed, so a cached entry is never stale.
type Cache struct {
	mu    sync.RWMutex
	idx   map[syncproto.ReplicaID]int64
	byIdx map[int64]syncproto.ReplicaID
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{idx: map[syncproto.ReplicaID]int64{}, byIdx: map[int64]syncproto.ReplicaID{}}
}

// Index is r's index, if cached.
func (c *Cache) Index(r syncproto.ReplicaID) (int64, bool) {
	c.mu.RLock()
	i, ok := c.idx[r]
	c.mu.RUnlock()
	return i, ok
}

// ID is the replica of index i, if cached.
func (c *Cache) ID(i int64) (syncproto.ReplicaID, bool) {
	c.mu.RLock()
	r, ok := c.byIdx[i]
	c.mu.RUnlock()
	return r, ok
}

// Add caches a committed pair.
func (c *Cache) Add(r syncproto.ReplicaID, i int64) {
	c.mu.Lock()
	c.idx[r], c.byIdx[i] = i, r
	c.mu.Unlock()
}

// Resolve is the replica of index i (the zero id for 0), from the cache or
// else from load, whose answer it caches.
func (c *Cache) Resolve(i int64, load func(int64) (syncproto.ReplicaID, error)) (syncproto.ReplicaID, error) {
	if i == 0 {
		return syncproto.ReplicaID{}, nil
	}
	if r, ok := c.ID(i); ok {
		return r, nil
	}
	r, err := load(i)
	if err != nil {
		return r, fmt.Errorf("replica %d: %w", i, err)
	}
	c.Add(r, i)
	return r, nil
}

// Tx is one write transaction's view: the committed cache and the
// replicas the transaction added, which the cache learns only when the
// transaction commits (Commit): a rolled-back index must not be reused.
type Tx struct {
	c     *Cache
	idx   map[syncproto.ReplicaID]int64
	byIdx map[int64]syncproto.ReplicaID
}

// NewTx starts a transaction's view of c.
func NewTx(c *Cache) Tx { return Tx{c: c} }

// Store is how a transaction reads and adds rows of the replicas table.
type Store interface {
	// Find is r's committed index, ok false if it has none. A store whose
	// cache holds every committed replica (it is the only writer and read
	// them all when it opened) answers false without a read.
	Find(r syncproto.ReplicaID) (i int64, ok bool, err error)
	// New gives r an index (its row is written now or at commit).
	New(r syncproto.ReplicaID) (int64, error)
}

// Index returns r's index: 0 for the zero id; -1 for a replica the store
// does not know when create is false; a new index when create is true.
func (t *Tx) Index(r syncproto.ReplicaID, create bool, st Store) (int64, error) {
	if r == (syncproto.ReplicaID{}) {
		return 0, nil
	}
	if i, ok := t.c.Index(r); ok {
		return i, nil
	}
	if i, ok := t.idx[r]; ok {
		return i, nil
	}
	i, ok, err := st.Find(r)
	if err != nil {
		return 0, fmt.Errorf("replica: %w", err)
	}
	if ok {
		t.c.Add(r, i)
		return i, nil
	}
	if !create {
		return -1, nil
	}
	if i, err = st.New(r); err != nil {
		return 0, fmt.Errorf("add replica: %w", err)
	}
	if t.idx == nil {
		t.idx, t.byIdx = map[syncproto.ReplicaID]int64{}, map[int64]syncproto.ReplicaID{}
	}
	t.idx[r], t.byIdx[i] = i, r
	return i, nil
}

// Added is whether this transaction added r.
func (t *Tx) Added(r syncproto.ReplicaID) bool {
	_, ok := t.idx[r]
	return ok
}

// ID is the replica of index i: one this transaction added, or from the
// cache, or else from load (nil: an unknown index is an error).
func (t *Tx) ID(i int64, load func(int64) (syncproto.ReplicaID, error)) (syncproto.ReplicaID, error) {
	if r, ok := t.byIdx[i]; ok {
		return r, nil
	}
	if load == nil {
		if r, ok := t.c.ID(i); ok || i == 0 {
			return r, nil
		}
		return syncproto.ReplicaID{}, fmt.Errorf("unknown replica index %d", i)
	}
	return t.c.Resolve(i, load)
}

// New lists the indexes this transaction added.
func (t *Tx) New() map[syncproto.ReplicaID]int64 { return t.idx }

// Commit tells the cache of the replicas the transaction added, once it
// committed.
func (t *Tx) Commit() {
	for r, i := range t.idx {
		t.c.Add(r, i)
	}
}
