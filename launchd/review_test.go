package launchd_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

// bootoutInProgress is launchctl on macOS 10.15 and later for a service that
// takes a moment to stop: bootout removes it but exits with
// "Boot-out failed: 36: Operation now in progress"
// (github.com/osquery/osquery/issues/5698).
type bootoutInProgress struct{ *launchdtest.Fake }

func (r bootoutInProgress) Run(ctx context.Context, args ...string) (launchd.Result, error) {
	res, err := r.Fake.Run(ctx, args...)
	if err == nil && len(args) > 0 && args[0] == "bootout" && res.ExitCode == 0 {
		return launchd.Result{ExitCode: 36, Stderr: "Boot-out failed: 36: Operation now in progress\n"}, nil
	}
	return res, err
}

func launchctlWith(r launchd.Runner) *launchd.Launchctl {
	lc := launchd.NewLaunchctl(r)
	lc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	lc.PollInterval = time.Millisecond
	lc.GoneTimeout = time.Second
	return lc
}

func TestBootoutInProgressIsNotAFailure(t *testing.T) {
	fake := launchdtest.New()
	fake.Load(launchd.GUI(501), echoJob(), "")
	fake.Linger = 2
	lc := launchctlWith(bootoutInProgress{fake})
	dir := t.TempDir()
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}

	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.True(t, res.Bootstrapped)
	assert.True(t, fake.Loaded("gui/501/com.example.echo"))

	require.NoError(t, lc.Uninstall(context.Background(), "com.example.echo", opts))
	assert.False(t, fake.Loaded("gui/501/com.example.echo"))
	assert.NoFileExists(t, filepath.Join(dir, "com.example.echo.plist"))
}

// After a bootout, launchd may refuse a bootstrap of the same label with
// 5 (or 37) for several seconds even once print no longer shows it
// (github.com/headroomlabs-ai/headroom/issues/1289: ten failures over ~5s).
func TestInstallRetriesBootstrapUntilLaunchdLetsGo(t *testing.T) {
	fake := launchdtest.New()
	for range 4 {
		fake.FailCode("bootstrap", 5)
	}
	fake.FailCode("bootstrap", 37)
	res, err := newTestLaunchctl(fake).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.NoError(t, err)
	assert.True(t, res.Bootstrapped)
	assert.True(t, fake.Loaded("gui/501/com.example.echo"))
}

func TestInstallBootstrapRetriesAreBounded(t *testing.T) {
	fake := launchdtest.New()
	for range 1000 {
		fake.FailCode("bootstrap", 5)
	}
	lc := newTestLaunchctl(fake)
	lc.GoneTimeout = 50 * time.Millisecond
	start := time.Now()
	_, err := lc.Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.ErrorIs(t, err, launchd.ErrIO)
	assert.Less(t, time.Since(start), 2*time.Second)
	// The plist stays on disk but is not loaded: the error says so.
	assert.Contains(t, err.Error(), "not loaded")
}

func TestInstallBootstrapRetriesHonourContext(t *testing.T) {
	fake := launchdtest.New()
	for range 1000 {
		fake.FailCode("bootstrap", 5)
	}
	lc := newTestLaunchctl(fake)
	lc.GoneTimeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := lc.Install(ctx, echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// KeepAlive conditions this package does not model (NetworkState is in
// launchd.plist(5)) must survive a round trip: dropping them turned the
// dictionary into <false/>.
func TestKeepAliveUnknownConditionsRoundTrip(t *testing.T) {
	j, err := launchd.ParseJob(plistDoc(`<key>Program</key><string>/bin/x</string>` +
		`<key>KeepAlive</key><dict><key>NetworkState</key><true/></dict>`))
	require.NoError(t, err)
	require.NotNil(t, j.KeepAlive)
	assert.True(t, j.KeepAlive.Conditional())
	for _, enc := range []func(any) ([]byte, error){launchd.Marshal, launchd.MarshalBinary} {
		data, err := enc(j)
		require.NoError(t, err)
		again, err := launchd.ParseJob(data)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"NetworkState": true}, again.KeepAlive.Extra)
	}
}

// launchd reads SockServiceName as a string or an integer port
// (launchd-842 launchctl.c, LAUNCH_JOBSOCKETKEY_SERVICENAME).
func TestSockServiceNameInteger(t *testing.T) {
	j, err := launchd.ParseJob(plistDoc(`<key>Program</key><string>/bin/x</string>` +
		`<key>Sockets</key><dict><key>L</key><dict><key>SockServiceName</key><integer>8080</integer></dict></dict>`))
	require.NoError(t, err)
	assert.Equal(t, launchd.ServiceName("8080"), j.Sockets["L"][0].SockServiceName)
}

// 150 is SIP protecting a system service: sudo does not help.
func TestSIPErrorDoesNotSaySudo(t *testing.T) {
	fake := launchdtest.New()
	fake.Fail("bootout", launchd.Result{ExitCode: 150, Stderr: "Boot-out failed: 150: Operation not permitted while System Integrity Protection is engaged\n"})
	err := launchd.NewLaunchctl(fake).Bootout(context.Background(), launchd.System, "com.apple.x")
	require.ErrorIs(t, err, launchd.ErrPermission)
	assert.NotContains(t, err.Error(), "run with sudo")
	assert.Contains(t, err.Error(), "System Integrity Protection")
}

// A root installer writing an agent for another user must use that user's
// LaunchAgents, not its own home.
func TestDefaultDirOtherUser(t *testing.T) {
	other := "0"
	if os.Getuid() == 0 {
		other = "1"
	}
	u, err := user.LookupId(other)
	if err != nil {
		t.Skipf("no user %s: %v", other, err)
	}
	uid, _ := strconv.Atoi(other)
	t.Setenv("HOME", "/nonexistent/me")
	d, err := launchd.DefaultDir(launchd.GUI(uid))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(u.HomeDir, "Library/LaunchAgents"), d)

	_, err = launchd.DefaultDir(launchd.User(1 << 30))
	require.Error(t, err)
}

// Pre-Big Sur launchctl names the service by its label alone on the first
// line; Print still reports the target it asked for.
func TestPrintTargetIsTheRequestedOne(t *testing.T) {
	fake := launchdtest.New()
	fake.Fail("print", launchd.Result{Stdout: readPrint(t, "print-mojave-wazuh.txt")})
	st, err := launchd.NewLaunchctl(fake).Print(context.Background(), launchd.System, "com.wazuh.agent")
	require.NoError(t, err)
	assert.Equal(t, "system/com.wazuh.agent", st.Target)
	assert.Equal(t, 1486, st.PID)
}

func TestParsePrintRealSamples(t *testing.T) {
	st := launchd.ParsePrint(readPrint(t, "print-mojave-wazuh.txt"))
	assert.Equal(t, &launchd.ServiceStatus{
		Target:       "com.wazuh.agent",
		State:        "running",
		PID:          1486,
		Path:         "/Library/LaunchDaemons/com.wazuh.agent.plist",
		Program:      "/Library/StartupItems/WAZUH/Wazuh-launcher",
		Arguments:    []string{"/Library/StartupItems/WAZUH/Wazuh-launcher"},
		LastExit:     "0",
		LastExitCode: 0,
	}, st)

	st = launchd.ParsePrint(readPrint(t, "print-yosemite-mysql.txt"))
	assert.Equal(t, "running", st.State)
	assert.Equal(t, 24784, st.PID)
	assert.Equal(t, 1, st.LastExitCode)
	assert.Equal(t, []string{"/opt/boxen/homebrew/bin/mysqld_safe", "--defaults-file=/opt/boxen/config/mysql/my.cnf"}, st.Arguments)
	assert.Empty(t, st.Endpoints)
	assert.False(t, strings.Contains(st.Program, "=>"))
}

// AfterInitialDemand is a boolean in the plists people write today
// (kanata, Karabiner-style agents) and a dictionary of labels in older
// ones; both must decode and round-trip.
func TestAfterInitialDemandBoolOrDict(t *testing.T) {
	for _, tt := range []struct {
		body string
		want launchd.DemandCondition
	}{
		{`<key>AfterInitialDemand</key><true/>`, launchd.DemandCondition{Value: true}},
		{`<key>AfterInitialDemand</key><false/>`, launchd.DemandCondition{}},
		{`<key>AfterInitialDemand</key><dict><key>local.other</key><true/></dict>`, launchd.DemandCondition{Labels: map[string]bool{"local.other": true}}},
	} {
		j, err := launchd.ParseJob(plistDoc(`<key>Program</key><string>/bin/x</string>` +
			`<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/>` + tt.body + `</dict>`))
		require.NoError(t, err, tt.body)
		require.NotNil(t, j.KeepAlive.AfterInitialDemand, tt.body)
		assert.Equal(t, tt.want, *j.KeepAlive.AfterInitialDemand)
		for _, enc := range []func(any) ([]byte, error){launchd.Marshal, launchd.MarshalBinary} {
			data, err := enc(j)
			require.NoError(t, err)
			again, err := launchd.ParseJob(data)
			require.NoError(t, err)
			assert.Equal(t, j, again)
		}
	}
}

// A plist with the right bytes but a mode launchd refuses (group- or
// world-writable: "Bootstrap failed: 5") is rewritten, not reused.
func TestInstallRewritesSameBytesWithWrongMode(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	path := filepath.Join(dir, "com.example.echo.plist")
	require.NoError(t, os.Chmod(path, 0o666))

	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.True(t, res.Written)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}

// Unknown keys inside a MachServices or Sockets entry round-trip like
// unknown top-level keys do.
func TestNestedUnknownKeysRoundTrip(t *testing.T) {
	j, err := launchd.ParseJob(plistDoc(`<key>Program</key><string>/bin/x</string>` +
		`<key>MachServices</key><dict><key>a.b</key><dict><key>FutureKey</key><true/></dict></dict>` +
		`<key>Sockets</key><dict><key>L</key><dict><key>SockPathName</key><string>/s</string><key>SockFuture</key><integer>7</integer></dict></dict>`))
	require.NoError(t, err)
	for _, enc := range []func(any) ([]byte, error){launchd.Marshal, launchd.MarshalBinary} {
		data, err := enc(j)
		require.NoError(t, err)
		again, err := launchd.ParseJob(data)
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"FutureKey": true}, again.MachServices["a.b"].Extra)
		assert.Equal(t, map[string]any{"SockFuture": uint64(7)}, again.Sockets["L"][0].Extra)
	}
}

func TestValidateReviewRules(t *testing.T) {
	// Without Program, launchd runs ProgramArguments[0]: empty cannot run.
	j := validJob()
	j.ProgramArguments[0] = ""
	_, err := j.Validate()
	require.ErrorIs(t, err, launchd.ErrInvalidJob)
	assert.ErrorContains(t, err, "ProgramArguments[0] is empty")

	// Keys launchd ignores today are flagged, not silently kept.
	j = validJob()
	j.Extra = map[string]any{"OnDemand": false}
	warnings, err := j.Validate()
	require.NoError(t, err)
	all := strings.Join(warnings, "\n")
	assert.Contains(t, all, "OnDemand")
	assert.Contains(t, all, "KeepAlive")
}

// BundleProgram resolves only for a plist an app registers with
// SMAppService; a plist Install bootstraps from a directory has no bundle.
func TestInstallWarnsAboutBundleProgram(t *testing.T) {
	j := validJob()
	j.ProgramArguments = nil
	j.BundleProgram = "Contents/MacOS/helper"
	res, err := newTestLaunchctl(launchdtest.New()).Install(context.Background(), &j, launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Contains(t, strings.Join(res.Warnings, "\n"), "SMAppService")
}

// Without root, bootstrap into the system domain fails with 5 on current
// macOS ("Try re-running the command as root for richer errors"), so the
// hint must mention root there.
func TestSystemIOErrorHintMentionsRoot(t *testing.T) {
	fake := launchdtest.New()
	fake.Fail("bootstrap", launchd.Result{ExitCode: 5, Stderr: "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n"})
	err := launchd.NewLaunchctl(fake).Bootstrap(context.Background(), launchd.System, "/Library/LaunchDaemons/a.b.plist")
	require.ErrorIs(t, err, launchd.ErrIO)
	assert.Contains(t, err.Error(), "sudo")
}

// headless is launchctl over ssh with no GUI login as seen in the wild:
// the gui domain does not exist; print of the domain fails with 112
// "Could not find domain for user gui: 501" (duh17/oppi#38), bootout finds
// nothing, and bootstrap fails with 5, not 125 (psimaker/vaultsync#89).
type headless struct{ *launchdtest.Fake }

func (r headless) Run(ctx context.Context, args ...string) (launchd.Result, error) {
	if len(args) == 2 && strings.HasPrefix(args[1], "gui/") {
		switch args[0] {
		case "print":
			if strings.Count(args[1], "/") == 1 {
				return launchd.Result{ExitCode: 112, Stderr: "Could not find domain for user gui: 501\n"}, nil
			}
		case "bootout":
			return launchd.Result{ExitCode: 3, Stderr: "Boot-out failed: 3: No such process\n"}, nil
		}
	}
	if len(args) == 3 && args[0] == "bootstrap" && strings.HasPrefix(args[1], "gui/") {
		return launchd.Result{ExitCode: 5, Stderr: "Bootstrap failed: 5: Input/output error\nTry re-running the command as root for richer errors.\n"}, nil
	}
	return r.Fake.Run(ctx, args...)
}

func TestInstallFallsBackWhenHeadlessBootstrapSays5(t *testing.T) {
	fake := launchdtest.New()
	lc := launchctlWith(headless{fake})
	lc.GoneTimeout = time.Hour // the fallback must not wait out the retries
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := lc.Install(ctx, echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, launchd.User(501), res.Domain)
	assert.True(t, fake.Loaded("user/501/com.example.echo"))
}

func TestCouldNotFindDomainIsNoGUIDomain(t *testing.T) {
	fake := launchdtest.New()
	fake.Fail("print", launchd.Result{ExitCode: 112, Stderr: "Could not find domain for user gui: 501\n"})
	_, err := launchd.NewLaunchctl(fake).Print(context.Background(), launchd.GUI(501), "a.b")
	require.ErrorIs(t, err, launchd.ErrNoGUIDomain)
	assert.NotErrorIs(t, err, launchd.ErrNotLoaded)
}

// The user/<uid> domain runs the Background session: a job limited to Aqua
// cannot load there ("Service cannot load in requested session",
// duh17/oppi#31), so the fallback says so.
func TestFallbackWarnsAboutSessionType(t *testing.T) {
	fake := launchdtest.New()
	fake.NoGUI = true
	j := echoJob()
	j.LimitLoadToSessionType = launchd.StringList{"Aqua"}
	res, err := newTestLaunchctl(fake).Install(context.Background(), j, launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.NoError(t, err) // the fake does not model session types
	assert.Contains(t, strings.Join(res.Warnings, "\n"), "Background")
}

// Root installing an agent into another user's domain leaves the plist and
// any LaunchAgents directory it creates owned by that user, not root (a
// root-owned ~/Library/LaunchAgents breaks the user's own tools).
func TestInstallAgentForAnotherUserAsRoot(t *testing.T) {
	u, err := user.LookupId("1")
	if err != nil {
		t.Skipf("no user 1: %v", err)
	}
	wantGID, _ := strconv.Atoi(u.Gid)
	owned := map[string][2]int{}
	defer launchd.SetChown(func(path string, uid, gid int) error {
		owned[path] = [2]int{uid, gid}
		return nil
	})()
	defer launchd.SetGeteuid(func() int { return 0 })()
	base := t.TempDir()
	dir := filepath.Join(base, "Library", "LaunchAgents")
	res, err := newTestLaunchctl(launchdtest.New()).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(1), Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, [2]int{1, wantGID}, owned[filepath.Join(base, "Library")])
	assert.Equal(t, [2]int{1, wantGID}, owned[dir])
	_, baseChowned := owned[base]
	assert.False(t, baseChowned, "existing directories keep their owner")
	found := false
	for p, o := range owned {
		if filepath.Dir(p) == dir {
			found = true
			assert.Equal(t, [2]int{1, wantGID}, o, p)
		}
	}
	assert.True(t, found, "the plist is chowned")
	assert.FileExists(t, res.Path)
}
