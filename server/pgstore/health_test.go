package pgstore_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A database that turned read-only (a failover to a standby, an operator's
// default_transaction_read_only) serves reads but no push can commit:
// /healthz says 503 read_only instead of "ok", and "ok" again once the
// database takes writes.
func TestHealthOnAReadOnlyDatabase(t *testing.T) {
	dbURL := pgtest.MigratedDB(t, pgstore.Migrate)
	st, err := pgstore.Open(ctx, dbURL, pgstore.Options{MaxConns: 4, Logger: servertest.Logger()})
	require.NoError(t, err)
	ts := servertest.Start(t, servertest.WithStore(st))
	type health struct{ Status, Reason string }
	get := func() (int, health) {
		resp, err := http.Get(ts.URL + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		var h health
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
		return resp.StatusCode, h
	}
	st0, h := get()
	require.Equal(t, http.StatusOK, st0, "%+v", h)

	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, pgtest.URL(t))
	require.NoError(t, err)
	defer admin.Close(ctx)
	readOnly := func(on bool) {
		q := `ALTER DATABASE ` + name + ` SET default_transaction_read_only = on`
		if !on {
			q = `ALTER DATABASE ` + name + ` RESET default_transaction_read_only`
		}
		_, err := admin.Exec(ctx, q)
		require.NoError(t, err)
		// The store's connections take the setting when they reconnect.
		_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name)
		require.NoError(t, err)
	}
	// until polls /healthz until it answers want (a connection the
	// database just ended fails once before the pool reconnects).
	until := func(status int, reason string) health {
		var h health
		for range 50 {
			var st int
			if st, h = get(); st == status && h.Reason == reason {
				return h
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("/healthz never said %d %q; last %+v", status, reason, h)
		return h
	}

	readOnly(true)
	h = until(http.StatusServiceUnavailable, "read_only")
	require.Equal(t, "store_cannot_write", h.Status)
	readOnly(false)
	until(http.StatusOK, "")
}
