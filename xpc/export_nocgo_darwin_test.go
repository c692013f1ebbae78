//go:build !cgo

package xpc

import (
	"errors"
	"fmt"
)

const backendName = "none (darwin without cgo)"

// EndpointToken fails: without cgo there are no endpoints.
func EndpointToken(ep *Endpoint) (string, error) {
	return "", fmt.Errorf("xpc: built without cgo: %w", errors.ErrUnsupported)
}

// EndpointFromToken fails: without cgo there are no endpoints.
func EndpointFromToken(tok string) (*Endpoint, error) {
	return nil, fmt.Errorf("xpc: built without cgo: %w", errors.ErrUnsupported)
}
