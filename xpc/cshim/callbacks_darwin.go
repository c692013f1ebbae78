package cshim

// The Go functions the C side calls from dispatch queues. This file only
// declares C (a file with //export must not define C functions).

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
)

//export goxpcMessage
func goxpcMessage(h C.uintptr_t, msg, reply C.xpc_object_t, p *C.goxpc_payload) {
	c := cgo.Handle(h).Value().(*Conn)
	m := Message{Object: adopt(msg), Reply: adopt(reply)}
	m.Payload, m.Err = payloadFrom(p)
	c.handler.HandleMessage(m)
}

//export goxpcPeer
func goxpcPeer(h C.uintptr_t, peer C.xpc_object_t) {
	c := cgo.Handle(h).Value().(*Conn)
	c.handler.HandlePeer(newConn(peer))
}

//export goxpcError
func goxpcError(h C.uintptr_t, kind C.int, desc *C.char) {
	c := cgo.Handle(h).Value().(*Conn)
	d := ""
	if desc != nil {
		d = C.GoString(desc)
	}
	c.handler.HandleError(ErrorKind(kind), d)
	if ErrorKind(kind) == ErrInvalid {
		// libxpc delivers nothing after XPC_ERROR_CONNECTION_INVALID.
		c.finish(cgo.Handle(h))
	}
}

//export goxpcReply
func goxpcReply(h C.uintptr_t, kind C.int, desc *C.char, p *C.goxpc_payload) {
	handle := cgo.Handle(h)
	done := handle.Value().(func(Reply))
	handle.Delete() // the reply block runs exactly once
	r := Reply{Kind: ErrorKind(kind)}
	if desc != nil {
		r.Description = C.GoString(desc)
	}
	if p != nil {
		r.Payload, r.Err = payloadFrom(p)
	} else if r.Kind == ErrNone {
		r.Err = errors.New("reply without a payload")
	}
	done(r)
}
