package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/hamlet-vn/hamlet/server/analytics"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/stretchr/testify/require"
)

// WarmAnalytics runs in a goroutine the server owns: Close waits for it (or
// cancels it) and never hangs, and warming a closed server does nothing.
func TestWarmAnalyticsIsOwnedByTheServer(t *testing.T) {
	ts := servertest.Start(t)
	ts.Server.WarmAnalytics()
	idx, err := ts.Server.Analytics()
	require.NoError(t, err)
	// The warmed model answers; a question racing the warm-up is served too.
	_, err = idx.Coverage(context.Background(), ts.HamletsA[0], analytics.Period{From: time.Now().AddDate(0, -1, 0), To: time.Now()})
	require.NoError(t, err)

	closed := make(chan error, 1)
	go func() { closed <- ts.Server.Close() }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on the analytics warm-up")
	}
	ts.Server.WarmAnalytics() // after Close: a no-op, no panic, no goroutine left behind
}
