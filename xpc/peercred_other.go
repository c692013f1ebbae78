//go:build !linux && !darwin && !freebsd && !dragonfly

package xpc

import "net"

// peerCred cannot read credentials on this system (Windows AF_UNIX has no
// SO_PEERCRED): every field is -1, and a PeerCheck sees that.
func peerCred(*net.UnixConn) PeerInfo {
	return PeerInfo{PID: -1, UID: -1, GID: -1, ASID: -1}
}
