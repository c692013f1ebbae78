package launchd_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

func TestDomains(t *testing.T) {
	assert.Equal(t, "system", launchd.System.String())
	assert.Equal(t, "gui/501", launchd.GUI(501).String())
	assert.Equal(t, "user/0", launchd.User(0).String())
	assert.Equal(t, "gui/501/com.example.x", launchd.GUI(501).Service("com.example.x"))
	uid, ok := launchd.User(502).UID()
	assert.True(t, ok)
	assert.Equal(t, 502, uid)
	_, ok = launchd.System.UID()
	assert.False(t, ok)

	for in, want := range map[string]launchd.Domain{"system": launchd.System, "gui/501": launchd.GUI(501), "user/0": launchd.User(0)} {
		d, err := launchd.ParseDomain(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d)
	}
	for _, in := range []string{"", "gui", "gui/", "gui/x", "login/100", "system/x", "user/-1"} {
		_, err := launchd.ParseDomain(in)
		assert.Error(t, err, in)
	}
}

func TestCommandsArgv(t *testing.T) {
	ctx := context.Background()
	fake := launchdtest.New()
	fake.Load(launchd.GUI(501), &launchd.Job{Label: "a.b", Program: "/bin/true"}, "")
	lc := launchd.NewLaunchctl(fake)

	require.NoError(t, lc.Kickstart(ctx, launchd.GUI(501), "a.b", false))
	require.NoError(t, lc.Kickstart(ctx, launchd.GUI(501), "a.b", true))
	require.NoError(t, lc.Disable(ctx, launchd.GUI(501), "a.b"))
	require.NoError(t, lc.Enable(ctx, launchd.GUI(501), "a.b"))
	require.NoError(t, lc.Bootout(ctx, launchd.GUI(501), "a.b"))
	err := lc.Bootstrap(ctx, launchd.System, "/nonexistent/a.b.plist")
	require.ErrorIs(t, err, launchd.ErrIO)

	assert.Equal(t, []string{
		"kickstart gui/501/a.b",
		"kickstart -k gui/501/a.b",
		"disable gui/501/a.b",
		"enable gui/501/a.b",
		"bootout gui/501/a.b",
		"bootstrap system /nonexistent/a.b.plist",
	}, fake.Commands())
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		op, stderr string
		exit       int
		sentinel   error
		hint       string
	}{
		{"bootout", "Boot-out failed: 3: No such process", 3, launchd.ErrNotLoaded, "launchctl print gui/501/a.b"},
		{"print", "Could not find service \"a.b\" in domain for port", 113, launchd.ErrNotLoaded, "daemons live in the system domain"},
		{"bootstrap", "Bootstrap failed: 5: Input/output error", 5, launchd.ErrIO, "still loaded"},
		{"bootstrap", "Bootstrap failed: 37: Operation already in progress", 37, launchd.ErrAlreadyLoaded, "kickstart -k"},
		{"bootstrap", "Bootstrap failed: 119: Service is disabled", 119, launchd.ErrDisabled, "launchctl enable gui/501/a.b"},
		{"bootstrap", "Bootstrap failed: 125: Domain does not support specified action", 125, launchd.ErrNoGUIDomain, "user/<uid>"},
		{"bootstrap", "Bootstrap failed: 1: Operation not permitted", 1, launchd.ErrPermission, "sudo"},
		// The code in the message wins over a generic exit status.
		{"bootstrap", "Bootstrap failed: 5: Input/output error", 1, launchd.ErrIO, "root:wheel"},
	}
	for _, tt := range tests {
		t.Run(tt.stderr, func(t *testing.T) {
			fake := launchdtest.New()
			fake.Fail(tt.op, launchd.Result{ExitCode: tt.exit, Stderr: tt.stderr + "\n"})
			lc := launchd.NewLaunchctl(fake)
			var err error
			switch tt.op {
			case "bootout":
				err = lc.Bootout(context.Background(), launchd.GUI(501), "a.b")
			case "print":
				_, err = lc.Print(context.Background(), launchd.GUI(501), "a.b")
			case "bootstrap":
				err = lc.Bootstrap(context.Background(), launchd.GUI(501), "/Users/me/Library/LaunchAgents/a.b.plist")
			}
			require.ErrorIs(t, err, tt.sentinel)
			var le *launchd.Error
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tt.op, le.Op)
			assert.Equal(t, tt.exit, le.ExitCode)
			assert.Equal(t, tt.stderr, le.Message)
			assert.Contains(t, err.Error(), tt.hint)
			for _, other := range []error{launchd.ErrNotLoaded, launchd.ErrIO, launchd.ErrAlreadyLoaded, launchd.ErrDisabled, launchd.ErrNoGUIDomain, launchd.ErrPermission} {
				if other != tt.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
		})
	}
}

func TestUnknownExitCodeHasNoSentinel(t *testing.T) {
	fake := launchdtest.New()
	fake.Fail("enable", launchd.Result{ExitCode: 64, Stderr: "Usage: launchctl enable <service-target>"})
	err := launchd.NewLaunchctl(fake).Enable(context.Background(), launchd.User(501), "x")
	var le *launchd.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 64, le.Code)
	assert.Empty(t, le.Hint())
	assert.NotErrorIs(t, err, launchd.ErrNotLoaded)
}

func TestRunnerFailure(t *testing.T) {
	boom := errors.New("boom")
	lc := launchd.NewLaunchctl(runnerFunc(func(context.Context, ...string) (launchd.Result, error) {
		return launchd.Result{}, boom
	}))
	err := lc.Enable(context.Background(), launchd.System, "x")
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "launchctl enable system/x")
}

func TestExecRunnerOffMacOS(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("launchctl exists here")
	}
	_, err := launchd.NewLaunchctl(nil).Print(context.Background(), launchd.System, "com.apple.xpc.launchd")
	require.ErrorIs(t, err, errors.ErrUnsupported)
	assert.Contains(t, err.Error(), "launchctl exists only on macOS")
}

func TestPrintParsesFakeOutput(t *testing.T) {
	fake := launchdtest.New()
	fake.Load(launchd.GUI(501), &launchd.Job{
		Label:            "com.example.echo",
		ProgramArguments: []string{"/bin/echo", "serve"},
		MachServices:     map[string]launchd.MachService{"com.example.echo": {}},
	}, "/Users/me/Library/LaunchAgents/com.example.echo.plist")
	st, err := launchd.NewLaunchctl(fake).Print(context.Background(), launchd.GUI(501), "com.example.echo")
	require.NoError(t, err)
	assert.Equal(t, "gui/501/com.example.echo", st.Target)
	assert.Equal(t, "waiting", st.State)
	assert.Equal(t, "/Users/me/Library/LaunchAgents/com.example.echo.plist", st.Path)
	assert.Equal(t, []string{"/bin/echo", "serve"}, st.Arguments)
	ep, ok := st.Endpoint("com.example.echo")
	assert.True(t, ok)
	assert.Equal(t, "0x1003", ep.Port)
}

type runnerFunc func(ctx context.Context, args ...string) (launchd.Result, error)

func (f runnerFunc) Run(ctx context.Context, args ...string) (launchd.Result, error) {
	return f(ctx, args...)
}

func TestZeroLaunchctlUsesRealRunner(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("would run the real launchctl")
	}
	var lc launchd.Launchctl
	err := lc.Enable(context.Background(), launchd.System, "x")
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}
