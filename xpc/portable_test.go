//go:build !darwin

package xpc_test

// Tests of what only the socket backend has: socket paths, stale sockets,
// raw frames, reconnecting after an interruption, termination notices.

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goxpc/goxpc/xpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSocketPath(t *testing.T) {
	p, err := xpc.SocketPath("com.example.svc", false, "/some/dir")
	require.NoError(t, err)
	assert.Equal(t, "/some/dir/com.example.svc.sock", p)

	t.Setenv("GOXPC_SOCKET_DIR", "/from/env")
	p, err = xpc.SocketPath("com.example.svc", true, "")
	require.NoError(t, err)
	assert.Equal(t, "/from/env/com.example.svc.sock", p)

	t.Setenv("GOXPC_SOCKET_DIR", "")
	p, err = xpc.SocketPath("com.example.svc", true, "")
	require.NoError(t, err)
	assert.Equal(t, "/run/goxpc/com.example.svc.sock", p)

	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1234")
	p, err = xpc.SocketPath("com.example.svc", false, "")
	require.NoError(t, err)
	assert.Equal(t, "/run/user/1234/goxpc/com.example.svc.sock", p)

	_, err = xpc.SocketPath("../escape", false, "")
	require.ErrorIs(t, err, xpc.ErrInvalid)
}

func TestNamedServiceListenDial(t *testing.T) {
	dir := t.TempDir()
	cfg := &xpc.Config{SocketDir: dir, Handler: echo}
	l, err := cfg.Listen(testCtx(t), "com.example.named")
	require.NoError(t, err)
	defer l.Close()
	fi, err := os.Stat(filepath.Join(dir, "com.example.named.sock"))
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket, fi.Mode().Type())

	c, err := (&xpc.Config{SocketDir: dir}).Dial(testCtx(t), "com.example.named")
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Request(testCtx(t), xpc.Dict{"a": "b"})
	require.NoError(t, err)
	assert.Equal(t, "b", r["a"])

	// A second listener on a live name is refused, naming the path.
	_, err = cfg.Listen(testCtx(t), "com.example.named")
	require.ErrorIs(t, err, xpc.ErrAddrInUse)
	assert.Contains(t, err.Error(), filepath.Join(dir, "com.example.named.sock"))

	// The environment variable points both sides at a directory.
	t.Setenv("GOXPC_SOCKET_DIR", dir)
	c2, err := xpc.Dial(testCtx(t), "com.example.named")
	require.NoError(t, err)
	c2.Close()
}

func TestStaleSocketIsReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "com.example.stale.sock")
	// A socket file nobody listens on, as a crashed server leaves behind.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	ln.Close()
	_, err = os.Stat(path)
	require.NoError(t, err, "stale socket file should exist")

	l, err := (&xpc.Config{SocketDir: dir, Handler: echo}).Listen(testCtx(t), "com.example.stale")
	require.NoError(t, err)
	defer l.Close()
	c, err := (&xpc.Config{SocketDir: dir}).Dial(testCtx(t), "com.example.stale")
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
}

func TestUnsafeSocketDirIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "open")
	require.NoError(t, os.Mkdir(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))
	_, err := (&xpc.Config{SocketDir: dir, Handler: echo}).Listen(testCtx(t), "com.example.unsafe")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "writable by others")
}

func TestInterruptedNamedServiceReconnects(t *testing.T) {
	dir := t.TempDir()
	cfg := &xpc.Config{SocketDir: dir, Handler: echo}
	l, err := cfg.Listen(testCtx(t), "com.example.restart")
	require.NoError(t, err)

	interrupted := make(chan error, 4)
	c, err := (&xpc.Config{SocketDir: dir, OnError: func(c *xpc.Conn, err error) { interrupted <- err }}).Dial(testCtx(t), "com.example.restart")
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)

	require.NoError(t, l.Close())
	select {
	case err := <-interrupted:
		require.ErrorIs(t, err, xpc.ErrInterrupted)
		var xe *xpc.Error
		require.ErrorAs(t, err, &xe)
		assert.True(t, xe.Retryable)
	case <-time.After(5 * time.Second):
		t.Fatal("no interruption reported")
	}
	assert.NoError(t, c.Err(), "an interruption does not end a named connection")

	// While the service is down, requests fail as interrupted (retryable).
	_, err = c.Request(testCtx(t), xpc.Dict{})
	require.ErrorIs(t, err, xpc.ErrInterrupted)

	// When it is back, the same Conn works again.
	l2, err := cfg.Listen(testCtx(t), "com.example.restart")
	require.NoError(t, err)
	defer l2.Close()
	r, err := c.Request(testCtx(t), xpc.Dict{"back": true})
	require.NoError(t, err)
	assert.Equal(t, true, r["back"])
}

func TestShutdownSendsTerminationImminent(t *testing.T) {
	l, ep := serve(t, nil)
	notices := make(chan error, 4)
	c := dial(t, ep, &xpc.Config{OnError: func(c *xpc.Conn, err error) { notices <- err }})
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	require.NoError(t, l.Shutdown(testCtx(t)))
	var sawTermination bool
	timeout := time.After(5 * time.Second)
	for !sawTermination {
		select {
		case err := <-notices:
			sawTermination = errors.Is(err, xpc.ErrTerminationImminent)
		case <-timeout:
			t.Fatal("no termination notice")
		}
	}
}

// rawFrame builds a frame header for a body.
func rawFrame(flags uint32, id uint64, body []byte) []byte {
	b := make([]byte, 24, 24+len(body))
	binary.LittleEndian.PutUint32(b[0:], 0x29b00b92)
	binary.LittleEndian.PutUint32(b[4:], flags|1)
	binary.LittleEndian.PutUint64(b[8:], uint64(len(body)))
	binary.LittleEndian.PutUint64(b[16:], id)
	return append(b, body...)
}

func TestMalformedFramesDropOnlyThatConnection(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: echo, MaxMessageSize: 1 << 16, Logger: discardLogger()})
	path, err := xpc.EndpointToken(ep)
	require.NoError(t, err)
	good := dial(t, ep, nil)

	valid, err := xpc.Encode(xpc.Dict{"k": "v"})
	require.NoError(t, err)
	cases := map[string][]byte{
		"garbage":        []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"bad magic body": rawFrame(0x100, 0, []byte{1, 2, 3, 4, 5, 6, 7, 8}),
		"unknown flags":  rawFrame(0x80000000, 0, valid),
		"too large":      rawFrame(0x100, 0, make([]byte, 2<<20)),
		"truncated body": rawFrame(0x100, 0, valid)[:30],
		"lying table":    rawFrame(0x100|0x01000000, 0, append([]byte{9, 0, 0, 0, 0, 0, 0, 0}, valid...)),
		"stray reply":    rawFrame(0x100|0x20000, 99, valid),
		"second hello":   rawFrame(0x400000, 0, nil),
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("unix", path)
			require.NoError(t, err)
			defer conn.Close()
			// Read the listener's hello first.
			hello := make([]byte, 24)
			_, err = io.ReadFull(conn, hello)
			require.NoError(t, err)
			conn.Write(frame)
			if name == "truncated body" {
				conn.(*net.UnixConn).CloseWrite()
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.Copy(io.Discard, conn)
			if !errors.Is(err, syscall.ECONNRESET) { // closed with our bytes unread
				require.NoError(t, err, "the server must close a connection that sent a malformed frame")
			}

			r, err := good.Request(testCtx(t), xpc.Dict{"still": name})
			require.NoError(t, err, "other connections keep working")
			assert.Equal(t, name, r["still"])
		})
	}
}

func TestRequirementUnsupportedHere(t *testing.T) {
	var cfg xpc.Config
	require.NoError(t, cfg.SetPeerRequirement(`anchor apple`))
	_, err := cfg.Dial(context.Background(), "com.example.any")
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.True(t, strings.Contains(err.Error(), "macOS"), err.Error())
}

// openFDs counts this process's open descriptors (Linux).
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	return len(ents)
}

func TestCloseReleasesDescriptors(t *testing.T) {
	before := openFDs(t)
	l, ep := serve(t, nil)
	for i := 0; i < 200; i++ {
		c, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
		require.NoError(t, err)
		_, err = c.Request(testCtx(t), xpc.Dict{"i": i})
		require.NoError(t, err)
		require.NoError(t, c.Close())
	}
	require.Eventually(t, func() bool { return len(l.Peers()) == 0 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, l.Close())
	require.Eventually(t, func() bool { return openFDs(t) <= before }, 5*time.Second, 10*time.Millisecond,
		"descriptors leaked: %d before, %d after", before, openFDs(t))
}

func TestLateReplyDescriptorsAreClosed(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		time.Sleep(100 * time.Millisecond)
		return xpc.Dict{"f": pr}, nil
	})})
	c := dial(t, ep, nil)
	before := openFDs(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = c.Request(ctx, xpc.Dict{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The reply arrives later with a descriptor that nobody will read: it
	// must be closed, not left to the garbage collector.
	time.Sleep(200 * time.Millisecond)
	require.Eventually(t, func() bool { return openFDs(t) <= before }, 2*time.Second, 10*time.Millisecond,
		"the late reply's descriptor is still open: %d > %d", openFDs(t), before)
}

// silentListener is a socket that accepts connections (in the kernel's
// backlog) but never answers, like a stopped or wedged server process.
func silentListener(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
}

// A Dial whose ctx has no deadline must not wait forever for a listener
// that never completes the handshake.
func TestDialWithoutDeadlineGivesUpOnSilentListener(t *testing.T) {
	defer xpc.SetHandshakeTimeout(200 * time.Millisecond)()
	path := filepath.Join(t.TempDir(), "silent.sock")
	silentListener(t, path)
	ep, err := xpc.EndpointFromToken(path)
	require.NoError(t, err)
	res := make(chan error, 1)
	go func() {
		c, err := xpc.DialEndpoint(context.Background(), ep)
		if err == nil {
			c.Close()
		}
		res <- err
	}()
	select {
	case err := <-res:
		require.ErrorIs(t, err, xpc.ErrInvalid)
		assert.Contains(t, err.Error(), "handshake")
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller set no deadline")
	case <-time.After(5 * time.Second):
		t.Fatal("Dial without a deadline hung on a listener that never answers")
	}
}

// Close returns promptly even while a send is reconnecting to a named
// service whose listener does not answer, and that send honours its ctx.
func TestCloseDuringReconnectReturnsPromptly(t *testing.T) {
	dir := t.TempDir()
	l, err := (&xpc.Config{SocketDir: dir, Handler: echo}).Listen(testCtx(t), "com.example.wedged")
	require.NoError(t, err)
	lost := make(chan struct{}, 4)
	c, err := (&xpc.Config{SocketDir: dir, OnError: func(*xpc.Conn, error) { lost <- struct{}{} }}).Dial(testCtx(t), "com.example.wedged")
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, l.Close())
	select {
	case <-lost:
	case <-time.After(5 * time.Second):
		t.Fatal("no interruption reported")
	}
	silentListener(t, filepath.Join(dir, "com.example.wedged.sock"))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = c.Send(ctx, xpc.Dict{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second, "the reconnect ignored the send's ctx")

	sent := make(chan error, 1)
	go func() { sent <- c.Send(context.Background(), xpc.Dict{}) }()
	time.Sleep(100 * time.Millisecond) // the send is now reconnecting
	// Another send waiting for that reconnect still honours its own ctx.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	start = time.Now()
	err = c.Send(ctx2, xpc.Dict{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), time.Second, "a send waited for another's reconnect past its ctx")
	start = time.Now()
	require.NoError(t, c.Close())
	require.Less(t, time.Since(start), time.Second, "Close waited for a reconnect")
	select {
	case err := <-sent:
		require.ErrorIs(t, err, xpc.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("the reconnecting send did not end with Close")
	}
}

// Messages that reach a connection while another goroutine closes it are
// dropped with their descriptors closed, never stranded in its queue.
func TestCloseWhileReceivingReleasesDescriptors(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	before := openFDs(t)
	for round := range 20 {
		first := make(chan *xpc.Conn, 1)
		l, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
			if f, ok := m.Body["f"].(*os.File); ok {
				f.Close()
			}
			select {
			case first <- m.Conn:
			default:
			}
			return nil, nil
		})})
		c := dial(t, ep, nil)
		go func() {
			sc := <-first
			time.Sleep(time.Duration(round%5) * 100 * time.Microsecond)
			sc.Close() // not from the handler: races the reader
		}()
		for i := range 300 {
			if c.Send(testCtx(t), xpc.Dict{"f": pr, "i": int64(i)}) != nil {
				break
			}
		}
		c.Close()
		l.Close()
	}
	require.Eventually(t, func() bool { return openFDs(t) <= before }, 5*time.Second, 10*time.Millisecond,
		"received descriptors leaked: %d before, %d after", before, openFDs(t))
}

// A frame header alone must not make the listener allocate the body size
// it claims: a hostile client could otherwise pin MaxMessageSize bytes per
// connection by sending 24 bytes each.
func TestFrameHeaderAloneDoesNotAllocateClaimedSize(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: echo, Logger: discardLogger()})
	path, err := xpc.EndpointToken(ep)
	require.NoError(t, err)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 4 {
		conn, err := net.Dial("unix", path)
		require.NoError(t, err)
		conns = append(conns, conn)
		hello := make([]byte, 24)
		_, err = io.ReadFull(conn, hello)
		require.NoError(t, err)
		// Claims a 60 MB body (under the 64 MB default limit), sends 1 KB.
		h := rawFrame(0x100, 0, nil)
		binary.LittleEndian.PutUint64(h[8:], 60<<20)
		_, err = conn.Write(append(h, make([]byte, 1024)...))
		require.NoError(t, err)
	}
	// Then trickle a few bytes, each arriving in a read of its own.
	for range 16 {
		for _, c := range conns {
			_, err := c.Write([]byte{0})
			require.NoError(t, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the readers run
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(32<<20),
		"4 connections that sent only a header made the listener allocate %d MB", (after.TotalAlloc-before.TotalAlloc)>>20)
}

// Accept may greet the peer before its first message: the message follows
// the handshake instead of breaking it.
func TestSendFromAcceptReachesPeer(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: echo, Accept: func(c *xpc.Conn) (xpc.Handler, error) {
		return nil, c.Send(testCtx(t), xpc.Dict{"welcome": true})
	}})
	got := make(chan xpc.Dict, 1)
	c := dial(t, ep, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		got <- m.Body
		return nil, nil
	})})
	select {
	case d := <-got:
		assert.Equal(t, true, d["welcome"])
	case <-time.After(5 * time.Second):
		t.Fatal("the greeting sent from Accept never arrived")
	}
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
}

// A long rejection reason (a PeerCheck error that says a lot) still reaches
// the client as a rejection, not as a malformed handshake.
func TestLongRejectionReasonIsStillARejection(t *testing.T) {
	long := strings.Repeat("x", 10000)
	_, ep := serve(t, &xpc.Config{Handler: echo, Logger: discardLogger(), PeerCheck: func(xpc.PeerInfo) error {
		return errors.New("not you: " + long)
	}})
	_, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
	require.ErrorIs(t, err, xpc.ErrPeerRequirement)
	assert.Contains(t, err.Error(), "not you")
}

// A peer that arrives while the listener closes is told the listener went
// away (ErrInvalid), not that it failed a peer requirement.
func TestPeerOfClosingListenerIsNotARequirementFailure(t *testing.T) {
	var l *xpc.Listener
	ready := make(chan struct{})
	l, ep := serve(t, &xpc.Config{Handler: echo, Logger: discardLogger(), Accept: func(c *xpc.Conn) (xpc.Handler, error) {
		<-ready
		l.Close()
		return nil, nil
	}})
	close(ready)
	_, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
	require.ErrorIs(t, err, xpc.ErrInvalid)
	require.NotErrorIs(t, err, xpc.ErrPeerRequirement)
}

// A Dial whose ctx ends just as the handshake completes either fails or
// returns a working connection: never one whose reader inherited the
// handshake's expired read deadline.
func TestDialDeadlineAtHandshakeEndLeavesWorkingConn(t *testing.T) {
	_, ep := serve(t, nil)
	for i := range 300 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(20+i%40*10)*time.Microsecond)
		c, err := (&xpc.Config{}).DialEndpoint(ctx, ep)
		cancel()
		if err != nil {
			continue
		}
		_, err = c.Request(testCtx(t), xpc.Dict{})
		c.Close()
		require.NoError(t, err, "dial %d returned a dead connection", i)
	}
}

// A peer's frame over MaxMessageSize ends its connection with an error
// that says so: errors.Is(err, ErrTooLarge), as the sentinel documents.
func TestOversizedIncomingFrameIsErrTooLarge(t *testing.T) {
	errs := make(chan error, 4)
	_, ep := serve(t, &xpc.Config{Handler: echo, MaxMessageSize: 1 << 16, Logger: discardLogger(),
		OnError: func(c *xpc.Conn, err error) { errs <- err }})
	path, err := xpc.EndpointToken(ep)
	require.NoError(t, err)
	conn, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer conn.Close()
	hello := make([]byte, 24)
	_, err = io.ReadFull(conn, hello)
	require.NoError(t, err)
	h := rawFrame(0x100, 0, nil)
	binary.LittleEndian.PutUint64(h[8:], 2<<20)
	_, err = conn.Write(h)
	require.NoError(t, err)
	select {
	case err := <-errs:
		require.ErrorIs(t, err, xpc.ErrInvalid)
		require.ErrorIs(t, err, xpc.ErrTooLarge)
		require.ErrorIs(t, err, xpc.ErrMalformed)
	case <-time.After(5 * time.Second):
		t.Fatal("the oversized frame did not end the connection")
	}
}
