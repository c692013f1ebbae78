package launchdtest_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

func writeJob(t *testing.T, label string) string {
	t.Helper()
	data, err := launchd.Marshal(&launchd.Job{Label: label, Program: "/bin/true"})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), label+".plist")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func TestFakeLifecycle(t *testing.T) {
	ctx := context.Background()
	f := launchdtest.New()
	path := writeJob(t, "a.b")

	res, err := f.Run(ctx, "bootstrap", "gui/501", path)
	require.NoError(t, err)
	assert.Zero(t, res.ExitCode)
	assert.True(t, f.Loaded("gui/501/a.b"))

	// Bootstrapping a loaded job fails the way launchd does.
	res, _ = f.Run(ctx, "bootstrap", "gui/501", path)
	assert.Equal(t, 5, res.ExitCode)
	assert.Equal(t, "Bootstrap failed: 5: Input/output error\n", res.Stderr)

	res, _ = f.Run(ctx, "bootout", "gui/501/a.b")
	assert.Zero(t, res.ExitCode)
	res, _ = f.Run(ctx, "bootout", "gui/501/a.b")
	assert.Equal(t, 3, res.ExitCode)

	// A disabled job does not bootstrap until enabled.
	f.Run(ctx, "disable", "gui/501/a.b")
	assert.True(t, f.Disabled("gui/501/a.b"))
	res, _ = f.Run(ctx, "bootstrap", "gui/501", path)
	assert.Equal(t, 5, res.ExitCode)
	f.Run(ctx, "enable", "gui/501/a.b")
	res, _ = f.Run(ctx, "bootstrap", "gui/501", path)
	assert.Zero(t, res.ExitCode)

	// An unreadable plist fails with 5 too.
	res, _ = f.Run(ctx, "bootstrap", "gui/501", filepath.Join(t.TempDir(), "missing.plist"))
	assert.Equal(t, 5, res.ExitCode)

	assert.Len(t, f.Calls(), 9)
	f.Reset()
	assert.Empty(t, f.Calls())
}

func TestFakeRefusesDeprecatedSubcommands(t *testing.T) {
	f := launchdtest.New()
	for _, op := range []string{"load", "unload"} {
		res, err := f.Run(context.Background(), op, "/x.plist")
		require.NoError(t, err)
		assert.NotZero(t, res.ExitCode)
		assert.Contains(t, res.Stderr, "deprecated")
	}
}

func TestFakeFailuresQueue(t *testing.T) {
	f := launchdtest.New()
	f.FailCode("enable", 119)
	f.Fail("enable", launchd.Result{ExitCode: 7, Stderr: "custom"})
	ctx := context.Background()
	r1, _ := f.Run(ctx, "enable", "system/x")
	r2, _ := f.Run(ctx, "enable", "system/x")
	r3, _ := f.Run(ctx, "enable", "system/x")
	assert.Equal(t, "Enable failed: 119: Service is disabled\n", r1.Stderr)
	assert.Equal(t, 7, r2.ExitCode)
	assert.Zero(t, r3.ExitCode)
}

func TestFakeNoGUIAndContext(t *testing.T) {
	f := launchdtest.New()
	f.NoGUI = true
	res, _ := f.Run(context.Background(), "enable", "gui/501/x")
	assert.Equal(t, 125, res.ExitCode)
	res, _ = f.Run(context.Background(), "enable", "user/501/x")
	assert.Zero(t, res.ExitCode)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Run(ctx, "print", "system/x")
	assert.ErrorIs(t, err, context.Canceled)
}

func TestFakePrintDomain(t *testing.T) {
	ctx := context.Background()
	f := launchdtest.New()
	f.Load(launchd.GUI(501), &launchd.Job{Label: "a.b", Program: "/bin/true"}, "")
	res, err := f.Run(ctx, "print", "gui/501")
	require.NoError(t, err)
	assert.Zero(t, res.ExitCode)
	assert.Contains(t, res.Stdout, "a.b")

	f.NoGUI = true
	res, _ = f.Run(ctx, "print", "gui/501")
	assert.Equal(t, 112, res.ExitCode)
	assert.Equal(t, "Could not find domain for user gui: 501\n", res.Stderr)
	res, _ = f.Run(ctx, "print", "user/501")
	assert.Zero(t, res.ExitCode)
}
