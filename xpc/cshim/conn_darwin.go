package cshim

/*
#include <errno.h>
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// ErrorKind classifies an XPC error object.
type ErrorKind int

// The XPC error objects package xpc maps to its sentinels.
const (
	ErrNone            ErrorKind = C.GOXPC_ERR_NONE
	ErrInterrupted     ErrorKind = C.GOXPC_ERR_INTERRUPTED      // XPC_ERROR_CONNECTION_INTERRUPTED
	ErrInvalid         ErrorKind = C.GOXPC_ERR_INVALID          // XPC_ERROR_CONNECTION_INVALID
	ErrTermination     ErrorKind = C.GOXPC_ERR_TERMINATION      // XPC_ERROR_TERMINATION_IMMINENT
	ErrPeerRequirement ErrorKind = C.GOXPC_ERR_PEER_REQUIREMENT // XPC_ERROR_PEER_CODE_SIGNING_REQUIREMENT
	ErrOther           ErrorKind = C.GOXPC_ERR_OTHER            // an error object we do not know
)

// Message is an incoming message, owned by the receiver.
type Message struct {
	Object  *Object // the message itself, retained
	Reply   *Object // the reply dictionary to fill, nil unless the peer waits
	Payload Payload
	Err     error // the message could not be converted; Payload is empty
}

// Discard releases everything m owns without answering.
func (m *Message) Discard() {
	m.Object.Release()
	m.Reply.Release()
	m.Payload.Close()
}

// Reply is the outcome of a request: a payload, or an error kind.
type Reply struct {
	Payload     Payload
	Kind        ErrorKind // ErrNone for a reply message
	Description string    // XPC_ERROR_KEY_DESCRIPTION of an error
	Err         error     // the reply could not be converted
}

// Handler receives a connection's events, one at a time, on the
// connection's dispatch queue.
type Handler interface {
	// HandleMessage takes ownership of m.
	HandleMessage(m Message)
	// HandleError reports an error event. ErrInvalid is the last event of
	// a connection: after it returns, the Conn has released its object.
	HandleError(kind ErrorKind, description string)
	// HandlePeer hands over a new, inactive peer of a listener. The
	// handler must Activate, Reject or Discard it.
	HandlePeer(peer *Conn)
}

// Conn is an xpc_connection_t with its event plumbing.
type Conn struct {
	obj     *Object
	state   *connState
	handle  cgo.Handle // set by Activate; deleted after the final event
	handler Handler

	cancelOnce sync.Once
	finishOnce sync.Once
	done       chan struct{} // closed after the final event
}

// connState is what the safety-net cleanup of a connection needs to know.
type connState struct{ activated atomic.Bool }

// leakedConn is the safety net of a dropped Conn: an inactive connection
// must be activated and cancelled before its last release.
func leakedConn(a connCleanup) {
	if !a.st.activated.Load() {
		C.goxpc_discard(C.xpc_object_t(a.p))
	}
	C.goxpc_release(C.xpc_object_t(a.p))
	live.Add(-1)
}

type connCleanup struct {
	p  unsafe.Pointer
	st *connState
}

func newConn(p C.xpc_object_t) *Conn {
	if p == nil {
		return nil
	}
	st := &connState{}
	o := &Object{p: unsafe.Pointer(p)}
	live.Add(1)
	o.cleanup = runtime.AddCleanup(o, leakedConn, connCleanup{unsafe.Pointer(p), st})
	return &Conn{obj: o, state: st, done: make(chan struct{})}
}

// NewMachService returns an inactive connection to (or, with listener, a
// listener for) the Mach service name.
func NewMachService(name string, listener, privileged bool) *Conn {
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return newConn(C.goxpc_conn_mach(cs, cbool(listener), cbool(privileged)))
}

// NewAnonymousListener returns an inactive anonymous listener.
func NewAnonymousListener() *Conn { return newConn(C.goxpc_conn_anonymous()) }

// NewFromEndpoint returns an inactive connection to the listener behind ep.
func NewFromEndpoint(ep *Object) (*Conn, error) {
	p, ok := ep.acquire()
	if !ok {
		return nil, ErrReleased
	}
	defer ep.mu.RUnlock()
	return newConn(C.goxpc_conn_from_endpoint(p)), nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Endpoint creates an endpoint for a listener.
func (c *Conn) Endpoint() (*Object, error) {
	p, ok := c.obj.acquire()
	if !ok {
		return nil, ErrReleased
	}
	defer c.obj.mu.RUnlock()
	return adopt(C.goxpc_endpoint_create(p)), nil
}

// SetPeerRequirement calls xpc_connection_set_peer_code_signing_requirement
// (macOS 12 and later). It must be called before Activate, at most once.
func (c *Conn) SetPeerRequirement(req string) error {
	p, ok := c.obj.acquire()
	if !ok {
		return ErrReleased
	}
	defer c.obj.mu.RUnlock()
	cs := C.CString(req)
	defer C.free(unsafe.Pointer(cs))
	switch rc := C.goxpc_set_requirement(p, cs); rc {
	case 0:
		return nil
	case C.ENOTSUP:
		return fmt.Errorf("xpc_connection_set_peer_code_signing_requirement needs macOS 12 or later: %w", errors.ErrUnsupported)
	default:
		return fmt.Errorf("xpc_connection_set_peer_code_signing_requirement: %w", syscall.Errno(rc))
	}
}

// Activate sets h as the event handler, gives the connection its own
// serial queue, and activates it. maxSize bounds converted messages.
func (c *Conn) Activate(h Handler, maxSize int) {
	p, ok := c.obj.acquire()
	if !ok {
		return
	}
	defer c.obj.mu.RUnlock()
	c.handler = h
	c.handle = cgo.NewHandle(c)
	c.state.activated.Store(true)
	C.goxpc_activate(p, C.uintptr_t(c.handle), C.size_t(maxSize))
}

// Reject serves an inactive peer that must not be admitted: each request
// it sends is answered with a dictionary holding only key = reason, then
// it is cancelled. The Conn is released.
func (c *Conn) Reject(key, reason string) {
	if p, ok := c.obj.acquire(); ok {
		ck, cr := C.CString(key), C.CString(reason)
		c.state.activated.Store(true)
		C.goxpc_reject(p, ck, cr)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cr))
		c.obj.mu.RUnlock()
	}
	c.obj.Release()
	c.finishOnce.Do(func() { close(c.done) })
}

// Discard ends a connection that was never activated and releases it.
func (c *Conn) Discard() {
	if p, ok := c.obj.acquire(); ok {
		if !c.state.activated.Swap(true) {
			C.goxpc_discard(p)
		}
		c.obj.mu.RUnlock()
	}
	c.obj.Release()
	c.finishOnce.Do(func() { close(c.done) })
}

// Cancel cancels an activated connection; the final ErrInvalid event
// follows. It is idempotent.
func (c *Conn) Cancel() {
	c.cancelOnce.Do(func() {
		if p, ok := c.obj.acquire(); ok {
			C.goxpc_cancel(p)
			c.obj.mu.RUnlock()
		}
	})
}

// OnQueue reports whether the caller runs on this connection's queue,
// inside one of its events (where waiting for the final event would wait
// for itself).
func (c *Conn) OnQueue() bool {
	return c.handle != 0 && C.goxpc_on_queue(C.uintptr_t(c.handle)) != 0
}

// Done is closed after the final event has been handled and the
// connection released.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Wait waits up to timeout for the final event. It returns at once, false,
// when called on the connection's own queue.
func (c *Conn) Wait(timeout time.Duration) bool {
	if c.OnQueue() {
		return false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// finish runs after the final event, delivered through handle h: no
// callback can reach c any more.
func (c *Conn) finish(h cgo.Handle) {
	c.finishOnce.Do(func() {
		h.Delete()
		c.obj.Release()
		close(c.done)
	})
}

// Peer returns the peer's pid, effective uid and gid and audit session.
// ok is false once the connection is released.
func (c *Conn) Peer() (pid, uid, gid, asid int, ok bool) {
	p, ok := c.obj.acquire()
	if !ok {
		return 0, 0, 0, 0, false
	}
	defer c.obj.mu.RUnlock()
	var cp, cu, cg, ca C.int
	C.goxpc_peer(p, &cp, &cu, &cg, &ca)
	return int(cp), int(cu), int(cg), int(ca), true
}

// ParentPID returns getppid(): 1 when launchd started this process.
func ParentPID() int { return int(C.goxpc_parent_pid()) }

// Send builds wire into a message and sends it (one C call).
func (c *Conn) Send(wire []byte, fds []int, eps []*Object) error {
	p, ok := c.obj.acquire()
	if !ok {
		return ErrReleased
	}
	defer c.obj.mu.RUnlock()
	return withAttachments(fds, eps, func(a *attachments) error {
		var errbuf [160]C.char
		if C.goxpc_send(p, wirePtr(wire), C.size_t(len(wire)), a.fdPtr(), C.size_t(len(a.fds)),
			a.epPtr(), C.size_t(len(a.eps)), &errbuf[0], C.size_t(len(errbuf))) != 0 {
			return &BuildError{Reason: C.GoString(&errbuf[0])}
		}
		return nil
	})
}

// SendRequest sends a message that wants a reply. If it returns nil, done
// is called exactly once, on a GCD thread, with the reply or an error;
// otherwise done is never called.
func (c *Conn) SendRequest(wire []byte, fds []int, eps []*Object, maxSize int, done func(Reply)) error {
	p, ok := c.obj.acquire()
	if !ok {
		return ErrReleased
	}
	defer c.obj.mu.RUnlock()
	h := cgo.NewHandle(done)
	err := withAttachments(fds, eps, func(a *attachments) error {
		var errbuf [160]C.char
		if C.goxpc_send_request(p, wirePtr(wire), C.size_t(len(wire)), a.fdPtr(), C.size_t(len(a.fds)),
			a.epPtr(), C.size_t(len(a.eps)), C.uintptr_t(h), C.size_t(maxSize), &errbuf[0], C.size_t(len(errbuf))) != 0 {
			return &BuildError{Reason: C.GoString(&errbuf[0])}
		}
		return nil
	})
	if err != nil {
		h.Delete() // no reply block was registered
	}
	return err
}

// SendReply fills reply (from Message.Reply) with wire and sends it on c
// (one C call, which also releases reply). reply is released either way.
func (c *Conn) SendReply(reply *Object, wire []byte, fds []int, eps []*Object) error {
	defer reply.Release() // a no-op once taken
	p, ok := c.obj.acquire()
	if !ok {
		return ErrReleased
	}
	defer c.obj.mu.RUnlock()
	return withAttachments(fds, eps, func(a *attachments) error {
		rp, ok := reply.take()
		if !ok {
			return ErrReleased
		}
		var errbuf [160]C.char
		if C.goxpc_send_reply(p, rp, wirePtr(wire), C.size_t(len(wire)), a.fdPtr(), C.size_t(len(a.fds)),
			a.epPtr(), C.size_t(len(a.eps)), &errbuf[0], C.size_t(len(errbuf))) != 0 {
			return &BuildError{Reason: C.GoString(&errbuf[0])}
		}
		return nil
	})
}
