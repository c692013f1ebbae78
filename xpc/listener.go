package xpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Listener accepts connections from peers and serves each with a handler.
// It knows its peers, so a server can push to any of them.
type Listener struct {
	impl listenerImpl
	cfg  *Config

	mu     sync.Mutex
	peers  map[*Conn]struct{}
	closed bool
}

// Listen serves the Mach service name.
//
// On darwin the process must have been started by launchd from a job whose
// MachServices names the service (see package launchd); otherwise libxpc
// cannot check the service in and Listen fails with ErrInvalid saying so.
// On other systems Listen creates the service's socket; a socket of a live
// listener is ErrAddrInUse, a stale one is replaced.
func (cfg *Config) Listen(ctx context.Context, name string) (*Listener, error) {
	if why := validServiceName(name); why != "" {
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Service: name, Description: why}
	}
	l := cfg.newListener()
	impl, err := listenService(ctx, name, cfg, l)
	if err != nil {
		return nil, err
	}
	l.impl = impl
	return l, nil
}

// ListenAnonymous starts a listener that has no name and is reached only
// through its Endpoint: for tests, for a second copy beside an installed
// service, and for handing a private channel to another process inside a
// message. It needs neither launchd nor any setup.
func (cfg *Config) ListenAnonymous(ctx context.Context) (*Listener, error) {
	l := cfg.newListener()
	impl, err := listenAnonymous(ctx, cfg, l)
	if err != nil {
		return nil, err
	}
	l.impl = impl
	return l, nil
}

func (cfg *Config) newListener() *Listener {
	return &Listener{cfg: cfg, peers: map[*Conn]struct{}{}}
}

// accept implements acceptor: it builds the Conn for a new peer, runs the
// peer checks, and asks Config.Accept for the peer's handler, all before the
// peer is activated.
func (l *Listener) accept(t transport) (events, error) {
	info := t.peer()
	reject := func(c *Conn, why string, err error) (events, error) {
		l.cfg.logger().Warn("xpc: peer rejected", "listener", t.describe(), "pid", info.PID, "uid", info.UID, "why", why, "err", err)
		if c != nil {
			c.cancel()
			close(c.stopped)
		}
		return nil, &Error{Kind: ErrPeerRequirement, Op: "accept", Service: t.describe(), PID: info.PID, Description: why, Err: err}
	}
	if l.cfg.PeerCheck != nil {
		if err := recoverHook(func() error { return l.cfg.PeerCheck(info) }); err != nil {
			return reject(nil, "peer check failed", err)
		}
	}
	c := newConn(l.cfg, l.cfg.Handler, l)
	c.t = t
	if l.cfg.Accept != nil {
		var h Handler
		err := recoverHook(func() (err error) { h, err = l.cfg.Accept(c); return err })
		if err != nil {
			return reject(c, "rejected by Accept", err)
		}
		if c.closed.Load() {
			return reject(c, "closed by Accept", nil)
		}
		if h != nil {
			c.handler = h
		}
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		c.cancel()
		close(c.stopped)
		return nil, &Error{Kind: ErrClosed, Op: "accept", Service: t.describe()}
	}
	l.peers[c] = struct{}{}
	l.mu.Unlock()
	go c.serve()
	return c, nil
}

// recoverHook runs a user hook that may run on a backend's thread (a GCD
// queue on darwin), turning a panic into an error that rejects the peer
// instead of killing the process.
func recoverHook(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("hook panicked: %v", p)
		}
	}()
	return f()
}

func (l *Listener) remove(c *Conn) {
	l.mu.Lock()
	delete(l.peers, c)
	l.mu.Unlock()
}

// Endpoint returns an endpoint for this listener, which can be sent in a
// message or passed to DialEndpoint.
func (l *Listener) Endpoint() (*Endpoint, error) { return l.impl.endpoint() }

// Peers returns the connected peers.
func (l *Listener) Peers() []*Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*Conn, 0, len(l.peers))
	for c := range l.peers {
		out = append(out, c)
	}
	return out
}

// Broadcast sends body as a one-way message to every connected peer. It
// returns the errors of the peers it could not reach, joined; a peer that
// went away is skipped, never a crash.
func (l *Listener) Broadcast(ctx context.Context, body Dict) error {
	var errs []error
	for _, c := range l.Peers() {
		if err := c.Send(ctx, body); err != nil {
			errs = append(errs, fmt.Errorf("peer pid %d: %w", c.Peer().PID, err))
		}
	}
	return errors.Join(errs...)
}

// String describes the listener for logs.
func (l *Listener) String() string { return "xpc.Listener(" + l.describe() + ")" }

func (l *Listener) describe() string {
	if l.impl == nil {
		return "?"
	}
	return l.impl.describe()
}

// Close stops accepting and closes every peer connection. Handlers still
// running finish on their own; Shutdown waits for them. An Accept or
// PeerCheck hook already running may return after Close (which may itself
// be called from such a hook); its peer is then refused.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.impl.close()
	for _, c := range l.Peers() {
		c.Close()
	}
	return err
}

// Shutdown stops accepting, tells every peer that termination is imminent,
// waits until every peer's handler is idle (or ctx is done), then closes the
// peers. It returns ctx's error if ctx ended first; the peers are closed
// either way. Called from a handler, it waits for that handler too, so it
// returns only when ctx ends: call it from another goroutine.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.mu.Lock()
	already := l.closed
	l.closed = true
	l.mu.Unlock()
	var err error
	if !already {
		err = l.impl.close()
		l.impl.terminationImminent()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	defer func() {
		for _, c := range l.Peers() {
			c.Close()
		}
	}()
	for _, c := range l.Peers() {
		for !c.idle() {
			select {
			case <-c.Done():
			case <-tick.C:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
			break
		}
	}
	return err
}
