//go:build unix && !darwin

package xpc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// rightsReader reads a Unix socket and collects the file descriptors that
// arrive with the bytes (SCM_RIGHTS), in order.
type rightsReader struct {
	c   *net.UnixConn
	oob []byte
	fds []*os.File
	err error // a descriptor-level failure, reported by takeFiles

	// The Linux read path's watchdog (see readStream).
	skipped  atomic.Bool // a probe was skipped since the watchdog's last run
	watching atomic.Bool // the watchdog timer is set
	ended    atomic.Bool // readStream returned
	watchdog *time.Timer
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
// On Linux it reads with recvmsg inside one RawConn.Read, and after a
// short read (fewer bytes than there was room for, and no descriptors)
// waits for the socket to become readable instead of trying again first.
// That saves the system call that would fail with EAGAIN after every
// message, half of a round trip's reads. A short read on a Unix stream
// socket means its queue is empty (the kernel stops early only at
// descriptors, or at MSG_OOB data, which goxpc never sends), and the
// network poller is edge-triggered, so bytes that arrive later wake the
// reader. (RawConn.Read resets readiness only on entry, which is why the
// whole loop runs inside it.) But the poller merges the events that arrive
// between waking the reader and the reader running: if the peer's last
// bytes and its close both came then, the short read takes the bytes and
// nothing is left to signal the end of the stream. So while probes are
// being skipped, a watchdog makes the reader probe once every
// watchdogPeriod, by setting a read deadline in the past: a connection
// whose peer died is noticed within that period at worst.
func (r *rightsReader) readStream(space func() []byte, got func(n int) bool) error {
	if runtime.GOOS != "linux" {
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
	rc, err := r.c.SyscallConn()
	if err != nil {
		return err
	}
	r.watchdog = time.AfterFunc(time.Hour, r.watch)
	r.watchdog.Stop()
	defer func() {
		r.ended.Store(true)
		r.watchdog.Stop()
	}()
	var rerr error
	probe := true // try reading before waiting
	read := func(fd uintptr) bool {
		for {
			if !probe {
				probe = true
				return false // wait until readable, then read
			}
			p := space()
			n, oobn, _, _, err := syscall.Recvmsg(int(fd), p, r.oob, linuxMsgCmsgCloexec)
			if oobn > 0 {
				r.collect(r.oob[:oobn])
			}
			switch {
			case errors.Is(err, syscall.EINTR):
				continue
			case errors.Is(err, syscall.EAGAIN):
				return false
			case err != nil:
				rerr = os.NewSyscallError("recvmsg", err)
				return true
			case n == 0:
				rerr = io.EOF
				return true
			}
			if !got(n) {
				return true
			}
			probe = n == len(p) || oobn > 0
			if !probe {
				r.skipped.Store(true)
				if !r.watching.Load() && r.watching.CompareAndSwap(false, true) {
					r.watchdog.Reset(watchdogPeriod)
				}
			}
		}
	}
	for {
		err := rc.Read(read)
		if rerr != nil {
			return rerr
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return err // nil when got said stop
		}
		// The watchdog's nudge.
		if err := r.c.SetReadDeadline(time.Time{}); err != nil {
			return err
		}
		probe = true
	}
}

// watchdogPeriod bounds how late the Linux read path notices the end of a
// stream whose wake-up merged with the last bytes.
const watchdogPeriod = 5 * time.Millisecond

// watch is the watchdog timer's function: while short reads skip probes,
// it nudges the reader to probe once per period.
func (r *rightsReader) watch() {
	if r.ended.Load() {
		return
	}
	if !r.skipped.Swap(false) {
		// No probe skipped for a whole period: stop until the next one.
		r.watching.Store(false)
		if !r.skipped.Load() || !r.watching.CompareAndSwap(false, true) {
			return
		}
	}
	r.c.SetReadDeadline(time.Unix(1, 0))
	r.watchdog.Reset(watchdogPeriod)
}

// linuxMsgCmsgCloexec is Linux's MSG_CMSG_CLOEXEC (the same on every
// architecture), spelled out because this file also builds where syscall
// lacks the name; net.UnixConn.ReadMsgUnix passes it too.
const linuxMsgCmsgCloexec = 0x40000000

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
// first byte.
func writeWithFiles(c *net.UnixConn, frame []byte, files []*os.File) error {
	fds := make([]int, len(files))
	for i, f := range files {
		// SyscallConn, unlike Fd, leaves the file's blocking mode alone.
		rc, err := f.SyscallConn()
		if err != nil {
			return fmt.Errorf("file %s: %w", f.Name(), err)
		}
		rc.Control(func(fd uintptr) { fds[i] = int(fd) })
	}
	n, _, err := c.WriteMsgUnix(frame, syscall.UnixRights(fds...), nil)
	runtime.KeepAlive(files) // the descriptors must stay open until sent
	if err != nil {
		return err
	}
	if n < len(frame) {
		_, err = c.Write(frame[n:])
	}
	return err
}
