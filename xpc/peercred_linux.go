package xpc

import (
	"net"
	"syscall"
)

// peerCred reads the peer's credentials with SO_PEERCRED.
func peerCred(c *net.UnixConn) PeerInfo {
	info := PeerInfo{PID: -1, UID: -1, GID: -1, ASID: -1}
	raw, err := c.SyscallConn()
	if err != nil {
		return info
	}
	raw.Control(func(fd uintptr) {
		cred, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
		if err == nil {
			info.PID, info.UID, info.GID = int(cred.Pid), int(cred.Uid), int(cred.Gid)
		}
	})
	return info
}
