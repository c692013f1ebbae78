//go:build darwin

package launchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
)

// Run runs launchctl and returns its output and exit status.
func (r ExecRunner) Run(ctx context.Context, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, r.path(), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("launchctl: %w", ctx.Err())
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
		return res, nil
	default:
		return res, fmt.Errorf("run %s: %w", r.path(), err)
	}
}
