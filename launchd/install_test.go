package launchd_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

func newTestLaunchctl(fake *launchdtest.Fake) *launchd.Launchctl {
	lc := launchd.NewLaunchctl(fake)
	lc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	lc.PollInterval = time.Millisecond
	lc.GoneTimeout = time.Second
	return lc
}

func echoJob() *launchd.Job {
	j := validJob()
	return &j
}

func TestInstallFresh(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	res, err := lc.Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir})
	require.NoError(t, err)

	path := filepath.Join(dir, "com.example.echo.plist")
	assert.Equal(t, &launchd.InstallResult{Path: path, Domain: launchd.GUI(501), Written: true, Bootstrapped: true}, res)
	assert.Equal(t, []string{
		"bootout gui/501/com.example.echo",
		"enable gui/501/com.example.echo",
		"bootstrap gui/501 " + path,
	}, fake.Commands())
	assert.True(t, fake.Loaded("gui/501/com.example.echo"))

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
	onDisk, err := launchd.ReadJob(path)
	require.NoError(t, err)
	assert.Equal(t, echoJob(), onDisk)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestInstallUnchangedIsANoOp(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	fake.Reset()

	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.False(t, res.Written)
	assert.False(t, res.Bootstrapped)
	assert.Equal(t, []string{"print gui/501/com.example.echo"}, fake.Commands())
}

func TestInstallUnchangedButNotLoaded(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	require.NoError(t, lc.Bootout(context.Background(), launchd.GUI(501), "com.example.echo"))

	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.False(t, res.Written)
	assert.True(t, res.Bootstrapped)
	assert.True(t, fake.Loaded("gui/501/com.example.echo"))
}

func TestInstallReloadsJobLoadedFromElsewhere(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	// Someone loaded the same label from another file.
	require.NoError(t, lc.Bootout(context.Background(), launchd.GUI(501), "com.example.echo"))
	fake.Load(launchd.GUI(501), echoJob(), "/tmp/other/com.example.echo.plist")

	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.False(t, res.Written)
	assert.True(t, res.Bootstrapped)
	st, err := lc.Print(context.Background(), launchd.GUI(501), "com.example.echo")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "com.example.echo.plist"), st.Path)
}

func TestInstallChangedReloads(t *testing.T) {
	fake := launchdtest.New()
	fake.Linger = 3 // launchd takes a while to let the old job go
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	fake.Reset()

	j := echoJob()
	j.RunAtLoad = true
	res, err := lc.Install(context.Background(), j, opts)
	require.NoError(t, err)
	assert.True(t, res.Written)
	path := filepath.Join(dir, "com.example.echo.plist")
	assert.Equal(t, []string{
		"bootout gui/501/com.example.echo",
		"print gui/501/com.example.echo", // exiting
		"print gui/501/com.example.echo",
		"print gui/501/com.example.echo",
		"print gui/501/com.example.echo", // gone
		"enable gui/501/com.example.echo",
		"bootstrap gui/501 " + path,
	}, fake.Commands())
	onDisk, err := launchd.ReadJob(path)
	require.NoError(t, err)
	assert.True(t, onDisk.RunAtLoad)
}

func TestInstallRetriesOnceOnIOError(t *testing.T) {
	fake := launchdtest.New()
	fake.FailCode("bootstrap", 5)
	dir := t.TempDir()
	res, err := newTestLaunchctl(fake).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir})
	require.NoError(t, err)
	assert.True(t, res.Bootstrapped)
	path := filepath.Join(dir, "com.example.echo.plist")
	assert.Equal(t, []string{
		"bootout gui/501/com.example.echo",
		"enable gui/501/com.example.echo",
		"bootstrap gui/501 " + path,
		"print gui/501", // does the GUI domain exist? (ssh: 5, not 125)
		"bootout gui/501/com.example.echo",
		"bootstrap gui/501 " + path,
	}, fake.Commands())
}

func TestInstallGivesUpWhenIOErrorPersists(t *testing.T) {
	fake := launchdtest.New()
	for range 1000 {
		fake.FailCode("bootstrap", 5)
	}
	lc := newTestLaunchctl(fake)
	lc.GoneTimeout = 20 * time.Millisecond
	_, err := lc.Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.ErrorIs(t, err, launchd.ErrIO)
	assert.Contains(t, err.Error(), "launchctl print gui/501/com.example.echo")
}

func TestInstallFallsBackToUserDomain(t *testing.T) {
	fake := launchdtest.New()
	fake.NoGUI = true
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	res, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.Equal(t, launchd.User(501), res.Domain)
	assert.Contains(t, res.Warnings[0], "no GUI login")
	assert.True(t, fake.Loaded("user/501/com.example.echo"))

	// Installing the same again finds it in the user domain.
	fake.Reset()
	res, err = lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)
	assert.False(t, res.Bootstrapped)
	assert.Equal(t, launchd.User(501), res.Domain)

	// Uninstall boots it out of the user domain too.
	require.NoError(t, lc.Uninstall(context.Background(), "com.example.echo", opts))
	assert.False(t, fake.Loaded("user/501/com.example.echo"))
}

func TestInstallNoFallbackForSystem(t *testing.T) {
	fake := launchdtest.New()
	fake.FailCode("bootout", 125)
	defer launchd.SetChown(func(string, int, int) error { return nil })()
	_, err := newTestLaunchctl(fake).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.System, Dir: t.TempDir()})
	require.ErrorIs(t, err, launchd.ErrNoGUIDomain)
}

func TestInstallDaemonOwnership(t *testing.T) {
	fake := launchdtest.New()
	var owned []string
	defer launchd.SetChown(func(path string, uid, gid int) error {
		assert.Equal(t, 0, uid)
		assert.Equal(t, 0, gid)
		owned = append(owned, path)
		return nil
	})()
	dir := t.TempDir()
	res, err := newTestLaunchctl(fake).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.System, Dir: dir})
	require.NoError(t, err)
	require.Len(t, owned, 1)
	assert.Equal(t, dir, filepath.Dir(owned[0]), "the temporary file is chowned before the rename")
	assert.Equal(t, filepath.Join(dir, "com.example.echo.plist"), res.Path)
	assert.True(t, fake.Loaded("system/com.example.echo"))
}

func TestInstallDaemonChownFails(t *testing.T) {
	defer launchd.SetChown(func(string, int, int) error { return os.ErrPermission })()
	dir := t.TempDir()
	_, err := newTestLaunchctl(launchdtest.New()).Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.System, Dir: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "root:wheel")
	assert.Contains(t, err.Error(), "sudo")
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries, "nothing left behind")
}

func TestInstallRejectsInvalidJob(t *testing.T) {
	fake := launchdtest.New()
	j := echoJob()
	j.Program = "relative/path"
	_, err := newTestLaunchctl(fake).Install(context.Background(), j, launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.ErrorIs(t, err, launchd.ErrInvalidJob)
	assert.Empty(t, fake.Calls())
}

func TestInstallNeedsDomain(t *testing.T) {
	_, err := newTestLaunchctl(launchdtest.New()).Install(context.Background(), echoJob(), launchd.InstallOptions{Dir: t.TempDir()})
	assert.ErrorContains(t, err, "Domain is empty")
}

func TestInstallWaitIsBounded(t *testing.T) {
	fake := launchdtest.New()
	fake.Load(launchd.GUI(501), echoJob(), "")
	fake.Linger = 1 << 30 // never goes away
	lc := newTestLaunchctl(fake)
	lc.GoneTimeout = 30 * time.Millisecond
	start := time.Now()
	_, err := lc.Install(context.Background(), echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "still loaded after bootout")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestInstallHonoursContext(t *testing.T) {
	fake := launchdtest.New()
	fake.Load(launchd.GUI(501), echoJob(), "")
	fake.Linger = 1 << 30
	lc := newTestLaunchctl(fake)
	lc.GoneTimeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := lc.Install(ctx, echoJob(), launchd.InstallOptions{Domain: launchd.GUI(501), Dir: t.TempDir()})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestUninstallIsIdempotent(t *testing.T) {
	fake := launchdtest.New()
	dir := t.TempDir()
	lc := newTestLaunchctl(fake)
	opts := launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir}
	_, err := lc.Install(context.Background(), echoJob(), opts)
	require.NoError(t, err)

	for i := 0; i < 2; i++ {
		require.NoError(t, lc.Uninstall(context.Background(), "com.example.echo", opts), "round %d", i)
		assert.False(t, fake.Loaded("gui/501/com.example.echo"))
		assert.NoFileExists(t, filepath.Join(dir, "com.example.echo.plist"))
	}
	for _, c := range fake.Commands() {
		assert.NotContains(t, c, "unload")
		assert.NotRegexp(t, `^load `, c)
	}
}

func TestUninstallReportsRealFailures(t *testing.T) {
	fake := launchdtest.New()
	fake.FailCode("bootout", 1)
	err := newTestLaunchctl(fake).Uninstall(context.Background(), "com.example.echo", launchd.InstallOptions{Domain: launchd.System, Dir: t.TempDir()})
	var le *launchd.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "bootout", le.Op)

	err = newTestLaunchctl(fake).Uninstall(context.Background(), "bad/label", launchd.InstallOptions{Domain: launchd.System, Dir: t.TempDir()})
	assert.ErrorIs(t, err, launchd.ErrInvalidJob)
}

func TestDefaultDir(t *testing.T) {
	d, err := launchd.DefaultDir(launchd.System)
	require.NoError(t, err)
	assert.Equal(t, "/Library/LaunchDaemons", d)

	t.Setenv("HOME", "/Users/me")
	d, err = launchd.DefaultDir(launchd.GUI(os.Getuid()))
	require.NoError(t, err)
	assert.Equal(t, "/Users/me/Library/LaunchAgents", d)
}
