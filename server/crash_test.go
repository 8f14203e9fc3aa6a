package server_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// startBinary runs `hamlet-server serve` on dir and returns its base URL.
func startBinary(t *testing.T, bin, dir string) (*exec.Cmd, string) {
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--addr", "127.0.0.1:0", "--log-level", "info")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	re := regexp.MustCompile(`listening"? addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	deadline := time.After(20 * time.Second)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, "http://" + addr
	case <-deadline:
		t.Fatal("server did not start")
	}
	return nil, ""
}

func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := filepath.Join(t.TempDir(), "hamlet-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/hamlet-vn/hamlet/cmd/hamlet-server")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	// Prepare the data directory with the fixture, then hand it to the binary.
	ts := servertest.Start(t)
	codeA, codeB := ts.EnrollCode(t, ts.TeamA), ts.EnrollCode(t, ts.TeamA)
	hamlet, dir := ts.HamletsA[0], ts.DataDir
	ts.Close()

	cmd, url := startBinary(t, bin, dir)
	ctx := context.Background()
	repA, repB := uuid.New(), uuid.New()
	enA, st, _, err := servertest.Enroll(ctx, url, codeA, repA, "A")
	require.NoError(t, err)
	require.Equal(t, 200, st)
	enB, _, _, err := servertest.Enroll(ctx, url, codeB, repB, "B")
	require.NoError(t, err)

	c, _, _, err := servertest.Dial(ctx, url, enA.Token)
	require.NoError(t, err)
	_, err = c.Hello(repA)
	require.NoError(t, err)
	w := servertest.NewWriter(repA, nil)
	acked := map[syncproto.FieldKey]syncproto.Value{}
	var ackedSeq uint64
	killed := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	for batch := uint64(1); ; batch++ {
		var cs []syncproto.Change
		for i := 0; i < 50; i++ {
			row := uuid.New()
			cs = append(cs, w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
				w.Write("households", row, "head_name", syncproto.String("Hộ "+row.String()[:8]), hamlet))
		}
		ack, err := c.Push(batch, cs)
		if err != nil {
			break // killed mid-push: this batch was never acknowledged
		}
		for i, r := range ack.Results {
			require.Equal(t, syncproto.ResultApplied, r.Status)
			acked[cs[i].Key()] = cs[i].Value
		}
		ackedSeq = cs[len(cs)-1].Dot.Seq
	}
	<-killed
	_ = cmd.Wait()
	require.NotEmpty(t, acked, "some batches were acknowledged before the kill")

	_, url = startBinary(t, bin, dir)
	c2, _, _, err := servertest.Dial(ctx, url, enA.Token)
	require.NoError(t, err)
	wel, err := c2.Hello(repA)
	require.NoError(t, err)
	require.GreaterOrEqual(t, wel.PushedSeq, ackedSeq, "every acknowledged change is still there")
	cb, _, _, err := servertest.Dial(ctx, url, enB.Token)
	require.NoError(t, err)
	_, err = cb.Hello(repB)
	require.NoError(t, err)
	got, _, _, err := cb.PullAll(0)
	require.NoError(t, err)
	have := map[syncproto.FieldKey]syncproto.Value{}
	for _, ch := range got {
		have[ch.Key()] = ch.Value
	}
	for k, v := range acked {
		require.Equal(t, v, have[k], "acknowledged change %v lost", k)
	}
	t.Logf("acknowledged %d changes before SIGKILL; all present after restart (server holds seq %d, acked %d)", len(acked), wel.PushedSeq, ackedSeq)
}
