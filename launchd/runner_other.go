//go:build !darwin

package launchd

import (
	"context"
	"errors"
	"fmt"
)

// Run fails: launchctl exists only on macOS.
func (r ExecRunner) Run(ctx context.Context, args ...string) (Result, error) {
	return Result{}, fmt.Errorf("launchctl exists only on macOS: %w", errors.ErrUnsupported)
}
