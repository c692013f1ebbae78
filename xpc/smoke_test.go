package xpc_test

import (
	"context"
	"testing"

	"github.com/goxpc/goxpc/xpc"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	l, err := xpc.ListenAnonymous(xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		return xpc.Dict{"echo": m.Body["text"]}, nil
	}))
	require.NoError(t, err)
	defer l.Close()
	ep, err := l.Endpoint()
	require.NoError(t, err)
	c, err := xpc.DialEndpoint(context.Background(), ep)
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Request(context.Background(), xpc.Dict{"text": "hi"})
	require.NoError(t, err)
	require.Equal(t, "hi", r["echo"])
}
