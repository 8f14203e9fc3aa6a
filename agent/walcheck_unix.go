//go:build unix

package agent

import (
	"os"
	"syscall"
)

// openElsewhere: another process has the replica at path open. SQLite's
// unix VFS holds a shared lock on the -shm file's byte 128 (its DMS lock)
// for as long as a connection is open; asking for a write lock there
// says whether one does (a lock of this process is never reported, see
// openInProcess).
func openElsewhere(path string) bool {
	f, err := os.OpenFile(path+"-shm", os.O_RDWR, 0)
	if err != nil {
		return !os.IsNotExist(err) // unknown: assume it is, and check nothing
	}
	defer f.Close()
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 128, Len: 1}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk); err != nil {
		return true
	}
	return lk.Type != syscall.F_UNLCK
}
