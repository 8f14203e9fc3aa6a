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
// a scan of strings in memory, not a query and a sort.
//
// It follows the replica's writes: when the change mark moves (a write
// here, a pulled change, a CLI command beside the app) it reads only the
// households written since (agent.Replica.HouseholdsWritten) and puts
// them in place. It reads everything again when rows left the table (the
// table's count and sum of positions are not what the index holds, or a
// sync evicted or re-cloned rows). What a full read costs most, a sort
// key and a folded text per household, is kept across reads.
type index struct {
	r *agent.Replica

	mu    sync.Mutex
	snap  *snapshot
	pos   int64            // the last write read
	held  agent.Written    // the households table as the index holds it
	dead  map[string]int64 // deleted households, by id: their positions
	full  bool             // read everything at the next get
	keys  map[string][]byte
	folds map[string]string
	sets  map[string]*idSet
}

// snapshot is the index at one mark; it is never modified, so a page
// renders from it without a lock while a newer one is made.
type snapshot struct {
	mark agent.Mark
	all  []*entry // Vietnamese order of the head's name, then hamlet, then id
	byID map[string]*entry
}

type entry struct {
	agent.HouseholdEntry
	key    []byte
	folded string
}

func newIndex(r *agent.Replica) *index {
	return &index{r: r, keys: map[string][]byte{}, folds: map[string]string{}, sets: map[string]*idSet{}, dead: map[string]int64{}}
}

// invalidate makes the next get read everything: rows may have left the
// table (a sync's eviction, a re-clone, a dropped refused record).
func (x *index) invalidate() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.full = true
	for _, s := range x.sets {
		s.full = true
	}
}

// get returns the index as the replica is now.
func (x *index) get(ctx context.Context) (*snapshot, error) {
	m, err := x.r.Mark(ctx)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.snap != nil && x.snap.mark == m && !x.full {
		return x.snap, nil
	}
	if x.snap == nil || x.full {
		return x.rebuild(ctx, m)
	}
	es, w, err := x.r.HouseholdsWritten(ctx, x.pos)
	if err != nil {
		return nil, err
	}
	// What the table should hold if nothing left it: the rows written
	// since replace theirs (at their old positions) or are new.
	want := x.held
	for _, e := range es {
		if old := x.snap.byID[e.ID]; old != nil {
			want.PosSum -= old.Pos
		} else if p, ok := x.dead[e.ID]; ok {
			want.PosSum -= p
		} else {
			want.Rows++
		}
		want.PosSum += e.Pos
	}
	if want != w {
		return x.rebuild(ctx, m) // rows left the table: read it all
	}
	s := &snapshot{mark: m, byID: make(map[string]*entry, len(x.snap.byID)+len(es))}
	for id, e := range x.snap.byID {
		s.byID[id] = e
	}
	changed := make(map[string]bool, len(es))
	var added []*entry
	for _, e := range es {
		changed[e.ID] = true
		delete(s.byID, e.ID)
		delete(x.dead, e.ID)
		if e.Deleted {
			x.dead[e.ID] = e.Pos
			continue
		}
		ne := x.entry(e)
		s.byID[e.ID] = ne
		added = append(added, ne)
	}
	// The untouched entries keep their order; the written ones go in by
	// their keys.
	s.all = make([]*entry, 0, len(s.byID))
	for _, e := range x.snap.all {
		if !changed[e.ID] {
			s.all = append(s.all, e)
		}
	}
	for _, e := range added {
		i, _ := slices.BinarySearchFunc(s.all, e, compareEntries)
		s.all = slices.Insert(s.all, i, e)
	}
	x.snap, x.held = s, w
	if len(es) > 0 {
		x.pos = es[len(es)-1].Pos
	}
	return s, nil
}

// rebuild reads every household.
func (x *index) rebuild(ctx context.Context, m agent.Mark) (*snapshot, error) {
	es, w, err := x.r.HouseholdsWritten(ctx, 0)
	if err != nil {
		return nil, err
	}
	s := &snapshot{mark: m, all: make([]*entry, 0, len(es)), byID: make(map[string]*entry, len(es))}
	keys, folds := make(map[string][]byte, len(es)), make(map[string]string, len(es))
	clear(x.dead)
	var pos int64
	for _, e := range es {
		pos = max(pos, e.Pos)
		if e.Deleted {
			x.dead[e.ID] = e.Pos
			continue
		}
		ne := x.entry(e)
		keys[e.Head] = ne.key
		folds[foldKey(e)] = ne.folded
		s.all = append(s.all, ne)
		s.byID[e.ID] = ne
	}
	x.keys, x.folds = keys, folds // what no household has any more is dropped
	slices.SortFunc(s.all, compareEntries)
	x.snap, x.pos, x.held, x.full = s, pos, w, false
	// Rows that left the households table may have taken their visits
	// and tutoring with them (an eviction): the sets are read again too.
	for _, st := range x.sets {
		st.full = true
	}
	return s, nil
}

// entry makes an index entry, with the sort key and folded text computed
// once per distinct name and text.
func (x *index) entry(e agent.HouseholdEntry) *entry {
	ne := &entry{HouseholdEntry: e}
	k, ok := x.keys[e.Head]
	if !ok {
		k = i18n.Key(e.Head)
		x.keys[e.Head] = k
	}
	ne.key = k
	fk := foldKey(e)
	f, ok := x.folds[fk]
	if !ok {
		f = agent.FoldHousehold(e.Head, e.Address, e.Phone, e.Hamlet)
		x.folds[fk] = f
	}
	ne.folded = f
	return ne
}

func foldKey(e agent.HouseholdEntry) string {
	return e.Head + "\x00" + e.Address + "\x00" + e.Phone + "\x00" + e.Hamlet
}

func compareEntries(a, b *entry) int {
	if c := bytes.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := strings.Compare(a.Hamlet, b.Hamlet); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// idSet is a set of households kept fresh like the index: the
// households reached in a period, or taught a skill. It is read whole
// once, with the index's help (agent.Replica.HouseholdsReached,
// HouseholdsTaught), then follows the visits and tutoring records
// written since.
type idSet struct {
	ids   map[string]bool
	mark  agent.Mark
	full  bool
	feeds map[string]*feed // by table
	load  func(ctx context.Context) (map[string]bool, error)
	match func(table string, a agent.Activity) bool
}

type feed struct {
	pos  int64
	rows int
}

// set returns the set named key, made by load and kept fresh with match:
// a visit or tutoring record written since that matches adds its
// household; one deleted, or rows gone from a table, read it all again.
func (x *index) set(ctx context.Context, s *snapshot, key string, tables []string,
	load func(ctx context.Context) (map[string]bool, error), match func(table string, a agent.Activity) bool) (map[string]bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	is := x.sets[key]
	if is == nil {
		is = &idSet{full: true, load: load, match: match, feeds: map[string]*feed{}}
		x.sets[key] = is
	}
	if is.ids != nil && is.mark == s.mark && !is.full {
		return is.ids, nil
	}
	if !is.full && is.ids != nil {
		ids := make(map[string]bool, len(is.ids)+8)
		for id := range is.ids {
			ids[id] = true
		}
		ok := true
		feeds := map[string]*feed{}
		for _, t := range tables {
			f := is.feeds[t]
			as, n, err := x.r.ActivityWritten(ctx, t, f.pos)
			if err != nil {
				return nil, err
			}
			nf := &feed{pos: f.pos, rows: f.rows}
			for _, a := range as {
				nf.pos = a.Pos
				if a.Deleted {
					ok = false // it may have been the household's only one
					break
				}
				if match(t, a) {
					ids[a.Household] = true
				}
			}
			// A record written again keeps the count, a new one adds one:
			// fewer rows than held means some left (they go with their
			// households, whose index checks exactly and reads all again).
			// More records written than added means some were edited: a
			// visit's date moved out of the month, a skill changed, by
			// another command or a pull, may leave its household no
			// longer reached, which adding cannot say: read all again.
			if n < f.rows || len(as) > n-f.rows {
				ok = false
			}
			nf.rows = n
			feeds[t] = nf
		}
		if ok {
			is.ids, is.feeds, is.mark = ids, feeds, s.mark
			return ids, nil
		}
	}
	// Read whole: the positions first, so nothing written meanwhile is
	// missed (read twice at worst).
	feeds := map[string]*feed{}
	for _, t := range tables {
		pos, n, err := x.r.LastWritten(ctx, t)
		if err != nil {
			return nil, err
		}
		feeds[t] = &feed{pos: pos, rows: n}
	}
	ids, err := load(ctx)
	if err != nil {
		return nil, err
	}
	is.ids, is.feeds, is.mark, is.full = ids, feeds, s.mark, false
	return ids, nil
}

// query is what a search or a list asks of the index.
type query struct {
	words   []string        // folded words, all of which must match
	hamlets map[string]bool // word+hamlet: a word in a hamlet's name matches its households too
	hamlet  string          // only this hamlet ("" all)
	keep    func(*entry) bool
}

// newQuery folds text into words; a word found in a hamlet's name matches
// that hamlet's households as well ("tan thanh" finds Ấp Tân Thành's).
func newQuery(text string, scope []agent.Hamlet) query {
	q := query{words: agent.SearchWords(text)}
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
		if !strings.Contains(e.folded, w) && !q.hamlets[w+"\x00"+e.Hamlet] {
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
