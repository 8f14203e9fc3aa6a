package app

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// index holds the live households in memory, in Vietnamese order, with
// their folded search text: a search keystroke over 20,000 households is
// a scan of strings in memory, not a query and a sort. It is rebuilt when
// the replica's change mark moves (agent.Replica.Mark): a write here, a
// pulled change, a CLI command beside the app. What the rebuild costs most
// (a collation key per name) is kept across rebuilds.
type index struct {
	r *agent.Replica

	mu   sync.Mutex
	snap *snapshot
	keys map[string][]byte // head's name -> its Vietnamese sort key
	// sets caches the households reached in a period or taught a skill,
	// for the mark they were read at.
	sets map[string]map[string]bool
}

// snapshot is the index at one mark; it is never modified, so a page
// renders from it without a lock while a newer one is built.
type snapshot struct {
	mark agent.Mark
	all  []*entry // Vietnamese order of the head's name, then hamlet, then id
	byID map[string]*entry
}

type entry struct {
	agent.HouseholdEntry
	key []byte
}

func newIndex(r *agent.Replica) *index {
	return &index{r: r, keys: map[string][]byte{}, sets: map[string]map[string]bool{}}
}

// get returns the index as the replica is now.
func (x *index) get(ctx context.Context) (*snapshot, error) {
	m, err := x.r.Mark(ctx)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.snap != nil && x.snap.mark == m {
		return x.snap, nil
	}
	es, err := x.r.HouseholdEntries(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{mark: m, all: make([]*entry, len(es)), byID: make(map[string]*entry, len(es))}
	used := make(map[string][]byte, len(es))
	for i := range es {
		e := &entry{HouseholdEntry: es[i]}
		k, ok := used[e.Head]
		if !ok {
			if k, ok = x.keys[e.Head]; !ok {
				k = i18n.Key(e.Head)
			}
			used[e.Head] = k
		}
		e.key = k
		s.all[i] = e
		s.byID[e.ID] = e
	}
	x.keys = used // names no longer present are dropped
	slices.SortFunc(s.all, func(a, b *entry) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := strings.Compare(a.Hamlet, b.Hamlet); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	x.snap = s
	clear(x.sets)
	return s, nil
}

// set returns a cached set of household ids for the snapshot's mark,
// reading it with load on a miss.
func (x *index) set(s *snapshot, key string, load func() (map[string]bool, error)) (map[string]bool, error) {
	x.mu.Lock()
	if x.snap == s {
		if v, ok := x.sets[key]; ok {
			x.mu.Unlock()
			return v, nil
		}
	}
	x.mu.Unlock()
	v, err := load()
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	if x.snap == s {
		x.sets[key] = v
	}
	x.mu.Unlock()
	return v, nil
}

// query is what a search or a list asks of the index.
type query struct {
	words   []string        // folded words, all of which must match
	hamlets map[string]bool // words naming a hamlet: that hamlet matches the word too
	hamlet  string          // only this hamlet ("" all)
	keep    func(*entry) bool
}

// newQuery folds text into words; a word found in a hamlet's name matches
// that hamlet's households as well ("tan thanh" finds Ấp Tân Thành's).
func newQuery(text string, scope []agent.Hamlet) query {
	q := query{words: strings.Fields(agent.Fold(text))}
	for _, w := range q.words {
		for _, h := range scope {
			if strings.Contains(agent.Fold(h.Name), w) {
				if q.hamlets == nil {
					q.hamlets = map[string]bool{}
				}
				q.hamlets[w+"\x00"+h.Code] = true
			}
		}
	}
	return q
}

func (q *query) match(e *entry) bool {
	if q.hamlet != "" && e.Hamlet != q.hamlet {
		return false
	}
	for _, w := range q.words {
		if !strings.Contains(e.Folded, w) && !q.hamlets[w+"\x00"+e.Hamlet] {
			return false
		}
	}
	return q.keep == nil || q.keep(e)
}

// find returns the page of matches starting at offset (at most limit) and
// how many match in all, in the index's order.
func (s *snapshot) find(q query, offset, limit int) ([]*entry, int) {
	var out []*entry
	total := 0
	for _, e := range s.all {
		if !q.match(e) {
			continue
		}
		if total >= offset && len(out) < limit {
			out = append(out, e)
		}
		total++
	}
	return out, total
}
