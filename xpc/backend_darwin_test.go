//go:build cgo

package xpc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/goxpc/goxpc/xpc/cshim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of what only the libxpc backend has: object ownership, conversion
// through real xpc objects, code-signing requirements, launchd errors.

func darwinCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func quietConfig(h Handler) *Config {
	return &Config{Handler: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var echoHandler = HandlerFunc(func(ctx context.Context, m *Message) (Dict, error) { return m.Body, nil })

// anonymous starts an anonymous listener and returns it with its endpoint.
func anonymous(t testing.TB, cfg *Config) (*Listener, *Endpoint) {
	t.Helper()
	l, err := cfg.ListenAnonymous(darwinCtx(t))
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	ep, err := l.Endpoint()
	require.NoError(t, err)
	return l, ep
}

// convert sends body through a real xpc object and back: encode, one C call
// to build, one C call to walk, decode.
func convert(t testing.TB, body Dict) Dict {
	t.Helper()
	var att attachments
	wire, err := encodeMessage(nil, body, &att)
	require.NoError(t, err)
	eps, err := endpointObjects(att.endpoints)
	require.NoError(t, err)
	var obj *cshim.Object
	require.NoError(t, withFDs(att.files, func(fds []int) error {
		obj, err = cshim.Build(wire, fds, eps)
		return err
	}))
	defer obj.Release()
	p, err := cshim.Walk(obj, DefaultMaxMessageSize)
	require.NoError(t, err)
	tr := &xconn{name: "test", cfg: quietConfig(nil)}
	got, err := tr.decode(p)
	require.NoError(t, err)
	return got
}

func TestConversionRoundTripEveryType(t *testing.T) {
	_, ep := anonymous(t, quietConfig(echoHandler))
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	when := time.Date(2026, 11, 22, 1, 2, 3, 456789000, time.UTC)
	body := Dict{
		"null":    nil,
		"true":    true,
		"false":   false,
		"int":     int64(math.MinInt64),
		"uint":    uint64(math.MaxUint64),
		"double":  3.25,
		"date":    when,
		"data":    []byte{0, 1, 2, 0xff},
		"empty":   []byte{},
		"string":  "héllo, wörld",
		"estring": "",
		"uuid":    UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		"array":   []any{int64(1), "two", []any{}, Dict{}},
		"dict":    Dict{"nested": Dict{"deeper": []any{true, nil}}},
		"file":    r,
		"ep":      ep,
	}
	got := convert(t, body)

	f, ok := got.File("file")
	require.True(t, ok, "file arrived as %T", got["file"])
	defer f.Close()
	_, err = w.Write([]byte("through xpc_fd"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	b, err := io.ReadAll(f)
	require.NoError(t, err)
	assert.Equal(t, "through xpc_fd", string(b), "the received descriptor is the same pipe")

	gotEP, ok := got.Endpoint("ep")
	require.True(t, ok, "endpoint arrived as %T", got["ep"])
	assert.Equal(t, ep.impl.(xpcEndpoint).obj.String(), gotEP.impl.(xpcEndpoint).obj.String(), "the same xpc_endpoint_t")

	gotTime, ok := got.Time("date")
	require.True(t, ok)
	assert.True(t, when.Equal(gotTime), "date %v != %v", gotTime, when)

	for _, k := range []string{"file", "ep", "date"} {
		delete(got, k)
		delete(body, k)
	}
	if diff := cmp.Diff(body, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("round trip changed the message (-sent +got):\n%s", diff)
	}
}

func TestConversionLimits(t *testing.T) {
	wire, err := Encode(Dict{"d": make([]byte, 1000)})
	require.NoError(t, err)
	obj, err := cshim.Build(wire, nil, nil)
	require.NoError(t, err)
	defer obj.Release()
	_, err = cshim.Walk(obj, 100)
	require.ErrorIs(t, err, cshim.ErrTooLarge)

	// Nesting as deep as the encoder allows converts; the builder refuses
	// deeper input.
	deep := Dict{}
	for i := 0; i < MaxDepth-1; i++ {
		deep = Dict{"d": deep}
	}
	assert.NotNil(t, convert(t, deep))

	_, err = cshim.Build([]byte{1, 2, 3}, nil, nil)
	var be *cshim.BuildError
	require.ErrorAs(t, err, &be)

	wire, err = Encode(Dict{"fd": int64(1)})
	require.NoError(t, err)
	wire[len(wire)-12] = 0x00 // int64 tag 0x3000 -> fd tag 0xb000 with no descriptors attached
	wire[len(wire)-11] = 0xb0
	_, err = cshim.Build(wire, nil, nil)
	require.ErrorAs(t, err, &be, "a descriptor index with no descriptor is refused")
}

// TestWalkAtTheLimitGivesBackItsDescriptor walks a message whose descriptor
// tag is exactly what crosses the size limit: the descriptor xpc_fd_dup gave
// the walk must be closed when the walk fails.
func TestWalkAtTheLimitGivesBackItsDescriptor(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	var att attachments
	wire, err := encodeMessage(nil, Dict{"f": r}, &att)
	require.NoError(t, err)
	require.Len(t, wire, 32, "header 20, key 4, fd tag 4, index 4")
	var obj *cshim.Object
	require.NoError(t, withFDs(att.files, func(fds []int) error {
		obj, err = cshim.Build(wire, fds, nil)
		return err
	}))
	defer obj.Release()
	open := func() int {
		ents, err := os.ReadDir("/dev/fd")
		require.NoError(t, err)
		return len(ents)
	}
	before := open()
	for i := 0; i < 20; i++ {
		_, err = cshim.Walk(obj, 24) // room for the key, not for the fd's tag
		require.ErrorIs(t, err, cshim.ErrTooLarge)
	}
	assert.LessOrEqual(t, open(), before+2, "walks refused at the limit leaked the descriptors they duplicated")
}

// FuzzBuild feeds arbitrary bytes to the C decoder: it must never crash,
// must accept exactly what the Go decoder accepts, and what it builds must
// walk back to the same message.
func FuzzBuild(f *testing.F) {
	for _, d := range []Dict{{}, {"a": int64(1)}, {"s": "x", "l": []any{true, nil, 2.5}}, {"n": Dict{"m": []byte("z")}}} {
		b, err := Encode(d)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := cshim.Build(b, nil, nil)
		want, goErr := Decode(b)
		if err != nil {
			require.Error(t, goErr, "C refused (%v) what Go accepts", err)
			return
		}
		defer obj.Release()
		require.NoError(t, goErr, "C accepted what Go refuses")
		p, err := cshim.Walk(obj, DefaultMaxMessageSize)
		require.NoError(t, err)
		got, err := Decode(p.Wire)
		require.NoError(t, err)
		if diff := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("(-decoded +built and walked):\n%s", diff)
		}
	})
}

// settledObjects waits for cleanups of earlier tests and returns the count.
func settledObjects() int64 {
	prev := int64(-1)
	for i := 0; i < 50; i++ {
		runtime.GC()
		n := cshim.LiveObjects()
		if n == prev {
			return n
		}
		prev = n
		time.Sleep(10 * time.Millisecond)
	}
	return prev
}

func TestLiveObjectsReturnToZero(t *testing.T) {
	base := settledObjects()
	func() {
		l, ep := anonymous(t, quietConfig(echoHandler))
		c, err := (&Config{}).DialEndpoint(darwinCtx(t), ep)
		require.NoError(t, err)
		const total, workers = 10000, 8
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < total; i += workers {
					if i%2 == 0 {
						if err := c.Send(darwinCtx(t), Dict{"i": int64(i)}); err != nil {
							errs <- err
							return
						}
						continue
					}
					r, err := c.Request(darwinCtx(t), Dict{"i": int64(i), "b": []byte("payload")})
					if err != nil {
						errs <- err
						return
					}
					if r["i"] != int64(i) {
						errs <- errors.New("reply mismatch")
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
		assert.Greater(t, cshim.LiveObjects(), base, "the listener, its endpoint and the connections are live")
		require.NoError(t, c.Close())
		require.NoError(t, l.Close())
	}()
	require.Eventually(t, func() bool {
		runtime.GC()
		return cshim.LiveObjects() <= base
	}, 10*time.Second, 20*time.Millisecond, "xpc objects leaked: %d live, %d before", cshim.LiveObjects(), base)
}

func TestPeerRequirementNobodyMeets(t *testing.T) {
	_, ep := anonymous(t, quietConfig(echoHandler))
	cfg := quietConfig(nil)
	require.NoError(t, cfg.SetPeerRequirement(`identifier "com.example.nobody"`))
	c, err := cfg.DialEndpoint(darwinCtx(t), ep)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("peer requirements need macOS 12: %v", err)
	}
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(darwinCtx(t), Dict{"x": int64(1)})
	require.ErrorIs(t, err, ErrPeerRequirement)
	var xe *Error
	require.ErrorAs(t, err, &xe)
	assert.Contains(t, xe.Description, "com.example.nobody")
}

func TestMalformedRequirementIsAnErrorNotACrash(t *testing.T) {
	var cfg Config
	require.Error(t, cfg.SetPeerRequirement(`identifier "com.example.app" and (`))

	// Even past the Go parser, libxpc's own check returns an error.
	c := cshim.NewAnonymousListener()
	defer c.Discard()
	err := c.SetPeerRequirement(`identifier "com.example.app" and (`)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("peer requirements need macOS 12: %v", err)
	}
	require.Error(t, err)
}

func TestUseObjectDuringHandler(t *testing.T) {
	var mu sync.Mutex
	var during unsafe.Pointer
	var after error
	var kept *Message
	_, ep := anonymous(t, quietConfig(HandlerFunc(func(ctx context.Context, m *Message) (Dict, error) {
		err := m.UseObject(func(obj unsafe.Pointer) error {
			mu.Lock()
			during = obj
			mu.Unlock()
			return nil
		})
		mu.Lock()
		kept = m
		mu.Unlock()
		return nil, err
	})))
	c, err := (&Config{}).DialEndpoint(darwinCtx(t), ep)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(darwinCtx(t), Dict{})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.NotNil(t, during, "UseObject gives the xpc_object_t during the handler")
	require.NotNil(t, kept)
	after = kept.UseObject(func(unsafe.Pointer) error { return nil })
	require.ErrorIs(t, after, errors.ErrUnsupported, "the object is released once the handler has returned")
}

func TestListenWithoutLaunchdSaysWhatToCheck(t *testing.T) {
	_, err := quietConfig(echoHandler).Listen(darwinCtx(t), "com.github.goxpc.test.not-in-any-plist")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "MachServices")
	assert.Contains(t, err.Error(), "launchctl print")
}

func TestDialMissingServiceSaysWhatToCheck(t *testing.T) {
	c, err := (&Config{}).Dial(darwinCtx(t), "com.github.goxpc.test.nobody-here")
	require.NoError(t, err, "libxpc dials lazily")
	defer c.Close()
	_, err = c.Request(darwinCtx(t), Dict{})
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "launchctl print gui/")
}

func TestPeerCheckOnDialSeesThePeer(t *testing.T) {
	_, ep := anonymous(t, quietConfig(echoHandler))
	var seen PeerInfo
	cfg := &Config{PeerCheck: func(p PeerInfo) error { seen = p; return nil }}
	c, err := cfg.DialEndpoint(darwinCtx(t), ep)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, os.Getpid(), seen.PID, "the handshake made libxpc connect before PeerCheck")

	_, err = (&Config{PeerCheck: func(PeerInfo) error { return errors.New("no") }}).DialEndpoint(darwinCtx(t), ep)
	require.ErrorIs(t, err, ErrPeerRequirement)
}

func TestRejectedPeerLearnsWhy(t *testing.T) {
	_, ep := anonymous(t, &Config{Handler: echoHandler, Logger: quietConfig(nil).Logger,
		Accept: func(*Conn) (Handler, error) { return nil, errors.New("not today") }})
	c, err := (&Config{}).DialEndpoint(darwinCtx(t), ep)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(darwinCtx(t), Dict{})
	require.ErrorIs(t, err, ErrPeerRequirement)
	assert.Contains(t, err.Error(), "not today")
}
