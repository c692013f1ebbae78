//go:build unix

package xpc_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/goxpc/goxpc/xpc"
)

// The connection benchmarks pair each goxpc measurement with a baseline in
// the same run: "raw" is a ping-pong of the same payload over a bare Unix
// socket, the floor any socket IPC pays. "bash .ci/bench" prints the
// ratios.
//
// Besides ns/op, each reports the process's CPU time (cpu-ns/op: user +
// system, all threads, so the echo server's work counts too) and context
// switches (ctxsw/op: voluntary + involuntary, mostly threads sleeping and
// waking) per round trip. On a loaded machine wall time swings widely, and
// these two say where it goes: work, or waiting for the scheduler.

var payloadSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"64KiB", 64 << 10}}

func BenchmarkRoundTrip(b *testing.B) {
	for _, sz := range payloadSizes {
		b.Run("raw/"+sz.name, func(b *testing.B) {
			c := rawPingPong(b)
			buf := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			u := startUsage()
			for range b.N {
				rawRoundTrip(b, c, buf)
			}
			u.report(b)
		})
		b.Run("xpc/"+sz.name, func(b *testing.B) {
			c := benchConn(b)
			body := xpc.Dict{"d": make([]byte, sz.n)}
			ctx := context.Background()
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			u := startUsage()
			for range b.N {
				if _, err := c.Request(ctx, body); err != nil {
					b.Fatal(err)
				}
			}
			u.report(b)
		})
	}
}

// BenchmarkThroughput8 runs 8 clients, each on its own connection, doing
// 64-byte round trips as fast as they can.
func BenchmarkThroughput8(b *testing.B) {
	const clients = 8
	b.Run("raw", func(b *testing.B) {
		conns := make([]net.Conn, clients)
		for i := range conns {
			conns[i] = rawPingPong(b)
		}
		runClients(b, clients, func(i int) func() {
			buf := make([]byte, 64)
			return func() { rawRoundTrip(b, conns[i], buf) }
		})
	})
	b.Run("xpc", func(b *testing.B) {
		l, ep := benchListener(b)
		_ = l
		conns := make([]*xpc.Conn, clients)
		for i := range conns {
			conns[i] = benchDial(b, ep)
		}
		runClients(b, clients, func(i int) func() {
			body := xpc.Dict{"d": make([]byte, 64)}
			return func() {
				if _, err := conns[i].Request(context.Background(), body); err != nil {
					b.Error(err)
				}
			}
		})
	})
}

// runClients splits b.N round trips over n goroutines.
func runClients(b *testing.B, n int, mk func(i int) func()) {
	b.ReportAllocs()
	b.ResetTimer()
	u := startUsage()
	defer u.report(b)
	var wg sync.WaitGroup
	for i := range n {
		op := mk(i)
		count := b.N / n
		if i < b.N%n {
			count++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range count {
				op()
			}
		}()
	}
	wg.Wait()
}

func benchListener(b *testing.B) (*xpc.Listener, *xpc.Endpoint) {
	l, err := xpc.ListenAnonymous(echo)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	ep, err := l.Endpoint()
	if err != nil {
		b.Fatal(err)
	}
	return l, ep
}

func benchDial(b *testing.B, ep *xpc.Endpoint) *xpc.Conn {
	c, err := xpc.DialEndpoint(context.Background(), ep)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func benchConn(b *testing.B) *xpc.Conn {
	_, ep := benchListener(b)
	return benchDial(b, ep)
}

// rawPingPong starts a bare Unix-socket echo server and returns a client
// connection to it: the baseline.
func rawPingPong(b *testing.B) net.Conn {
	path := filepath.Join(b.TempDir(), "raw.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.Copy(s, s) // echo every byte back
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c.Close()
		ln.Close()
		<-done
	})
	return c
}

func rawRoundTrip(b *testing.B, c net.Conn, buf []byte) {
	if _, err := c.Write(buf); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		b.Fatal(fmt.Errorf("raw read: %w", err))
	}
}

// usage is the process's resource usage at the start of a measurement.
type usage struct{ ru syscall.Rusage }

func startUsage() usage {
	var u usage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u.ru)
	return u
}

// report adds cpu-ns/op and ctxsw/op for the time since startUsage.
func (u usage) report(b *testing.B) {
	var now syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &now); err != nil || b.N == 0 {
		return
	}
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	cpu := tv(now.Utime) - tv(u.ru.Utime) + tv(now.Stime) - tv(u.ru.Stime)
	sw := (now.Nvcsw - u.ru.Nvcsw) + (now.Nivcsw - u.ru.Nivcsw)
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(sw)/float64(b.N), "ctxsw/op")
}
