//go:build unix

package agent

import (
	"io"
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

// readHead reads the start of the file at path into buf, as io.ReadFull
// would (io.EOF or io.ErrUnexpectedEOF when the file is shorter), without
// os.File: every write transaction reads the -wal's head (walHead), and
// os.Open's attempt to add a regular file to the network poller is a
// failing system call each time.
func readHead(path string, buf []byte) (int, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Pread(fd, buf[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			if n == 0 {
				return 0, io.EOF
			}
			return n, io.ErrUnexpectedEOF
		}
		n += m
	}
	return n, nil
}
