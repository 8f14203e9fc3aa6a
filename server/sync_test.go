package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// replica is a test device's view: fields by key, merged with Resolve.
type replica struct {
	dev    servertest.Device
	c      *servertest.Client
	w      *servertest.Writer
	cursor uint64
	fields map[syncproto.FieldKey]syncproto.Version
	batch  uint64
}

func newReplica(t *testing.T, ts *servertest.TS, team string) *replica {
	dev := ts.NewDevice(t, team)
	return &replica{dev: dev, c: ts.Connect(t, dev), w: servertest.NewWriter(dev.Replica, nil), fields: map[syncproto.FieldKey]syncproto.Version{}}
}

func (r *replica) write(table string, row uuid.UUID, field string, v syncproto.Value, scope string) syncproto.Change {
	c := r.w.Write(table, row, field, v, scope)
	ver := syncproto.VersionOf(&c)
	r.fields[c.Key()] = ver
	return c
}

func (r *replica) push(t *testing.T, cs ...syncproto.Change) *syncproto.Ack {
	t.Helper()
	r.batch++
	ack, err := r.c.Push(r.batch, cs)
	require.NoError(t, err)
	for i, res := range ack.Results {
		if res.HLC != 0 {
			cs[i].HLC = res.HLC
			r.fields[cs[i].Key()] = syncproto.VersionOf(&cs[i])
		}
	}
	return ack
}

func (r *replica) pull(t *testing.T) ([]syncproto.Change, []syncproto.Eviction) {
	t.Helper()
	cs, ev, cur, err := r.c.PullAll(r.cursor)
	require.NoError(t, err)
	r.cursor = cur
	for i := range cs {
		c := &cs[i]
		cur, ok := r.fields[c.Key()]
		var p *syncproto.Version
		if ok {
			p = &cur
		}
		if syncproto.Resolve(p, c).Installs() {
			r.fields[c.Key()] = syncproto.VersionOf(c)
		}
		r.w.Saw(*c)
	}
	for _, e := range ev {
		for k := range r.fields {
			if k.Table == e.Table && k.Row == e.Row {
				delete(r.fields, k)
			}
		}
	}
	return cs, ev
}

func values(r *replica) map[syncproto.FieldKey]syncproto.Value {
	out := map[syncproto.FieldKey]syncproto.Value{}
	for k, v := range r.fields {
		out[k] = v.Value
	}
	return out
}

func statuses(a *syncproto.Ack) []syncproto.ResultStatus {
	var out []syncproto.ResultStatus
	for _, r := range a.Results {
		out = append(out, r.Status)
	}
	return out
}

func household(r *replica, scope, head string) (uuid.UUID, []syncproto.Change) {
	row := uuid.New()
	return row, []syncproto.Change{
		r.write("households", row, "hamlet_code", syncproto.String(scope), scope),
		r.write("households", row, "head_name", syncproto.String(head), scope),
		r.write("households", row, "members_count", syncproto.Int(4), scope),
		r.write("households", row, "has_smartphone", syncproto.Bool(true), scope),
	}
}

func TestTwoDevicesOfOneTeamConverge(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	b := newReplica(t, ts, ts.TeamA)
	require.Equal(t, ts.HamletsA, a.c.Welcome.Scope)

	rowA, csA := household(a, ts.HamletsA[0], "Nguyễn Văn A")
	ack := a.push(t, csA...)
	require.Equal(t, []syncproto.ResultStatus{1, 1, 1, 1}, statuses(ack))
	rowB, cs := household(b, ts.HamletsA[1], "Trần Thị B")
	b.push(t, cs...)

	a.pull(t)
	b.pull(t)
	// Concurrent edits: different fields both survive; the same field is
	// decided by HLC on every replica.
	a.push(t, a.write("households", rowB, "address", syncproto.String("Khóm 2"), ts.HamletsA[1]),
		a.write("households", rowA, "notes", syncproto.String("từ A"), ts.HamletsA[0]))
	b.push(t, b.write("households", rowB, "members_count", syncproto.Int(5), ts.HamletsA[1]),
		b.write("households", rowA, "notes", syncproto.String("từ B"), ts.HamletsA[0]))
	a.pull(t)
	b.pull(t)
	a.pull(t)
	require.Equal(t, values(a), values(b))
	require.Len(t, values(a), 10)
	require.Equal(t, syncproto.String("Khóm 2"), values(a)[syncproto.FieldKey{Table: "households", Row: rowB, Field: "address"}])
	require.Equal(t, syncproto.Int(5), values(a)[syncproto.FieldKey{Table: "households", Row: rowB, Field: "members_count"}])

	// Reconnecting resumes: Welcome tells the device what the server holds.
	c2 := ts.Connect(t, a.dev)
	require.Equal(t, a.w.Seq, c2.Welcome.PushedSeq)
	// A duplicate push changes nothing; another replica's change is refused.
	ack, err := c2.Push(99, []syncproto.Change{csA[0], cs[0]})
	require.NoError(t, err)
	require.Equal(t, []syncproto.ResultStatus{syncproto.ResultDuplicate, syncproto.ResultRefused}, statuses(ack))
	require.Equal(t, syncproto.CodeUnauthorized, ack.Results[1].Code)
}

func TestOtherCommuneSeesNothingAndCannotWrite(t *testing.T) {
	ts := servertest.Start(t)
	a := newReplica(t, ts, ts.TeamA)
	x := newReplica(t, ts, ts.TeamB)
	row, cs := household(a, ts.HamletsA[0], "Lê Văn C")
	a.push(t, cs...)

	got, ev := x.pull(t)
	require.Empty(t, got)
	require.Empty(t, ev)
	require.NotZero(t, x.cursor, "the cursor moves even when everything is filtered out")

	// Writing into team A's row or hamlet is refused per change, with a reason.
	intruder, ours := uuid.New(), uuid.New()
	ack := x.push(t,
		x.write("households", row, "notes", syncproto.String("xâm nhập"), ts.HamletsB[0]),
		x.write("households", intruder, "hamlet_code", syncproto.String(ts.HamletsA[1]), ts.HamletsA[1]),
		x.write("households", intruder, "head_name", syncproto.String("Hộ mới"), ts.HamletsA[1]),
		x.write("households", ours, "hamlet_code", syncproto.String(ts.HamletsB[0]), ts.HamletsB[0]),
		x.write("households", ours, "head_name", syncproto.String("Hộ của B"), ts.HamletsB[0]),
	)
	require.Equal(t, []syncproto.ResultStatus{syncproto.ResultRefused, syncproto.ResultRefused, syncproto.ResultRefused,
		syncproto.ResultApplied, syncproto.ResultApplied}, statuses(ack))
	require.Equal(t, syncproto.CodeOutOfScope, ack.Results[0].Code)
	require.Equal(t, syncproto.CodeOutOfScope, ack.Results[1].Code)
	require.Equal(t, syncproto.CodeOutOfScope, ack.Results[2].Code)
	require.NotEmpty(t, ack.Results[0].Reason)

	// Refused changes advance the origin sequence: no gap.
	c2 := ts.Connect(t, x.dev)
	require.Equal(t, uint64(5), c2.Welcome.PushedSeq)

	a.pull(t)
	require.NotContains(t, values(a), syncproto.FieldKey{Table: "households", Row: row, Field: "notes"})
	_ = context.Background()
	_ = time.Second
}

func TestCloseFinishesBatchThenSaysShuttingDown(t *testing.T) {
	ts := servertest.Start(t)
	r := newReplica(t, ts, ts.TeamA)
	_, cs := household(r, ts.HamletsA[0], "Tạ Văn K")
	require.NoError(t, r.c.Send(&syncproto.Push{Batch: 1, Changes: cs}))
	go ts.Server.Close()
	m, err := r.c.Recv()
	require.NoError(t, err)
	if ack, ok := m.(*syncproto.Ack); ok { // the batch was in flight: it finished
		require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status)
		m, err = r.c.Recv()
		require.NoError(t, err)
	}
	em, ok := m.(*syncproto.ErrorMsg)
	require.True(t, ok, "got %T", m)
	require.Equal(t, syncproto.CodeShuttingDown, em.Code)
	require.True(t, em.Fatal)
}
