package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"demo", "-n", "4"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	s := out.String()
	for i := 1; i <= 4; i++ {
		assert.Contains(t, s, `got "hello #`+string(rune('0'+i))+`" back`)
	}
	assert.Contains(t, s, "server pushed something changed")
	assert.Contains(t, s, "unknown_method")
	assert.Contains(t, s, "done: 4 round trips")
}

func TestServeAndSend(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("on darwin serve needs launchd to start it; demo covers libxpc")
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var serveErr error
	var logs syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		serveErr = run(ctx, []string{"serve", "--service", "com.example.echo-test", "--socket-dir", dir}, &logs, &logs)
	}()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "serving") }, 5*time.Second, 5*time.Millisecond)

	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"send", "--service", "com.example.echo-test", "--socket-dir", dir, "hello", "there"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.Contains(t, out.String(), "hello there (from pid")
	assert.Contains(t, out.String(), "round trip")

	cancel()
	<-done
	require.NoError(t, serveErr)
	assert.Contains(t, logs.String(), "stopped")
	assert.Contains(t, logs.String(), "served=1")

	// With the server gone, send fails with a one-line error that says what to check.
	err = run(context.Background(), []string{"send", "--service", "com.example.echo-test", "--socket-dir", dir, "x"}, &out, &errOut)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is the service running")
}

func TestUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), nil, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, errOut.String(), "usage: xpcecho")

	err = run(context.Background(), []string{"frobnicate"}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, err.Error(), "frobnicate")

	errOut.Reset()
	err = run(context.Background(), []string{"send"}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, errOut.String(), "TEXT")

	err = run(context.Background(), []string{"serve", "--bogus"}, &out, &errOut)
	require.ErrorIs(t, err, errUsage)
}

func TestHelpForEverySubcommand(t *testing.T) {
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{name, "--help"}, &out, &errOut)
			require.True(t, errors.Is(err, flag.ErrHelp) || err == nil, "err = %v", err)
			assert.Contains(t, out.String()+errOut.String(), "usage: xpcecho "+name)
		})
	}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"help"}, &out, &out))
	for name := range commands {
		assert.Contains(t, out.String(), name)
	}
}
