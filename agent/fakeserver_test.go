package agent_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// fakeServer speaks the sync protocol from the model in syncproto, so the
// agent's client is tested without the real server (the end-to-end tests
// use server/servertest). It keeps one log, answers Push with per-change
// results, refuses out-of-scope writes, restamps clocks ahead of its own and
// excludes a replica's own changes from its pulls.
type fakeServer struct {
	t      testing.TB
	srv    *httptest.Server
	id     syncproto.ReplicaID
	clock  *syncproto.Clock
	scope  []string
	tokens map[string]bool

	mu       sync.Mutex
	log      []syncproto.Change // cursor = index+1
	fields   map[syncproto.FieldKey]*syncproto.Version
	pushed   map[syncproto.ReplicaID]uint64
	received map[syncproto.Dot]int // how many times each write was pushed
	// refused keeps refusals, to answer a write pushed again (its Ack was
	// lost) with its refusal again (PROTOCOL.md §7.4).
	refused map[syncproto.Dot]syncproto.Result
	// lateDups counts writes pushed again after the session had already
	// pushed a new one: a client re-pushes only what awaits a result, first.
	lateDups int
	conns    map[*websocket.Conn]*sync.Mutex
	limit    int
	// noSnapshot makes it a server of an earlier release: a snapshot
	// request is an unknown message type (fatal).
	noSnapshot bool
	// snapKeys and snapScopes are the sorted field keys and row scopes a
	// snapshot pages through, made at log length snapAt: every change to
	// fields appends to the log, so an unchanged length means they still
	// hold, and a clone's chunks do not sort the commune again each.
	snapKeys   []syncproto.FieldKey
	snapScopes map[syncproto.RowID]string
	snapAt     int
	// notifyFirst announces the log head as soon as a session opens,
	// before its Hello is answered (a teammate pushing meanwhile).
	notifyFirst bool
}

func newFakeServer(t testing.TB, scope ...string) *fakeServer {
	f := &fakeServer{t: t, id: uuid.New(), scope: scope, tokens: map[string]bool{"good": true},
		clock:  syncproto.NewClock(time.Now, 0),
		fields: map[syncproto.FieldKey]*syncproto.Version{}, pushed: map[syncproto.ReplicaID]uint64{},
		received: map[syncproto.Dot]int{}, refused: map[syncproto.Dot]syncproto.Result{}, conns: map[*websocket.Conn]*sync.Mutex{}, limit: 5000}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/enroll", f.enroll)
	mux.HandleFunc("GET /v1/sync", f.sync)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg,
		"hint": syncproto.Hint(syncproto.Code(code), "vi"), "hint_en": syncproto.Hint(syncproto.Code(code), "en")}})
}

// The fake server's codes: well formed, as the agent sends no other.
const (
	fakeGoodCode    = "GDGD2345"
	fakeExpiredCode = "XPRD2345"
)

func (f *fakeServer) enroll(w http.ResponseWriter, r *http.Request) {
	var req struct{ Code, ReplicaID string }
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		jsonError(w, 400, "bad_request", "bad json")
		return
	}
	switch req.Code {
	case fakeExpiredCode:
		jsonError(w, 400, "code_expired", "expired")
		return
	case fakeGoodCode:
	default:
		jsonError(w, 400, "code_invalid", "unknown code")
		return
	}
	var scope []map[string]string
	for _, c := range f.scope {
		scope = append(scope, map[string]string{"code": c, "name": "Ấp " + c})
	}
	json.NewEncoder(w).Encode(map[string]any{"device_id": uuid.NewString(), "token": "good", "member_id": uuid.NewString(),
		"team_id": uuid.NewString(), "team_name": "Tổ 1", "scope": scope, "server_id": f.id.String(), "schema": 1})
}

var upgrader = websocket.Upgrader{EnableCompression: true}

func (f *fakeServer) sync(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "revoked" {
		jsonError(w, 403, "token_revoked", "revoked")
		return
	}
	if !f.tokens[tok] {
		jsonError(w, 401, "unauthorized", "unknown token")
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	wmu := &sync.Mutex{}
	f.mu.Lock()
	f.conns[c] = wmu
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		c.Close()
	}()
	send := func(m syncproto.Message) error {
		b, err := syncproto.Encode(nil, m)
		if err != nil {
			return err
		}
		wmu.Lock()
		defer wmu.Unlock()
		return c.WriteMessage(websocket.BinaryMessage, b)
	}
	if f.notifyFirst {
		f.mu.Lock()
		head := uint64(len(f.log))
		f.mu.Unlock()
		if err := send(&syncproto.Notify{Cursor: head + 1}); err != nil {
			return
		}
	}
	var replica syncproto.ReplicaID
	sawNew := false // this session has pushed a write the server did not hold
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		m, err := syncproto.Decode(data, syncproto.DefaultLimits)
		if err != nil {
			send(&syncproto.ErrorMsg{Code: syncproto.CodeOf(err), Msg: err.Error(), Fatal: true})
			return
		}
		switch m := m.(type) {
		case *syncproto.Hello:
			replica = m.Replica
			f.mu.Lock()
			wel := &syncproto.Welcome{Protocol: syncproto.ProtocolVersion, Schema: 1, MinSchema: 1, Server: f.id,
				ServerTime: time.Now().UnixMilli(), EchoSentAt: m.SentAt, MaxSkewMs: syncproto.DefaultMaxSkew.Milliseconds(),
				Scope: f.scope, PushedSeq: f.pushed[replica], Cursor: uint64(len(f.log)), MaxChanges: 10000, MaxFrame: 4 << 20}
			f.mu.Unlock()
			if send(wel) != nil {
				return
			}
		case *syncproto.Push:
			ack, gap := f.apply(replica, m, &sawNew)
			if gap {
				send(&syncproto.ErrorMsg{Code: syncproto.CodeSequenceGap, Msg: "gap", Fatal: true})
				return
			}
			if send(ack) != nil {
				return
			}
			f.notifyOthers(c)
		case *syncproto.Pull:
			if send(f.changes(replica, m)) != nil {
				return
			}
		case *syncproto.SnapshotRequest:
			if f.noSnapshot {
				send(&syncproto.ErrorMsg{Code: syncproto.CodeUnknownType, Msg: "unknown message type 9", Fatal: true})
				return
			}
			if send(f.snapshotChunk(m)) != nil {
				return
			}
		}
	}
}

func (f *fakeServer) apply(replica syncproto.ReplicaID, p *syncproto.Push, sawNew *bool) (*syncproto.Ack, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ack := &syncproto.Ack{Batch: p.Batch, ServerTime: time.Now().UnixMilli()}
	for i := range p.Changes {
		c := p.Changes[i]
		f.received[c.Dot]++
		if c.Dot.Seq <= f.pushed[replica] {
			if *sawNew {
				f.lateDups++
			}
			res, ok := f.refused[c.Dot]
			if !ok {
				res = syncproto.Result{Status: syncproto.ResultDuplicate}
			}
			ack.Results = append(ack.Results, res)
			continue
		}
		*sawNew = true
		if c.Dot.Seq != f.pushed[replica]+1 {
			return nil, true
		}
		f.pushed[replica] = c.Dot.Seq
		if !slices.Contains(f.scope, c.Scope) {
			res := syncproto.Result{Status: syncproto.ResultRefused, Code: syncproto.CodeOutOfScope, Reason: "hamlet " + c.Scope}
			f.refused[c.Dot] = res
			ack.Results = append(ack.Results, res)
			continue
		}
		var res syncproto.Result
		cur := f.fields[c.Key()]
		var floor syncproto.HLC
		if cur != nil && c.Base == cur.Dot {
			floor = cur.HLC
		}
		if h, restamped := f.clock.Admit(c.HLC, floor); restamped {
			c.HLC, res.HLC = h, h
		}
		o := syncproto.Resolve(cur, &c)
		syncproto.ApplyOutcome(o, cur, &c, func(v syncproto.Version) { f.fields[c.Key()] = &v })
		switch {
		case o.Installs():
			res.Status = syncproto.ResultApplied
		case o == syncproto.Duplicate:
			res.Status = syncproto.ResultDuplicate
		default:
			res.Status = syncproto.ResultSuperseded
		}
		f.log = append(f.log, c)
		ack.Results = append(ack.Results, res)
	}
	return ack, false
}

func (f *fakeServer) changes(replica syncproto.ReplicaID, p *syncproto.Pull) *syncproto.Changes {
	f.mu.Lock()
	defer f.mu.Unlock()
	limit := f.limit
	if p.Limit > 0 && int(p.Limit) < limit {
		limit = int(p.Limit)
	}
	out := &syncproto.Changes{From: p.Cursor}
	i := int(p.Cursor)
	for ; i < len(f.log) && len(out.Changes) < limit; i++ {
		if f.log[i].Dot.Replica != replica {
			out.Changes = append(out.Changes, f.log[i])
		}
	}
	out.To = uint64(i)
	out.More = i < len(f.log)
	return out
}

func (f *fakeServer) notifyOthers(except *websocket.Conn) {
	f.mu.Lock()
	head := uint64(len(f.log))
	var targets []*websocket.Conn
	var locks []*sync.Mutex
	for c, l := range f.conns {
		if c != except {
			targets = append(targets, c)
			locks = append(locks, l)
		}
	}
	f.mu.Unlock()
	b, _ := syncproto.Encode(nil, &syncproto.Notify{Cursor: head})
	for i, c := range targets {
		locks[i].Lock()
		c.WriteMessage(websocket.BinaryMessage, b)
		locks[i].Unlock()
	}
}

// load puts n changes from another replica into the log directly (a
// commune's worth of data for the clone benchmark).
func (f *fakeServer) load(cs []syncproto.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range cs {
		c := cs[i]
		v := syncproto.VersionOf(&c)
		f.fields[c.Key()] = &v
		f.log = append(f.log, c)
	}
}

func (f *fakeServer) snapshot() map[syncproto.FieldKey]syncproto.Version {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[syncproto.FieldKey]syncproto.Version{}
	for k, v := range f.fields {
		out[k] = *v
	}
	return out
}

func (f *fakeServer) sortedFields() []syncproto.FieldKey {
	keys := make([]syncproto.FieldKey, 0, len(f.fields))
	for k := range f.fields {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b syncproto.FieldKey) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		if c := slices.Compare(a.Row[:], b.Row[:]); c != 0 {
			return c
		}
		return strings.Compare(a.Field, b.Field)
	})
	return keys
}

// snapshotChunk answers a snapshot request from the current versions, in
// (table, row) order, whole rows, at most the request's limit of rows.
func (f *fakeServer) snapshotChunk(m *syncproto.SnapshotRequest) *syncproto.SnapshotChunk {
	f.mu.Lock()
	defer f.mu.Unlock()
	head := m.Head
	if head == 0 {
		head = uint64(len(f.log))
	}
	if f.snapKeys == nil || f.snapAt != len(f.log) {
		f.snapKeys, f.snapScopes, f.snapAt = f.sortedFields(), map[syncproto.RowID]string{}, len(f.log)
		for _, c := range f.log {
			f.snapScopes[c.Row] = c.Scope
		}
	}
	keys, scopes := f.snapKeys, f.snapScopes
	limit := int(m.Limit)
	if limit == 0 {
		limit = 1000
	}
	out := &syncproto.SnapshotChunk{Head: head, From: m.After, To: m.After}
	after := func(k syncproto.FieldKey) bool {
		if c := strings.Compare(k.Table, m.After.Table); c != 0 {
			return c > 0
		}
		return slices.Compare(k.Row[:], m.After.Row[:]) > 0
	}
	rows := 0
	first, _ := slices.BinarySearchFunc(keys, true, func(k syncproto.FieldKey, _ bool) int {
		if after(k) {
			return 1
		}
		return -1
	})
	for _, k := range keys[first:] {
		if (k.Table != out.To.Table || k.Row != out.To.Row) && rows == limit {
			out.More = true
			break
		}
		if k.Table != out.To.Table || k.Row != out.To.Row {
			rows++
			out.To = syncproto.SnapshotPos{Table: k.Table, Row: k.Row}
		}
		v := f.fields[k]
		out.Rows = append(out.Rows, syncproto.Change{Table: k.Table, Row: k.Row, Field: k.Field, Value: v.Value, HLC: v.HLC,
			Dot: v.Dot, Base: v.Base, Scope: scopes[k.Row]})
	}
	if m.After.IsZero() {
		out.Total = uint64(len(scopes))
	}
	return out
}
