package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestWALCheckKilledSyncsWhileAppOpen: the writes that end
// a pull or a sync, now counted (e87d410, 7ef5563), while the app holds
// the folder and syncs too: a teammate's households arrive before every
// round, so the laptop's syncs pull, note durable_sent, checkpoint and
// begin the -wal again; the CLI's sync is SIGKILLed at a random moment,
// the app now and then, and the next command opens the file and runs the
// check. A healthy replica is never refused.
func TestWALCheckKilledSyncsWhileAppOpen(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	l.must("sync")
	mate := ts.NewDevice(t, ts.TeamA)
	w := servertest.NewWriter(mate.Replica, nil)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 199))
	iters := 16
	if s := os.Getenv("WALFP_ITERS"); s != "" {
		fmt.Sscan(s, &iters)
	}
	app := startApp(t, l)
	for i := range iters {
		c := ts.Connect(t, mate)
		require.NoError(t, c.PushAll(servertest.HouseholdChanges(w, ts.HamletsA[i%len(ts.HamletsA)], 30*10), 2000, 4))
		c.Close()
		if i%3 == 1 {
			_, _, _, _ = app.postForm("/sync", url.Values{})
		}
		r := walKillAt(t, rng, l, 150*time.Millisecond, "sync")
		requireNotDamaged(t, l, fmt.Sprintf("iteration %d sync (killed)", i), r)
		r = l.run("household", "add", "--hamlet", ts.HamletsA[0], "--head", fmt.Sprintf("Hộ h199 %d", i))
		requireNotDamaged(t, l, fmt.Sprintf("iteration %d add", i), r)
		if i%4 == 3 {
			app.kill()
			r = l.run("status")
			requireNotDamaged(t, l, fmt.Sprintf("iteration %d status after the app was killed", i), r)
			app = startApp(t, l)
		}
	}
	app.kill()
	r := walKillAt(t, rng, l, 100*time.Millisecond, "sync")
	requireNotDamaged(t, l, "last sync (killed)", r)
	r = l.run("status")
	requireNotDamaged(t, l, "status at the end", r)
	_ = context.Background
}
