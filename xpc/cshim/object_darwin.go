package cshim

/*
#cgo CFLAGS: -fblocks -Wall
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

var (
	// ErrReleased is returned when an Object is used after Release.
	ErrReleased = errors.New("cshim: xpc object already released")
	// ErrTooLarge is wrapped by conversion errors of messages over the
	// size limit.
	ErrTooLarge = errors.New("cshim: message too large")
)

// live counts Objects that hold a reference.
var live atomic.Int64

// LiveObjects returns how many Objects hold a reference right now: the
// leak check of the tests.
func LiveObjects() int64 { return live.Load() }

// Object owns one reference to an xpc_object_t. See the package
// documentation for the rules.
type Object struct {
	mu      sync.RWMutex // held shared while the pointer is in use
	p       unsafe.Pointer
	cleanup runtime.Cleanup
}

// leakedObject is the safety net: an Object dropped without Release.
func leakedObject(p unsafe.Pointer) {
	C.goxpc_release(C.xpc_object_t(p))
	live.Add(-1)
}

// adopt takes over a reference that the C side returned retained. It
// returns nil for NULL.
func adopt(p C.xpc_object_t) *Object {
	if p == nil {
		return nil
	}
	o := &Object{p: unsafe.Pointer(p)}
	live.Add(1)
	o.cleanup = runtime.AddCleanup(o, leakedObject, unsafe.Pointer(p))
	return o
}

// Retain returns a new Object with its own reference to the same xpc
// object, or nil if o was released.
func (o *Object) Retain() *Object {
	if o == nil {
		return nil
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.p == nil {
		return nil
	}
	C.goxpc_retain(C.xpc_object_t(o.p))
	return adopt(C.xpc_object_t(o.p))
}

// Release gives the reference back. Only the first call does anything; it
// waits for calls using the pointer to finish.
func (o *Object) Release() {
	if o == nil {
		return
	}
	o.mu.Lock()
	p := o.p
	o.p = nil
	o.mu.Unlock()
	if p == nil {
		return
	}
	o.cleanup.Stop()
	C.goxpc_release(C.xpc_object_t(p))
	live.Add(-1)
}

// take transfers o's reference to a C function that consumes it, without a
// cgo call of its own.
func (o *Object) take() (C.xpc_object_t, bool) {
	o.mu.Lock()
	p := o.p
	o.p = nil
	o.mu.Unlock()
	if p == nil {
		return nil, false
	}
	o.cleanup.Stop()
	live.Add(-1)
	return C.xpc_object_t(p), true
}

// Use calls f with the xpc_object_t while o holds its reference. f must
// not keep or release the pointer.
func (o *Object) Use(f func(p unsafe.Pointer) error) error {
	if o == nil {
		return ErrReleased
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.p == nil {
		return ErrReleased
	}
	return f(o.p)
}

// acquire returns the pointer with o read-locked; the caller must call
// o.mu.RUnlock. ok is false (and nothing is locked) once released.
func (o *Object) acquire() (p C.xpc_object_t, ok bool) {
	o.mu.RLock()
	if o.p == nil {
		o.mu.RUnlock()
		return nil, false
	}
	return C.xpc_object_t(o.p), true
}

// String identifies the object for logs.
func (o *Object) String() string {
	if o == nil {
		return "<nil xpc object>"
	}
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.p == nil {
		return "<released xpc object>"
	}
	return fmt.Sprintf("xpc object %p", o.p)
}

// Payload is a received message in package xpc's wire format, with the
// descriptors and endpoints it refers to. The receiver owns FDs (it must
// close them) and Endpoints.
type Payload struct {
	Wire      []byte
	FDs       []int
	Endpoints []*Object
	// Unsupported counts objects of types the wire format lacks, which
	// arrived as null; UnsupportedType names the first.
	Unsupported     int
	UnsupportedType string
}

// Close closes the descriptors and releases the endpoints of a payload
// nobody took.
func (p *Payload) Close() {
	for _, fd := range p.FDs {
		syscall.Close(fd)
	}
	for _, e := range p.Endpoints {
		e.Release()
	}
	p.FDs, p.Endpoints = nil, nil
}

// payloadFrom copies a walked payload into Go memory and takes over its
// descriptors and endpoints. The C side frees the arrays afterwards.
func payloadFrom(p *C.goxpc_payload) (Payload, error) {
	if p.err[0] != 0 {
		if p.too_large != 0 {
			return Payload{}, fmt.Errorf("%w: %s", ErrTooLarge, C.GoString(&p.err[0]))
		}
		return Payload{}, errors.New(C.GoString(&p.err[0]))
	}
	out := Payload{Wire: append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(p.buf)), p.len)...)}
	if p.nfds > 0 {
		for _, fd := range unsafe.Slice(p.fds, p.nfds) {
			out.FDs = append(out.FDs, int(fd))
		}
	}
	if p.neps > 0 {
		for _, e := range unsafe.Slice(p.eps, p.neps) {
			out.Endpoints = append(out.Endpoints, adopt(e))
		}
	}
	if p.nunsupported > 0 {
		out.Unsupported = int(p.nunsupported)
		out.UnsupportedType = C.GoString(&p.unsupported[0])
	}
	return out, nil
}

// Walk converts a dictionary object into the wire format (one C call), for
// tests and benchmarks; connections convert inside their callbacks.
func Walk(o *Object, maxSize int) (Payload, error) {
	p, ok := o.acquire()
	if !ok {
		return Payload{}, ErrReleased
	}
	defer o.mu.RUnlock()
	var pl C.goxpc_payload
	pl.max = C.size_t(maxSize)
	C.goxpc_walk(p, &pl)
	defer C.goxpc_payload_free(&pl)
	return payloadFrom(&pl)
}

// attachments are the C arrays a send needs, built from Go values.
type attachments struct {
	fds []C.int
	eps []C.xpc_object_t
}

func (a *attachments) fdPtr() *C.int {
	if len(a.fds) == 0 {
		return nil
	}
	return &a.fds[0]
}

func (a *attachments) epPtr() *C.xpc_object_t {
	if len(a.eps) == 0 {
		return nil
	}
	return &a.eps[0]
}

// withAttachments calls f with the C arrays for fds and eps. The endpoint
// Objects must not be released during the call (package xpc releases
// endpoints only through their cleanup, which KeepAlive holds off).
func withAttachments(fds []int, eps []*Object, f func(a *attachments) error) error {
	a := &attachments{}
	for _, fd := range fds {
		a.fds = append(a.fds, C.int(fd))
	}
	for i, e := range eps {
		p, ok := e.acquire()
		if !ok {
			return fmt.Errorf("endpoint %d: %w", i, ErrReleased)
		}
		e.mu.RUnlock()
		a.eps = append(a.eps, p)
	}
	err := f(a)
	runtime.KeepAlive(eps)
	return err
}

// BuildError reports wire bytes that the C builder refused.
type BuildError struct{ Reason string }

func (e *BuildError) Error() string { return "cshim: cannot build xpc message: " + e.Reason }

func wirePtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// Build converts wire bytes into a new xpc dictionary (one C call). fds
// are borrowed (libxpc duplicates them); eps are referenced by index.
func Build(wire []byte, fds []int, eps []*Object) (*Object, error) {
	var o *Object
	err := withAttachments(fds, eps, func(a *attachments) error {
		var errbuf [160]C.char
		p := C.goxpc_build(wirePtr(wire), C.size_t(len(wire)), a.fdPtr(), C.size_t(len(a.fds)),
			a.epPtr(), C.size_t(len(a.eps)), &errbuf[0], C.size_t(len(errbuf)))
		if p == nil {
			return &BuildError{Reason: C.GoString(&errbuf[0])}
		}
		o = adopt(p)
		return nil
	})
	return o, err
}
