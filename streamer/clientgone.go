package streamer

import (
	"errors"
	"net"
	"syscall"
)

var errClientGone = errors.New("the client closed the connection")

// clientGone tells, without reading anything, whether the client closed its
// connection: a peek that finds the end of the stream (or an error). A
// connection that is not a TCP socket is taken to be there.
func clientGone(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var buf [1]byte
	_ = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		gone = n == 0 && err == nil || err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR)
		return true // never wait
	})
	return gone
}
