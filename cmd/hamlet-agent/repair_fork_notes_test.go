package main

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestRepairForkNotesLeftOut (helper 227): a data folder copied to a
// second laptop; the copy syncs first; the original's sync finds it is a
// copy (fork_due noted at the Welcome) and is cut before the fork is
// done; a power cut then tears the page of its notes: fork_due no longer
// reads (with sent_seq, and the change log, in the harder cases). Repair
// leaves the fork's notes out: the next sync must find the copy again from
// the server's answers, and both laptops' households, sent and unsent,
// reach the server and both laptops, none lost, none refused.
func TestRepairForkNotesLeftOut(t *testing.T) {
	t.Parallel() // its own servers, proxy and laptops
	cases := []struct {
		name   string
		notes  map[string]string
		outbox bool // a torn page of the change log too
		aMore  bool // the original made more changes than the copy pushed
	}{
		{"fork_due", map[string]string{"fork_due": "x"}, false, false},
		{"fork_due+sent_seq", map[string]string{"fork_due": "x", "sent_seq": "x"}, false, false},
		{"fork_due+sent_seq/aMore", map[string]string{"fork_due": "x", "sent_seq": "x"}, false, true},
		{"outbox", map[string]string{}, true, false},
		{"fork_due+outbox", map[string]string{"fork_due": "x"}, true, false},
		{"fork_due+sent_seq+outbox", map[string]string{"fork_due": "x", "sent_seq": "x"}, true, false},
		{"outbox/aMore", map[string]string{}, true, true},
		{"fork_due+sent_seq+outbox/aMore", map[string]string{"fork_due": "x", "sent_seq": "x"}, true, true},
	}
	// Up to the damage, every case of one aMore did the same through the
	// binaries: built once (the history before the copy once for both),
	// frozen, and thawed for each case (repair_fixture_test.go).
	var cutting atomic.Bool
	ts := servertest.Start(t)
	rel := newSwitchProxy(t, ts.URL)
	url := cutProxy(t, strings.TrimPrefix(rel.srv.URL, "http://"), func(m syncproto.Message) bool {
		switch m.(type) {
		case *syncproto.Push, *syncproto.Pull:
			return cutting.Load()
		}
		return false
	})
	a := newLaptop(t, filepath.Join(t.TempDir(), "a"))
	a.must("enroll", "--server", url, "--code", ts.EnrollCode(t, ts.TeamA))
	var before []string
	for i := 0; i < 20; i++ {
		before = append(before, a.mustAdd(ts.HamletsA[0], fmt.Sprintf("Trước khi chép %d", i)))
	}
	a.must("sync")
	copied := freeze(rel, ts, a)
	worlds := map[bool]*world{}
	ids := map[bool][]string{}
	for _, aMore := range []bool{false, true} {
		ts, ls := copied.thaw(t, t.TempDir())
		a := ls[0]
		ids[aMore] = slices.Clone(before)
		b := a.copyTo(filepath.Join(filepath.Dir(a.dir), "b"))
		na, nb := 2, 6
		if aMore {
			na, nb = 8, 2
		}
		for i := 0; i < nb; i++ {
			ids[aMore] = append(ids[aMore], b.mustAdd(ts.HamletsA[0], fmt.Sprintf("Bản sao %d", i)))
		}
		r := b.must("sync")
		t.Logf("aMore=%v: b's sync:\n%s%s", aMore, r.stdout, r.stderr)
		for i := 0; i < na; i++ {
			ids[aMore] = append(ids[aMore], a.mustAdd(ts.HamletsA[0], fmt.Sprintf("Bản gốc %d", i)))
		}
		cutting.Store(true)
		r = a.run("sync")
		cutting.Store(false)
		t.Logf("aMore=%v: a's sync, cut: exit %d\n%s%s", aMore, r.code, r.stdout, r.stderr)
		worlds[aMore] = freeze(rel, ts, a, b)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts, ls := worlds[c.aMore].thaw(t, t.TempDir())
			a, b := ls[0], ls[1]
			ids := ids[c.aMore]
			file := filepath.Join(a.dir, "replica.db")
			db, err := sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			var due, rep sql.NullString
			_ = db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'fork_due'`).Scan(&due)
			_ = db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'fork_replica'`).Scan(&rep)
			var sentSeq, seq sql.NullString
			var nOut int
			_ = db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'sent_seq'`).Scan(&sentSeq)
			_ = db.QueryRow(`SELECT value FROM agent_meta WHERE key = 'seq'`).Scan(&seq)
			_ = db.QueryRow(`SELECT count(*) FROM outbox`).Scan(&nOut)
			t.Logf("a after the cut: fork_due %v fork_replica %v sent_seq %v seq %v outbox %d", due, rep, sentSeq, seq, nOut)
			for k, v := range c.notes {
				_, err = db.Exec(`INSERT INTO agent_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v)
				require.NoError(t, err)
			}
			require.NoError(t, db.Close())
			if c.outbox {
				pages := pagesOf(t, file, "outbox", "leaf")
				require.NotEmpty(t, pages)
				for _, p := range pages {
					damage(t, file, (p-1)*4096, 4096)
				}
			}
			r := a.run("repair")
			t.Logf("repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			require.Equal(t, 0, r.code)
			for i, l := range []*laptop{a, b, a, b, a} {
				r := l.run("sync")
				t.Logf("sync %d of %s: exit %d\n%s%s", i, filepath.Base(l.dir), r.code, r.stdout, r.stderr)
				require.Equal(t, 0, r.code)
			}
			on := serverHouseholds(t, ts)
			for _, l := range []*laptop{a, b} {
				have := l.households()
				for _, id := range ids {
					require.True(t, have[id], "%s holds %s", filepath.Base(l.dir), id)
				}
				require.Empty(t, l.rejected(), "%s: nothing refused", filepath.Base(l.dir))
				require.Zero(t, l.pending(), "%s: nothing left to send", filepath.Base(l.dir))
			}
			for _, id := range ids {
				require.True(t, on[id], "the server holds %s", id)
			}
			require.NotEqual(t, a.status()["replica_id"], b.status()["replica_id"], "the copy was found: two replicas")
		})
	}
}
