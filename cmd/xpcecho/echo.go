package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/goxpc/goxpc/xpc"
)

func init() {
	register(command{name: "serve", summary: "run the echo service on a Mach service name", run: cmdServe})
	register(command{name: "send", summary: "send text to the echo service and print the reply and round-trip time", run: cmdSend})
	register(command{name: "demo", summary: "run server and client in one process (no launchd, no setup)", run: cmdDemo})
}

// backendName says which xpc backend this build uses.
func backendName() string {
	if runtime.GOOS == "darwin" {
		return "libxpc"
	}
	return "Unix domain sockets"
}

// echoService is the echo server's Mux: "echo" returns the text, and any
// other method gets goxpc's unknown-method error reply.
func echoService(served *atomic.Int64) *xpc.Mux {
	mux := xpc.NewMux()
	xpc.HandleTyped(mux, "echo", func(ctx context.Context, req *echoRequest) (*echoReply, error) {
		n := served.Add(1)
		return &echoReply{Text: req.Text, PID: os.Getpid(), Served: n}, nil
	})
	return mux
}

type echoRequest struct {
	Text string `xpc:"text"`
}

type echoReply struct {
	Text   string `xpc:"text"`
	PID    int    `xpc:"pid"`
	Served int64  `xpc:"served"`
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "", "Serve the echo service until interrupted. On macOS the process must be started by\nlaunchd from a job that lists the service in MachServices (see \"xpcecho install\").", stderr)
	service := fs.String("service", defaultService, "Mach service `name` to serve")
	privileged := fs.Bool("privileged", false, "serve in the system namespace (portable backend: the system socket directory)")
	socketDir := fs.String("socket-dir", "", "portable backend: `dir`ectory for the service socket (default $GOXPC_SOCKET_DIR or a per-user directory)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return fmt.Errorf("serve takes no arguments: %w", errUsage)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var served atomic.Int64
	cfg := &xpc.Config{
		Handler:    echoService(&served),
		Privileged: *privileged,
		SocketDir:  *socketDir,
		Logger:     log,
		Accept: func(c *xpc.Conn) (xpc.Handler, error) {
			p := c.Peer()
			log.Info("peer connected", "pid", p.PID, "uid", p.UID)
			return nil, nil
		},
	}
	l, err := cfg.Listen(ctx, *service)
	if err != nil {
		return err
	}
	log.Info("serving", "service", *service, "backend", backendName(), "pid", os.Getpid())
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = l.Shutdown(shutdownCtx)
	log.Info("stopped", "served", served.Load())
	return err
}

func cmdSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("send", "TEXT...", "Send TEXT to the echo service and print the echo and the round-trip time.", stderr)
	service := fs.String("service", defaultService, "Mach service `name` to send to")
	privileged := fs.Bool("privileged", false, "look the service up in the system namespace (a LaunchDaemon)")
	socketDir := fs.String("socket-dir", "", "portable backend: `dir`ectory of the service socket")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("send needs TEXT: %w", errUsage)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	c, err := (&xpc.Config{Privileged: *privileged, SocketDir: *socketDir}).Dial(ctx, *service)
	if err != nil {
		return err
	}
	defer c.Close()
	text := strings.Join(fs.Args(), " ")
	start := time.Now()
	reply, err := xpc.Call[echoReply](ctx, c, "echo", &echoRequest{Text: text})
	rtt := time.Since(start)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no reply from %s within %v", *service, *timeout)
		}
		return err
	}
	fmt.Fprintf(stdout, "%s (from pid %d, message #%d, round trip %v)\n", reply.Text, reply.PID, reply.Served, rtt.Round(time.Microsecond))
	return nil
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", "", "Run the echo server on an anonymous listener and a client in the same process:\nno launchd, no sudo, no setup. Shows request/reply, server push and errors.", stderr)
	n := fs.Int("n", 3, "number of echo round trips")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "xpcecho demo: server and client in one process over %s\n", backendName())

	var served atomic.Int64
	mux := echoService(&served)
	// "subscribe" pushes a notification back to the caller's connection,
	// the way a server tells client A that client B changed something.
	mux.HandleFunc("subscribe", func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"subscribed": true}, m.Conn.Send(ctx, xpc.Dict{"event": "something changed"})
	})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := (&xpc.Config{Handler: mux, Logger: quiet}).ListenAnonymous(ctx)
	if err != nil {
		return err
	}
	defer l.Close()
	ep, err := l.Endpoint()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "server: listening on %v\n", ep)

	pushes := make(chan xpc.Dict, 1)
	client := &xpc.Config{Logger: quiet, Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		pushes <- m.Body
		return nil, nil
	})}
	c, err := client.DialEndpoint(ctx, ep)
	if err != nil {
		return err
	}
	defer c.Close()

	var total time.Duration
	for i := 1; i <= *n; i++ {
		text := fmt.Sprintf("hello #%d", i)
		start := time.Now()
		reply, err := xpc.Call[echoReply](ctx, c, "echo", &echoRequest{Text: text})
		rtt := time.Since(start)
		if err != nil {
			return err
		}
		total += rtt
		fmt.Fprintf(stdout, "client: sent %q, got %q back in %v\n", text, reply.Text, rtt.Round(time.Microsecond))
	}

	if _, err := c.Request(ctx, xpc.Dict{"method": "subscribe"}); err != nil {
		return err
	}
	select {
	case p := <-pushes:
		fmt.Fprintf(stdout, "client: server pushed %v\n", p["event"])
	case <-time.After(5 * time.Second):
		return errors.New("demo: the server's push did not arrive")
	}

	_, err = c.Request(ctx, xpc.Dict{"method": "no.such.method"})
	var re *xpc.RemoteError
	if !errors.As(err, &re) {
		return fmt.Errorf("demo: unknown method should be a remote error, got %v", err)
	}
	fmt.Fprintf(stdout, "client: unknown method -> %v (the connection stays up)\n", re)
	if _, err := xpc.Call[echoReply](ctx, c, "echo", &echoRequest{Text: "still here"}); err != nil {
		return err
	}
	if *n > 0 {
		fmt.Fprintf(stdout, "done: %d round trips, average %v\n", *n, (total / time.Duration(*n)).Round(time.Microsecond))
	}
	return nil
}
