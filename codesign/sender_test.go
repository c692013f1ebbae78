package codesign_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/goxpc/goxpc/codesign"
	"github.com/goxpc/goxpc/xpc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessageSenderWithoutNativeObject(t *testing.T) {
	m := &xpc.Message{Body: xpc.Dict{}}
	_, err := codesign.MessageSender(m)
	assert.ErrorIs(t, err, errors.ErrUnsupported)
	assert.ErrorIs(t, codesign.CheckMessageSender(m, "anchor apple"), errors.ErrUnsupported)
}

// senderResult is what the handler learned about the sender of a message.
type senderResult struct {
	info                      *codesign.Info
	infoErr, ownErr, appleErr error
	badReqErr                 error
}

// TestMessageSenderRoundTrip sends a request to an anonymous listener in
// this process and identifies the sender inside the handler: on darwin that
// is this test binary (by the message's audit token); the portable backend
// has no native message, so the calls report ErrUnsupported.
func TestMessageSenderRoundTrip(t *testing.T) {
	var own string
	if runtime.GOOS == "darwin" {
		if info, err := codesign.InfoForPID(os.Getpid()); err == nil {
			own = `identifier "` + info.Identifier + `"`
		}
	}
	results := make(chan senderResult, 1)
	l, err := xpc.ListenAnonymous(xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		var r senderResult
		r.info, r.infoErr = codesign.MessageSender(m)
		if own != "" {
			r.ownErr = codesign.CheckMessageSender(m, own)
		}
		r.appleErr = codesign.CheckMessageSender(m, "anchor apple")
		r.badReqErr = codesign.CheckMessageSender(m, "anchor apple and (")
		results <- r
		return xpc.Dict{}, nil
	}))
	require.NoError(t, err)
	defer l.Close()
	ep, err := l.Endpoint()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := xpc.DialEndpoint(ctx, ep)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Request(ctx, xpc.Dict{"method": "who"})
	require.NoError(t, err)
	r := <-results

	switch {
	case runtime.GOOS != "darwin":
		// The portable backend has no native message to identify.
		assert.ErrorIs(t, r.infoErr, errors.ErrUnsupported)
		assert.ErrorIs(t, r.appleErr, errors.ErrUnsupported)
		return
	case own == "":
		// An unsigned test binary (Intel build without linker signature).
		assert.ErrorIs(t, r.infoErr, codesign.ErrNotSigned)
		return
	}
	require.NoError(t, r.infoErr)
	self, err := codesign.InfoForPID(os.Getpid())
	require.NoError(t, err)
	assert.Equal(t, self.Identifier, r.info.Identifier)
	assert.Equal(t, self.CDHash, r.info.CDHash)
	assert.NoError(t, r.ownErr)
	assert.ErrorIs(t, r.appleErr, codesign.ErrRequirementNotMet)
	assert.ErrorIs(t, r.badReqErr, codesign.ErrInvalidRequirement)
}
