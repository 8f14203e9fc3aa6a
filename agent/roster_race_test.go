package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// A roster fetched in the background (the app: syncer.refreshRoster, started
// beside Watch) names a hamlet by reading the enrollment and writing it back
// whole (nameHamlets), outside any transaction; a Welcome that changes the
// scope meanwhile (updateScope) is undone.
// Helper 159's review of e487719: the roster's naming read the enrollment,
// named its hamlets and wrote it all back, outside any transaction: run by
// the app in the background while a session's Welcome changed the scope,
// it put the old scope back (a lost hamlet writable again, a gained one
// refused) until the next connection.
func TestRosterNamingKeepsAScopeChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"writers":[],"hamlets":[{"code":"32002-01","name":"Ấp 1"},{"code":"32002-02","name":"Ấp 2"},{"code":"32002-03","name":"Ấp 3"}]}`))
	}))
	defer srv.Close()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < 400; i++ {
		// Enrolled with 01 and 02; 02 unnamed (gained since the enrollment).
		if err := r.SetEnrollment(ctx, &Enrollment{Server: srv.URL, DeviceID: "d", Scope: []Hamlet{{Code: "32002-01", Name: "Ấp 1"}, {Code: "32002-02"}}}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = r.RefreshRoster(ctx, srv.URL, "hmt_x") }()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i%40) * 25 * time.Microsecond)
			_ = r.updateScope(ctx, []string{"32002-02", "32002-03"})
		}() // a Welcome: 01 lost, 03 gained
		wg.Wait()
		e, err := r.Enrollment(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, h := range e.Scope {
			codes = append(codes, h.Code)
		}
		if !slices.Equal(codes, []string{"32002-02", "32002-03"}) {
			t.Fatalf("iteration %d: the Welcome's scope [32002-02 32002-03] was undone by the roster's naming: scope now %+v", i, e.Scope)
		}
	}
}
