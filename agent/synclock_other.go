//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package agent

import "errors"

// tryLockFile: this system's locks are not used; syncs go on unlocked,
// as on a file system that cannot lock.
func tryLockFile(string) (func(), bool, error) {
	return nil, false, errors.ErrUnsupported
}
