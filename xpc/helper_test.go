package xpc_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/goxpc/goxpc/xpc"
	"github.com/stretchr/testify/require"
)

// helperEnv selects a helper role when the test binary re-executes itself.
const helperEnv = "GOXPC_TEST_HELPER"

// runHelper is the helper process: an anonymous listener whose endpoint it
// prints, serving "echo" and "hang" (which announces itself and never
// returns), until killed.
func runHelper(role string) int {
	switch role {
	case "server":
		hung := make(chan struct{})
		l, err := xpc.ListenAnonymous(xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
			if m.Body["method"] == "hang" {
				fmt.Println("hanging")
				<-hung
			}
			return m.Body, nil
		}))
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		ep, _ := l.Endpoint()
		tok, err := xpc.EndpointToken(ep)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		fmt.Println("endpoint", tok)
		select {} // until killed
	}
	return 2
}

// helperProcess is a running helper and its stdout lines.
type helperProcess struct {
	cmd   *exec.Cmd
	lines chan string
}

func startHelper(t *testing.T, role string) *helperProcess {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	h := &helperProcess{cmd: cmd, lines: make(chan string, 16)}
	go func() {
		defer close(h.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		for range h.lines {
		}
	})
	return h
}

// expect waits for a line starting with prefix and returns the rest.
func (h *helperProcess) expect(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-h.lines:
			require.True(t, ok, "helper exited before printing %q", prefix)
			if rest, found := strings.CutPrefix(line, prefix); found {
				return strings.TrimSpace(rest)
			}
			require.False(t, strings.HasPrefix(line, "error"), "helper: %s", line)
		case <-timeout:
			t.Fatalf("helper did not print %q within 10s", prefix)
		}
	}
}
