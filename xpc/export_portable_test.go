//go:build !darwin

package xpc

import (
	"errors"
	"strings"
	"time"
)

const backendName = "sockets"

// EndpointToken turns an endpoint into text another process can use.
func EndpointToken(ep *Endpoint) (string, error) {
	se, ok := ep.impl.(sockEndpoint)
	if !ok {
		return "", errors.New("not a socket endpoint")
	}
	return se.path, nil
}

// EndpointFromToken reverses EndpointToken.
func EndpointFromToken(tok string) (*Endpoint, error) {
	if !strings.HasPrefix(tok, "/") && !strings.Contains(tok, `\`) {
		return nil, errors.New("bad token")
	}
	return &Endpoint{impl: sockEndpoint{path: tok}}, nil
}

// SetHandshakeTimeout shortens the handshake bound of a Dial without a
// deadline for a test, and returns the function that restores it.
func SetHandshakeTimeout(d time.Duration) func() {
	old := handshakeTimeout
	handshakeTimeout = d
	return func() { handshakeTimeout = old }
}
