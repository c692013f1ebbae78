//go:build cgo

package xpc

import (
	"testing"
	"time"

	"github.com/goxpc/goxpc/xpc/cshim"
)

// benchBody is a typical small request.
var benchBody = Dict{
	"method": "get",
	"id":     int64(42),
	"flags":  uint64(7),
	"when":   time.Unix(1700000000, 0),
	"blob":   make([]byte, 256),
	"items":  []any{"a", "b", int64(3), Dict{"k": true}},
}

// BenchmarkLibxpcConvert measures one message through both C calls: encode in
// Go, build the xpc object tree, walk it back, decode in Go.
func BenchmarkLibxpcConvert(b *testing.B) {
	b.ReportAllocs()
	tr := &xconn{name: "bench", cfg: &Config{}}
	for b.Loop() {
		out, err := encodeOutgoing(benchBody)
		if err != nil {
			b.Fatal(err)
		}
		obj, err := cshim.Build(out.payload, nil, nil)
		out.free()
		if err != nil {
			b.Fatal(err)
		}
		p, err := cshim.Walk(obj, DefaultMaxMessageSize)
		obj.Release()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.decode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLibxpcRoundTrip measures a request and its reply through an anonymous
// listener in this process.
func BenchmarkLibxpcRoundTrip(b *testing.B) {
	_, ep := anonymous(b, quietConfig(echoHandler))
	c, err := (&Config{}).DialEndpoint(darwinCtx(b), ep)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := darwinCtx(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Request(ctx, benchBody); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLibxpcRoundTripParallel measures requests from many goroutines on one
// connection.
func BenchmarkLibxpcRoundTripParallel(b *testing.B) {
	_, ep := anonymous(b, quietConfig(echoHandler))
	c, err := (&Config{}).DialEndpoint(darwinCtx(b), ep)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := darwinCtx(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Request(ctx, benchBody); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
