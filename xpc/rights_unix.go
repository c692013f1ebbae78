//go:build unix && !darwin

package xpc

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
)

// rightsReader reads a Unix socket and collects the file descriptors that
// arrive with the bytes (SCM_RIGHTS), in order.
type rightsReader struct {
	c   *net.UnixConn
	oob []byte
	fds []*os.File
	err error // a descriptor-level failure, reported by takeFiles
}

func newRightsReader(c *net.UnixConn) *rightsReader {
	return &rightsReader{c: c, oob: make([]byte, syscall.CmsgSpace(maxAttachments*4))}
}

func (r *rightsReader) Read(p []byte) (int, error) {
	n, oobn, _, _, err := r.c.ReadMsgUnix(p, r.oob)
	if oobn > 0 {
		r.collect(r.oob[:oobn])
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

func (r *rightsReader) collect(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		r.err = fmt.Errorf("bad control message: %w", err)
		return
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if len(r.fds) >= maxAttachments {
				syscall.Close(fd)
				r.err = fmt.Errorf("peer sent more than %d file descriptors ahead of their messages", maxAttachments)
				continue
			}
			r.fds = append(r.fds, os.NewFile(uintptr(fd), "xpc-fd"))
		}
	}
}

// readStream reads into the buffers space returns and reports each read
// to got, until got returns false or a read fails.
//
// (A Linux-only variant that skipped the EAGAIN probe after short reads
// saved one system call per message but needed a watchdog to notice a
// peer's close merged with its last bytes; a few percent was not worth that
// subtlety, so every system uses this loop.)
func (r *rightsReader) readStream(space func() []byte, got func(n int) bool) error {
	for {
		n, err := r.Read(space())
		if n > 0 && !got(n) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// takeFiles removes the first n collected descriptors.
func (r *rightsReader) takeFiles(n int) ([]*os.File, error) {
	if r.err != nil {
		return nil, r.err
	}
	if n > len(r.fds) {
		return nil, fmt.Errorf("frame announces %d file descriptors, %d arrived", n, len(r.fds))
	}
	out := append([]*os.File(nil), r.fds[:n]...)
	r.fds = r.fds[n:]
	return out, nil
}

// closeAll closes descriptors nobody took.
func (r *rightsReader) closeAll() {
	for _, f := range r.fds {
		f.Close()
	}
	r.fds = nil
}

// writeWithFiles writes frame with the descriptors of files attached to its
// first byte, and says how many bytes went out.
func writeWithFiles(c *net.UnixConn, frame []byte, files []*os.File) (int, error) {
	fds := make([]int, len(files))
	for i, f := range files {
		// SyscallConn, unlike Fd, leaves the file's blocking mode alone.
		rc, err := f.SyscallConn()
		if err != nil {
			return 0, fmt.Errorf("file %s: %w", f.Name(), err)
		}
		rc.Control(func(fd uintptr) { fds[i] = int(fd) })
	}
	n, _, err := c.WriteMsgUnix(frame, syscall.UnixRights(fds...), nil)
	runtime.KeepAlive(files) // the descriptors must stay open until sent
	if err != nil {
		return n, err
	}
	if n < len(frame) {
		var m int
		m, err = c.Write(frame[n:])
		n += m
	}
	return n, err
}
