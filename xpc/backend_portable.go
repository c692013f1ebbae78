//go:build !darwin

package xpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The portable backend: one Unix domain socket per connection, framed as
// described in frame.go. Each connection has one goroutine reading frames;
// replies are matched to requests by message id on that goroutine, and
// other messages go to the Conn, which runs handlers on a goroutine of its
// own. So a handler may wait for a reply on its own connection.

// sockEndpoint is an endpoint on this backend: a listener's socket path.
type sockEndpoint struct{ path string }

func (e sockEndpoint) String() string { return "unix:" + e.path }

// readBufferSize is the initial read buffer of each connection; it grows
// for a larger frame and shrinks back after one over maxKeptReadBuffer.
const (
	readBufferSize    = 64 << 10
	maxKeptReadBuffer = 1 << 20
)

// frameReader parses frames out of one read buffer and hands them out
// where they landed in it: a frame that arrives in one read is decoded
// without being copied first. A body it returns is valid until the buffer
// is read into again, so the decoder must copy what it keeps
// (decodeMessage does: data, strings and keys never alias the input).
type frameReader struct {
	r        io.Reader // for next
	buf      []byte
	off, end int // the unread bytes are buf[off:end]
}

// frame returns the next buffered frame, or need > 0: how many unread
// bytes the next frame takes, of which fewer are buffered; bad reports a
// header that fails maxBody or the format.
func (fr *frameReader) frame(maxBody int) (h frameHeader, body []byte, need int, bad error) {
	if fr.end-fr.off < frameHeaderSize {
		return h, nil, frameHeaderSize, nil
	}
	h, bad = parseFrameHeader(fr.buf[fr.off:fr.off+frameHeaderSize], maxBody)
	if bad != nil {
		return h, nil, 0, bad
	}
	total := frameHeaderSize + int(h.bodyLen)
	if fr.end-fr.off < total {
		return h, nil, total, nil
	}
	body = fr.buf[fr.off+frameHeaderSize : fr.off+total : fr.off+total]
	fr.off += total
	if fr.off == fr.end {
		fr.off, fr.end = 0, 0
		if len(fr.buf) > maxKeptReadBuffer {
			fr.buf = nil // do not pin a large buffer for the connection's life
		}
	}
	return h, body, 0, nil
}

// space returns the free buffer after the unread bytes, making room first
// so that need unread bytes fit contiguously. For a need larger than the
// buffer it grows the buffer only once it is full, and at most twofold:
// memory follows the bytes that arrive, not the size a header claims.
func (fr *frameReader) space(need int) []byte {
	if fr.buf == nil {
		fr.buf = make([]byte, readBufferSize)
	}
	if fr.off == fr.end {
		fr.off, fr.end = 0, 0
	}
	if len(fr.buf)-fr.off < need {
		unread := fr.buf[fr.off:fr.end]
		if fr.off > 0 {
			copy(fr.buf, unread)
			fr.off, fr.end = 0, len(unread)
		}
		if need > len(fr.buf) && fr.end == len(fr.buf) {
			size := min(need, 2*len(fr.buf))
			nb := make([]byte, (size+readBufferSize-1)/readBufferSize*readBufferSize)
			copy(nb, fr.buf[:fr.end])
			fr.buf = nb
		}
	}
	return fr.buf[fr.end:]
}

// next reads the next frame with fr.r (blocking reads, for the handshake);
// bad reports a header that fails maxBody or the format, err a failed read.
func (fr *frameReader) next(maxBody int) (h frameHeader, body []byte, bad, err error) {
	for {
		h, body, need, bad := fr.frame(maxBody)
		if need == 0 {
			return h, body, bad, nil
		}
		n, err := fr.r.Read(fr.space(need))
		fr.end += n
		if err != nil && fr.end-fr.off < need {
			if err == io.EOF && fr.end > fr.off {
				err = io.ErrUnexpectedEOF
			}
			return h, nil, nil, err
		}
	}
}

// sockConn is one socket connection, client or server side.
type sockConn struct {
	c       *net.UnixConn
	rr      *rightsReader
	fr      frameReader // used by the reader goroutine only
	info    PeerInfo
	name    string
	maxSize int
	server  bool // accepted by a listener: greets the peer on activation
	// hello sends the server's greeting once, before its first frame
	// (which Accept may send before activation).
	hello sync.Once
	// kind is the error kind of the end of the connection: ErrInterrupted
	// for a client of a named service (it can redial), else ErrInvalid.
	kind error

	wsem chan struct{} // the write lock (a channel, so waiting can end with ctx)

	pmu     sync.Mutex
	pending map[uint64]func(Dict, error)
	dead    *Error // why the connection ended; set once, under pmu
	nextID  atomic.Uint64

	ev      events
	onEnd   func(*Error) // called once when the connection ends
	closing atomic.Bool
	started atomic.Bool   // activate ran: a reader exists and will close done
	done    chan struct{} // closed when the reader has exited
}

func newSockConn(c *net.UnixConn, name string, cfg *Config, server bool, kind error) *sockConn {
	rr := newRightsReader(c)
	return &sockConn{
		c:       c,
		rr:      rr,
		fr:      frameReader{r: rr},
		info:    peerCred(c),
		name:    name,
		maxSize: cfg.maxSize(),
		server:  server,
		kind:    kind,
		pending: map[uint64]func(Dict, error){},
		done:    make(chan struct{}),
		wsem:    make(chan struct{}, 1),
	}
}

func (s *sockConn) describe() string { return s.name }
func (s *sockConn) peer() PeerInfo   { return s.info }

func (s *sockConn) activate(ev events) {
	s.ev = ev
	s.started.Store(true)
	s.greet()
	go s.readLoop()
}

// greet sends a server's hello if it has not yet; a failed write is seen by
// the reader too and ends the connection.
func (s *sockConn) greet() {
	if s.server {
		s.hello.Do(func() { s.writeControl(nil, flagHello, nil) })
	}
}

func (s *sockConn) send(out *outgoing) error {
	if err := s.deadErr(); err != nil {
		out.free()
		return err
	}
	return s.writeFrame(flagData, 0, out)
}

func (s *sockConn) request(out *outgoing, done func(Dict, error)) error {
	id := s.nextID.Add(1)
	s.pmu.Lock()
	if s.dead != nil {
		err := s.dead
		s.pmu.Unlock()
		out.free()
		return err
	}
	s.pending[id] = done
	s.pmu.Unlock()
	if err := s.writeFrame(flagData|flagWantsReply, id, out); err != nil {
		s.pmu.Lock()
		_, still := s.pending[id]
		delete(s.pending, id)
		s.pmu.Unlock()
		if still {
			return err
		}
		// The reader ended the connection meanwhile and completed done.
	}
	return nil
}

func (s *sockConn) cancel() {
	s.closing.Store(true)
	s.c.Close()
	if s.started.Load() {
		<-s.done
	}
}

func (s *sockConn) deadErr() error {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.dead != nil {
		return s.dead
	}
	return nil
}

// writeFrame sends out as one frame and frees it. out.ctx bounds the wait.
func (s *sockConn) writeFrame(flags uint32, id uint64, out *outgoing) error {
	s.greet()
	var frame []byte
	var files []*os.File
	if out.att.count() == 0 {
		frame = out.frame(frameHeaderSize)
		putFrameHeader(frame, frameHeader{flags: flags, bodyLen: uint64(len(out.payload)), id: id})
	} else {
		paths := make([]string, len(out.att.endpoints))
		for i, ep := range out.att.endpoints {
			se, ok := ep.impl.(sockEndpoint)
			if !ok {
				out.free()
				return &Error{Kind: ErrInvalid, Op: "send", Service: s.name, Description: "endpoint " + ep.String() + " belongs to another backend"}
			}
			paths[i] = se.path
		}
		frame = appendAttachmentTable(make([]byte, frameHeaderSize, frameHeaderSize+64+len(out.payload)), len(out.att.files), paths)
		frame = append(frame, out.payload...)
		putFrameHeader(frame, frameHeader{flags: flags | flagAttachments, bodyLen: uint64(len(frame) - frameHeaderSize), id: id})
		files = out.att.files
	}
	err := s.write(out.ctx, frame, files, out.free)
	if err == nil || errors.Is(err, errors.ErrUnsupported) || (out.ctx != nil && err == out.ctx.Err()) {
		return err
	}
	if d := s.deadErr(); d != nil {
		return d
	}
	return &Error{Kind: s.kind, Op: "send", Service: s.name, Retryable: s.kind == ErrInterrupted, PID: s.info.PID, Err: err}
}

// write sends frame, with files attached to its first byte, and calls
// release once frame and files are no longer needed. ctx (nil: no bound)
// bounds the wait for the write lock and for the peer to make room: if it
// ends before anything is written, write returns ctx's error; a frame
// already partly written is finished in the background (half a frame would
// corrupt the stream) and counts as sent. Close ends such a write.
func (s *sockConn) write(ctx context.Context, frame []byte, files []*os.File, release func()) error {
	if ctx == nil || ctx.Done() == nil {
		s.wsem <- struct{}{}
		_, err := s.writeRaw(frame, files)
		<-s.wsem
		release()
		return err
	}
	select {
	case s.wsem <- struct{}{}:
	case <-ctx.Done():
		release()
		return ctx.Err()
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.c.SetWriteDeadline(time.Unix(1, 0))
		close(fired)
	})
	n, err := s.writeRaw(frame, files)
	if !stop() {
		<-fired
		s.c.SetWriteDeadline(time.Time{})
		if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			if n == 0 {
				<-s.wsem
				release()
				return ctx.Err()
			}
			go func() {
				s.writeRaw(frame[n:], nil) // a failure ends the connection; the reader reports it
				<-s.wsem
				release()
			}()
			return nil
		}
	}
	<-s.wsem
	release()
	return err
}

// writeRaw writes frame (files with its first byte) and says how many
// bytes went out; the caller holds the write lock.
func (s *sockConn) writeRaw(frame []byte, files []*os.File) (int, error) {
	if len(files) > 0 {
		return writeWithFiles(s.c, frame, files)
	}
	return s.c.Write(frame)
}

func (s *sockConn) writeControl(ctx context.Context, flags uint32, body []byte) error {
	frame := make([]byte, frameHeaderSize, frameHeaderSize+len(body))
	frame = append(frame, body...)
	putFrameHeader(frame, frameHeader{flags: flags, bodyLen: uint64(len(body))})
	return s.write(ctx, frame, nil, func() {})
}

// awaitHello waits, before activation, for the listener to accept or
// reject this client.
func (s *sockConn) awaitHello(ctx context.Context) error {
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.c.SetReadDeadline(time.Unix(1, 0))
		close(fired)
	})
	// Clear the deadline only after stop: clearing it first would let a
	// ctx ending just then leave a past deadline on the socket, and the
	// connection's reader would fail at once.
	defer func() {
		if !stop() {
			<-fired
		}
		s.c.SetReadDeadline(time.Time{})
	}()
	if d, ok := ctx.Deadline(); ok {
		s.c.SetReadDeadline(d)
	}
	h, body, bad, err := s.fr.next(4096)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The read deadline (ctx's) can pass before ctx says so.
			return context.DeadlineExceeded
		}
		return &Error{Kind: ErrInvalid, Op: "dial", Service: s.name, Description: "the listener closed the connection before accepting it", Err: err}
	}
	if bad != nil {
		return &Error{Kind: ErrInvalid, Op: "dial", Service: s.name, Description: "not a goxpc listener", Err: bad}
	}
	switch {
	case h.flags&flagRejected != 0:
		return &Error{Kind: ErrPeerRequirement, Op: "dial", Service: s.name, PID: s.info.PID,
			Description: "the listener rejected this process: " + string(body)}
	case h.flags&flagHello != 0:
		return nil
	}
	return &Error{Kind: ErrInvalid, Op: "dial", Service: s.name, Description: fmt.Sprintf("unexpected first frame (flags %#x)", h.flags)}
}

func (s *sockConn) readLoop() {
	err := s.readFrames()
	s.pmu.Lock()
	s.dead = err
	pend := s.pending
	s.pending = nil
	s.pmu.Unlock()
	s.c.Close()
	s.rr.closeAll()
	for _, done := range pend {
		done(nil, err)
	}
	close(s.done)
	if s.onEnd != nil {
		s.onEnd(err)
	}
}

// maxBody is the largest frame body accepted: a maximal message plus a
// maximal attachment table.
func (s *sockConn) maxBody() int {
	return s.maxSize + 8 + maxAttachments*(8+maxEndpointPath)
}

// readFrames reads until the connection fails and says why.
func (s *sockConn) readFrames() *Error {
	var ferr *Error
	need := 0
	// consume handles the frames buffered so far.
	consume := func() bool {
		for {
			h, body, n, bad := s.fr.frame(s.maxBody())
			if bad != nil {
				ferr = s.malformed(bad)
				return false
			}
			if n > 0 {
				need = n
				return true
			}
			if ferr = s.handleFrame(h, body); ferr != nil {
				return false
			}
		}
	}
	if !consume() { // frames that came with the handshake
		return ferr
	}
	err := s.rr.readStream(
		func() []byte { return s.fr.space(need) },
		func(n int) bool { s.fr.end += n; return consume() })
	if ferr != nil {
		return ferr
	}
	return s.lost(err)
}

// handleFrame acts on one frame; an error ends the connection.
func (s *sockConn) handleFrame(h frameHeader, body []byte) *Error {
	switch {
	case h.flags&flagTermination != 0:
		s.ev.connError(&Error{Kind: ErrTerminationImminent, Service: s.name, PID: s.info.PID,
			Description: "the peer is shutting down; finish and reconnect later"})
	case h.flags&flagRejected != 0:
		// Accept greeted us, then refused us.
		return &Error{Kind: ErrPeerRequirement, Service: s.name, PID: s.info.PID,
			Description: "the listener rejected this process: " + string(body)}
	case h.flags&flagHello != 0:
		return s.malformed(errors.New("handshake frame after the handshake"))
	case h.flags&flagReply != 0:
		if err := s.reply(h, body); err != nil {
			return s.malformed(err)
		}
	default:
		d, err := s.decode(h, body)
		if err != nil {
			return s.malformed(err)
		}
		// One allocation for the message and its replier.
		si := &sockIncoming{in: incoming{body: d}}
		if h.flags&flagWantsReply != 0 {
			si.r = sockReplier{s, h.id}
			si.in.reply = &si.r
		}
		s.ev.deliver(&si.in)
	}
	return nil
}

func (s *sockConn) reply(h frameHeader, body []byte) error {
	d, err := s.decode(h, body)
	if err != nil {
		return err
	}
	s.pmu.Lock()
	done := s.pending[h.id]
	delete(s.pending, h.id)
	s.pmu.Unlock()
	if done == nil {
		closeFiles(d)
		return fmt.Errorf("reply to unknown message id %d", h.id)
	}
	done(d, nil)
	return nil
}

func (s *sockConn) decode(h frameHeader, body []byte) (Dict, error) {
	payload := body
	var att attachments
	if h.flags&flagAttachments != 0 {
		nfds, paths, rest, err := parseAttachmentTable(body)
		if err != nil {
			return nil, err
		}
		if att.files, err = s.rr.takeFiles(nfds); err != nil {
			return nil, err
		}
		for _, p := range paths {
			att.endpoints = append(att.endpoints, &Endpoint{impl: sockEndpoint{path: p}})
		}
		payload = rest
	}
	if len(payload) > s.maxSize {
		att.closeFiles()
		return nil, fmt.Errorf("%w: %d byte message exceeds the %d byte limit", ErrTooLarge, len(payload), s.maxSize)
	}
	return decodeMessage(payload, &att)
}

func (s *sockConn) lost(err error) *Error {
	if s.closing.Load() {
		return &Error{Kind: ErrClosed, Service: s.name}
	}
	desc := "the peer closed the connection or exited"
	if s.kind == ErrInterrupted {
		desc += "; the next message reconnects"
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return &Error{Kind: s.kind, Service: s.name, PID: s.info.PID, Retryable: s.kind == ErrInterrupted, Description: desc, Err: err}
}

func (s *sockConn) malformed(err error) *Error {
	if s.closing.Load() {
		return &Error{Kind: ErrClosed, Service: s.name}
	}
	return &Error{Kind: ErrInvalid, Service: s.name, PID: s.info.PID,
		Description: "the peer sent a malformed frame; connection dropped", Err: err}
}

// sockIncoming is an incoming message with its replier.
type sockIncoming struct {
	in incoming
	r  sockReplier
}

// sockReplier answers one request.
type sockReplier struct {
	s  *sockConn
	id uint64
}

func (r *sockReplier) sendReply(out *outgoing) error { return r.s.writeFrame(flagReply, r.id, out) }

// discard sends nothing: the peer's request fails when the connection ends.
func (r *sockReplier) discard() {}

// clientConn is a dialed connection. For a named service it reconnects on
// demand after an interruption, as libxpc relaunches a launchd service.
type clientConn struct {
	name   string
	redial func(context.Context) (*sockConn, error) // nil for endpoints

	// stopCtx is cancelled by cancel, ending a reconnect in progress so
	// that Close need not wait for it.
	stopCtx context.Context
	stop    context.CancelFunc

	mu        sync.Mutex
	cur       *sockConn
	info      PeerInfo
	ev        events
	cancelled bool
	redialing chan struct{} // closed when the reconnect in progress ends
}

func newClientConn(name string, redial func(context.Context) (*sockConn, error), sc *sockConn) *clientConn {
	ctx, stop := context.WithCancel(context.Background())
	return &clientConn{name: name, redial: redial, cur: sc, info: sc.info, stopCtx: ctx, stop: stop}
}

func (cc *clientConn) describe() string { return cc.name }

func (cc *clientConn) peer() PeerInfo {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.info
}

func (cc *clientConn) activate(ev events) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.ev = ev
	cc.attach(cc.cur)
}

// attach wires sc to this connection; cc.mu is held.
func (cc *clientConn) attach(sc *sockConn) {
	cc.cur, cc.info = sc, sc.info
	sc.onEnd = func(err *Error) {
		cc.mu.Lock()
		if cc.cur == sc {
			cc.cur = nil
		}
		cancelled := cc.cancelled
		cc.mu.Unlock()
		if !cancelled {
			cc.ev.connError(err)
		}
	}
	sc.activate(cc.ev)
}

// get returns the live socket connection, reconnecting if allowed; ctx
// (nil: none) bounds the reconnect, or the wait for another caller's, as
// does cancel.
func (cc *clientConn) get(ctx context.Context) (*sockConn, error) {
	for {
		cc.mu.Lock()
		if cc.cancelled {
			cc.mu.Unlock()
			return nil, &Error{Kind: ErrClosed, Service: cc.name}
		}
		if cc.cur != nil {
			sc := cc.cur
			cc.mu.Unlock()
			return sc, nil
		}
		if cc.redial == nil {
			cc.mu.Unlock()
			return nil, &Error{Kind: ErrInvalid, Service: cc.name, Description: "the listener went away; dial its endpoint again if it is back"}
		}
		if w := cc.redialing; w != nil {
			// Another caller is reconnecting: wait for it, not longer
			// than ctx allows.
			cc.mu.Unlock()
			var done <-chan struct{}
			if ctx != nil {
				done = ctx.Done()
			}
			select {
			case <-w:
				continue
			case <-done:
				return nil, &Error{Kind: ErrInterrupted, Op: "reconnect", Service: cc.name, Retryable: true,
					Description: "the service is not running right now", Err: ctx.Err()}
			}
		}
		w := make(chan struct{})
		cc.redialing = w
		cc.mu.Unlock()
		sc, err := cc.reconnect(ctx)
		cc.mu.Lock()
		cc.redialing = nil
		close(w)
		if err == nil && cc.cancelled {
			sc.cancel()
			err = &Error{Kind: ErrClosed, Service: cc.name}
		} else if err == nil {
			cc.attach(sc)
		}
		cc.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return sc, nil
	}
}

// reconnect dials the service again, for at most 10 seconds, until ctx
// ends or cancel.
func (cc *clientConn) reconnect(ctx context.Context) (*sockConn, error) {
	rctx, cancel := context.WithTimeout(cc.stopCtx, 10*time.Second)
	defer cancel()
	if ctx != nil {
		defer context.AfterFunc(ctx, cancel)()
	}
	sc, err := cc.redial(rctx)
	if err != nil {
		if ctx != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, &Error{Kind: ErrInterrupted, Op: "reconnect", Service: cc.name, Retryable: true,
			Description: "the service is not running right now", Err: err}
	}
	return sc, nil
}

func (cc *clientConn) send(out *outgoing) error {
	sc, err := cc.get(out.ctx)
	if err != nil {
		out.free()
		return err
	}
	return sc.send(out)
}

func (cc *clientConn) request(out *outgoing, done func(Dict, error)) error {
	sc, err := cc.get(out.ctx)
	if err != nil {
		out.free()
		return err
	}
	return sc.request(out, done)
}

func (cc *clientConn) cancel() {
	cc.stop() // ends a reconnect in progress
	cc.mu.Lock()
	cc.cancelled = true
	sc := cc.cur
	cc.cur = nil
	cc.mu.Unlock()
	if sc != nil {
		sc.cancel()
	}
}

func unsupportedRequirement(cfg *Config) error {
	if cfg.requirement == "" {
		return nil
	}
	return fmt.Errorf("xpc: code-signing requirements are checked by libxpc on macOS only; on %s use Config.PeerCheck (for example RequireUID): %w", runtime.GOOS, errors.ErrUnsupported)
}

// handshakeTimeout bounds connecting and the handshake when the caller's
// ctx has no deadline, so a listener that accepts but never answers (a
// stopped process, not a goxpc listener) cannot hang Dial forever.
var handshakeTimeout = 10 * time.Second

// connectSock dials path and completes the handshake.
func connectSock(ctx context.Context, path, name string, cfg *Config, kind error) (*sockConn, error) {
	hctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, handshakeTimeout)
		defer cancel()
	}
	timedOut := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) {
			err = os.ErrDeadlineExceeded // the caller set no deadline: not ctx's error
		}
		return &Error{Kind: ErrInvalid, Op: "dial", Service: name,
			Description: fmt.Sprintf("%s did not complete the handshake within %v: is a goxpc listener serving it, and is its process responsive?", path, handshakeTimeout), Err: err}
	}
	var d net.Dialer
	c, err := d.DialContext(hctx, "unix", path)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if hctx.Err() != nil {
			return nil, timedOut(err)
		}
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Service: name,
			Description: fmt.Sprintf("no listener at %s: is the service running, and do both sides agree on Privileged and SocketDir (or %s)?", path, envSocketDir), Err: err}
	}
	sc := newSockConn(c.(*net.UnixConn), name, cfg, false, kind)
	if cfg.PeerCheck != nil {
		if err := cfg.PeerCheck(sc.info); err != nil {
			c.Close()
			return nil, &Error{Kind: ErrPeerRequirement, Op: "dial", Service: name, PID: sc.info.PID, Description: "the service failed PeerCheck", Err: err}
		}
	}
	if err := sc.awaitHello(hctx); err != nil {
		c.Close()
		if hctx != ctx && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, timedOut(err)
		}
		return nil, err
	}
	return sc, nil
}

func dialService(ctx context.Context, name string, cfg *Config) (transport, error) {
	if err := unsupportedRequirement(cfg); err != nil {
		return nil, err
	}
	path, err := SocketPath(name, cfg.Privileged, cfg.SocketDir)
	if err != nil {
		return nil, err
	}
	redial := func(ctx context.Context) (*sockConn, error) {
		return connectSock(ctx, path, name, cfg, ErrInterrupted)
	}
	sc, err := redial(ctx)
	if err != nil {
		return nil, err
	}
	return newClientConn(name, redial, sc), nil
}

func dialEndpoint(ctx context.Context, ep *Endpoint, cfg *Config) (transport, error) {
	if err := unsupportedRequirement(cfg); err != nil {
		return nil, err
	}
	se, ok := ep.impl.(sockEndpoint)
	if !ok {
		return nil, &Error{Kind: ErrInvalid, Op: "dial", Service: ep.String(), Description: "endpoint belongs to another backend"}
	}
	sc, err := connectSock(ctx, se.path, se.String(), cfg, ErrInvalid)
	if err != nil {
		return nil, err
	}
	return newClientConn(se.String(), nil, sc), nil
}

// maxRejectReason bounds the reason text of a rejection frame, well under
// the 4096 byte frame limit of awaitHello.
const maxRejectReason = 2048

// sockListener accepts socket connections.
type sockListener struct {
	ln      *net.UnixListener
	path    string
	tempDir string // removed on close (anonymous listeners)
	name    string
	cfg     *Config
	acc     acceptor

	mu    sync.Mutex
	conns map[*sockConn]struct{}
	// acceptDone is closed when the accept loop has exited. close does not
	// wait for admissions in progress: one of them may be the caller (an
	// Accept hook closing its listener), and the public Listener refuses
	// peers admitted after it closed.
	acceptDone chan struct{}
}

func listenService(ctx context.Context, name string, cfg *Config, acc acceptor) (listenerImpl, error) {
	if err := unsupportedRequirement(cfg); err != nil {
		return nil, err
	}
	path, err := SocketPath(name, cfg.Privileged, cfg.SocketDir)
	if err != nil {
		return nil, err
	}
	if err := ensureSocketDir(filepath.Dir(path), cfg.Privileged); err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Service: name, Err: err}
	}
	ln, err := listenUnix(path)
	if err != nil && errors.Is(err, errAddrInUse) {
		// A stale socket (its listener died) is replaced; a live one is an
		// error that names it.
		if c, derr := net.DialTimeout("unix", path, time.Second); derr == nil {
			c.Close()
			return nil, &Error{Kind: ErrAddrInUse, Op: "listen", Service: name,
				Description: fmt.Sprintf("another process is listening on %s; stop it or choose another name or SocketDir", path)}
		}
		os.Remove(path)
		ln, err = listenUnix(path)
	}
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Service: name, Err: err}
	}
	if cfg.Privileged {
		// Anyone may connect; PeerCheck decides who is served.
		os.Chmod(path, 0o666)
	}
	return startListener(ln, path, "", name, cfg, acc), nil
}

func listenAnonymous(ctx context.Context, cfg *Config, acc acceptor) (listenerImpl, error) {
	if err := unsupportedRequirement(cfg); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "goxpc-anon-")
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Err: err}
	}
	path := filepath.Join(dir, "ep.sock")
	ln, err := listenUnix(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, &Error{Kind: ErrInvalid, Op: "listen", Service: path, Err: err}
	}
	return startListener(ln, path, dir, "anonymous:"+path, cfg, acc), nil
}

var errAddrInUse = errors.New("address in use")

func listenUnix(path string) (*net.UnixListener, error) {
	if max := maxSocketPath(); len(path) > max {
		return nil, fmt.Errorf("socket path %s is %d bytes, longer than the system's %d: choose a shorter SocketDir", path, len(path), max)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, errAddrInUse
	}
	return net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
}

func maxSocketPath() int {
	switch runtime.GOOS {
	case "linux", "windows":
		return 107
	}
	return 103
}

func startListener(ln *net.UnixListener, path, tempDir, name string, cfg *Config, acc acceptor) *sockListener {
	l := &sockListener{ln: ln, path: path, tempDir: tempDir, name: name, cfg: cfg, acc: acc,
		conns: map[*sockConn]struct{}{}, acceptDone: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *sockListener) describe() string { return l.name }

func (l *sockListener) endpoint() (*Endpoint, error) {
	return &Endpoint{impl: sockEndpoint{path: l.path}}, nil
}

func (l *sockListener) acceptLoop() {
	defer close(l.acceptDone)
	for {
		c, err := l.ln.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.cfg.logger().Warn("xpc: accept failed", "listener", l.name, "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		go l.admit(c)
	}
}

// admit runs the peer checks and the Accept hook, then activates the peer.
func (l *sockListener) admit(c *net.UnixConn) {
	sc := newSockConn(c, l.name, l.cfg, true, ErrInvalid)
	ev, err := l.acc.accept(sc)
	if xe, ok := err.(*Error); ok && xe.Kind == ErrClosed {
		// The listener is closing: hang up, so the client learns the
		// listener went away rather than that it was refused.
		c.Close()
		return
	}
	if err != nil {
		// The client reads the reason with a 4 KiB frame limit.
		reason := err.Error()
		if len(reason) > maxRejectReason {
			reason = reason[:maxRejectReason] + "…"
		}
		sc.writeControl(nil, flagRejected, []byte(reason))
		c.Close()
		return
	}
	l.mu.Lock()
	l.conns[sc] = struct{}{}
	l.mu.Unlock()
	sc.onEnd = func(err *Error) {
		l.mu.Lock()
		delete(l.conns, sc)
		l.mu.Unlock()
		ev.connError(err)
	}
	sc.activate(ev)
}

func (l *sockListener) terminationImminent() {
	l.mu.Lock()
	conns := make([]*sockConn, 0, len(l.conns))
	for sc := range l.conns {
		conns = append(conns, sc)
	}
	l.mu.Unlock()
	// A peer that does not read must not hold up Shutdown: the notices
	// share a short deadline (one partly written is still finished).
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, sc := range conns {
		sc.writeControl(ctx, flagTermination, nil)
	}
}

func (l *sockListener) close() error {
	err := l.ln.Close()
	<-l.acceptDone
	if l.tempDir != "" {
		os.RemoveAll(l.tempDir)
	}
	return err
}
