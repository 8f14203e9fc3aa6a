//go:build !linux

package linktest

import "syscall"

// smallSocket leaves the sockets as they are where the MSS cannot be set
// the same way; the link's queue still bounds what is in flight.
func smallSocket(network, address string, c syscall.RawConn) error { return nil }
