package agent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// commune makes the changes of a commune written on another laptop:
// households, tutoring records and reports, field by field, as a real
// volunteer's replica would push them.
func commune(origin syncproto.ReplicaID, hamlets []string, households, tutoring, reports int) []syncproto.Change {
	var out []syncproto.Change
	seq := uint64(0)
	hlc := syncproto.MakeHLC(time.Now().Add(-time.Hour).UnixMilli(), 0)
	row := func(table string, id uuid.UUID, scope string, fields ...any) {
		for i := 0; i < len(fields); i += 2 {
			seq++
			hlc++
			v, _ := syncproto.ValueOf(fields[i+1])
			out = append(out, syncproto.Change{Table: table, Row: id, Field: fields[i].(string), Value: v, HLC: hlc,
				Dot: syncproto.Dot{Replica: origin, Seq: seq}, Scope: scope})
		}
	}
	skills := schema.Skills()
	cats := schema.ReportCategories()
	hh := make([]uuid.UUID, households)
	member := uuid.NewString()
	for i := range hh {
		hh[i] = uuid.New()
		h := hamlets[i%len(hamlets)]
		row("households", hh[i], h, "hamlet_code", h, "head_name", fmt.Sprintf("Nguyễn Văn Hộ %d", i),
			"address", fmt.Sprintf("Số %d, tổ %d, ấp Tân Thành", i, i%20), "phone", fmt.Sprintf("09%08d", i),
			"members_count", int64(1+i%6), "has_smartphone", i%3 != 0, "vneid_installed", i%2 == 0,
			"active", true, "registered_on", "2025-07-15")
	}
	for i := 0; i < tutoring; i++ {
		h := i % households
		row("tutoring_records", uuid.New(), hamlets[h%len(hamlets)], "hamlet_code", hamlets[h%len(hamlets)],
			"household_id", hh[h].String(), "volunteer_id", member, "skill", skills[i%len(skills)].Code,
			"taught_on", "2025-08-01", "outcome", "independent")
	}
	for i := 0; i < reports; i++ {
		h := i % households
		row("field_reports", uuid.New(), hamlets[h%len(hamlets)], "hamlet_code", hamlets[h%len(hamlets)],
			"household_id", hh[h].String(), "volunteer_id", member, "category", cats[i%len(cats)].Code,
			"description", "Đèn đường hỏng trước nhà văn hóa ấp", "status", "submitted",
			"submitted_at", time.Now().UnixMilli(), "consent_disclose", false)
	}
	return out
}

// seedServer pushes a commune into the real test server as another device.
func seedServer(t testing.TB, ts *servertest.TS, cs []syncproto.Change) {
	d := ts.NewDevice(t, ts.TeamA)
	for i := range cs {
		cs[i].Dot.Replica = d.Replica
	}
	c := ts.Connect(t, d)
	for i, b := 0, uint64(1); i < len(cs); b++ {
		// A new row's fields go in one push (the server checks a new row
		// whole), so a batch ends at a row's end.
		j := min(i+2000, len(cs))
		for j < len(cs) && cs[j].Row == cs[j-1].Row {
			j++
		}
		a, err := c.Push(b, cs[i:j])
		i = j
		require.NoError(t, err)
		for _, r := range a.Results {
			require.NotEqual(t, syncproto.ResultRefused, r.Status, "%+v", r)
		}
	}
}

// BenchmarkFirstClone: a fresh replica clones a commune (5,000 households,
// 20,000 tutoring records, 1,000 reports) from the real server over
// loopback, from Sync's start to its end.
//
//	go test ./agent -run '^$' -bench FirstClone -benchtime 3x
func BenchmarkFirstClone(b *testing.B) {
	ts := servertest.Start(b)
	cs := commune(uuid.New(), ts.HamletsA, 5000, 20000, 1000)
	seedServer(b, ts, cs)
	b.ResetTimer()
	var s agent.SyncSummary
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := agenttest.New(b)
		tok, _, err := r.Enroll(context.Background(), ts.URL, ts.EnrollCode(b, ts.TeamA), "bench")
		require.NoError(b, err)
		b.StartTimer()
		s, err = r.Sync(context.Background(), ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
		require.Equal(b, 26000, s.Cloned, "a first sync clones by snapshot")
	}
	b.ReportMetric(float64(s.Bytes())/1e6, "MB/clone")
	b.ReportMetric(float64(s.Cloned), "rows")
	b.ReportMetric(float64(s.RoundTrips), "roundtrips")
}

// BenchmarkNoopSync: a sync with nothing to do.
//
//	go test ./agent -run '^$' -bench NoopSync
func BenchmarkNoopSync(b *testing.B) {
	ts := servertest.Start(b)
	r := agenttest.New(b)
	tok, _, err := r.Enroll(context.Background(), ts.URL, ts.EnrollCode(b, ts.TeamA), "bench")
	require.NoError(b, err)
	_, err = r.AddHousehold(context.Background(), agent.Fields{"hamlet_code": ts.HamletsA[0], "head_name": "Một hộ"})
	require.NoError(b, err)
	for i := 0; i < 2; i++ {
		_, err = r.Sync(context.Background(), ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
	}
	b.ResetTimer()
	var s agent.SyncSummary
	for i := 0; i < b.N; i++ {
		s, err = r.Sync(context.Background(), ts.URL, tok, agent.SyncOptions{})
		require.NoError(b, err)
	}
	b.ReportMetric(float64(s.Bytes()), "bytes/sync")
	b.ReportMetric(float64(s.RoundTrips), "roundtrips")
}

// TestCloneFromFakeIsComplete checks the clone path against the fake
// server's model with a smaller commune (fast enough for every run).
func TestCloneFromFakeIsComplete(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, hamletA, "32002-02")
	cs := commune(uuid.New(), []string{hamletA, "32002-02"}, 300, 1200, 60)
	fs.load(cs)
	r := enrolled(t, fs.srv.URL)
	s, err := r.Sync(context.Background(), fs.srv.URL, "good", agent.SyncOptions{PullLimit: 1000, LogReplay: true})
	require.NoError(t, err)
	require.Equal(t, len(cs), s.Pulled)
	got, err := r.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, fs.snapshot(), got)
	hs, err := r.List(context.Background(), "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, hs, 300)
}

// BenchmarkFirstCloneFake is BenchmarkFirstClone against the protocol model
// (fakeServer), which isolates the agent's share of the time.
//
//	go test ./agent -run '^$' -bench FirstCloneFake -benchtime 3x
func BenchmarkFirstCloneFake(b *testing.B) {
	fs := newFakeServer(b, hamletA, "32002-02")
	cs := commune(uuid.New(), []string{hamletA, "32002-02"}, 5000, 20000, 1000)
	fs.load(cs)
	b.ResetTimer()
	var s agent.SyncSummary
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := agenttest.New(b)
		b.StartTimer()
		var err error
		s, err = r.Sync(context.Background(), fs.srv.URL, "good", agent.SyncOptions{})
		require.NoError(b, err)
		require.Equal(b, 26000, s.Cloned, "a first sync clones by snapshot")
	}
	b.ReportMetric(float64(s.Bytes())/1e6, "MB/clone")
	b.ReportMetric(float64(s.Cloned), "rows")
	b.ReportMetric(float64(s.RoundTrips), "roundtrips")
}

// TestCloneFromOlderServerReplaysTheLog: a server of an earlier release
// refuses the snapshot request as an unknown message; the agent notes it
// and clones by replaying the log, within the same Sync.
func TestCloneFromOlderServerReplaysTheLog(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, hamletA, "32002-02")
	fs.noSnapshot = true
	cs := commune(uuid.New(), []string{hamletA, "32002-02"}, 50, 100, 10)
	fs.load(cs)
	r := enrolled(t, fs.srv.URL)
	s, err := r.Sync(context.Background(), fs.srv.URL, "good", agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.NoError(t, err)
	require.Equal(t, len(cs), s.Pulled)
	require.Zero(t, s.Cloned)
	got, err := r.Snapshot(context.Background())
	require.NoError(t, err)
	require.Equal(t, fs.snapshot(), got)
}
