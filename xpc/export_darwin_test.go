//go:build cgo

package xpc

import (
	"errors"
	"fmt"

	"github.com/goxpc/goxpc/xpc/cshim"
)

const backendName = "libxpc"

// untransferable is the token of every xpc endpoint: EndpointFromToken
// refuses it, so the suite's cross-process tests skip on darwin.
const untransferable = "xpc-endpoint-cannot-leave-the-process"

// EndpointToken returns a placeholder: an xpc_endpoint_t cannot leave the
// process except inside a message (crossing processes without launchd needs
// a launchd service to hand it over). The token exists so that the suite's
// helper process starts; EndpointFromToken then reports errors.ErrUnsupported.
func EndpointToken(ep *Endpoint) (string, error) {
	if _, ok := ep.impl.(xpcEndpoint); !ok {
		return "", errors.New("not an xpc endpoint")
	}
	return untransferable, nil
}

// EndpointFromToken always fails with an error wrapping errors.ErrUnsupported;
// see EndpointToken.
func EndpointFromToken(tok string) (*Endpoint, error) {
	return nil, fmt.Errorf("xpc: %q: an xpc endpoint travels only inside a message, never as text: %w", tok, errors.ErrUnsupported)
}

// LiveObjects counts the xpc objects goxpc holds, for leak tests.
func LiveObjects() int64 { return cshim.LiveObjects() }
