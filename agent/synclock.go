package agent

import (
	"cmp"
	"context"
	"errors"
	"time"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The sync lock keeps two processes of one data folder from cutting each
// other's sessions. The server keeps one session per device: a second
// session of this folder replaces the first. A volunteer who ran
// hamlet-agent sync with the app open replaced the app's live session;
// the app, told so, connected again a second later and replaced the
// command's in turn, and a command whose session outlasted that second (a
// slow link, a loaded laptop) failed saying another sync had started. So
// a sync command holds the lock while its records sync (not its photos,
// which travel over HTTP outside any session), and waits for another
// command that holds it; Watch (the app, sync --watch) only looks, before
// each session, and waits while a command has it. The lock is the
// operating system's on a file beside the replica: a process killed
// holds none. A file system that cannot lock syncs as before.

// syncLockPoll is how often a waiting sync looks at the lock again.
const syncLockPoll = 250 * time.Millisecond

// syncLockPath is the lock file of the replica in path ("" when it has
// none: a replica in memory).
func syncLockPath(path string) string { return lockPath(path, ".sync-lock") }

// lockPath is the lock file named suffix beside the replica in path, ""
// for a replica in memory.
func lockPath(path, suffix string) string {
	if path == "" || path == ":memory:" {
		return ""
	}
	return path + suffix
}

// watchLockPath is the lock a Watch holds for as long as it runs: one
// Watch of a folder syncs at a time. The app and sync --watch in a
// terminal, open at once, took the device's session from each other
// every time either connected again, each telling its volunteer the
// other had started a sync; the second now waits for the first to end.
func watchLockPath(path string) string { return lockPath(path, ".watch-lock") }

// holdSyncLock takes the sync lock for a sync command, waiting while
// another command of this folder holds it; release gives it back. held
// is false when this file system cannot lock (nothing is held).
func (r *Replica) holdSyncLock(ctx context.Context, opts *SyncOptions) (release func(), held bool, err error) {
	if opts.unlocked {
		return func() {}, false, nil
	}
	return holdLock(ctx, opts, syncLockPath(r.path), syncLockPoll)
}

// holdWatchLock takes the watch lock for Watch, waiting (and telling
// OnWait) while another Watch of this folder holds it.
func (r *Replica) holdWatchLock(ctx context.Context, opts *SyncOptions) (release func(), err error) {
	release, _, err = holdLock(ctx, opts, watchLockPath(r.path), watchLockPoll)
	return release, err
}

// watchLockPoll is how often a Watch waiting for another looks again: it
// may wait for hours (the app open all day beside sync --watch).
const watchLockPoll = time.Second

// holdLock takes the lock file at path ("": none), looking again every
// poll while another holds it, and tells opts.OnWait once when it finds
// it held at its second look: at the first, the holder may be a Watch's
// look at the sync lock (syncCommandRuns takes it for a moment), and a
// command told the volunteer another sync was running when none was.
// held is false when this file system cannot lock.
func holdLock(ctx context.Context, opts *SyncOptions, path string, poll time.Duration) (release func(), held bool, err error) {
	for looks := 1; path != ""; looks++ {
		unlock, ok, lerr := tryLockFile(path)
		if lerr != nil {
			break
		}
		if ok {
			return unlock, true, nil
		}
		if looks == 2 && opts.OnWait != nil {
			opts.OnWait()
		}
		if err := opts.sleep(ctx, poll); err != nil {
			return func() {}, false, err
		}
	}
	return func() {}, false, nil
}

// syncCommandRuns reports whether a sync command of this folder holds the
// sync lock now.
func (r *Replica) syncCommandRuns() bool {
	path := syncLockPath(r.path)
	if path == "" {
		return false
	}
	unlock, ok, err := tryLockFile(path)
	if err != nil {
		return false
	}
	if ok {
		unlock()
	}
	return !ok
}

// commandWaitMax bounds how long Watch waits for a sync command before
// it syncs all the same: a command that is alive but stopped (Ctrl+Z; on
// Windows, a click into its console window, which freezes it at its next
// write) holds the lock, and the app would stop syncing without a word
// for as long. A command's sync takes seconds; a clone on a slow link,
// minutes.
const commandWaitMax = 10 * time.Minute

// waitForSyncCommand waits while a sync command of this folder runs (a
// session of Watch's now would replace the command's), telling
// opts.OnWait when it begins to, for at most commandWaitMax. It returns
// ctx's error if ctx ends first.
func (r *Replica) waitForSyncCommand(ctx context.Context, opts *SyncOptions) error {
	if !r.syncCommandRuns() {
		return nil
	}
	if opts.OnWait != nil {
		opts.OnWait()
	}
	until := opts.ioNow().Add(cmp.Or(opts.commandWait, commandWaitMax))
	for opts.ioNow().Before(until) && r.syncCommandRuns() {
		if err := opts.sleep(ctx, syncLockPoll); err != nil {
			return err
		}
	}
	return nil
}

// sessionReplaced: the server ended the session because another session
// of this device started.
func sessionReplaced(err error) bool {
	var se *ServerError
	return errors.As(err, &se) && se.Code == syncproto.CodeSessionReplaced
}
