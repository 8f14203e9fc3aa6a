package agent

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stepSched is a Scheduler whose every Block runs the next of steps (a
// holder letting its lock go, or holding on) and then jumps its time past
// any sleep: holdLock's looks, one after another, without real time.
type stepSched struct {
	now   time.Time
	steps []func()
}

func (s *stepSched) Block(ready func() bool) {
	if len(s.steps) > 0 {
		s.steps[0]()
		s.steps = s.steps[1:]
	}
	s.now = s.now.Add(time.Hour)
	if !ready() {
		panic("stepSched: a sleep not over after an hour")
	}
}
func (s *stepSched) Now() time.Time     { return s.now }
func (s *stepSched) Int64N(int64) int64 { return 0 }

// A sync command that meets the sync lock held for a moment only (a
// Watch's look at it, syncCommandRuns) takes it at its next look and
// tells no wait: it told the volunteer another sync was running when none
// was. Held across two looks, the wait is told, once.
func TestHoldLockTellsAWaitOnlyPastAMomentsHold(t *testing.T) {
	for _, tc := range []struct {
		name  string
		looks int // the looks that find the lock held
		told  int32
	}{{"a Watch's look", 1, 0}, {"another command", 2, 1}, {"a long one", 5, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "replica.db.sync-lock")
			unlock, ok, err := tryLockFile(path)
			require.NoError(t, err)
			require.True(t, ok)
			sch := &stepSched{now: time.Unix(0, 0)}
			for i := 1; i < tc.looks; i++ {
				sch.steps = append(sch.steps, func() {})
			}
			sch.steps = append(sch.steps, unlock)
			var told int32
			opts := &SyncOptions{Sched: sch, OnWait: func() { told++ }}
			release, held, err := holdLock(context.Background(), opts, path, syncLockPoll)
			require.NoError(t, err)
			require.True(t, held)
			release()
			require.Equal(t, tc.told, told)
			require.Empty(t, sch.steps, "every look made")
		})
	}
}
