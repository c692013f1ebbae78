package xpc

import (
	"context"
	"fmt"
	"sync"
	"unsafe"
)

// This file is the seam between the public API and the two backends: libxpc
// on darwin (backend_darwin.go) and Unix domain sockets elsewhere
// (backend_portable.go). Each backend provides the functions declared at the
// bottom as variables' implementations, with these types:
//
//   - transport: one connection. It is created inactive; the public layer
//     wires it to a Conn and then calls activate, so no message can arrive
//     before its handler is in place.
//   - events: what a transport reports back (implemented by *Conn).
//   - listenerImpl: a listening service; new peers go through an acceptor
//     before they are activated.
//
// Messages cross the seam encoded (outgoing) and decoded (incoming), so the
// wire codec and its limits serve both backends.

// outgoing is an encoded message ready to send.
type outgoing struct {
	payload []byte      // encodeMessage output
	att     attachments // descriptors and endpoints the payload refers to
	// buf is the pooled buffer payload lives in; the backend may reuse
	// the bytes before payload for framing (see frameHeaderSize).
	buf *[]byte
	// ctx, if not nil, bounds how long the backend may wait to hand the
	// message over (a peer that does not read fills the socket buffer).
	// A message already partly written is finished and counts as sent.
	ctx context.Context
}

// incoming is a decoded message.
type incoming struct {
	body  Dict
	reply replier    // nil unless the peer waits for a reply
	raw   rawMessage // the native message (darwin); nil elsewhere
}

// replier answers one incoming message. The public layer calls exactly one
// of sendReply or discard, exactly once.
type replier interface {
	sendReply(out *outgoing) error
	discard()
}

// rawMessage is a backend's native message object, kept alive while the
// handler runs so that callers can identify its sender.
type rawMessage interface {
	use(f func(obj unsafe.Pointer) error) error
	release()
}

// transport is one connection of a backend.
type transport interface {
	// activate starts event delivery to ev. It is called exactly once.
	activate(ev events)
	// send queues a one-way message.
	send(out *outgoing) error
	// request sends a message that wants a reply. If it returns nil, done
	// is called exactly once, with the reply or with a connection error;
	// otherwise done is never called.
	request(out *outgoing, done func(Dict, error)) error
	// peer describes the process at the other end.
	peer() PeerInfo
	// cancel closes the connection. It is idempotent; pending requests
	// complete with an error, and no event is delivered after it returns
	// other than those already running.
	cancel()
	// describe names the connection for errors and logs.
	describe() string
}

// events receives what happens on a transport.
type events interface {
	// deliver hands over an incoming message. Calls are serialized per
	// connection and may block to apply back-pressure.
	deliver(in *incoming)
	// connError reports a connection error. Errors of kind ErrInterrupted
	// or ErrTerminationImminent may repeat; any other kind is final.
	connError(err *Error)
}

// acceptor admits a new peer of a listener before it is activated.
type acceptor interface {
	accept(t transport) (events, error)
}

// listenerImpl is a listening service in a backend.
type listenerImpl interface {
	endpoint() (*Endpoint, error)
	describe() string
	// close stops accepting. Peers already accepted are not closed.
	close() error
	// terminationImminent tells every peer that this process is about to
	// stop serving, where the backend can.
	terminationImminent()
}

// The backend entry points, implemented once per backend; these lines make
// the compiler check their signatures.
var (
	_ func(ctx context.Context, name string, cfg *Config) (transport, error)                  = dialService
	_ func(ctx context.Context, ep *Endpoint, cfg *Config) (transport, error)                 = dialEndpoint
	_ func(ctx context.Context, name string, cfg *Config, acc acceptor) (listenerImpl, error) = listenService
	_ func(ctx context.Context, cfg *Config, acc acceptor) (listenerImpl, error)              = listenAnonymous
)

// headroom is how many bytes encodeOutgoing leaves free before the payload,
// so a backend can put its frame header there and write once.
const headroom = 24

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// encodeOutgoing encodes body into a pooled buffer.
func encodeOutgoing(body Dict) (*outgoing, error) {
	bp := bufPool.Get().(*[]byte)
	buf := (*bp)[:headroom]
	out := &outgoing{buf: bp}
	buf, err := encodeMessage(buf, body, &out.att)
	if err != nil {
		bufPool.Put(bp)
		return nil, err
	}
	*bp = buf
	out.payload = buf[headroom:]
	return out, nil
}

// frame returns the payload with n bytes of headroom before it.
func (o *outgoing) frame(n int) []byte {
	return (*o.buf)[headroom-n:]
}

// free returns the buffer to the pool; the backend calls it once the
// payload has been written or copied.
func (o *outgoing) free() {
	if o.buf == nil {
		return
	}
	if cap(*o.buf) <= 1<<20 {
		bufPool.Put(o.buf)
	}
	o.buf, o.payload = nil, nil
}

// Encode returns the wire encoding of body (the RemoteXPC object format
// described in the package documentation), for logging, dumps and tests.
// Messages with file descriptors or endpoints cannot be encoded standalone.
func Encode(body Dict) ([]byte, error) {
	var att attachments
	b, err := encodeMessage(nil, body, &att)
	if err != nil {
		return nil, err
	}
	if att.count() > 0 {
		return nil, &EncodeError{Reason: "file descriptors and endpoints only travel inside a connection"}
	}
	return b, nil
}

// Decode parses the wire encoding of a message. It enforces MaxDepth and
// never panics on malformed input; errors wrap ErrMalformed.
func Decode(b []byte) (Dict, error) {
	if len(b) > DefaultMaxMessageSize {
		return nil, &DecodeError{Reason: fmt.Sprintf("%d bytes exceeds the %d byte limit", len(b), DefaultMaxMessageSize)}
	}
	return decodeMessage(b, nil)
}
