//go:build freebsd || dragonfly

package xpc

import "net"

// peerCred reads the peer's credentials with getpeereid(2) semantics
// (LOCAL_PEERCRED / SO_PEERCRED, through x/sys/unix); the pid is reported
// where the system provides it.
func peerCred(c *net.UnixConn) PeerInfo {
	info := PeerInfo{PID: -1, UID: -1, GID: -1, ASID: -1}
	raw, err := c.SyscallConn()
	if err != nil {
		return info
	}
	raw.Control(func(fd uintptr) { fillPeerCred(int(fd), &info) })
	return info
}
