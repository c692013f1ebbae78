package xpc_test

import (
	"context"
	"fmt"
	"log"

	"github.com/goxpc/goxpc/xpc"
)

// A server and a client in one process, over an anonymous listener: the
// shape of every goxpc program, and how tests run without launchd.
func Example() {
	ctx := context.Background()

	// Server: a Mux routes requests by their "method" key.
	mux := xpc.NewMux()
	mux.HandleFunc("greet", func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		name, _ := m.Body.String("name")
		return xpc.Dict{"greeting": "hello, " + name}, nil
	})
	l, err := xpc.ListenAnonymous(mux) // a launchd daemon would use xpc.Listen("com.example.helper", mux)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	ep, err := l.Endpoint()
	if err != nil {
		log.Fatal(err)
	}

	// Client: dial and send a request.
	c, err := xpc.DialEndpoint(ctx, ep) // or xpc.Dial(ctx, "com.example.helper")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	reply, err := c.Request(ctx, xpc.Dict{"method": "greet", "name": "gopher"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(reply["greeting"])
	// Output: hello, gopher
}

type sumRequest struct {
	Numbers []int `xpc:"numbers"`
}

type sumReply struct {
	Total int `xpc:"total"`
}

// Typed methods: structs in, structs out, and an unknown method is an error
// reply rather than a dropped connection.
func ExampleHandleTyped() {
	ctx := context.Background()
	mux := xpc.NewMux()
	xpc.HandleTyped(mux, "sum", func(ctx context.Context, req *sumRequest) (*sumReply, error) {
		var r sumReply
		for _, n := range req.Numbers {
			r.Total += n
		}
		return &r, nil
	})
	l, _ := xpc.ListenAnonymous(mux)
	defer l.Close()
	ep, _ := l.Endpoint()
	c, _ := xpc.DialEndpoint(ctx, ep)
	defer c.Close()

	r, err := xpc.Call[sumReply](ctx, c, "sum", &sumRequest{Numbers: []int{1, 2, 3}})
	fmt.Println(r.Total, err)

	_, err = xpc.Call[sumReply](ctx, c, "product", &sumRequest{})
	fmt.Println(err)
	// Output:
	// 6 <nil>
	// xpc: remote error unknown_method: unknown method "product"
}

// A listener knows its peers and can push to all of them, e.g. to tell
// client A that client B changed something.
func ExampleListener_Broadcast() {
	ctx := context.Background()
	l, _ := xpc.ListenAnonymous(xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return nil, nil
	}))
	defer l.Close()
	ep, _ := l.Endpoint()

	got := make(chan string, 1)
	c, _ := (&xpc.Config{Handler: xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		s, _ := m.Body.String("event")
		got <- s
		return nil, nil
	})}).DialEndpoint(ctx, ep)
	defer c.Close()
	c.Request(ctx, xpc.Dict{}) // the listener now knows this peer

	l.Broadcast(ctx, xpc.Dict{"event": "settings changed"})
	fmt.Println(<-got)
	// Output: settings changed
}

// Only admit peers signed by your team (darwin), or running as a given user
// (every platform).
func ExampleConfig_SetPeerRequirement() {
	var cfg xpc.Config
	err := cfg.SetPeerRequirement(`identifier "com.example.app" and anchor apple generic and ` +
		`certificate leaf[subject.OU] = "ABCDE12345"`)
	fmt.Println(err)

	err = cfg.SetPeerRequirement(`identifier "com.example.app" and`)
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// true
}
