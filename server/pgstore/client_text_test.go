package pgstore_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func bothStores(t *testing.T) map[string]*servertest.TS {
	st, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 4, Logger: servertest.Logger()})
	require.NoError(t, err)
	return map[string]*servertest.TS{"sqlite": servertest.Start(t), "postgres": servertest.Start(t, servertest.WithStore(st))}
}

// A change naming a table or field no schema knows is refused (unknown_table
// / unknown_field) and the rest of the batch applies, on either store: the
// table or field name is the client's, any bytes msgpack carries. On
// PostgreSQL the refusal's record failed on a NUL or bytes not UTF-8, and
// the whole batch was answered "retry later", for ever (helper 128).
func TestUnknownNameWithNULOrBadUTF8IsRefusedOnBothStores(t *testing.T) {
	for _, name := range []string{"bad\x00table", "bad\xfftable"} {
		for store, ts := range bothStores(t) {
			t.Run(store+"/"+strconv.Quote(name), func(t *testing.T) {
				d := ts.NewDevice(t, ts.TeamA)
				c := ts.Connect(t, d)
				w := servertest.NewWriter(d.Replica, nil)
				h := ts.HamletsA[0]
				row := uuid.New()
				ack, err := c.Push(1, w.Household(row, h, "Nguyễn Văn A"))
				require.NoError(t, err)
				require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, store)
				changes := []syncproto.Change{
					w.Write("households", row, "notes", syncproto.String("ghi chú"), h),
					w.Write(name, uuid.New(), "x", syncproto.Int(1), h),
					w.Write("households", row, name, syncproto.Int(1), h),
				}
				ack, err = c.Push(2, changes)
				require.NoError(t, err, "%s: name %q: the batch must be answered", store, name)
				require.Equal(t, syncproto.ResultApplied, ack.Results[0].Status, store)
				require.Equal(t, syncproto.CodeUnknownTable, ack.Results[1].Code, store)
				require.Equal(t, syncproto.CodeUnknownField, ack.Results[2].Code, store)
			})
		}
	}
}

// An enrollment whose label carries a NUL byte or a control character (a
// terminal's escape, shown by device list) is refused as invalid_value on
// both stores; PostgreSQL answered 500 (helper 128).
func TestEnrollLabelWithNULIsRefusedOnBothStores(t *testing.T) {
	for store, ts := range bothStores(t) {
		for _, label := range []string{"máy\x00thử", "máy\x1b[31mthử"} {
			_, status, eb, err := servertest.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, ts.TeamA), uuid.New(), label)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, status, "%s %q: %+v", store, label, eb)
			require.Equal(t, syncproto.CodeInvalidValue, eb.Error.Code, store)
		}
		_, status, eb, err := servertest.Enroll(context.Background(), ts.URL, ts.EnrollCode(t, ts.TeamA), uuid.New(), "Máy của chị Hoa")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s: %+v", store, eb)
	}
}

// Signing in with a username that carries a NUL byte is a wrong username
// (401, counted by the throttle) on both stores; PostgreSQL answered 500
// (helper 128).
func TestSignInNameWithNULIsAWrongNameOnBothStores(t *testing.T) {
	for store, ts := range bothStores(t) {
		resp, err := http.Post(ts.URL+"/api/v1/login", "application/json", strings.NewReader(`{"username":"dieu\u0000phoi","password":"x"}`))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%s: %d %s", store, resp.StatusCode, b)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s: %s", store, b)
	}
}
