//go:build freebsd || dragonfly

package xpc

import "golang.org/x/sys/unix"

func fillPeerCred(fd int, info *PeerInfo) {
	if x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED); err == nil {
		info.UID = int(x.Uid)
		if x.Ngroups > 0 {
			info.GID = int(x.Groups[0])
		}
	}
}
