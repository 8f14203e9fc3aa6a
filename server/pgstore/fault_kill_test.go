package pgstore_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// killHelperEnv carries the database URL to the server process
// TestSIGKILLMidPushLosesNothingAcknowledged starts (this test binary
// again, running TestPostgresServerProcess).
const killHelperEnv = "HAMLET_TEST_PG_KILL_HELPER"

// TestPostgresServerProcess is not a test: it is the server process the
// SIGKILL test starts and kills. It serves the database at killHelperEnv
// on a loopback port it prints, until it is killed.
func TestPostgresServerProcess(t *testing.T) {
	url := os.Getenv(killHelperEnv)
	if url == "" {
		t.Skip("the server process of TestSIGKILLMidPushLosesNothingAcknowledged; runs only under it")
	}
	st, err := pgstore.Open(ctx, url, pgstore.Options{Logger: servertest.Logger()})
	require.NoError(t, err)
	ts := servertest.Start(t, servertest.WithStore(st))
	fmt.Printf("server-process-url %s\n", ts.URL)
	time.Sleep(10 * time.Minute) // until killed; the bound only outlives a parent that died
}

// A server process on PostgreSQL killed with SIGKILL while an agent pushes
// through it: every change it acknowledged is in the database, once; the
// batch it was committing when killed was rolled back or committed whole,
// and its locks were released with its connections: the agent pushes it
// again through another process and gets it applied (or told it was).
func TestSIGKILLMidPushLosesNothingAcknowledged(t *testing.T) {
	url := pgtest.MigratedDB(t, pgstore.Migrate)
	st := open(t, url)
	other := servertest.Start(t, servertest.WithStore(st)) // the process that survives
	dev, readerDev := other.NewDevice(t, other.TeamA), other.NewDevice(t, other.TeamA)

	cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresServerProcess$")
	cmd.Env = append(os.Environ(), killHelperEnv+"="+url)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urlCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`server-process-url (\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urlCh <- m[1]
			}
		}
	}()
	var procURL string
	select {
	case procURL = <-urlCh:
	case <-time.After(2 * time.Minute): // a process that never started, not a slow one
		t.Fatal("the server process did not start")
	}

	c, _, _, err := servertest.Dial(ctx, procURL, dev.Token)
	require.NoError(t, err)
	_, err = c.Hello(dev.Replica)
	require.NoError(t, err)

	// Push batches of 1,000 changes back to back; after the third Ack the
	// process is killed while the fourth is on its way or being committed.
	h := other.HamletsA[0]
	w := servertest.NewWriter(dev.Replica, nil)
	var batches [][]syncproto.Change
	acked := 0
	ackCh := make(chan int)
	pushErr := make(chan error, 1)
	for i := 0; i < 50; i++ {
		var cs []syncproto.Change
		for j := 0; j < 500; j++ {
			row := uuid.New()
			cs = append(cs, w.Write("households", row, "hamlet_code", syncproto.String(h), h),
				w.Write("households", row, "head_name", syncproto.String(fmt.Sprintf("Hộ %d-%d", i, j)), h))
		}
		batches = append(batches, cs)
	}
	go func() {
		for i, cs := range batches {
			ack, err := c.Push(uint64(i+1), cs)
			if err != nil {
				pushErr <- err
				return
			}
			for _, r := range ack.Results {
				if r.Status != syncproto.ResultApplied {
					pushErr <- fmt.Errorf("batch %d: result %v", i+1, r.Status)
					return
				}
			}
			ackCh <- i + 1
		}
		pushErr <- nil
	}()
	for acked < 3 {
		select {
		case acked = <-ackCh:
		case err := <-pushErr:
			t.Fatalf("the push failed before the kill, after %d batches: %v", acked, err)
		}
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	// Acks that crossed the kill count as acknowledged too.
	var perr error
	for done := false; !done; {
		select {
		case n := <-ackCh:
			acked = n
		case perr = <-pushErr:
			done = true
		}
	}
	require.Error(t, perr, "the push loop ended without the kill cutting it")
	require.Less(t, acked, len(batches))
	t.Logf("%d batches acknowledged before SIGKILL; the push of batch %d was cut: %v", acked, acked+1, perr)

	// Everything acknowledged is there.
	ackedSeq := batches[acked-1][len(batches[acked-1])-1].Dot.Seq
	pushed, err := st.PushedSeq(ctx, dev.Replica)
	require.NoError(t, err)
	require.GreaterOrEqual(t, pushed, ackedSeq, "an acknowledged batch was lost")

	// The cut batch is pushed again through the surviving process, as the
	// agent does when it reconnects: applied now, or a duplicate if its
	// commit beat the kill. The process's locks went with its connections:
	// this does not wait on them.
	c2 := other.Connect(t, dev)
	cut := batches[acked]
	ack, err := c2.Push(1, cut)
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Contains(t, []syncproto.ResultStatus{syncproto.ResultApplied, syncproto.ResultDuplicate}, r.Status)
	}

	// Every acknowledged or re-pushed change is in the log exactly once,
	// with its value; nothing of a later batch is.
	cs, _, _, err := pullAll(t, other.Connect(t, readerDev))
	require.NoError(t, err)
	seen := map[syncproto.Dot]syncproto.Value{}
	count := map[syncproto.Dot]int{}
	for _, ch := range cs {
		seen[ch.Dot] = ch.Value
		count[ch.Dot]++
	}
	for _, b := range batches[:acked+1] {
		for _, ch := range b {
			require.Equal(t, 1, count[ch.Dot], "change %v", ch.Dot)
			require.Equal(t, ch.Value, seen[ch.Dot], "change %v", ch.Dot)
		}
	}
	require.Len(t, cs, (acked+1)*1000, "only the acknowledged batches and the one pushed again are there")
}
