//go:build !cgo

package xpc

import (
	"context"
	"errors"
	"fmt"
)

// Without cgo there is no binding to libxpc (backend_darwin.go needs it),
// and the socket backend would not talk to real XPC services, so every
// entry point says how to build instead. Cross-compiling for macOS from
// another system sets CGO_ENABLED=0 unless a macOS C toolchain is given.

func errNoCgo(op, name string) error {
	return &Error{Kind: ErrInvalid, Op: op, Service: name,
		Description: "goxpc calls libxpc through cgo on macOS: build with CGO_ENABLED=1 and a C compiler for macOS",
		Err:         fmt.Errorf("built without cgo: %w", errors.ErrUnsupported)}
}

func dialService(ctx context.Context, name string, cfg *Config) (transport, error) {
	return nil, errNoCgo("dial", name)
}

func dialEndpoint(ctx context.Context, ep *Endpoint, cfg *Config) (transport, error) {
	return nil, errNoCgo("dial", ep.String())
}

func listenService(ctx context.Context, name string, cfg *Config, acc acceptor) (listenerImpl, error) {
	return nil, errNoCgo("listen", name)
}

func listenAnonymous(ctx context.Context, cfg *Config, acc acceptor) (listenerImpl, error) {
	return nil, errNoCgo("listen", "anonymous")
}
