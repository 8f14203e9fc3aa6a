package agent_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func enrolled(t *testing.T, srv string, opts ...agent.Options) *agent.Replica {
	t.Helper()
	r := agenttest.New(t, opts...)
	tok, e, err := r.Enroll(context.Background(), srv, fakeGoodCode, "test laptop")
	require.NoError(t, err)
	require.Equal(t, "good", tok)
	require.NotEmpty(t, e.Scope)
	return r
}

func syncOK(t *testing.T, r *agent.Replica, srv string) agent.SyncSummary {
	t.Helper()
	s, err := r.Sync(context.Background(), srv, "good", agent.SyncOptions{IOTimeout: 5 * time.Second})
	require.NoError(t, err)
	return s
}

func TestTwoAgentsConvergeWithFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	a, b := enrolled(t, fs.srv.URL), enrolled(t, fs.srv.URL)
	hh := addHousehold(t, a, "Phạm Văn Dũng")
	syncOK(t, a, fs.srv.URL)
	syncOK(t, b, fs.srv.URL)

	gone := addHousehold(t, a, "Võ Thị Lan")
	syncOK(t, a, fs.srv.URL)
	syncOK(t, b, fs.srv.URL)

	// Offline: different fields, the same field, a delete against an edit.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"address": "Số 1, đường Lý Thường Kiệt"}))
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"members_count": int64(5)}))
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "ghi chú A"}))
	// b's edit is the later one by the rule: its clock is past a's
	// last stamp by more than the syncs' restamps can move the two (a
	// 2 ms sleep here lost A's and B's order under load ~20 twice in
	// full runs: "ghi chú A" won).
	clockPast(t, a, b)
	require.NoError(t, b.EditHousehold(ctx, hh, agent.Fields{"notes": "ghi chú B"}))
	require.NoError(t, a.Delete(ctx, "households", gone))
	clockPast(t, a, b)
	require.NoError(t, b.EditHousehold(ctx, gone, agent.Fields{"phone": "0987654321"}))

	syncOK(t, a, fs.srv.URL)
	syncOK(t, b, fs.srv.URL)
	syncOK(t, a, fs.srv.URL) // a's delete never saw b's edit: a records it and sends it...
	syncOK(t, b, fs.srv.URL) // ...b hears of it

	want := fs.snapshot()
	for _, r := range []*agent.Replica{a, b} {
		got, err := r.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
		d, err := r.Show(ctx, "households", hh.String())
		require.NoError(t, err)
		require.Equal(t, "Số 1, đường Lý Thường Kiệt", d.Fields["address"])
		require.Equal(t, int64(5), d.Fields["members_count"])
		require.Equal(t, "ghi chú B", d.Fields["notes"])
		cs, err := r.Conflicts(ctx, false)
		require.NoError(t, err)
		require.Len(t, cs, 2, "the loser of the same-field edit, and the edit under the delete, are listed on both")
		require.Equal(t, "_deleted", cs[0].Field)
		require.Equal(t, gone.String(), cs[0].Row)
		require.Equal(t, "ghi chú A", cs[1].Loser.Value)
		require.Equal(t, "ghi chú B", cs[1].Winner.Value)
	}
}

func TestNoopSyncIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, hamletA)
	a := enrolled(t, fs.srv.URL)
	addHousehold(t, a, "Huỳnh Văn E")
	syncOK(t, a, fs.srv.URL)
	syncOK(t, a, fs.srv.URL) // catches up the cursor past its own pushes
	s := syncOK(t, a, fs.srv.URL)
	require.Equal(t, 1, s.RoundTrips)
	require.Less(t, s.Bytes(), int64(1024), "no-op sync bytes")
	t.Logf("no-op sync: %d round trip, %d bytes on the wire", s.RoundTrips, s.Bytes())
}

// A teammate's push announced before the Welcome (the server counts a
// session from its upgrade) is not "a message out of order": the Welcome
// follows, and its cursor covers the announcement.
func TestNotifyBeforeWelcome(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t, hamletA)
	a := enrolled(t, fs.srv.URL)
	b := enrolled(t, fs.srv.URL)
	id := addHousehold(t, a, "Trần Văn Nam")
	syncOK(t, a, fs.srv.URL)
	fs.notifyFirst = true
	syncOK(t, b, fs.srv.URL)
	_, err := b.Show(context.Background(), "households", id.String())
	require.NoError(t, err)
}

// faultProxy forwards TCP to target. Its first connection goes through
// fault(client, server, fired), which owns that connection and calls fired
// when the fault happens, before the client can see it (counted in faults);
// later connections pass untouched.
func faultProxy(t *testing.T, target string, fault func(c, s net.Conn, fired func())) (url string, faults *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	faults = &atomic.Int32{}
	var first atomic.Bool
	first.Store(true)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, isFirst bool) {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				if isFirst {
					fault(c, s, func() { faults.Add(1) })
					return
				}
				go func() { io.Copy(s, c); s.Close() }()
				io.Copy(c, s)
			}(c, first.Swap(false))
		}
	}()
	return "http://" + ln.Addr().String(), faults
}

// cutProxy cuts its first connection once the client has sent n bytes.
func cutProxy(t *testing.T, target string, n int64) (url string, cuts *atomic.Int32) {
	return faultProxy(t, target, func(c, s net.Conn, fired func()) {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); io.Copy(c, s); c.Close() }()
		io.CopyN(s, c, n)
		fired()
		s.Close()
		c.Close()
		wg.Wait()
	})
}

func TestCutConnectionResumesWithoutDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	a := enrolled(t, fs.srv.URL)
	for i := 0; i < 1500; i++ {
		_, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Hộ số " + uuid.NewString()[:8], "members_count": int64(1 + i%6)})
		require.NoError(t, err)
	}
	pending, err := a.Pending(ctx)
	require.NoError(t, err)
	proxy, cuts := cutProxy(t, fs.srv.Listener.Addr().String(), 40_000)
	opts := agent.SyncOptions{IOTimeout: 5 * time.Second, BatchSize: 500}
	_, err = a.Sync(ctx, proxy, "good", opts) // cut once, then retried on a fresh connection
	require.EqualValues(t, 1, cuts.Load())
	if err != nil {
		_, err = a.Sync(ctx, proxy, "good", opts)
	}
	require.NoError(t, err)
	left, _ := a.Pending(ctx)
	require.Zero(t, left)
	fs.mu.Lock()
	require.Len(t, fs.log, pending, "every change arrived once")
	for d, n := range fs.received {
		// Pushed twice only if the cut lost its Ack: then it is pushed
		// again for its result, at the start of the next session.
		require.LessOrEqual(t, n, 2, "write %v pushed %d times", d, n)
	}
	require.Zero(t, fs.lateDups, "only writes awaiting a result are pushed again, before new ones")
	fs.mu.Unlock()
}

func TestRefusedChangesStayUntilFixedOrDiscarded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	a := agenttest.New(t) // not enrolled: no local scope check
	out, err := a.AddHousehold(ctx, agent.Fields{"hamlet_code": "32002-09", "head_name": "Ngoài địa bàn"})
	require.NoError(t, err)
	s, err := a.Sync(ctx, fs.srv.URL, "good", agent.SyncOptions{})
	require.NoError(t, err)
	require.Equal(t, 4, s.Rejected)
	rej, err := a.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 4)
	require.Equal(t, "out_of_scope", rej[0].Code)
	syncOK(t, a, fs.srv.URL)
	rej, _ = a.Rejected(ctx)
	require.Len(t, rej, 4, "nothing leaves the list silently")

	// Fix the hamlet: the row's other refused fields are sent again with it
	// as new writes (the server judges a new row by one push).
	require.NoError(t, a.FixRejected(ctx, rej[0].ID, hamletA))
	rej, _ = a.Rejected(ctx)
	require.Empty(t, rej)
	s = syncOK(t, a, fs.srv.URL)
	require.Zero(t, s.Rejected)
	rej, _ = a.Rejected(ctx)
	require.Empty(t, rej)
	d, err := a.Show(ctx, "households", out.String())
	require.NoError(t, err)
	require.Equal(t, hamletA, d.Fields["hamlet_code"])

	// Discard: the field goes back to what the server has.
	require.NoError(t, a.EditHousehold(ctx, out, agent.Fields{"hamlet_code": "32002-09"}))
	syncOK(t, a, fs.srv.URL)
	rej, _ = a.Rejected(ctx)
	require.Len(t, rej, 1)
	require.NoError(t, a.DiscardRejected(ctx, rej[0].ID))
	d, _ = a.Show(ctx, "households", out.String())
	require.Equal(t, hamletA, d.Fields["hamlet_code"])
}

func TestClockAheadIsRestampedAndWarned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	yearAhead := func() time.Time { return time.Now().Add(365 * 24 * time.Hour) }
	a := enrolled(t, fs.srv.URL, agent.Options{Now: yearAhead})
	hh := addHousehold(t, a, "Đồng hồ sai")
	s := syncOK(t, a, fs.srv.URL)
	require.True(t, s.ClockWarning)
	require.InDelta(t, -365*24*time.Hour, s.Offset, float64(time.Minute))
	snap, err := a.Snapshot(ctx)
	require.NoError(t, err)
	v := snap[syncproto.FieldKey{Table: "households", Row: hh, Field: "head_name"}]
	require.WithinDuration(t, time.Now(), v.HLC.Time(), time.Minute, "adopted the server's restamp")
	require.Equal(t, fs.snapshot(), snap)

	// After the sync the offset corrects new writes.
	require.NoError(t, a.EditHousehold(ctx, hh, agent.Fields{"notes": "sau khi đồng bộ"}))
	snap, _ = a.Snapshot(ctx)
	v = snap[syncproto.FieldKey{Table: "households", Row: hh, Field: "notes"}]
	require.WithinDuration(t, time.Now(), v.HLC.Time(), time.Minute)
	st, err := a.Status(ctx)
	require.NoError(t, err)
	require.True(t, st.ClockWarn)
}

func TestWatchPullsOnNotify(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := newFakeServer(t, hamletA)
	a, b := enrolled(t, fs.srv.URL), enrolled(t, fs.srv.URL)
	// Liveness waits only: each ends as soon as it holds, and the limits
	// are for a loaded machine (8 tests at once on 2 cores), where a
	// 5 s wait failed a correct Watch.
	const wait = 60 * time.Second
	got := make(chan agent.SyncSummary, 16)
	done := make(chan error, 1)
	go func() {
		done <- b.Watch(ctx, fs.srv.URL, "good", agent.SyncOptions{IOTimeout: 30 * time.Second, PollInterval: 50 * time.Millisecond,
			OnSync: func(s agent.SyncSummary, err error) {
				if err == nil {
					select {
					case got <- s:
					default: // only the first is waited for: never block Watch
					}
				}
			}})
	}()
	select {
	case <-got: // the initial sync
	case err := <-done:
		t.Fatalf("Watch ended before its first sync: %v", err)
	case <-time.After(wait):
		t.Fatal("Watch never finished its first sync")
	}
	hh := addHousehold(t, a, "Thông báo")
	syncOK(t, a, fs.srv.URL)
	require.Eventually(t, func() bool {
		_, err := b.Show(context.Background(), "households", hh.String())
		return err == nil
	}, wait, 20*time.Millisecond, "b's Watch pulls a's household on the server's Notify")
	// And b's own writes go out without another command.
	hb := addHousehold(t, b, "Ghi trong lúc theo dõi")
	require.Eventually(t, func() bool {
		_, ok := fs.snapshot()[syncproto.FieldKey{Table: "households", Row: hb, Field: "head_name"}]
		return ok
	}, wait, 20*time.Millisecond, "b's Watch pushes its own write")
	cancel()
	require.NoError(t, <-done)
}

func TestSyncErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := newFakeServer(t, hamletA)
	notHamlet := httptest.NewServer(http.NotFoundHandler())
	defer notHamlet.Close()
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	r := agenttest.New(t)
	addHousehold(t, r, "Không mất")
	tests := []struct {
		name, url, token, vi string
	}{
		{"unreachable", deadURL, "good", "Không kết nối được máy chủ"},
		{"not hamlet", notHamlet.URL, "good", "không phải máy chủ Hamlet"},
		{"bad url", "ftp://x", "good", "không phải máy chủ Hamlet"},
		{"revoked", fs.srv.URL, "revoked", "thu hồi"},
		{"unknown token", fs.srv.URL, "nope", "chưa được đăng ký"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Sync(ctx, tt.url, tt.token, agent.SyncOptions{IOTimeout: 2 * time.Second})
			require.Error(t, err)
			require.Contains(t, agent.MessageOf(err, "vi"), tt.vi)
			n, _ := r.Pending(ctx)
			require.Equal(t, 5, n, "nothing lost")
		})
	}
	_, _, err := r.Enroll(ctx, fs.srv.URL, fakeExpiredCode, "x")
	require.Error(t, err)
	require.Contains(t, agent.MessageOf(err, "vi"), "hết hạn")
	_, _, err = r.Enroll(ctx, deadURL, fakeGoodCode, "x")
	require.Contains(t, agent.MessageOf(err, "en"), "Cannot reach")
}
