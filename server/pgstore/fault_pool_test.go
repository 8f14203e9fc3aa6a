package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// With every pool connection held, every way into the store, not only the
// sync path, answers server.ErrBusy once AcquireTimeout has passed: the
// operator's listings, enrollment, dashboard users and sessions, and the
// leaders' read model (ReadDB). None waits for a connection forever, even
// with a context that never ends.
func TestPoolExhaustedEveryPathIsBusy(t *testing.T) {
	st, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 2, AcquireTimeout: 200 * time.Millisecond, Logger: servertest.Logger()})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	for i := 0; i < 2; i++ {
		conn, err := st.Pool().Acquire(ctx)
		require.NoError(t, err)
		t.Cleanup(conn.Release)
	}

	now := time.Now()
	paths := []struct {
		name string
		call func(context.Context) error
	}{
		{"Head", func(ctx context.Context) error { _, err := st.Head(ctx); return err }},
		{"ReadLog", func(ctx context.Context) error {
			_, err := st.ReadLog(ctx, server.LogQuery{Scopes: []string{"h"}})
			return err
		}},
		{"PushedSeq", func(ctx context.Context) error { _, err := st.PushedSeq(ctx, syncproto.ReplicaID{1}); return err }},
		{"Update", func(ctx context.Context) error {
			return st.Update(ctx, func(tx server.Tx) error { _, err := tx.OriginSeq(syncproto.ReplicaID{1}); return err })
		}},
		{"Touch", func(ctx context.Context) error {
			return st.Touch(ctx, []server.DeviceActivity{{DeviceID: "d", At: now}})
		}},
		{"DeviceByToken", func(ctx context.Context) error { _, err := st.DeviceByToken(ctx, []byte("t")); return err }},
		{"Scope", func(ctx context.Context) error { _, err := st.Scope(ctx, "m"); return err }},
		{"PutCode", func(ctx context.Context) error {
			return st.PutCode(ctx, server.EnrollCode{Hash: []byte("c"), MemberID: "m", Expires: now, Created: now})
		}},
		{"Enroll", func(ctx context.Context) error {
			_, err := server.Enroll(ctx, st, []byte("c"), now, server.Device{})
			return err
		}},
		{"Devices", func(ctx context.Context) error { _, err := st.Devices(ctx); return err }},
		{"RevokeDevice", func(ctx context.Context) error { return st.RevokeDevice(ctx, "d", now) }},
		{"Units", func(ctx context.Context) error { _, err := st.Units(ctx, schema.Level(""), ""); return err }},
		{"Teams", func(ctx context.Context) error { _, err := st.Teams(ctx); return err }},
		{"Member", func(ctx context.Context) error { _, err := st.Member(ctx, "m"); return err }},
		{"AddMember", func(ctx context.Context) error { return st.AddMember(ctx, server.Member{ID: "m", TeamID: "t"}) }},
		{"ServerID", func(ctx context.Context) error { _, err := st.ServerID(ctx); return err }},
		{"GC", func(ctx context.Context) error { _, err := server.Collect(ctx, st, server.GCOptions{}); return err }},
		{"AddUser", func(ctx context.Context) error { return st.AddUser(ctx, server.User{ID: "u", Username: "u"}) }},
		{"UserByName", func(ctx context.Context) error { _, err := st.UserByName(ctx, "u"); return err }},
		{"Users", func(ctx context.Context) error { _, err := st.Users(ctx); return err }},
		{"SessionUser", func(ctx context.Context) error { _, err := st.SessionUser(ctx, []byte("s"), now); return err }},
		{"PutSession", func(ctx context.Context) error {
			return st.PutSession(ctx, server.UserSession{TokenHash: []byte("s"), UserID: "u", Created: now, Expires: now})
		}},
		{"DeleteSession", func(ctx context.Context) error { return st.DeleteSession(ctx, []byte("s")) }},
		{"AnalyticsSource", func(ctx context.Context) error { _, err := st.AnalyticsSource().Head(ctx); return err }},
	}
	// Every path waits at once: each must still run out its own acquire
	// timeout on the held pool and answer busy, and the test waits one
	// AcquireTimeout instead of one per path (24 in a row were 5 s of
	// sleep holding one of make test's two package slots).
	done := make([]chan error, len(paths))
	for i, p := range paths {
		done[i] = make(chan error, 1)
		go func() { done[i] <- p.call(context.Background()) }()
	}
	hung, cancel := context.WithTimeout(context.Background(), time.Minute) // a hang, not a slow answer
	defer cancel()
	for i, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			select {
			case err := <-done[i]:
				require.ErrorIs(t, err, server.ErrBusy)
				require.Contains(t, err.Error(), "pool_max_conns", "the error says what to raise")
			case <-hung.Done():
				t.Fatalf("%s still waits for a connection a minute after the 200ms acquire timeout", p.name)
			}
		})
	}
}
