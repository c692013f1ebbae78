package xpc

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// Windows AF_UNIX sockets cannot pass file descriptors.
type rightsReader struct{ c *net.UnixConn }

func newRightsReader(c *net.UnixConn) *rightsReader { return &rightsReader{c: c} }

func (r *rightsReader) Read(p []byte) (int, error) { return r.c.Read(p) }

// readStream reads into the buffers space returns and reports each read
// to got, until got returns false or a read fails.
func (r *rightsReader) readStream(space func() []byte, got func(n int) bool) error {
	for {
		n, err := r.Read(space())
		if n > 0 && !got(n) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (r *rightsReader) takeFiles(n int) ([]*os.File, error) {
	if n == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("xpc: file descriptors cannot be received on Windows: %w", errors.ErrUnsupported)
}

func (r *rightsReader) closeAll() {}

func writeWithFiles(*net.UnixConn, []byte, []*os.File) (int, error) {
	return 0, fmt.Errorf("xpc: file descriptors cannot be sent over Windows AF_UNIX sockets: %w", errors.ErrUnsupported)
}
