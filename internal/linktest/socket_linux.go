package linktest

import "syscall"

// sockBuf is each socket's buffer: about what a 3G bottleneck queue and a
// server's autotuned send buffer hold together at these rates.
const sockBuf = 32 << 10

func smallSocket(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		if serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, segment); serr != nil {
			return
		}
		if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, sockBuf); serr != nil {
			return
		}
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, sockBuf)
	})
	if err != nil {
		return err
	}
	return serr
}
