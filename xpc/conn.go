package xpc

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Conn is one XPC connection: a client's connection to a service, or a
// listener's connection to one peer. It is safe for concurrent use.
//
// Incoming messages are handled one at a time, in order, on a goroutine of
// the Conn (as libxpc does on a connection's queue); different connections
// are handled concurrently.
type Conn struct {
	t       transport
	cfg     *Config
	handler Handler
	l       *Listener // nil for dialed connections

	ctx    context.Context // cancelled when the connection ends; passed to handlers
	cancel context.CancelFunc

	queue   chan *incoming // to the handler goroutine
	stopped chan struct{}  // closed when the handler goroutine exits
	// quiet is closed once the transport is cancelled, so no deliver can
	// follow: only then may serve drain the queue for the last time.
	quiet chan struct{}

	closeOnce sync.Once
	mu        sync.Mutex
	err       error // final error, set once
	closed    atomic.Bool
	// inflight counts messages from deliver until handled or dropped
	// (queue length plus a running handler would miss one in between).
	inflight atomic.Int64
}

// idle reports whether no message is queued or being handled.
func (c *Conn) idle() bool { return c.inflight.Load() == 0 }

func newConn(cfg *Config, h Handler, l *Listener) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		cfg:     cfg,
		handler: h,
		l:       l,
		ctx:     ctx,
		cancel:  cancel,
		queue:   make(chan *incoming, 64),
		stopped: make(chan struct{}),
		quiet:   make(chan struct{}),
	}
	return c
}

// start activates the transport once the Conn is fully wired.
func (c *Conn) start(t transport) {
	c.t = t
	go c.serve()
	t.activate(c)
}

// Dial connects to the Mach service name: on darwin through launchd, so the
// service must be a bootstrapped launchd job that names it in MachServices;
// elsewhere through the service's socket.
//
// On darwin, as with libxpc, a connection is looked up lazily: a service
// that does not exist is reported by the first Send or Request (ErrInvalid).
// The portable backend connects at once and reports it here; when ctx has
// no deadline it allows the connection and handshake 10 seconds.
func (cfg *Config) Dial(ctx context.Context, name string) (*Conn, error) {
	if why := validServiceName(name); why != "" {
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Service: name, Description: why}
	}
	return cfg.dial(ctx, func(ctx context.Context) (transport, error) { return dialService(ctx, name, cfg) })
}

// DialEndpoint connects to the anonymous listener that ep names.
func (cfg *Config) DialEndpoint(ctx context.Context, ep *Endpoint) (*Conn, error) {
	if ep == nil || ep.impl == nil {
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Description: "nil endpoint"}
	}
	return cfg.dial(ctx, func(ctx context.Context) (transport, error) { return dialEndpoint(ctx, ep, cfg) })
}

func (cfg *Config) dial(ctx context.Context, open func(context.Context) (transport, error)) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c := newConn(cfg, cfg.Handler, nil)
	t, err := open(ctx)
	if err != nil {
		c.cancel()
		close(c.stopped)
		return nil, err
	}
	c.start(t)
	return c, nil
}

// Send sends a one-way message. It returns once the message is queued for
// the peer; delivery is not confirmed. ctx bounds the wait when the
// connection applies back-pressure.
func (c *Conn) Send(ctx context.Context, body Dict) error {
	if err := c.usable(ctx, "send"); err != nil {
		return err
	}
	out, err := c.encode(body, "send")
	if err != nil {
		return err
	}
	out.ctx = ctx
	return c.mapErr(c.t.send(out), "send")
}

// Request sends body and waits for the reply, until ctx is done. Every
// request completes exactly once: with the reply, a connection error
// (*Error), the handler's error (*RemoteError), or ctx's error. A reply that
// arrives after ctx is done is discarded.
func (c *Conn) Request(ctx context.Context, body Dict) (Dict, error) {
	if err := c.usable(ctx, "request"); err != nil {
		return nil, err
	}
	out, err := c.encode(body, "request")
	if err != nil {
		return nil, err
	}
	out.ctx = ctx
	cl := callPool.Get().(*call)
	cl.state.Store(callWaiting)
	if err := c.t.request(out, cl.done); err != nil {
		callPool.Put(cl) // done is never called
		return nil, c.mapErr(err, "request")
	}
	select {
	case r := <-cl.ch:
		callPool.Put(cl) // done was called, once: cl is free again
		if r.err != nil {
			return nil, c.mapErr(r.err, "request")
		}
		if rerr := replyError(r.body); rerr != nil {
			return r.body, rerr
		}
		return r.body, nil
	case <-ctx.Done():
		if !cl.state.CompareAndSwap(callWaiting, callAbandoned) {
			// The reply won the race: take it so that its descriptors
			// are closed, not left to the garbage collector.
			if r := <-cl.ch; r.err == nil {
				closeFiles(r.body)
			}
			callPool.Put(cl)
		}
		// An abandoned cl is left to done and the garbage collector.
		return nil, ctx.Err()
	}
}

// call is a request's rendezvous with its reply. Calls are pooled: a
// round trip would otherwise allocate the channel and the callback.
type call struct {
	ch    chan result // buffered: done never blocks
	done  func(Dict, error)
	state atomic.Int32 // callWaiting, then callDelivered or callAbandoned
}

const (
	callWaiting = iota
	callDelivered
	callAbandoned
)

var callPool = sync.Pool{New: func() any {
	cl := &call{ch: make(chan result, 1)}
	cl.done = func(d Dict, err error) {
		if cl.state.CompareAndSwap(callWaiting, callDelivered) {
			cl.ch <- result{d, err}
			return
		}
		closeFiles(d) // the requester gave up: nobody will close them
	}
	return cl
}}

type result struct {
	body Dict
	err  error
}

func (c *Conn) usable(ctx context.Context, op string) error {
	if c.closed.Load() {
		return &Error{Kind: ErrClosed, Op: op, Service: c.describe()}
	}
	if err := c.Err(); err != nil {
		return err
	}
	return ctx.Err()
}

// mapErr reports errors after a local Close as ErrClosed.
func (c *Conn) mapErr(err error, op string) error {
	if err == nil {
		return nil
	}
	if c.closed.Load() && !errors.Is(err, ErrClosed) {
		return &Error{Kind: ErrClosed, Op: op, Service: c.describe(), Err: err}
	}
	return err
}

func (c *Conn) encode(body Dict, op string) (*outgoing, error) {
	out, err := encodeOutgoing(body)
	if err != nil {
		return nil, err
	}
	if max := c.cfg.maxSize(); len(out.payload) > max {
		out.free()
		return nil, &Error{Kind: ErrTooLarge, Op: op, Service: c.describe(),
			Description: fmt.Sprintf("encoded message is %d bytes, limit %d (Config.MaxMessageSize)", len(out.payload), max)}
	}
	return out, nil
}

// Peer describes the process at the other end.
func (c *Conn) Peer() PeerInfo { return c.t.peer() }

// Listener returns the listener that accepted this connection, or nil for a
// dialed connection.
func (c *Conn) Listener() *Listener { return c.l }

// Done is closed when the connection has ended, by Close or by a final error.
func (c *Conn) Done() <-chan struct{} { return c.ctx.Done() }

// Err returns the error that ended the connection, or nil while it lives.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// String describes the connection for logs.
func (c *Conn) String() string { return "xpc.Conn(" + c.describe() + ")" }

func (c *Conn) describe() string {
	if c.t == nil {
		return "?"
	}
	return c.t.describe()
}

// Close cancels the connection. Requests in flight fail with ErrClosed, the
// handler finishes the message it is handling, and later messages are
// dropped. Close is idempotent and may be called from a handler.
func (c *Conn) Close() error {
	c.closed.Store(true)
	c.end(&Error{Kind: ErrClosed, Op: "close", Service: c.describe()})
	return nil
}

// end tears the connection down once with err as its final error.
//
// Only the first caller tears down; later callers return at once rather
// than wait inside the Once. That matters on darwin, where Close waits for
// libxpc's final event while that event's own connError calls end.
func (c *Conn) end(err *Error) {
	first := false
	c.closeOnce.Do(func() {
		first = true
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		c.cancel()
	})
	if !first {
		return
	}
	if c.t != nil {
		c.t.cancel()
	}
	close(c.quiet)
	if c.l != nil {
		c.l.remove(c)
	}
}

// connError implements events.
func (c *Conn) connError(err *Error) {
	final := !errors.Is(err, ErrInterrupted) && !errors.Is(err, ErrTerminationImminent)
	if final {
		if c.closed.Load() {
			return
		}
		c.end(err)
	}
	if c.cfg.OnError != nil {
		go c.cfg.OnError(c, err)
	}
}

// deliver implements events: it queues in for the handler goroutine,
// blocking while the queue is full, until the connection ends.
func (c *Conn) deliver(in *incoming) {
	c.inflight.Add(1)
	select {
	case c.queue <- in:
	case <-c.ctx.Done():
		in.drop()
		c.inflight.Add(-1)
	}
}

// serve runs the handler for each queued message, in order.
func (c *Conn) serve() {
	defer close(c.stopped)
	for {
		select {
		case in := <-c.queue:
			c.handle(in)
			c.inflight.Add(-1)
		case <-c.ctx.Done():
			// Messages that arrived before the peer went away are still
			// handled, in order, as libxpc delivers them before the
			// connection's final error; after a local Close they are dropped.
			// A deliver racing the end may still queue one (its select
			// sees both cases ready), so drain only once the transport
			// is cancelled and delivers no more.
			<-c.quiet
			for {
				select {
				case in := <-c.queue:
					if c.closed.Load() {
						in.drop()
					} else {
						c.handle(in)
					}
					c.inflight.Add(-1)
				default:
					return
				}
			}
		}
	}
}

func (in *incoming) drop() {
	if in.reply != nil {
		in.reply.discard()
	}
	if in.raw != nil {
		in.raw.release()
	}
	closeFiles(in.body)
}

func (c *Conn) handle(in *incoming) {
	m := &Message{Body: in.body, Conn: c, raw: in.raw}
	defer func() {
		if in.raw != nil {
			in.raw.release()
		}
	}()
	reply, err := c.callHandler(m)
	if in.reply == nil {
		if err != nil {
			c.cfg.logger().Warn("xpc: handler error for one-way message", "conn", c.describe(), "err", err)
		}
		return
	}
	if err != nil {
		reply = errorReply(err)
	} else if reply == nil {
		reply = Dict{}
	}
	out, encErr := c.encode(reply, "reply")
	if encErr != nil {
		c.cfg.logger().Warn("xpc: cannot encode reply", "conn", c.describe(), "err", encErr)
		out, encErr = c.encode(errorReply(&RemoteError{Code: CodeInternal, Message: "reply could not be encoded: " + encErr.Error()}), "reply")
		if encErr != nil {
			in.reply.discard()
			return
		}
	}
	if err := in.reply.sendReply(out); err != nil && !c.closed.Load() {
		c.cfg.logger().Debug("xpc: reply not sent", "conn", c.describe(), "err", err)
	}
}

// callHandler runs the handler, turning a panic into an internal error.
func (c *Conn) callHandler(m *Message) (reply Dict, err error) {
	h := c.handler
	if h == nil {
		c.cfg.logger().Warn("xpc: message on a connection without a handler", "conn", c.describe())
		return nil, &RemoteError{Code: CodeUnknownMethod, Message: "this connection has no handler"}
	}
	defer func() {
		if p := recover(); p != nil {
			c.cfg.logger().Error("xpc: handler panic", "conn", c.describe(), "panic", p, "stack", string(debug.Stack()))
			reply, err = nil, &RemoteError{Code: CodeInternal, Message: "handler failed"}
		}
	}()
	return h.HandleXPC(c.ctx, m)
}
