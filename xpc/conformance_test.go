package xpc_test

// The conformance suite: the behaviour every backend must have, on
// anonymous listeners so that it needs neither launchd nor any setup. It
// has no build tags and runs unchanged on the portable backend and on
// libxpc (macOS CI).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/goxpc/goxpc/xpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var echo = xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
	return m.Body, nil
})

// serve starts an anonymous listener configured by cfg (nil: echo).
func serve(t *testing.T, cfg *xpc.Config) (*xpc.Listener, *xpc.Endpoint) {
	t.Helper()
	if cfg == nil {
		cfg = &xpc.Config{Handler: echo}
	}
	l, err := cfg.ListenAnonymous(testCtx(t))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	ep, err := l.Endpoint()
	require.NoError(t, err)
	return l, ep
}

func dial(t *testing.T, ep *xpc.Endpoint, cfg *xpc.Config) *xpc.Conn {
	t.Helper()
	if cfg == nil {
		cfg = &xpc.Config{}
	}
	c, err := cfg.DialEndpoint(testCtx(t), ep)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// connLost reports whether err says the peer is gone.
func connLost(err error) bool {
	return errors.Is(err, xpc.ErrInvalid) || errors.Is(err, xpc.ErrInterrupted)
}

func TestRequestReply(t *testing.T) {
	_, ep := serve(t, nil)
	c := dial(t, ep, nil)
	when := time.Date(2024, 2, 29, 12, 30, 0, 123456789, time.UTC)
	body := xpc.Dict{
		"null": nil, "bool": true, "int": int64(-42), "uint": uint64(1 << 63), "double": 3.25,
		"date": when, "data": []byte{0, 1, 2, 3, 4}, "string": "héllo", "uuid": xpc.UUID{1, 2, 3, 15: 16},
		"array": []any{"a", int64(1), []any{}, xpc.Dict{}}, "dict": xpc.Dict{"nested": xpc.Dict{"k": "v"}},
		"empty": "",
	}
	reply, err := c.Request(testCtx(t), body)
	require.NoError(t, err)
	// Dates come back as the same instant, possibly in another location.
	got, ok := reply.Time("date")
	require.True(t, ok, "date came back as %T", reply["date"])
	assert.True(t, when.Equal(got), "date %v != %v", got, when)
	delete(reply, "date")
	delete(body, "date")
	if diff := cmp.Diff(body, reply); diff != "" {
		t.Fatalf("reply differs (-sent +got):\n%s", diff)
	}
}

func TestSequentialRequestsKeepOrder(t *testing.T) {
	var mu sync.Mutex
	var seen []int64
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		n, _ := m.Body.Int64("n")
		mu.Lock()
		seen = append(seen, n)
		mu.Unlock()
		return nil, nil
	})})
	c := dial(t, ep, nil)
	ctx := testCtx(t)
	for i := int64(0); i < 100; i++ {
		require.NoError(t, c.Send(ctx, xpc.Dict{"n": i}))
	}
	_, err := c.Request(ctx, xpc.Dict{"n": int64(100)}) // a barrier: handled after the sends
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 101)
	for i, n := range seen {
		require.Equal(t, int64(i), n, "messages handled out of order")
	}
}

func TestHandlerErrorIsRemoteErrorAndConnectionSurvives(t *testing.T) {
	mux := xpc.NewMux()
	mux.HandleFunc("fail", func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return nil, errors.New("disk full")
	})
	mux.HandleFunc("ok", func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"ok": true}, nil
	})
	_, ep := serve(t, &xpc.Config{Handler: mux})
	c := dial(t, ep, nil)
	ctx := testCtx(t)

	_, err := c.Request(ctx, xpc.Dict{"method": "fail"})
	var re *xpc.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "disk full", re.Message)

	_, err = c.Request(ctx, xpc.Dict{"method": "no.such.method"})
	require.ErrorAs(t, err, &re)
	assert.Equal(t, xpc.CodeUnknownMethod, re.Code)
	assert.Contains(t, re.Message, "no.such.method")

	_, err = c.Request(ctx, xpc.Dict{"no": "method"})
	require.ErrorAs(t, err, &re)
	assert.Equal(t, xpc.CodeBadRequest, re.Code)

	reply, err := c.Request(ctx, xpc.Dict{"method": "ok"})
	require.NoError(t, err, "the connection must survive an unknown method")
	assert.Equal(t, true, reply["ok"])
}

func TestHandlerPanicIsInternalError(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		if m.Body["panic"] == true {
			panic("boom")
		}
		return xpc.Dict{"fine": true}, nil
	}), Logger: discardLogger()})
	c := dial(t, ep, nil)
	_, err := c.Request(testCtx(t), xpc.Dict{"panic": true})
	var re *xpc.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, xpc.CodeInternal, re.Code)
	r, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	assert.Equal(t, true, r["fine"])
}

type addReq struct {
	A, B  int
	Label string `xpc:"label,omitempty"`
}

type addResp struct {
	Sum   int    `xpc:"sum"`
	Label string `xpc:"label"`
}

func TestTypedRouting(t *testing.T) {
	mux := xpc.NewMux()
	xpc.HandleTyped(mux, "add", func(ctx context.Context, r *addReq) (*addResp, error) {
		return &addResp{Sum: r.A + r.B, Label: r.Label}, nil
	})
	_, ep := serve(t, &xpc.Config{Handler: mux})
	c := dial(t, ep, nil)
	resp, err := xpc.Call[addResp](testCtx(t), c, "add", &addReq{A: 2, B: 40, Label: "answer"})
	require.NoError(t, err)
	assert.Equal(t, addResp{Sum: 42, Label: "answer"}, *resp)

	// A body that does not fit the request type is a bad request, not a crash.
	_, err = c.Request(testCtx(t), xpc.Dict{"method": "add", "A": "two"})
	var re *xpc.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, xpc.CodeBadRequest, re.Code)
	assert.Contains(t, re.Message, "A")
}

func TestPushFromServerHandler(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		// Push two messages back before replying.
		for i := int64(0); i < 2; i++ {
			if err := m.Conn.Send(ctx, xpc.Dict{"push": i}); err != nil {
				return nil, err
			}
		}
		return xpc.Dict{"done": true}, nil
	})})
	pushes := make(chan int64, 4)
	c := dial(t, ep, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		n, _ := m.Body.Int64("push")
		pushes <- n
		return nil, nil
	})})
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	for i := int64(0); i < 2; i++ {
		select {
		case n := <-pushes:
			assert.Equal(t, i, n)
		case <-time.After(5 * time.Second):
			t.Fatal("push not received")
		}
	}
}

func TestServerRequestsClient(t *testing.T) {
	// Either side may send requests: the server asks the client while
	// handling the client's own request.
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		r, err := m.Conn.Request(ctx, xpc.Dict{"q": "name?"})
		if err != nil {
			return nil, err
		}
		return xpc.Dict{"hello": r["name"]}, nil
	})})
	c := dial(t, ep, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"name": "client"}, nil
	})})
	r, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	assert.Equal(t, "client", r["hello"])
}

func TestBroadcastToSeveralPeers(t *testing.T) {
	l, ep := serve(t, nil)
	const n = 5
	got := make(chan string, n)
	conns := make([]*xpc.Conn, n)
	for i := range conns {
		name := fmt.Sprint("client", i)
		conns[i] = dial(t, ep, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
			got <- name + ":" + m.Body["news"].(string)
			return nil, nil
		})})
		// A request makes sure the listener has accepted this peer.
		_, err := conns[i].Request(testCtx(t), xpc.Dict{})
		require.NoError(t, err)
	}
	require.Len(t, l.Peers(), n)
	require.NoError(t, l.Broadcast(testCtx(t), xpc.Dict{"news": "changed"}))
	var all []string
	for range n {
		select {
		case s := <-got:
			all = append(all, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d peers got the push: %v", len(all), n, all)
		}
	}
	for i := range n {
		assert.Contains(t, all, fmt.Sprintf("client%d:changed", i))
	}

	// A peer that left is forgotten; the others still get pushes.
	conns[0].Close()
	require.Eventually(t, func() bool { return len(l.Peers()) == n-1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, l.Broadcast(testCtx(t), xpc.Dict{"news": "again"}))
	for range n - 1 {
		select {
		case s := <-got:
			assert.True(t, strings.HasSuffix(s, ":again"), s)
			assert.NotEqual(t, "client0:again", s)
		case <-time.After(5 * time.Second):
			t.Fatal("push after a peer left not received")
		}
	}
}

// dialEchoPeer starts an echo listener, dials it, completes one request and
// returns the client and the listener's side of the connection.
func dialEchoPeer(t *testing.T) (client, peer *xpc.Conn) {
	t.Helper()
	peers := make(chan *xpc.Conn, 1)
	_, ep := serve(t, &xpc.Config{Handler: echo, Accept: func(c *xpc.Conn) (xpc.Handler, error) {
		peers <- c
		return nil, nil
	}})
	client = dial(t, ep, nil)
	_, err := client.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	return client, <-peers
}

func TestSendToClosedPeerIsTypedError(t *testing.T) {
	c, peer := dialEchoPeer(t)
	c.Close()
	select {
	case <-peer.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not notice the client leaving")
	}
	require.True(t, connLost(peer.Err()), "peer.Err() = %v", peer.Err())
	err := peer.Send(testCtx(t), xpc.Dict{"x": int64(1)})
	require.Error(t, err)
	var xe *xpc.Error
	require.ErrorAs(t, err, &xe)
}

func TestAcceptHandlerInPlaceBeforeFirstMessage(t *testing.T) {
	// The client sends immediately after Dial; the per-peer handler that
	// Accept installs must see every message, the first included.
	var got atomic.Int64
	_, ep := serve(t, &xpc.Config{Accept: func(c *xpc.Conn) (xpc.Handler, error) {
		time.Sleep(20 * time.Millisecond) // widen any window
		return xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
			got.Add(1)
			return xpc.Dict{"count": got.Load()}, nil
		}), nil
	}})
	for i := 0; i < 5; i++ {
		got.Store(0)
		c := dial(t, ep, nil)
		require.NoError(t, c.Send(testCtx(t), xpc.Dict{"first": true}))
		r, err := c.Request(testCtx(t), xpc.Dict{})
		require.NoError(t, err)
		require.Equal(t, int64(2), r["count"], "the first message was lost or went to another handler")
		c.Close()
	}
}

func TestPeerInfo(t *testing.T) {
	c, peer := dialEchoPeer(t)
	if runtime.GOOS == "windows" {
		t.Skip("Windows AF_UNIX reports no peer credentials")
	}
	for _, info := range []xpc.PeerInfo{c.Peer(), peer.Peer()} {
		assert.Equal(t, os.Getpid(), info.PID)
		assert.Equal(t, os.Geteuid(), info.UID)
		assert.Equal(t, os.Getegid(), info.GID)
	}
}

func TestPeerCheckRejects(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: echo, Logger: discardLogger(), PeerCheck: func(p xpc.PeerInfo) error {
		return errors.New("uid not allowed")
	}})
	c, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
	if err == nil {
		// libxpc connects lazily: the rejection shows on first use.
		defer c.Close()
		_, err = c.Request(testCtx(t), xpc.Dict{})
	}
	require.Error(t, err)
	if xpc.BackendName == "sockets" {
		require.ErrorIs(t, err, xpc.ErrPeerRequirement)
		assert.Contains(t, err.Error(), "uid not allowed")
	} else {
		require.True(t, connLost(err) || errors.Is(err, xpc.ErrPeerRequirement), "err = %v", err)
	}

	// A check that passes admits the peer.
	_, ep2 := serve(t, &xpc.Config{Handler: echo, PeerCheck: func(p xpc.PeerInfo) error {
		if runtime.GOOS != "windows" && p.UID != os.Geteuid() {
			return fmt.Errorf("uid %d", p.UID)
		}
		return nil
	}})
	_, err = dial(t, ep2, nil).Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
}

func TestContextDeadlineAndLateReply(t *testing.T) {
	release := make(chan struct{})
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		if m.Body["slow"] == true {
			<-release
		}
		return m.Body, nil
	})})
	c := dial(t, ep, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Request(ctx, xpc.Dict{"slow": true})
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// An already-cancelled context fails before sending.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = c.Request(done, xpc.Dict{})
	require.ErrorIs(t, err, context.Canceled)

	// The late reply is discarded and the connection keeps working.
	close(release)
	r, err := c.Request(testCtx(t), xpc.Dict{"n": int64(7)})
	require.NoError(t, err)
	assert.Equal(t, int64(7), r["n"])
}

func TestRandomCancellationCompletesEveryRequestOnce(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		if d, ok := m.Body.Int64("sleep"); ok && d > 0 {
			time.Sleep(time.Duration(d))
		}
		return m.Body, nil
	})})
	c := dial(t, ep, nil)
	const total, workers = 10000, 16
	var replied, cancelled atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := w; i < total; i += workers {
				ctx, cancel := context.WithCancel(context.Background())
				body := xpc.Dict{"i": int64(i)}
				if rng.IntN(50) == 0 {
					body["sleep"] = int64(200 * time.Microsecond)
				}
				switch rng.IntN(4) {
				case 0:
					cancel()
				case 1:
					time.AfterFunc(time.Duration(rng.IntN(100))*time.Microsecond, cancel)
				}
				r, err := c.Request(ctx, body)
				cancel()
				switch {
				case err == nil:
					if r["i"] != int64(i) {
						errs <- fmt.Errorf("request %d got the reply of %v", i, r["i"])
						return
					}
					replied.Add(1)
				case errors.Is(err, context.Canceled):
					cancelled.Add(1)
				default:
					errs <- fmt.Errorf("request %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	assert.Equal(t, int64(total), replied.Load()+cancelled.Load(), "every request completes exactly once")
	assert.Positive(t, replied.Load())
	assert.Positive(t, cancelled.Load())
	// The connection is healthy afterwards.
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
}

func TestConcurrentClients(t *testing.T) {
	l, ep := serve(t, nil)
	const clients, each = 32, 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := range each {
				want := fmt.Sprintf("%d/%d", i, j)
				r, err := c.Request(testCtx(t), xpc.Dict{"v": want})
				if err != nil {
					errs <- err
					return
				}
				if r["v"] != want {
					errs <- fmt.Errorf("got %v want %s", r["v"], want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	require.Eventually(t, func() bool { return len(l.Peers()) == 0 }, 5*time.Second, 5*time.Millisecond,
		"the listener forgets peers that left")
}

func TestPeerClosesMidRequest(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		m.Conn.Close() // the server drops the client instead of answering
		<-ctx.Done()
		return nil, ctx.Err()
	})})
	c := dial(t, ep, nil)
	start := time.Now()
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.Error(t, err)
	require.True(t, connLost(err), "err = %v", err)
	var xe *xpc.Error
	require.ErrorAs(t, err, &xe)
	assert.Less(t, time.Since(start), time.Second)
}

func TestPeerProcessKilledMidRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a helper process")
	}
	h := startHelper(t, "server")
	tok := h.expect(t, "endpoint")
	ep, err := xpc.EndpointFromToken(tok)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("%s endpoints cannot cross processes without launchd: %v", xpc.BackendName, err)
	}
	require.NoError(t, err)
	c := dial(t, ep, nil)
	r, err := c.Request(testCtx(t), xpc.Dict{"method": "echo", "x": int64(1)})
	require.NoError(t, err)
	require.Equal(t, int64(1), r["x"])

	result := make(chan error, 1)
	go func() {
		_, err := c.Request(testCtx(t), xpc.Dict{"method": "hang"})
		result <- err
	}()
	h.expect(t, "hanging")
	killed := time.Now()
	require.NoError(t, h.cmd.Process.Kill())
	select {
	case err := <-result:
		require.True(t, connLost(err), "err = %v", err)
		var xe *xpc.Error
		require.ErrorAs(t, err, &xe)
		assert.Less(t, time.Since(killed), time.Second)
	case <-time.After(time.Second):
		t.Fatal("no error within 1s of the peer's death")
	}
}

func TestMessageSizeLimit(t *testing.T) {
	const limit = 64 << 10
	_, ep := serve(t, &xpc.Config{Handler: echo, MaxMessageSize: limit})
	c := dial(t, ep, &xpc.Config{MaxMessageSize: limit})

	// Find the data length whose message encodes to exactly the limit.
	base, err := xpc.Encode(xpc.Dict{"d": []byte{}})
	require.NoError(t, err)
	n := limit - len(base)
	at := xpc.Dict{"d": make([]byte, n)}
	enc, err := xpc.Encode(at)
	require.NoError(t, err)
	require.Len(t, enc, limit)

	r, err := c.Request(testCtx(t), at)
	require.NoError(t, err, "a message at the limit must pass")
	assert.Len(t, r["d"], n)

	over := xpc.Dict{"d": make([]byte, n+4)}
	_, err = c.Request(testCtx(t), over)
	require.ErrorIs(t, err, xpc.ErrTooLarge)
	require.ErrorIs(t, c.Send(testCtx(t), over), xpc.ErrTooLarge)

	_, err = c.Request(testCtx(t), xpc.Dict{"still": "alive"})
	require.NoError(t, err, "an oversized message must not break the connection")

	// A reply over the server's limit becomes an error reply.
	_, ep2 := serve(t, &xpc.Config{MaxMessageSize: limit, Logger: discardLogger(), Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"d": make([]byte, limit)}, nil
	})})
	_, err = dial(t, ep2, nil).Request(testCtx(t), xpc.Dict{})
	var re *xpc.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, xpc.CodeInternal, re.Code)
}

func TestClosedConnAndListener(t *testing.T) {
	l, ep := serve(t, nil)
	c := dial(t, ep, nil)
	_, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	_, err = c.Request(testCtx(t), xpc.Dict{})
	require.ErrorIs(t, err, xpc.ErrClosed)
	require.ErrorIs(t, c.Send(testCtx(t), xpc.Dict{}), xpc.ErrClosed)
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Close")
	}

	// The client is told, by its final error or (libxpc may first report
	// the peer's end as an interruption) through OnError.
	told := make(chan error, 4)
	c2 := dial(t, ep, &xpc.Config{OnError: func(c *xpc.Conn, err error) { told <- err }})
	_, err = c2.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	select {
	case <-c2.Done():
		require.True(t, connLost(c2.Err()), "err = %v", c2.Err())
	case err := <-told:
		require.True(t, connLost(err), "err = %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("client not told that the listener closed")
	}
	_, err = c2.Request(testCtx(t), xpc.Dict{})
	require.True(t, connLost(err), "err = %v", err)
}

func TestDialUnknownServiceIsInvalid(t *testing.T) {
	cfg := &xpc.Config{SocketDir: t.TempDir()}
	name := "com.github.goxpc.test.nobody-listens"
	c, err := cfg.Dial(testCtx(t), name)
	if err == nil {
		defer c.Close()
		_, err = c.Request(testCtx(t), xpc.Dict{})
	}
	require.ErrorIs(t, err, xpc.ErrInvalid)
	assert.Contains(t, err.Error(), name)

	_, err = cfg.Dial(testCtx(t), "bad/name")
	require.ErrorIs(t, err, xpc.ErrInvalid)
}

func TestEndpointInsideMessage(t *testing.T) {
	// A private second listener handed to the client inside a reply.
	private, privEP := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"from": "private"}, nil
	})})
	_ = private
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"endpoint": privEP}, nil
	})})
	c := dial(t, ep, nil)
	r, err := c.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	got, ok := r.Endpoint("endpoint")
	require.True(t, ok, "reply holds %T", r["endpoint"])
	pc := dial(t, got, nil)
	r, err = pc.Request(testCtx(t), xpc.Dict{})
	require.NoError(t, err)
	assert.Equal(t, "private", r["from"])
}

func TestFileDescriptorPassing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows AF_UNIX cannot pass descriptors")
	}
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		f, ok := m.Body.File("file")
		if !ok {
			return nil, fmt.Errorf("no file, got %T", m.Body["file"])
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		return xpc.Dict{"content": string(b)}, nil
	})})
	c := dial(t, ep, nil)
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	_, err = pw.WriteString("through the descriptor")
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	r, err := c.Request(testCtx(t), xpc.Dict{"file": pr})
	require.NoError(t, err)
	require.NoError(t, pr.Close(), "the sender keeps ownership of its file")
	assert.Equal(t, "through the descriptor", r["content"])
}

func TestPeerRequirementText(t *testing.T) {
	var cfg xpc.Config
	err := cfg.SetPeerRequirement(`identifier "com.example.app" and (`)
	require.Error(t, err, "malformed requirement text must be an error, not a crash")
	assert.Empty(t, cfg.PeerRequirement())
	require.NoError(t, cfg.SetPeerRequirement(`identifier "com.example.app" and anchor apple generic`))
	cfg.Handler = echo
	l, err := cfg.ListenAnonymous(testCtx(t))
	if xpc.BackendName == "sockets" {
		require.ErrorIs(t, err, errors.ErrUnsupported)
		assert.True(t, strings.Contains(err.Error(), "PeerCheck"), "the error says what to use instead: %v", err)
		return
	}
	require.NoError(t, err)
	l.Close()
}

func TestListenerShutdownWaitsForHandlers(t *testing.T) {
	started := make(chan struct{})
	finish := make(chan struct{})
	l, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		close(started)
		<-finish
		return xpc.Dict{"finished": true}, nil
	})})
	c := dial(t, ep, nil)
	result := make(chan error, 1)
	go func() {
		_, err := c.Request(testCtx(t), xpc.Dict{})
		result <- err
	}()
	<-started
	shut := make(chan error, 1)
	go func() { shut <- l.Shutdown(testCtx(t)) }()
	select {
	case <-shut:
		t.Fatal("Shutdown returned while a handler was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	require.NoError(t, <-result, "the in-flight request is answered")
	require.NoError(t, <-shut)
}

func TestAcceptHookPanicOrCloseRejectsPeer(t *testing.T) {
	for name, accept := range map[string]func(c *xpc.Conn) (xpc.Handler, error){
		"panic": func(c *xpc.Conn) (xpc.Handler, error) { panic("bug in Accept") },
		"close": func(c *xpc.Conn) (xpc.Handler, error) { c.Close(); return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			l, ep := serve(t, &xpc.Config{Handler: echo, Accept: accept, Logger: discardLogger()})
			c, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
			if err == nil {
				defer c.Close()
				_, err = c.Request(testCtx(t), xpc.Dict{})
			}
			require.Error(t, err, "the peer must be refused, and the server must survive")
			assert.Empty(t, l.Peers())
			// The listener is still alive: the next peer gets the same
			// answer instead of a hang or a crash.
			c2, err := (&xpc.Config{}).DialEndpoint(testCtx(t), ep)
			if err == nil {
				defer c2.Close()
				_, err = c2.Request(testCtx(t), xpc.Dict{})
			}
			require.Error(t, err)
		})
	}
}

// When the peer sends a message and hangs up at once, the message is still
// handled (as libxpc delivers it before the final error) and a request
// waiting for a reply fails quickly rather than hangs.
func TestPendingRequestFailsWhenPeerClosesRightAfterSending(t *testing.T) {
	_, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		// Send a message, then hang up at once, without replying.
		m.Conn.Send(ctx, xpc.Dict{"push": true})
		m.Conn.Close()
		return nil, nil
	})})
	for i := range 50 {
		pushed := make(chan struct{}, 1)
		c := dial(t, ep, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
			pushed <- struct{}{}
			return nil, nil
		})})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		start := time.Now()
		_, err := c.Request(ctx, xpc.Dict{"i": int64(i)})
		cancel()
		require.Error(t, err, "round %d", i)
		require.NotErrorIs(t, err, context.DeadlineExceeded, "round %d: the request hung after the peer closed", i)
		require.Less(t, time.Since(start), 2*time.Second, "round %d", i)
		select {
		case <-pushed:
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: the message sent before the close was not delivered", i)
		}
		c.Close()
	}
}

// A peer that stops reading (its handler is stuck and its queue is full)
// must not make Send or Request ignore their context: libxpc queues
// outgoing messages, and no backend may block a caller past its deadline.
func TestSendAndRequestHonourContextWhenPeerStopsReading(t *testing.T) {
	l, ep := serve(t, &xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		<-ctx.Done() // stuck until the connection ends
		return nil, nil
	})})
	c := dial(t, ep, nil)
	big := xpc.Dict{"data": make([]byte, 256<<10)}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := range 200 {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			err := c.Send(ctx, big)
			cancel()
			if err != nil {
				assert.ErrorIs(t, err, context.DeadlineExceeded, "send %d", i)
				break
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err := c.Request(ctx, big)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		c.Close() // unblock the writer so the test can end
		l.Close()
		<-finished
		t.Fatal("Send or Request blocked past its deadline while the peer did not read")
	}
	// The connection still works once the peer reads again.
	c.Close()
}

// Listener.Close may be called from inside Accept (say, a service that
// serves one client and stops): it returns, and that peer is refused.
func TestListenerCloseFromAccept(t *testing.T) {
	var l *xpc.Listener
	ready := make(chan struct{})
	closed := make(chan error, 1)
	l, ep := serve(t, &xpc.Config{Handler: echo, Logger: discardLogger(), Accept: func(c *xpc.Conn) (xpc.Handler, error) {
		<-ready
		closed <- l.Close()
		return nil, nil
	}})
	close(ready)
	dialed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := (&xpc.Config{}).DialEndpoint(ctx, ep)
		if err == nil {
			_, err = c.Request(ctx, xpc.Dict{})
			c.Close()
		}
		dialed <- err
	}()
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Listener.Close called from Accept did not return")
	}
	err := <-dialed
	require.Error(t, err, "the peer accepted while the listener closed is not served")
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the peer hung instead of being refused")
}
