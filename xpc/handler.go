package xpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Handler serves the messages of one connection.
//
// HandleXPC is called for each incoming message, one at a time per
// connection. If the peer waits for a reply, the returned Dict is sent as the
// reply (an empty one if nil), or, if err is non-nil, an error reply that the
// peer's Request returns as a *RemoteError; a peer is never left waiting.
// For one-way messages the result is ignored (errors are logged).
//
// ctx is cancelled when the connection ends. A handler may send a Request
// on its own connection and wait for the reply: replies do not wait for
// handlers. On the portable backend, though, a reply that the peer sent
// after more than 64 messages this connection has not handled yet waits
// behind them (the socket is read in order and the queue is bounded), so
// give such a request a ctx deadline.
type Handler interface {
	HandleXPC(ctx context.Context, m *Message) (reply Dict, err error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, m *Message) (Dict, error)

// HandleXPC calls f.
func (f HandlerFunc) HandleXPC(ctx context.Context, m *Message) (Dict, error) { return f(ctx, m) }

// Message is one incoming message.
type Message struct {
	// Body is the message. Files in it belong to the handler, which must
	// close them (or keep them).
	Body Dict
	// Conn is the connection the message came on; use it to push messages
	// back or to look at the peer.
	Conn *Conn

	raw rawMessage
}

// UseObject calls f with the native message object, for use with other cgo
// bindings (for example to identify the sender with Security.framework, as
// codesign.MessageSender does). On darwin obj is the xpc_object_t of the
// message, retained for the duration of f only: f must not keep it or
// release it. Elsewhere, and after the handler has returned, UseObject returns
// an error wrapping errors.ErrUnsupported.
func (m *Message) UseObject(f func(obj unsafe.Pointer) error) error {
	if m.raw == nil {
		return fmt.Errorf("xpc: no native message object (this backend has none, or the handler has returned): %w", errors.ErrUnsupported)
	}
	return m.raw.use(f)
}

// Mux routes requests by the string under its Key (default "method") to
// handlers registered by name. A request for a name nobody registered gets an
// error reply with code CodeUnknownMethod and the connection stays up, unlike
// an NSXPCConnection calling a selector the other side lacks.
type Mux struct {
	// Key is the dictionary key that names the method (default "method").
	Key string

	mu sync.RWMutex
	m  map[string]Handler
}

// NewMux returns an empty Mux routing on "method".
func NewMux() *Mux { return &Mux{} }

// Handle registers h for method. It panics if method is already registered,
// as http.ServeMux does, because that is a programming error.
func (x *Mux) Handle(method string, h Handler) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.m == nil {
		x.m = map[string]Handler{}
	}
	if _, dup := x.m[method]; dup {
		panic("xpc: Mux: method " + method + " registered twice")
	}
	x.m[method] = h
}

// HandleFunc registers f for method.
func (x *Mux) HandleFunc(method string, f func(ctx context.Context, m *Message) (Dict, error)) {
	x.Handle(method, HandlerFunc(f))
}

func (x *Mux) key() string {
	if x.Key == "" {
		return "method"
	}
	return x.Key
}

// HandleXPC dispatches m to the handler registered for its method.
func (x *Mux) HandleXPC(ctx context.Context, m *Message) (Dict, error) {
	name, ok := m.Body[x.key()].(string)
	if !ok {
		return nil, &RemoteError{Code: CodeBadRequest, Message: fmt.Sprintf("message has no string %q key naming the method", x.key())}
	}
	x.mu.RLock()
	h := x.m[name]
	x.mu.RUnlock()
	if h == nil {
		return nil, &RemoteError{Code: CodeUnknownMethod, Message: fmt.Sprintf("unknown method %q", name)}
	}
	return h.HandleXPC(ctx, m)
}

// HandleTyped registers a typed method on x: the request body is decoded into
// a Req with Unmarshal, and the *Resp result is encoded with Marshal. A body
// that does not decode gets an error reply with code CodeBadRequest.
func HandleTyped[Req, Resp any](x *Mux, method string, f func(ctx context.Context, req *Req) (*Resp, error)) {
	x.HandleFunc(method, func(ctx context.Context, m *Message) (Dict, error) {
		req := new(Req)
		if err := Unmarshal(m.Body, req); err != nil {
			return nil, &RemoteError{Code: CodeBadRequest, Message: err.Error()}
		}
		resp, err := f(ctx, req)
		if err != nil {
			return nil, err
		}
		if resp == nil {
			return Dict{}, nil
		}
		return Marshal(resp)
	})
}

// Call sends a typed request for method on c and decodes the reply into a
// Resp: the client side of HandleTyped. The method name is stored under
// "method"; req's fields must not use that key.
func Call[Resp, Req any](ctx context.Context, c *Conn, method string, req *Req) (*Resp, error) {
	body, err := Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, clash := body["method"]; clash {
		return nil, fmt.Errorf("xpc: Call %s: request has its own \"method\" key", method)
	}
	body["method"] = method
	reply, err := c.Request(ctx, body)
	if err != nil {
		return nil, err
	}
	resp := new(Resp)
	if err := Unmarshal(reply, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// closeFiles closes every *os.File in v, for messages nobody handled.
func closeFiles(v any) {
	switch v := v.(type) {
	case *os.File:
		v.Close()
	case Dict:
		for _, e := range v {
			closeFiles(e)
		}
	case []any:
		for _, e := range v {
			closeFiles(e)
		}
	}
}
