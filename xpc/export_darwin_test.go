package xpc

import (
	"errors"
	"fmt"

	"github.com/goxpc/goxpc/xpc/cshim"
)

const backendName = "libxpc"

// EndpointToken would turn an endpoint into text for another process; an
// xpc_endpoint_t cannot leave the process except inside a message.
func EndpointToken(ep *Endpoint) (string, error) {
	return "", fmt.Errorf("xpc: an xpc endpoint travels only inside a message: %w", errors.ErrUnsupported)
}

// EndpointFromToken reverses EndpointToken; see there.
func EndpointFromToken(tok string) (*Endpoint, error) {
	return nil, fmt.Errorf("xpc: an xpc endpoint travels only inside a message: %w", errors.ErrUnsupported)
}

// LiveObjects counts the xpc objects goxpc holds, for leak tests.
func LiveObjects() int64 { return cshim.LiveObjects() }
