//go:build cgo

package xpc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/goxpc/goxpc/xpc/cshim"
)

// The libxpc backend. Each transport is one xpc_connection_t whose events
// arrive on a serial dispatch queue of its own (see cshim and INTERNALS.md):
// a message is converted in one C call and handed to the Conn with deliver;
// replies to our requests come on a global queue and complete the request
// through a table of pending requests, so each completes exactly once even
// when the connection is cancelled first.

const (
	// rejectedKey is the only key of the reply a goxpc listener sends to a
	// peer that PeerCheck or Accept refused; the value is the reason.
	rejectedKey = "goxpc.rejected"
	// helloKey is the only key of the request that a dial with PeerCheck
	// sends to make libxpc connect (so the peer is known); goxpc listeners
	// answer it without calling the handler.
	helloKey = "goxpc.hello"
	// cancelWait bounds how long cancel waits for libxpc's final event.
	cancelWait = 5 * time.Second
)

// listenCheckWait is how long Listen waits for libxpc to refuse a Mach
// service listener (it does so at once when launchd did not start the
// process for that service).
var listenCheckWait = 200 * time.Millisecond

// xpcEndpoint is an endpoint on this backend: an owned xpc_endpoint_t,
// released when the Endpoint is garbage.
type xpcEndpoint struct{ obj *cshim.Object }

func (e xpcEndpoint) String() string { return "xpc-endpoint(" + e.obj.String() + ")" }

type connKind int

const (
	kindService  connKind = iota // dialed Mach service
	kindEndpoint                 // dialed endpoint
	kindPeer                     // accepted by a listener
)

// xconn is a transport over one xpc_connection_t. It implements
// cshim.Handler for the connection's events.
type xconn struct {
	c    *cshim.Conn
	name string
	cfg  *Config
	kind connKind

	ready     chan struct{} // closed by activate: ev is set
	dead      chan struct{} // closed by cancel
	ev        events
	onEnd     func() // after the final event (peers: the listener's count)
	amu       sync.Mutex
	started   bool // the xpc connection is activated (peers: by activate)
	cancelled atomic.Bool
	cancelOne sync.Once

	pmu     sync.Mutex
	pending map[uint64]func(Dict, error)
	nextID  uint64
	final   *Error // why the connection ended, once it has

	imu       sync.Mutex
	info      PeerInfo
	infoKnown bool
}

func newXconn(c *cshim.Conn, name string, cfg *Config, kind connKind) *xconn {
	return &xconn{
		c: c, name: name, cfg: cfg, kind: kind,
		ready:   make(chan struct{}),
		dead:    make(chan struct{}),
		pending: map[uint64]func(Dict, error){},
	}
}

func (t *xconn) describe() string { return t.name }

func (t *xconn) peer() PeerInfo {
	t.imu.Lock()
	defer t.imu.Unlock()
	if t.infoKnown {
		return t.info
	}
	pid, uid, gid, asid, ok := t.c.Peer()
	if !ok || pid <= 0 {
		// libxpc connects lazily: nothing is known before the first
		// message went through.
		return PeerInfo{PID: -1, UID: -1, GID: -1, ASID: -1}
	}
	t.info, t.infoKnown = PeerInfo{PID: pid, UID: uid, GID: gid, ASID: asid}, true
	return t.info
}

func (t *xconn) activate(ev events) {
	t.ev = ev
	close(t.ready)
	t.amu.Lock()
	defer t.amu.Unlock()
	if t.started {
		return
	}
	t.started = true
	if t.cancelled.Load() {
		t.c.Discard()
		t.ended()
		return
	}
	t.c.Activate(t, t.cfg.maxSize())
}

// start activates a dialed connection at once; its events wait for
// activate before they reach the Conn.
func (t *xconn) start() {
	t.amu.Lock()
	t.started = true
	t.amu.Unlock()
	t.c.Activate(t, t.cfg.maxSize())
}

func (t *xconn) cancel() {
	t.cancelOne.Do(func() {
		t.cancelled.Store(true)
		close(t.dead)
	})
	t.amu.Lock()
	started := t.started
	t.amu.Unlock()
	if started {
		// The final event is the last callback: once it has run, nothing
		// reaches the Conn. On the connection's own queue we are inside
		// an event, so the final one can only follow. (A peer cancelled
		// before activation is discarded by activate instead.)
		t.c.Cancel()
		if !t.c.Wait(cancelWait) && !t.c.OnQueue() {
			t.cfg.logger().Warn("xpc: libxpc did not confirm the cancellation in time", "conn", t.name, "waited", cancelWait)
		}
	}
	t.failPending(&Error{Kind: ErrClosed, Service: t.name})
}

// failPending completes every pending request with err (or the error that
// ended the connection).
func (t *xconn) failPending(err *Error) {
	t.pmu.Lock()
	if t.final != nil {
		err = t.final
	}
	pend := t.pending
	t.pending = map[uint64]func(Dict, error){}
	t.pmu.Unlock()
	for _, done := range pend {
		done(nil, err)
	}
}

// deadErr is the error for using a connection that has ended.
func (t *xconn) deadErr(op string) error {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	if t.final != nil {
		e := *t.final
		e.Op = op
		return &e
	}
	if t.cancelled.Load() {
		return &Error{Kind: ErrClosed, Op: op, Service: t.name}
	}
	return nil
}

// sendErr maps an error of cshim's send functions.
func (t *xconn) sendErr(op string, err error) error {
	var be *cshim.BuildError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &be):
		return &EncodeError{Reason: be.Reason}
	case errors.Is(err, cshim.ErrReleased):
		if d := t.deadErr(op); d != nil {
			return d
		}
		return &Error{Kind: ErrClosed, Op: op, Service: t.name}
	}
	return err
}

func (t *xconn) send(out *outgoing) error {
	defer out.free()
	if err := t.deadErr("send"); err != nil {
		return err
	}
	eps, err := endpointObjects(out.att.endpoints)
	if err != nil {
		return err
	}
	return t.sendErr("send", withFDs(out.att.files, func(fds []int) error {
		return t.c.Send(out.payload, fds, eps)
	}))
}

func (t *xconn) request(out *outgoing, done func(Dict, error)) error {
	defer out.free()
	eps, err := endpointObjects(out.att.endpoints)
	if err != nil {
		return err
	}
	t.pmu.Lock()
	if t.final != nil || t.cancelled.Load() {
		t.pmu.Unlock()
		return t.deadErr("request")
	}
	t.nextID++
	id := t.nextID
	t.pending[id] = done
	t.pmu.Unlock()
	err = withFDs(out.att.files, func(fds []int) error {
		return t.c.SendRequest(out.payload, fds, eps, t.cfg.maxSize(), func(r cshim.Reply) { t.onReply(id, r) })
	})
	if err != nil {
		t.pmu.Lock()
		_, still := t.pending[id]
		delete(t.pending, id)
		t.pmu.Unlock()
		if still {
			return t.sendErr("request", err)
		}
		// The connection ended meanwhile and completed done.
	}
	return nil
}

// onReply runs on a GCD thread, exactly once per request sent.
func (t *xconn) onReply(id uint64, r cshim.Reply) {
	var body Dict
	var err error
	switch {
	case r.Kind != cshim.ErrNone:
		err = t.errorFor(r.Kind, r.Description, "request")
	case errors.Is(r.Err, cshim.ErrTooLarge):
		err = &Error{Kind: ErrTooLarge, Op: "request", Service: t.name,
			Description: fmt.Sprintf("the reply exceeds the %d byte limit (Config.MaxMessageSize)", t.cfg.maxSize())}
	case r.Err != nil:
		err = &Error{Kind: ErrInvalid, Op: "request", Service: t.name, Description: "the reply could not be converted", Err: r.Err}
	default:
		body, err = t.decode(r.Payload)
		if err != nil {
			err = &Error{Kind: ErrInvalid, Op: "request", Service: t.name, Description: "malformed reply", Err: err}
		} else if why, ok := rejection(body); ok {
			body, err = nil, &Error{Kind: ErrPeerRequirement, Op: "request", Service: t.name,
				Description: "the listener rejected this process: " + why}
		}
	}
	t.pmu.Lock()
	done := t.pending[id]
	delete(t.pending, id)
	t.pmu.Unlock()
	if done == nil {
		closeFiles(body) // completed already (cancelled): drop the reply
		return
	}
	done(body, err)
}

// rejection recognizes the reply of a goxpc listener that refused us.
func rejection(d Dict) (string, bool) {
	if len(d) != 1 {
		return "", false
	}
	s, ok := d[rejectedKey].(string)
	return s, ok
}

func isHello(d Dict) bool {
	if len(d) != 1 {
		return false
	}
	v, ok := d[helloKey].(bool)
	return ok && v
}

// decode turns a converted payload into a Dict, taking its descriptors and
// endpoints.
func (t *xconn) decode(p cshim.Payload) (Dict, error) {
	if p.Unsupported > 0 {
		t.cfg.logger().Warn("xpc: message holds xpc types goxpc cannot represent; they arrive as null",
			"conn", t.name, "count", p.Unsupported, "first", p.UnsupportedType)
	}
	att := attachments{}
	for _, fd := range p.FDs {
		att.files = append(att.files, os.NewFile(uintptr(fd), "xpc-fd"))
	}
	for _, o := range p.Endpoints {
		att.endpoints = append(att.endpoints, &Endpoint{impl: xpcEndpoint{o}})
	}
	d, err := decodeMessage(p.Wire, &att)
	if err != nil {
		for _, o := range p.Endpoints {
			o.Release()
		}
		return nil, err
	}
	return d, nil
}

// wait blocks a callback until activate has wired the Conn; false means
// the connection was cancelled instead.
func (t *xconn) wait() bool {
	select {
	case <-t.ready:
		return !t.cancelled.Load()
	case <-t.dead:
		return false
	}
}

// HandleMessage implements cshim.Handler.
func (t *xconn) HandleMessage(m cshim.Message) {
	if !t.wait() {
		m.Discard()
		return
	}
	if m.Err != nil {
		t.refuse(m, m.Err)
		return
	}
	body, err := t.decode(m.Payload)
	if err != nil {
		m.Payload = cshim.Payload{} // decode closed and released them
		t.refuse(m, err)
		return
	}
	if m.Reply != nil && isHello(body) {
		m.Object.Release()
		t.replyNow(m.Reply, Dict{})
		return
	}
	in := &incoming{body: body, raw: &xmsg{obj: m.Object}}
	if m.Reply != nil {
		in.reply = &xreplier{t: t, obj: m.Reply}
	}
	t.ev.deliver(in)
}

// refuse drops a message that could not be converted, answering it with an
// error if the peer waits.
func (t *xconn) refuse(m cshim.Message, err error) {
	t.cfg.logger().Warn("xpc: dropped a message that could not be converted", "conn", t.name, "pid", t.peer().PID, "err", err)
	reply := m.Reply
	m.Reply = nil
	m.Discard()
	if reply != nil {
		t.replyNow(reply, errorReply(&RemoteError{Code: CodeBadRequest, Message: "message rejected: " + err.Error()}))
	}
}

// replyNow answers from the event queue without involving the Conn.
func (t *xconn) replyNow(reply *cshim.Object, body Dict) {
	out, err := encodeOutgoing(body)
	if err != nil {
		reply.Release()
		return
	}
	defer out.free()
	if err := t.c.SendReply(reply, out.payload, nil, nil); err != nil {
		t.cfg.logger().Debug("xpc: reply not sent", "conn", t.name, "err", err)
	}
}

// HandleError implements cshim.Handler.
func (t *xconn) HandleError(kind cshim.ErrorKind, desc string) {
	if kind == cshim.ErrOther {
		t.cfg.logger().Warn("xpc: unexpected libxpc event ignored", "conn", t.name, "event", desc)
		return
	}
	e := t.errorFor(kind, desc, "")
	// The Conn ends on every error but these two; remember which, so that
	// pending requests fail with it rather than with ErrClosed.
	if kind != cshim.ErrInterrupted && kind != cshim.ErrTermination {
		t.pmu.Lock()
		if t.final == nil {
			t.final = e
		}
		t.pmu.Unlock()
	}
	if kind == cshim.ErrInvalid {
		// The last event of the connection.
		t.failPending(e)
		defer t.ended()
	}
	if kind == cshim.ErrPeerRequirement && t.kind == kindPeer {
		t.cfg.logger().Warn("xpc: peer does not satisfy the code-signing requirement", "listener", t.name,
			"pid", e.PID, "requirement", t.cfg.PeerRequirement())
	}
	if !t.wait() {
		return
	}
	t.ev.connError(e)
}

func (t *xconn) ended() {
	if t.onEnd != nil {
		t.onEnd()
	}
}

// HandlePeer implements cshim.Handler; connections have no peers.
func (t *xconn) HandlePeer(p *cshim.Conn) { p.Discard() }

// errorFor maps a libxpc error to an *Error that says what to check.
func (t *xconn) errorFor(kind cshim.ErrorKind, desc, op string) *Error {
	e := &Error{Op: op, Service: t.name, PID: t.peer().PID}
	if e.PID < 0 {
		e.PID = 0
	}
	add := func(hint string) {
		if desc != "" {
			e.Description = desc + ": " + hint
		} else {
			e.Description = hint
		}
	}
	switch kind {
	case cshim.ErrInterrupted:
		e.Kind, e.Retryable = ErrInterrupted, true
		add("the service exited or crashed; the next message relaunches it (if this repeats on every message, the service may be refusing this process, e.g. by a code-signing requirement)")
	case cshim.ErrInvalid:
		e.Kind = ErrInvalid
		switch {
		case t.cancelled.Load():
			e.Kind = ErrClosed
			add("the connection was closed")
		case t.kind == kindService:
			add(lookupHint(t.name, t.cfg.Privileged))
		case t.kind == kindEndpoint:
			add("the listener went away or closed this connection (a peer requirement or check it has may have refused this process)")
		default:
			add("the peer closed the connection or exited")
		}
	case cshim.ErrTermination:
		e.Kind = ErrTerminationImminent
		add("the system is about to terminate the peer; finish and reconnect later")
	case cshim.ErrPeerRequirement:
		e.Kind = ErrPeerRequirement
		add("the peer does not satisfy the code-signing requirement " + t.cfg.PeerRequirement())
	default:
		e.Kind = ErrInvalid
		add("unexpected libxpc error")
	}
	return e
}

// lookupHint says what to check when a Mach service cannot be reached.
func lookupHint(name string, privileged bool) string {
	if privileged {
		return fmt.Sprintf("libxpc found no launch daemon serving %s in the system domain: is a job bootstrapped whose plist lists it under MachServices? Check `sudo launchctl print system/LABEL`; a launch agent needs Config.Privileged false", name)
	}
	return fmt.Sprintf("libxpc found no service %s in this user's domain: is a launch agent bootstrapped whose plist lists it under MachServices? Check `launchctl print gui/$(id -u)/LABEL`; a launch daemon needs Config.Privileged", name)
}

// xmsg keeps an incoming message object alive for Message.UseObject.
type xmsg struct{ obj *cshim.Object }

func (m *xmsg) use(f func(obj unsafe.Pointer) error) error {
	err := m.obj.Use(f)
	if errors.Is(err, cshim.ErrReleased) {
		return fmt.Errorf("xpc: the message object is gone (the handler has returned): %w", errors.ErrUnsupported)
	}
	return err
}

func (m *xmsg) release() { m.obj.Release() }

// xreplier owns the reply dictionary of one request until it is sent.
type xreplier struct {
	t   *xconn
	obj *cshim.Object
}

func (r *xreplier) sendReply(out *outgoing) error {
	defer out.free()
	defer r.obj.Release()
	eps, err := endpointObjects(out.att.endpoints)
	if err != nil {
		return err
	}
	return r.t.sendErr("reply", withFDs(out.att.files, func(fds []int) error {
		return r.t.c.SendReply(r.obj, out.payload, fds, eps)
	}))
}

// discard drops the reply; the peer's request fails when the connection
// ends, as with libxpc.
func (r *xreplier) discard() { r.obj.Release() }

func endpointObjects(eps []*Endpoint) ([]*cshim.Object, error) {
	if len(eps) == 0 {
		return nil, nil
	}
	out := make([]*cshim.Object, len(eps))
	for i, ep := range eps {
		xe, ok := ep.impl.(xpcEndpoint)
		if !ok {
			return nil, &EncodeError{Reason: "endpoint " + ep.String() + " belongs to another backend"}
		}
		out[i] = xe.obj
	}
	return out, nil
}

// withFDs calls f with the descriptors of files, held through
// SyscallConn.Control so that the files stay open and keep their mode.
func withFDs(files []*os.File, f func(fds []int) error) error {
	if len(files) == 0 {
		return f(nil)
	}
	fds := make([]int, len(files))
	var hold func(i int) error
	hold = func(i int) error {
		if i == len(files) {
			return f(fds)
		}
		rc, err := files[i].SyscallConn()
		if err != nil {
			return &EncodeError{Reason: fmt.Sprintf("file %s: %v", files[i].Name(), err)}
		}
		var inner error
		if err := rc.Control(func(fd uintptr) {
			fds[i] = int(fd)
			inner = hold(i + 1)
		}); err != nil {
			return &EncodeError{Reason: fmt.Sprintf("file %s: %v", files[i].Name(), err)}
		}
		return inner
	}
	return hold(0)
}

// requirementError wraps a failure of
// xpc_connection_set_peer_code_signing_requirement.
func requirementError(op, name string, err error) error {
	if errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("xpc: %s %s: peer requirements: %w", op, name, err)
	}
	return &Error{Kind: ErrInvalid, Op: op, Service: name, Description: "libxpc refused the peer requirement", Err: err}
}

func dialService(ctx context.Context, name string, cfg *Config) (transport, error) {
	return startDial(ctx, cshim.NewMachService(name, false, cfg.Privileged), name, cfg, kindService)
}

func dialEndpoint(ctx context.Context, ep *Endpoint, cfg *Config) (transport, error) {
	xe, ok := ep.impl.(xpcEndpoint)
	if !ok {
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Service: ep.String(), Description: "endpoint belongs to another backend"}
	}
	c, err := cshim.NewFromEndpoint(xe.obj)
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Service: ep.String(), Err: err}
	}
	return startDial(ctx, c, ep.String(), cfg, kindEndpoint)
}

// startDial sets the requirement, activates the connection and, when the
// Config has a PeerCheck, makes libxpc connect so the peer can be checked
// before Dial returns. Otherwise the connection is lazy, as in libxpc.
func startDial(ctx context.Context, c *cshim.Conn, name string, cfg *Config, kind connKind) (transport, error) {
	if req := cfg.PeerRequirement(); req != "" {
		if err := c.SetPeerRequirement(req); err != nil {
			c.Discard()
			return nil, requirementError("dial", name, err)
		}
	}
	t := newXconn(c, name, cfg, kind)
	t.start()
	if cfg.PeerCheck == nil {
		return t, nil
	}
	if err := t.hello(ctx); err != nil {
		t.cancel()
		return nil, err
	}
	info := t.peer()
	if err := cfg.PeerCheck(info); err != nil {
		t.cancel()
		return nil, &Error{Kind: ErrPeerRequirement, Op: "dial", Service: name, PID: info.PID, Description: "the service failed PeerCheck", Err: err}
	}
	return t, nil
}

// hello sends the handshake request and waits for its answer.
func (t *xconn) hello(ctx context.Context) error {
	out, err := encodeOutgoing(Dict{helloKey: true})
	if err != nil {
		return err
	}
	ch := make(chan error, 1)
	if err := t.request(out, func(d Dict, err error) { ch <- err }); err != nil {
		return err
	}
	select {
	case err := <-ch:
		var xe *Error
		if errors.As(err, &xe) {
			e := *xe
			e.Op = "dial"
			return &e
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// xlistener is a listener connection. It implements cshim.Handler for the
// listener's events.
type xlistener struct {
	c       *cshim.Conn
	name    string
	cfg     *Config
	acc     acceptor
	service bool // a Mach service (else anonymous)

	mu        sync.Mutex
	closed    bool
	cancelled bool
	peers     int // accepted peers whose connection has not ended

	failOnce sync.Once
	failed   chan string // receives libxpc's description if it refuses the listener
}

var anonymousCount atomic.Int64

func listenService(ctx context.Context, name string, cfg *Config, acc acceptor) (listenerImpl, error) {
	l, err := startListener(cshim.NewMachService(name, true, cfg.Privileged), name, cfg, acc, true)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(listenCheckWait)
	defer timer.Stop()
	select {
	case desc := <-l.failed:
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Service: name, Description: checkInHint(name, desc, cfg.Privileged)}
	case <-timer.C:
		return l, nil
	case <-ctx.Done():
		l.close()
		return nil, ctx.Err()
	}
}

// checkInHint explains why libxpc refused a Mach service listener.
func checkInHint(name, desc string, privileged bool) string {
	var b []byte
	b = fmt.Appendf(b, "libxpc could not check in the Mach service %s", name)
	if desc != "" {
		b = fmt.Appendf(b, " (%s)", desc)
	}
	b = fmt.Appendf(b, ". A listener works only in a process that launchd started from a job whose plist lists %s under MachServices", name)
	if ppid := cshim.ParentPID(); ppid != 1 {
		b = fmt.Appendf(b, "; this process was not started by launchd (parent pid %d)", ppid)
	}
	if privileged {
		b = fmt.Appendf(b, "; check `sudo launchctl print system/LABEL` (a launch daemon)")
	} else {
		b = fmt.Appendf(b, "; check `launchctl print gui/$(id -u)/LABEL` (a launch agent; daemons need Config.Privileged)")
	}
	b = fmt.Appendf(b, ". To serve without launchd use ListenAnonymous")
	return string(b)
}

func listenAnonymous(ctx context.Context, cfg *Config, acc acceptor) (listenerImpl, error) {
	name := fmt.Sprintf("anonymous-%d", anonymousCount.Add(1))
	return startListener(cshim.NewAnonymousListener(), name, cfg, acc, false)
}

func startListener(c *cshim.Conn, name string, cfg *Config, acc acceptor, service bool) (*xlistener, error) {
	if req := cfg.PeerRequirement(); req != "" {
		if err := c.SetPeerRequirement(req); err != nil {
			c.Discard()
			return nil, requirementError("listen", name, err)
		}
	}
	l := &xlistener{c: c, name: name, cfg: cfg, acc: acc, service: service, failed: make(chan string, 1)}
	c.Activate(l, cfg.maxSize())
	return l, nil
}

func (l *xlistener) describe() string { return l.name }

func (l *xlistener) endpoint() (*Endpoint, error) {
	o, err := l.c.Endpoint()
	if err != nil || o == nil {
		return nil, &Error{Kind: ErrClosed, Op: "endpoint", Service: l.name, Err: err}
	}
	return &Endpoint{impl: xpcEndpoint{o}}, nil
}

// terminationImminent does nothing on darwin: libxpc itself tells peers
// (XPC_ERROR_TERMINATION_IMMINENT) when the system is about to stop a
// process, and a process cannot send that event on its own.
func (l *xlistener) terminationImminent() {}

// close stops accepting. The listener connection is cancelled once its
// accepted peers have ended too, because cancelling it may invalidate them
// (clients of an anonymous listener get XPC_ERROR_CONNECTION_INVALID).
func (l *xlistener) close() error {
	l.mu.Lock()
	l.closed = true
	now := l.peers == 0 && !l.cancelled
	if now {
		l.cancelled = true
	}
	l.mu.Unlock()
	if now {
		l.c.Cancel()
		if !l.c.Wait(cancelWait) && !l.c.OnQueue() {
			l.cfg.logger().Warn("xpc: libxpc did not confirm the listener's cancellation in time", "listener", l.name)
		}
	}
	return nil
}

func (l *xlistener) peerEnded() {
	l.mu.Lock()
	l.peers--
	now := l.closed && l.peers == 0 && !l.cancelled
	if now {
		l.cancelled = true
	}
	l.mu.Unlock()
	if now {
		l.c.Cancel()
	}
}

// HandlePeer admits or rejects a new peer before it is activated.
func (l *xlistener) HandlePeer(p *cshim.Conn) {
	// Count the peer before accept makes it a Conn of the Listener: a
	// close meanwhile must not cancel the listener under a peer it is
	// about to activate (and that Shutdown will wait for).
	l.mu.Lock()
	closed := l.closed
	if !closed {
		l.peers++
	}
	l.mu.Unlock()
	if closed {
		p.Reject(rejectedKey, "the listener is closed")
		return
	}
	var once sync.Once
	end := func() { once.Do(l.peerEnded) }
	t := newXconn(p, l.name, l.cfg, kindPeer)
	ev, err := l.acc.accept(t)
	if err != nil {
		p.Reject(rejectedKey, err.Error())
		end()
		return
	}
	t.onEnd = end
	t.activate(ev)
}

// HandleMessage implements cshim.Handler; listeners receive no messages.
func (l *xlistener) HandleMessage(m cshim.Message) { m.Discard() }

// HandleError implements cshim.Handler.
func (l *xlistener) HandleError(kind cshim.ErrorKind, desc string) {
	if kind != cshim.ErrInvalid {
		l.cfg.logger().Warn("xpc: listener error", "listener", l.name, "kind", int(kind), "description", desc)
		return
	}
	l.mu.Lock()
	expected := l.cancelled
	l.mu.Unlock()
	if expected {
		return
	}
	l.failOnce.Do(func() { l.failed <- desc })
	if l.service {
		l.cfg.logger().Error("xpc: listener invalidated", "listener", l.name, "hint", checkInHint(l.name, desc, l.cfg.Privileged))
	} else {
		l.cfg.logger().Error("xpc: listener invalidated", "listener", l.name, "description", desc)
	}
}
