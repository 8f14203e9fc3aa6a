package server

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Applying a batch in the committer's transaction (commit.go): its origin
// sequences checked, its rows judged now that the store says which are
// new (judgeRows), each change decided by syncproto.Resolve (apply). What
// runs before, outside the transaction, is in precheck.go; what a winning
// change does to its row, in install.go.

// pusher is who pushes: the device and its replica and scope.
type pusher struct {
	deviceID string
	replica  syncproto.ReplicaID
	scope    map[string]bool
	schema   int    // the agent's data schema; 0 when not a session (all fields)
	team     string // the device's team, for its scope history (scope.go)
	// writer is whose rules apply to the fields (schema.Field.WrittenBy): a
	// device is a volunteer's, an import a coordinator's.
	writer schema.Writer
	// since is when the device's last session that pushed everything it
	// held began (Server.lastSynced): no change it pushes now was made
	// earlier (scope.go, madeAt). Zero for an import, or when unknown.
	since time.Time
	// holds is the cursor the pushing session's agent has shown it holds
	// (conn.holds; 0 before its first Pull), for ownBack; backOwn is false
	// for pushes that are not a device's session (an import, the server's
	// own writes).
	holds   uint64
	backOwn bool
}

// pushOutcome is what one applied batch did, for the Ack, metrics and Notify.
type pushOutcome struct {
	results    []syncproto.Result
	applied    int
	superseded int
	duplicate  int
	refused    int
	conflicts  int
	restamped  int
	forked     int             // changes not taken: another copy of the replica pushed first (fork.go)
	forkedAt   uint64          // the first of them
	scopes     map[string]bool // scopes whose log grew
	head       uint64
}

// errSequenceGap aborts a batch whose changes skip origin sequences.
type gapError struct{ have, got uint64 }

func (e *gapError) Error() string {
	return fmt.Sprintf("origin sequence %d follows %d: changes in between are missing", e.got, e.have)
}

// rowCache holds one row's state and versions during a batch.
type rowCache struct {
	st     RowState
	exists bool                       // saved in the store
	dirty  bool                       // st changed since loaded or saved
	fields map[string]syncproto.Value // installed since, to materialize
	newIn  *batch                     // the batch that created the row
	logged bool                       // entries of the row were logged in this group
	// notMade: the scope refusal of a change of this row when it was new:
	// the rest of the new row falls with it (scopeVerdict judges each
	// change by its own stamp, and a row made as its hamlet left the team
	// may straddle that moment).
	notMade *syncproto.Result
	// collected: the store does not hold the row because collection
	// removed it (Tx.Collected); a push never makes it again.
	collected bool
}

type batch struct {
	s    *Server
	tx   Tx
	p    pusher
	now  time.Time
	rows map[RowRef]*rowCache
	out  *pushOutcome
	// server-authored writes (children moved with their household)
	serverSeq       uint64
	serverSeqLoaded bool
	// scope history read for out-of-scope changes (scope.go)
	hist *scopeHistory
	// moved: the batch's rows that moved after the pusher's cursor (ownBack)
	moved map[RowRef]bool
	// lineage: the pusher's replica and those it is a fork of, read once
	// (seenThroughRefusal)
	lineage map[syncproto.ReplicaID]bool
}

func (b *batch) row(t string, id syncproto.RowID) (*rowCache, error) {
	k := RowRef{t, id}
	if rc, ok := b.rows[k]; ok {
		return rc, nil
	}
	st, ok, err := b.tx.Row(t, id)
	if err != nil {
		return nil, err
	}
	rc := &rowCache{st: st, exists: ok}
	if rc.st.Versions == nil {
		rc.st.Versions = map[string]syncproto.Version{}
	}
	if !ok {
		gone, err := b.tx.Collected([]RowRef{k})
		if err != nil {
			return nil, err
		}
		rc.collected = gone[k]
	}
	b.rows[k] = rc
	return rc, nil
}

// prefetch loads, in a few statements, the state of every row a group's
// batches touch, so apply never waits on one SELECT per row. It loads rows
// of changes that turn out to be duplicates too: they are only cached.
func prefetch(tx Tx, group []*writeReq, rows map[RowRef]*rowCache) error {
	var refs []RowRef
	for _, r := range group {
		for i := range r.changes {
			c := &r.changes[i]
			if c.Dot.Replica != r.p.replica || r.pre[i].code != "" {
				continue
			}
			k := RowRef{c.Table, c.Row}
			if c.Field == "household_id" && c.Table != "households" {
				// The household a new row names is judged too (judgeRows).
				if id, err := uuid.Parse(c.Value.AsString()); err == nil {
					if p := (RowRef{"households", id}); !has(rows, p) {
						rows[p] = nil
						refs = append(refs, p)
					}
				}
			}
			if has(rows, k) {
				continue
			}
			rows[k] = nil // seen
			refs = append(refs, k)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	states, err := tx.LoadRows(refs)
	if err != nil {
		return err
	}
	var missing []RowRef
	for _, k := range refs {
		if _, ok := states[k]; !ok {
			missing = append(missing, k)
		}
	}
	var gone map[RowRef]bool
	if len(missing) > 0 {
		if gone, err = tx.Collected(missing); err != nil {
			return err
		}
	}
	for _, k := range refs {
		st, ok := states[k]
		if st.Versions == nil {
			st.Versions = map[string]syncproto.Version{}
		}
		rows[k] = &rowCache{st: st, exists: ok, collected: gone[k]}
	}
	return nil
}

func has(rows map[RowRef]*rowCache, k RowRef) bool { _, ok := rows[k]; return ok }

func (b *batch) appendEntry(e *LogEntry) error {
	if err := b.tx.Append(e); err != nil {
		return err
	}
	b.out.scopes[e.Change.Scope] = true
	if e.Seq > b.out.head {
		b.out.head = e.Seq
	}
	return nil
}

// checkSequence finds a gap in the batch's own origin sequences before
// anything is written, so a rejected batch leaves no trace.
func checkSequence(tx Tx, p pusher, changes []syncproto.Change) (uint64, error) {
	maxSeq, err := tx.OriginSeq(p.replica)
	if err != nil {
		return 0, err
	}
	m := maxSeq
	for i := range changes {
		c := &changes[i]
		if c.Dot.Replica != p.replica || c.Dot.Seq <= m {
			continue
		}
		if c.Dot.Seq != m+1 {
			return 0, &gapError{have: m, got: c.Dot.Seq}
		}
		m = c.Dot.Seq
	}
	return maxSeq, nil
}

// applyBatch applies one batch of a group; rows is the group's row cache,
// which the caller saves (flush) after the last batch.
func (s *Server) applyBatch(tx Tx, r *writeReq, rows map[RowRef]*rowCache) (*pushOutcome, error) {
	p, changes, pre := r.p, r.changes, r.pre
	maxSeq, err := checkSequence(tx, p, changes)
	if err != nil {
		return nil, err
	}
	out := &pushOutcome{results: make([]syncproto.Result, len(changes)), scopes: map[string]bool{}}
	b := &batch{s: s, tx: tx, p: p, now: s.now(), rows: rows, out: out}
	if p.backOwn {
		if b.moved, err = tx.MovedAbove(ownRows(p, changes, rows), p.holds); err != nil {
			return nil, err
		}
	}
	verdicts, hamlets, err := b.judgeRows(r, maxSeq)
	if err != nil {
		return nil, err
	}
	start := maxSeq
	var refusals map[uint64]Refused // of this batch's re-pushed changes, read at the first
	fk := newForkCheck(tx, p.replica, maxSeq, changes)
	for i := range changes {
		c := &changes[i]
		res := &out.results[i]
		if c.Dot.Replica != p.replica {
			if *res, err = b.refuse(c, syncproto.CodeUnauthorized, refusal.Why(refusal.NotOwnReplica)); err != nil {
				return nil, err
			}
			continue
		}
		if fk.forked() {
			*res = fk.result()
			out.forked++
			continue
		}
		if c.Dot.Seq <= maxSeq {
			if forked, err := fk.repushed(c); err != nil {
				return nil, err
			} else if forked {
				*res, out.forkedAt = fk.result(), c.Dot.Seq
				out.forked++
				continue
			}
			// Pushed again, its Ack lost: a change refused then is refused
			// again, with its reason, so the client cannot lose it (§7.4).
			if refusals == nil {
				if refusals, err = tx.Refusals(p.replica, 1, start); err != nil {
					return nil, err
				}
			}
			if rf, ok := refusals[c.Dot.Seq]; ok {
				*res = syncproto.Result{Status: syncproto.ResultRefused, Code: rf.Code, Reason: rf.Reason}
				if w, _ := refusal.Load(rf.Reason); !w.IsZero() { // kept as data: the same reason again
					res.Reason, res.Why = refusal.Compat(rf.Code, w), w
				}
			} else {
				if later, err := b.laterCopyWins(fk, c); err != nil {
					return nil, err
				} else if later {
					fk.fork(c)
					*res, out.forkedAt = fk.result(), c.Dot.Seq
					out.forked++
					continue
				}
				// With the stamp the server gave it, if it restamped it:
				// the client learns it as from the lost Ack (§7.4, §8.6).
				res.Status, res.HLC = syncproto.ResultDuplicate, fk.duplicateStamp(c)
			}
			out.duplicate++
			continue
		}
		maxSeq = c.Dot.Seq
		fk.take(c)
		v := pre[i]
		if v.code == "" {
			v = verdicts[i]
		}
		if v.code != "" {
			if *res, err = b.refuse(c, v.code, v.why); err != nil {
				return nil, err
			}
			continue
		}
		// apply may rewrite the change (its base, its stamp): on a copy,
		// so a store that runs the transaction again sees it as pushed.
		cc := *c
		if *res, err = b.apply(&cc, hamlets[RowRef{c.Table, c.Row}]); err != nil {
			return nil, err
		}
		if res.HLC != 0 {
			fk.restamped(res.HLC)
		}
	}
	if err := b.followHouseholds(r, hamlets); err != nil {
		return nil, err
	}
	if maxSeq != start {
		if err := tx.SetOriginSeq(p.replica, maxSeq); err != nil {
			return nil, err
		}
	}
	if err := fk.save(); err != nil {
		return nil, err
	}
	return out, nil
}

// followHouseholds moves the records this batch made of a household into
// the household's hamlet where they were made in another: a record made
// offline while the household was in the pusher's hamlet is taken (it was
// made in scope), but its household may have moved since, by another
// device that synced first. Filed where the push put it, the record
// reached no device of the household's hamlet, and its author's laptop
// kept it, live, where the household no longer is (helper 288, stop 68).
// A visit or a tutoring record is always in its household's hamlet
// (§17.1). A report is of a place, which may be another hamlet: it follows
// only a move made after its place was written (movedSinceFiled), as the
// server's move of a household takes every record that names it
// (install). Each is moved as a household's move moves its records: the
// server writes its hamlet_code, its versions are logged again in the new
// hamlet and an eviction in the old, so its author drops it there.
func (b *batch) followHouseholds(r *writeReq, hamlets map[RowRef]string) error {
	refs := make([]RowRef, 0, len(hamlets))
	for ref := range hamlets {
		if ref.Table != "households" {
			refs = append(refs, ref)
		}
	}
	slices.SortFunc(refs, compareRefs)
	for _, ref := range refs {
		rc := b.rows[ref]
		if rc == nil || rc.newIn != b || rc.st.Scope == "" || rc.st.Parent == uuid.Nil {
			continue
		}
		home := RowRef{"households", rc.st.Parent}
		hc, err := b.row(home.Table, home.Row)
		if err != nil {
			return err
		}
		to := hc.st.Scope
		if to == "" || to == rc.st.Scope {
			continue
		}
		if t, _ := schema.LookupTable(ref.Table); t.ParentTable != "households" {
			follows, err := b.movedSinceFiled(r, ref, hc, home.Row)
			if err != nil {
				return err
			}
			if !follows {
				continue
			}
		}
		old := rc.st.Scope
		rc.st.Scope, rc.dirty = to, true
		if err := b.serverWrite(ref, rc, schema.ScopeField, syncproto.String(to)); err != nil {
			return err
		}
		moving := syncproto.Change{Table: home.Table, Row: home.Row, HLC: hc.st.Versions[schema.ScopeField].HLC}
		// Recorded as moved now, when it left the hamlet it was made in
		// here: a change of the same push, in a later batch, is judged as
		// one in this batch was (helper 299: dated by the household's
		// move, a correction in the next batch was refused where the same
		// one in this batch was taken). A change its author makes after
		// this push, before her laptop hears of the move, is refused as
		// made after it.
		if err := b.move(ref, rc, old, schema.ScopeField, &moving); err != nil {
			return err
		}
	}
	return nil
}

// movedSinceFiled: household home moved after the batch's new report ref
// was placed, by the server's record of its moves. Placed is when the
// report's hamlet_code as the batch leaves it was written (madeAt): a
// volunteer who gives the report another place after the move chose it
// knowing, as her write would beat the move's had the server held the
// report (helper 294). Nor does it follow when the household is where
// the pusher's own move, written before that, put it: she filed the report
// of a place knowing where the household went, though the server dates
// her move by the push that brought it, after the report (helper 294: a
// report filed after her own move, both in one sync, was dragged after it,
// out of her team's hamlets when the team had lost the household's).
func (b *batch) movedSinceFiled(r *writeReq, ref RowRef, home *rowCache, id syncproto.RowID) (bool, error) {
	pl := r.plans[ref]
	if pl == nil || len(pl.idx) == 0 {
		return false, nil
	}
	placed := &r.changes[pl.idx[0]]
	for _, i := range pl.idx {
		if c := &r.changes[i]; c.Field == schema.ScopeField && r.pre[i].code == "" {
			placed = c
		}
	}
	if v, ok := home.st.Versions[schema.ScopeField]; ok && v.HLC < placed.HLC {
		if own, err := b.ownLineage(v.Dot.Replica); err != nil || own {
			return false, err
		}
	}
	made := b.made(placed)
	moves, err := b.tx.ScopeMoves("households", id)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(moves, func(m ScopeMove) bool { return m.At.After(noMove) && m.At.After(made) }), nil
}

// compareRefs orders rows by table, then id: a batch visits them in the
// same order whatever the map's, so a simulation's seed replays exactly.
func compareRefs(x, y RowRef) int {
	if c := strings.Compare(x.Table, y.Table); c != 0 {
		return c
	}
	return bytes.Compare(x.Row[:], y.Row[:])
}

// judgeRows applies the batch's row plans now that the store says which
// rows are new: a new row's changes all stand or fall together, and it
// takes the hamlet the batch gives it (never the label the changes carry);
// an existing row's changes are judged one by one. verdicts holds the
// refusals by change index; hamlets the hamlet of each new row.
func (b *batch) judgeRows(r *writeReq, maxSeq uint64) ([]checked, map[RowRef]string, error) {
	verdicts := make([]checked, len(r.changes))
	hamlets := map[RowRef]string{}
	// Households first: a row may name a household this batch makes only
	// if the batch takes it (parentMissing).
	refs := slices.SortedFunc(maps.Keys(r.plans), func(x, y RowRef) int {
		if hx, hy := x.Table == "households", y.Table == "households"; hx != hy {
			if hx {
				return -1
			}
			return 1
		}
		return compareRefs(x, y)
	})
	for _, ref := range refs {
		pl := r.plans[ref]
		rc, err := b.row(ref.Table, ref.Row)
		if err != nil {
			return nil, nil, err
		}
		created := !rc.exists && rc.st.Scope == ""
		if created && r.changes[pl.idx[0]].Dot.Seq <= maxSeq {
			// Pushed again after a lost Ack, and the row was not created
			// then: judge what is new in this push on its own.
			again := planRows(r.p, r.changes, r.pre, r.today, func(i int) bool {
				return r.changes[i].Dot.Seq > maxSeq && RowRef{r.changes[i].Table, r.changes[i].Row} == ref
			})
			if pl = again[ref]; pl == nil {
				continue
			}
		}
		if created {
			// A row collection removed is never made again: a copy of a
			// data folder that had not seen its delete pushes its creation
			// again under a new replica id, naming no version the server
			// held (issue 17, seed 5029).
			gone := rc.collected
			if !gone {
				if gone, err = b.collected(r, pl, maxSeq); err != nil {
					return nil, nil, err
				}
			}
			if gone {
				why := refusal.Why(refusal.Collected, "table", ref.Table, "row", ref.Row.String())
				for _, i := range pl.idx {
					verdicts[i] = checked{syncproto.CodeRowCollected, why}
				}
				continue
			}
		}
		if created && pl.create.code == "" {
			if pl.create, err = b.placedOutOfScope(r, ref, pl); err != nil {
				return nil, nil, err
			}
		}
		var parent checked
		if pl.parent >= 0 {
			c := &r.changes[pl.parent]
			if id, err := uuid.Parse(c.Value.AsString()); err == nil {
				if parent, err = b.parentMissing(c, id, hamlets); err != nil {
					return nil, nil, err
				}
				if parent.code == "" {
					if parent, err = b.parentOutOfScope(c, id); err != nil {
						return nil, nil, err
					}
				}
			}
		}
		if !created {
			for i, v := range pl.edit {
				verdicts[i] = v
			}
			if restores, missing := incompleteRestore(r, ref, pl, &rc.st, maxSeq); len(restores) > 0 {
				why := refusal.Why(refusal.RestoreIncomplete, "table", ref.Table, "row", ref.Row.String(), "field", missing)
				for _, i := range restores {
					verdicts[i] = checked{syncproto.CodeInvalidValue, why}
				}
			}
			if parent.code != "" {
				verdicts[pl.parent] = parent
			}
			continue
		}
		if pl.create.code == "" {
			pl.create = parent
		}
		if pl.create.code != "" {
			for _, i := range pl.idx {
				verdicts[i] = pl.create
			}
			continue
		}
		hamlets[ref] = pl.hamlet
	}
	return verdicts, hamlets, nil
}

// incompleteRestore lists the plan's restores of a row the server holds
// deleted and without a required field the plan does not bring either,
// and names that field.
// Such a row is a tombstone made of a new row's delete alone (it needs no
// more than its hamlet), its adding refused in an earlier push: the
// agent's outbox keeps a row's changes together only where they are one
// run (issue 17, seed 4694609). Taken, the restore made live a partial
// row every device of the hamlet received.
func incompleteRestore(r *writeReq, ref RowRef, pl *rowPlan, st *RowState, maxSeq uint64) (restores []int, missing string) {
	if !st.Deleted {
		return nil, ""
	}
	for _, i := range pl.idx {
		c := &r.changes[i]
		if c.Field == schema.DeletedField && r.pre[i].code == "" && !c.Value.AsBool() { // null restores too (install)
			restores = append(restores, i)
		}
	}
	if len(restores) == 0 {
		return nil, ""
	}
	if missing = missingRequired(r, ref, pl, st, maxSeq); missing == "" {
		return nil, ""
	}
	return restores, missing
}

// missingRequired is a required field of the row that neither the server
// holds nor the plan writes, or "".
func missingRequired(r *writeReq, ref RowRef, pl *rowPlan, st *RowState, maxSeq uint64) string {
	t, ok := schema.LookupTable(ref.Table)
	if !ok {
		return ""
	}
	for fi := range t.Fields {
		f := &t.Fields[fi]
		if !f.Required {
			continue
		}
		if v, ok := st.Versions[f.Name]; ok && !v.Value.IsNull() {
			continue
		}
		if !slices.ContainsFunc(pl.idx, func(i int) bool {
			c := &r.changes[i]
			// A change pushed again after a lost Ack is answered from the
			// store (refused then, perhaps): it brings nothing now.
			return c.Field == f.Name && c.Dot.Seq > maxSeq && r.pre[i].code == "" && pl.edit[i].code == "" && !c.Value.IsNull()
		}) {
			return f.Name
		}
	}
	return ""
}

// parentMissing refuses a change naming as its row's household one the
// server never took and this batch does not make (hamlets: the new rows
// judgeRows has let stand so far, households first): refused, or sent
// again after a lost Ack while refused. Taken, the server
// held a visit of a household no device would ever receive (review 35:
// in the batch that refused the household, the next one, or a later
// sync, since the laptop keeps its refused household and its volunteer
// goes on adding visits to it).
func (b *batch) parentMissing(c *syncproto.Change, household syncproto.RowID, hamlets map[RowRef]string) (checked, error) {
	ref := RowRef{"households", household}
	if _, made := hamlets[ref]; made {
		return checked{}, nil
	}
	pc, err := b.row(ref.Table, ref.Row)
	if err != nil || pc.exists || pc.st.Scope != "" || pc.collected {
		// A household deleted and collected is taken as one deleted and
		// not yet collected is: the record stays the volunteer's work
		// (review 35d: refused, nothing on the laptop could send it).
		return checked{}, err
	}
	return checked{syncproto.CodeInvalidValue, refusal.Why(refusal.HouseholdMissing, "household", household.String(), "table", c.Table)}, nil
}

// placedOutOfScope: a new row none of whose hamlet_codes the pusher's
// team held when it was written falls whole, before any of it is applied,
// with the refusal of the one that places it (the batch gives a new row
// the hamlet of its last hamlet_code). Judged only change by change, the
// fields written while the team held the row's hamlet were taken and
// every hamlet_code refused: a household without a hamlet_code on the
// server, sent to every device of the hamlet (issue 17, seed 703150).
// Otherwise a new row that is or passes through a hamlet outside the
// pusher's scope stands only if what apply would take of it is whole
// (takenWhole): a household added in a hamlet the team had lost and moved
// into one it holds stands there (review 32b), and one moved out of scope
// after it was added stays where it was added
// (TestRefusedMoveToLostHamletKeepsRow).
func (b *batch) placedOutOfScope(r *writeReq, ref RowRef, pl *rowPlan) (checked, error) {
	if pl.hamlet == "" {
		return checked{}, nil
	}
	outside := !b.p.scope[pl.hamlet]
	for _, i := range pl.idx {
		c := &r.changes[i]
		if c.Field == schema.ScopeField && !c.Value.IsNull() && !b.p.scope[c.Value.AsString()] {
			outside = true
		}
	}
	if !outside {
		return checked{}, nil
	}
	h, err := b.history()
	if err != nil {
		return checked{}, err
	}
	if !b.p.scope[pl.hamlet] {
		var place *syncproto.Change
		for _, i := range pl.idx {
			c := &r.changes[i]
			if c.Field != schema.ScopeField || r.pre[i].code != "" || c.Value.IsNull() {
				continue
			}
			// In scope now, apply takes it whatever its history; else by
			// the team's hamlets when it was written (review 32c).
			if v := c.Value.AsString(); b.p.scope[v] || heldAt(false, h.team, v, b.made(c)) {
				place = nil
				break
			}
			place = c
		}
		if place != nil {
			if ok, code, why := scopeVerdict(b.made(place), pl.hamlet, b.p.scope, nil, h.team); !ok {
				return checked{code, why}, nil
			}
		}
	}
	return b.takenWhole(r, ref, pl, h), nil
}

// takenWhole judges a new row's changes ahead, in order, by the scope
// rules apply will use (scopeRules; the row has no moves yet), and keeps
// the row only if what apply would take is still a whole row; else it
// falls with the first refusal. As apply does, it follows the row: made
// at the batch's hamlet by its first change taken, then moved by each
// household hamlet_code taken. Judged change by change, a hamlet_code
// written while the team held the hamlet was taken and the head_name
// written after it lost the hamlet refused: the server held a household
// without its head's name, sent to every device of the hamlet (issue 17,
// seed 3106039; and one passing through a lost hamlet, review 35).
func (b *batch) takenWhole(r *writeReq, ref RowRef, pl *rowPlan, h *scopeHistory) checked {
	cur, created := pl.hamlet, false
	var first, notMade checked
	taken := make(map[string]any, len(pl.idx))
	for _, i := range pl.idx {
		c := &r.changes[i]
		made := b.made(c)
		to, byRow, byMove := b.scopeRules(c, cur)
		verdict := notMade // a new row stands or falls whole (apply)
		if verdict.code == "" && byRow {
			if ok, code, why := scopeVerdict(made, cur, b.p.scope, nil, h.team); !ok {
				verdict = checked{code, why}
				if !created {
					notMade = verdict
				}
			}
		}
		if verdict.code == "" && byMove && !heldAt(false, h.team, to, made) {
			verdict = movedOutOfScope(c, to)
		}
		if verdict.code != "" {
			if first.code == "" {
				first = verdict
			}
			continue
		}
		created = true
		taken[c.Field] = c.Value.Any()
		if to != "" && ref.Table == "households" {
			cur = to
		}
	}
	if first.code == "" {
		return checked{}
	}
	t, _ := schema.LookupTable(ref.Table)
	if _, err := t.CheckWrite(schema.Write{Create: true, Fields: taken, Writer: r.p.writer, Today: r.today}); err != nil {
		return first
	}
	return checked{}
}

// collected reports whether a row the store does not hold is one it held
// and collected (a deleted row every device covering it had acknowledged,
// docs/PROTOCOL.md §8.5) rather than a new one: one of the batch's changes
// to it overwrote a version the server had taken, which its writer could
// only have had from the server (another replica's write, pulled), or by
// writing it and pushing it earlier (its own, at or below the origin
// sequence the server held before this batch, and not refused, or refused
// because the row was already collected). A new
// row's changes overwrite nothing, or the same push's own earlier writes,
// or writes of its own the server refused (a refused new row sent again,
// rejected fix). Taken for a new row, such an edit made the row again
// from the edited fields alone, live, for every device (issue 17).
func (b *batch) collected(r *writeReq, pl *rowPlan, maxSeq uint64) (bool, error) {
	var own []uint64 // own earlier writes overwritten: taken unless refused
	for _, i := range pl.idx {
		base := r.changes[i].Base
		switch {
		case base.IsZero():
		case base.Replica != b.p.replica:
			held, err := b.heldOnce(base)
			if err != nil || held {
				return held, err
			}
		case base.Seq <= maxSeq:
			own = append(own, base.Seq)
		}
	}
	if len(own) == 0 {
		return false, nil
	}
	lo, hi := slices.Min(own), slices.Max(own)
	refused, err := b.tx.Refusals(b.p.replica, lo, hi)
	if err != nil {
		return false, err
	}
	for _, seq := range own {
		// A write refused because its row was collected does not make the
		// row new: one based on it edits the collected row all the same
		// (the laptop corrected it again before the refusal reached it;
		// issue 17, silent seed 17783).
		if rf, ok := refused[seq]; !ok || rf.Code == syncproto.CodeRowCollected {
			return true, nil
		}
	}
	return false, nil
}

// heldOnce reports whether the server ever took the version of another
// replica named by dot: its sequence is at or below the highest the store
// holds of that replica. One above it the server never held, so it says
// nothing of a row collected: a store restored from a backup lost it, and
// its writer sends the row again under a fork's new id, the current
// versions based on its own lost ones that later writes overwrote and
// that are not sent again (agent resendLost). Taken for a collected row's,
// such a base refused the whole record, gone from every other device
// (helper 304).
func (b *batch) heldOnce(dot syncproto.Dot) (bool, error) {
	top, err := b.tx.OriginSeq(dot.Replica)
	if err != nil {
		return false, fmt.Errorf("read the sequence held of replica %s: %w", dot.Replica, err)
	}
	return dot.Seq <= top, nil
}

// seenThroughRefusal gives c the base cur when c overwrote its own
// replica's refused write (or a chain of them) whose base was cur: the
// laptop keeps a refused value on screen until the refusal is read, and a
// volunteer who edits it again has seen cur all the same. Judged by the
// refused base it never reached the server with, the write would log a
// conflict against a value its writer overwrote knowingly (issue 17, wide
// seed 2078). The change is logged with that base, so every replica judges
// it the same way; its digest was taken as pushed (fork.go).
//
// A fork's changes are its own replica's too under the id it was copied
// from: renumbered under the new id, a change keeps a base that names the
// old id's refused write when the laptop dropped that refusal before it
// found itself a copy (review 34c), so refusals are followed through the
// pushing replica's fork parents as well. Only those: a refusal is stored
// under the dot a push names, and a push naming another replica's change
// is refused unauthorized, which Refusals leaves out.
func (b *batch) seenThroughRefusal(c *syncproto.Change, cur syncproto.Dot) error {
	base := c.Base
	for hop := 0; hop < syncproto.MaxRefusalHops && base.Seq != 0; hop++ {
		own, err := b.ownLineage(base.Replica)
		if err != nil || !own {
			return err
		}
		rf, err := b.tx.Refusals(base.Replica, base.Seq, base.Seq)
		if err != nil {
			return fmt.Errorf("read the refusal of the base of change %d: %w", c.Dot.Seq, err)
		}
		r, ok := rf[base.Seq]
		if !ok {
			return nil
		}
		if base = r.Change.Base; base == cur {
			c.Base = cur
			return nil
		}
	}
	return nil
}

// ownLineage reports whether r is the pushing replica or one it is a fork
// of (store ForkParents, read once a batch, and only when a base names
// another replica than the pusher's).
func (b *batch) ownLineage(r syncproto.ReplicaID) (bool, error) {
	if r == b.p.replica {
		return true, nil
	}
	if b.lineage == nil {
		parents, err := b.tx.ForkParents(b.p.replica)
		if err != nil {
			return false, err
		}
		b.lineage = map[syncproto.ReplicaID]bool{}
		for _, p := range parents {
			b.lineage[p] = true
		}
	}
	return b.lineage[r], nil
}

// The reason travels as data (Why) and, for clients that read only
// Reason, as Vietnamese text (refusal.Compat); it is stored as data, so a
// refusal answered again says the same.
func (b *batch) refuse(c *syncproto.Change, code syncproto.Code, why syncproto.Why) (syncproto.Result, error) {
	b.out.refused++
	kept := *c
	kept.Table, kept.Field, kept.Scope = storedText(c.Table), storedText(c.Field), storedText(c.Scope)
	if err := b.tx.AddRefused(Refused{Change: kept, DeviceID: b.p.deviceID, Code: code, Reason: refusal.Store(why), At: b.now}); err != nil {
		return syncproto.Result{}, err
	}
	return syncproto.Result{Status: syncproto.ResultRefused, Code: code, Reason: refusal.Compat(code, why), Why: why}, nil
}

// storedText is a name from a refused change as the refusal record keeps
// it. A change's table, field and scope are any bytes msgpack carries, and
// a NUL or bytes that are not UTF-8 failed PostgreSQL's insert, so the
// whole batch was answered "retry later", for ever; each such byte becomes
// U+FFFD, on every store alike.
func storedText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// apply decides one change with syncproto.Resolve and persists the decision.
// hamlet is the hamlet the batch gives the row if it is new (judgeRows).
func (b *batch) apply(c *syncproto.Change, hamlet string) (syncproto.Result, error) {
	rc, err := b.row(c.Table, c.Row)
	if err != nil {
		return syncproto.Result{}, err
	}
	scope := c.Scope
	if rc.exists || rc.st.Scope != "" {
		scope = rc.st.Scope
	} else if hamlet != "" {
		scope = hamlet // where its hamlet_code puts it, whatever the label says
	}
	// A write is judged by the row's hamlet after it: a household whose
	// hamlet_code changes is judged by the new hamlet (the receiving team
	// may take it in), every other write by the row's hamlet, and a new
	// hamlet_code must be in scope too.
	to, byRow, byMove := b.scopeRules(c, scope)
	if rc.notMade != nil && !rc.exists && rc.st.Scope == "" {
		return b.refuse(c, rc.notMade.Code, rc.notMade.Why)
	}
	if byRow {
		// Made while the row was in scope (before it moved or its hamlet
		// left the team)? Then it is applied; otherwise refused (scope.go).
		if ok, res, err := b.outOfScope(c, rc, scope); !ok || err != nil {
			if err == nil && !rc.exists && rc.st.Scope == "" {
				rc.notMade = &res // a new row stands or falls whole
			}
			return res, err
		}
	}
	if byMove {
		if ok, res, err := b.movingOut(c, to); !ok || err != nil {
			return res, err
		}
	}
	if !rc.exists && rc.st.Scope == "" {
		rc.st.Scope, rc.dirty, rc.newIn = scope, true, b
	}
	var res syncproto.Result
	cur, has := rc.st.Versions[c.Field]
	var curp *syncproto.Version
	var floor syncproto.HLC
	if has {
		curp = &cur
		if c.Base != cur.Dot && !c.Base.IsZero() {
			if err := b.seenThroughRefusal(c, cur.Dot); err != nil {
				return res, err
			}
		}
		if c.Base == cur.Dot {
			floor = cur.HLC
		}
	}
	if h, restamped := b.s.clock.Admit(c.HLC, floor); restamped {
		// Ids and amounts only: how far ahead of the server's clock the
		// stamp was (negative: not above the value it overwrote), and by
		// how much it moved.
		b.s.log.Info("restamped a change", LogDevice, b.p.deviceID, LogTable, c.Table,
			LogField, c.Field, LogSeq, c.Dot.Seq, "ahead_ms", c.HLC.Millis()-b.now.UnixMilli(),
			"moved_ms", h.Millis()-c.HLC.Millis())
		c.HLC, res.HLC = h, h
		b.out.restamped++
	}
	o := syncproto.Resolve(curp, c)
	cf, conflicted := syncproto.ApplyOutcome(o, curp, c, func(v syncproto.Version) { rc.st.Versions[c.Field] = v })
	switch o {
	case syncproto.Duplicate:
		res.Status = syncproto.ResultDuplicate
		b.out.duplicate++
		return res, nil
	case syncproto.Stale:
		res.Status = syncproto.ResultSuperseded
		b.out.superseded++
	case syncproto.LoseToConcurrent:
		res.Status = syncproto.ResultSuperseded
		b.out.superseded++
	default:
		res.Status = syncproto.ResultApplied
		b.out.applied++
	}
	if conflicted {
		b.out.conflicts++
		cf.Scope = rc.st.Scope
		if err := b.tx.AddConflict(cf, b.now); err != nil {
			return res, err
		}
	}
	if !o.Installs() {
		if err := b.tombstoneFirst(RowRef{c.Table, c.Row}, rc, c.Field, false); err != nil {
			return res, err
		}
		e := LogEntry{Change: *c}
		e.Change.Scope = rc.st.Scope
		b.ownBack(&e)
		if err := b.appendEntry(&e); err != nil {
			return res, err
		}
		return res, b.evictLosingMove(c, rc)
	}
	return res, b.install(c, rc)
}

// evictLosingMove: a household's move that lost (to a concurrent move, or
// as an ancestor of the current hamlet_code) into a hamlet the pusher
// covers left the household there on the pusher's laptop, where the server
// never held it: nothing is logged in that hamlet, and when the pusher no
// longer pulls the hamlet the household is in (its team handed it over),
// the laptop held it in its own hamlet, live, for good (issue 17, seed
// 740083). An eviction from that hamlet to the household's own tells every
// device there to drop it; those that do not hold it have nothing to do.
// It is recorded as a move out of that hamlet, so collection takes it with
// the row, but one of no time (noMove): the household was never there, and
// no change is judged as made while it was.
//
// A losing move into a hamlet the pusher does not cover (any more: its
// team lost it since the move was made) left the household there too, and
// the laptop dropped it with the hamlet, its own writes with it; the
// server never moved it, so nothing it logs brings the household back but
// later writes of others, and the laptop rebuilt it of those alone: a
// partial row, live where the server held it deleted (issue 17, seed
// 4700523). When the household's own hamlet is the pusher's, its versions
// are logged again as a move's, to every device there, the pusher too, and
// so are the pusher's later writes of it until it has pulled them (ownBack).
func (b *batch) evictLosingMove(c *syncproto.Change, rc *rowCache) error {
	if c.Field != schema.ScopeField || c.Table != "households" || c.Dot.Replica != b.p.replica || c.Value.IsNull() {
		return nil
	}
	to := c.Value.AsString()
	if to == rc.st.Scope || rc.st.Scope == "" {
		return nil
	}
	var seq uint64
	switch {
	case b.p.scope[to]:
		ev := LogEntry{Kind: EntryEviction, NewScope: rc.st.Scope, Change: syncproto.Change{Table: c.Table, Row: c.Row, Scope: to}}
		if err := b.appendEntry(&ev); err != nil {
			return err
		}
		seq = ev.Seq
	case b.p.scope[rc.st.Scope]:
		ref := RowRef{c.Table, c.Row}
		if b.moved == nil {
			b.moved = map[RowRef]bool{}
		}
		b.moved[ref] = true
		if err := b.relog(ref, rc, ""); err != nil {
			return err
		}
		// Recorded as a move too, so that the pusher's writes of the
		// household in later batches and pushes, until it has pulled the
		// re-log, go back to it as well (ownBack; review 37b: a delete in
		// the next batch of one change was logged as a plain own write).
		seq = b.out.head
	default:
		return nil
	}
	return b.addScopeMove(ScopeMove{Table: c.Table, Row: c.Row, Household: c.Row, From: to, To: rc.st.Scope, ServerSeq: seq, At: noMove})
}

// ownRows lists the rows of the pusher's own changes that the store
// held before the group (prefetch), each once: a new row has not moved.
func ownRows(p pusher, changes []syncproto.Change, rows map[RowRef]*rowCache) []RowRef {
	seen := make(map[RowRef]bool, len(changes)/4+1)
	var out []RowRef
	for i := range changes {
		c := &changes[i]
		k := RowRef{c.Table, c.Row}
		if rc := rows[k]; rc == nil || !rc.exists && rc.st.Scope == "" {
			continue
		}
		if c.Dot.Replica == p.replica && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// ownBack marks e, the entry of a pushed change, as a move's (NewScope:
// to every device of its hamlet, its author too) when its row moved
// between hamlets after the cursor the pushing session's agent has shown
// it holds (conn.holds, its Pull.Durable). That is 0 before the session's
// first Pull, so a push, the first thing a session does, is marked for any
// move of its row: the cursor the server heard last from the device would
// do for most laptops, not for one restored from an older copy (review 29
// S1). The move's re-log of the row's versions sits below the entry, and
// the pusher has not pulled it: had it dropped the row meanwhile (its team
// lost the hamlet the row was in before the move), the re-log would bring
// the row back without this write, its own, which pulls leave out (issue
// 17, wide seed 208). Marked, the write follows the re-log to its author,
// who takes it as a duplicate when it kept the row, so the laptop keeps no
// acknowledged write of its own through a drop (review 28 D2: one that
// others overwrote since would come back against their later versions as
// a conflict no one else has).
func (b *batch) ownBack(e *LogEntry) {
	if e.NewScope == "" && b.moved[RowRef{e.Change.Table, e.Change.Row}] {
		e.NewScope = e.Change.Scope
	}
}

// laterCopyWins: a change pushed again with the content the server holds
// under its sequence is another copy's later write (forkCheck.laterCopy)
// that, made on its own, beats the field's value now: the held write was
// overwritten or beaten since by a version older than this one (a copy
// that wrote a phone and corrected it, the other copy writing the first
// value again later; a copy that deleted and restored a household, the
// other deleting it later). Answered duplicate, it took the held write's
// stamp and vanished without a conflict; forked, it is pushed again under
// the copy's new id and decided as the write it is (§18). A collected row,
// or a field the held write still holds, is a duplicate: the value stands.
func (b *batch) laterCopyWins(fk *forkCheck, c *syncproto.Change) (bool, error) {
	if !fk.laterCopy(c) {
		return false, nil
	}
	rc, err := b.row(c.Table, c.Row)
	if err != nil {
		return false, err
	}
	cur, has := rc.st.Versions[c.Field]
	return has && cur.Dot != c.Dot && c.HLC > cur.HLC, nil
}
