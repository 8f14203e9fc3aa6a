//go:build unix

// The probe test makes the store's write hang on a named pipe
// (syscall.Mkfifo), which Windows has not: it is here so the package's
// tests still vet and build for the volunteers' Windows laptops.

package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestPhotoStoreProbeThatHangsHoldsNoOneElse: the probe of a failed photo
// store can take long (a disk that hangs, a network file system gone). The
// laptops that ask meanwhile are told at once that the server cannot store
// photos now; they were held behind the probe until their own time-out,
// and the volunteer read that the link had failed.
func TestPhotoStoreProbeThatHangsHoldsNoOneElse(t *testing.T) {
	// Not parallel: its 1 s sleep puts one laptop at the probe before the
	// other asks, which a machine busy with parallel tests may not do.
	ctx := context.Background()
	ts := servertest.Start(t)
	blocked := blockPhotoStore(t, ts)
	var tokens []string
	var agents []*agent.Replica
	for i := range 2 {
		a, tok, _ := photoWaiting(t, ts, uint64(20+i), 400, 300)
		agents, tokens = append(agents, a), append(tokens, tok)
	}
	_, err := agents[0].SyncPhotos(ctx, ts.URL, tokens[0], agent.SyncOptions{IOTimeout: 10 * time.Second})
	require.Error(t, err, "the store fails: the server learns it")

	// The store's next write hangs: the probe's file is a pipe no one reads.
	require.NoError(t, os.Remove(blocked))
	require.NoError(t, os.MkdirAll(filepath.Join(blocked, "uploads"), 0o750))
	fifo := filepath.Join(blocked, "uploads", strings.Repeat("0", 64)+".part")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	t.Cleanup(func() { // the probe goes on before the server stops
		if f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			time.Sleep(200 * time.Millisecond)
			f.Close()
		}
	})
	probing := make(chan error, 1)
	go func() {
		_, err := agents[0].SyncPhotos(ctx, ts.URL, tokens[0], agent.SyncOptions{IOTimeout: 4 * time.Second})
		probing <- err
	}()
	time.Sleep(time.Second) // its question is at the probe

	start := time.Now()
	_, err = agents[1].SyncPhotos(ctx, ts.URL, tokens[1], agent.SyncOptions{IOTimeout: 4 * time.Second})
	took := time.Since(start)
	t.Logf("the other laptop: %v after %v", err, took)
	require.Error(t, err)
	require.Less(t, took, 2*time.Second, "the other laptop was held behind the probe: %v", err)
	require.Contains(t, err.Error(), "503")
	<-probing
}
