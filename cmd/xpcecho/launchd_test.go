package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

// fakeLaunchdEnv points the launchd subcommands at a fake launchctl, a
// temporary plist directory and a pretend macOS user 501 whose binary is
// /Users/me/bin/xpcecho.
func fakeLaunchdEnv(t *testing.T) (*launchdtest.Fake, string) {
	t.Helper()
	fake := launchdtest.New()
	dir := t.TempDir()
	saved := []func(){}
	set := func(restore func()) { saved = append(saved, restore) }
	{
		old := launchdRunner
		launchdRunner = fake
		set(func() { launchdRunner = old })
	}
	{
		old := launchdDir
		launchdDir = dir
		set(func() { launchdDir = old })
	}
	{
		old := launchdSupported
		launchdSupported = true
		set(func() { launchdSupported = old })
	}
	{
		old := executable
		executable = func() (string, error) { return "/Users/me/bin/xpcecho", nil }
		set(func() { executable = old })
	}
	{
		old := userHomeDir
		userHomeDir = func() (string, error) { return "/Users/me", nil }
		set(func() { userHomeDir = old })
	}
	{
		old, olde := getuid, geteuid
		getuid = func() int { return 501 }
		geteuid = func() int { return 501 }
		set(func() { getuid, geteuid = old, olde })
	}
	t.Setenv("GOCACHE", "")
	t.Cleanup(func() {
		for _, f := range saved {
			f()
		}
	})
	return fake, dir
}

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestPlistAgent(t *testing.T) {
	fakeLaunchdEnv(t)
	out, _, err := runCmd(t, "plist")
	require.NoError(t, err)
	job, err := launchd.ParseJob([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, &launchd.Job{
		Label:             "com.github.goxpc.xpcecho",
		ProgramArguments:  []string{"/Users/me/bin/xpcecho", "serve", "--service", "com.github.goxpc.xpcecho"},
		MachServices:      map[string]launchd.MachService{"com.github.goxpc.xpcecho": {}},
		StandardOutPath:   "/Users/me/Library/Logs/com.github.goxpc.xpcecho.log",
		StandardErrorPath: "/Users/me/Library/Logs/com.github.goxpc.xpcecho.log",
		ProcessType:       launchd.ProcessAdaptive,
	}, job)
}

func TestPlistDaemonNamedService(t *testing.T) {
	fakeLaunchdEnv(t)
	out, _, err := runCmd(t, "plist", "--daemon", "--service", "com.example.echod")
	require.NoError(t, err)
	job, err := launchd.ParseJob([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, "com.example.echod", job.Label)
	assert.Equal(t, []string{"/Users/me/bin/xpcecho", "serve", "--service", "com.example.echod", "--privileged"}, job.ProgramArguments)
	assert.Equal(t, "/Library/Logs/com.example.echod.log", job.StandardOutPath)
}

// TestPlistReadByPlistlib checks the printed plist with Python's plistlib,
// an independent parser.
func TestPlistReadByPlistlib(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	fakeLaunchdEnv(t)
	out, _, err := runCmd(t, "plist")
	require.NoError(t, err)
	cmd := exec.Command(py, "-c", `
import plistlib, sys
d = plistlib.loads(sys.stdin.buffer.read())
print(d["Label"]); print(" ".join(d["ProgramArguments"])); print(d["MachServices"][d["Label"]])`)
	cmd.Stdin = bytes.NewReader([]byte(out))
	got, err := cmd.Output()
	require.NoError(t, err)
	assert.Equal(t, "com.github.goxpc.xpcecho\n/Users/me/bin/xpcecho serve --service com.github.goxpc.xpcecho\nTrue\n", string(got))
}

func TestPlistUsage(t *testing.T) {
	fakeLaunchdEnv(t)
	_, stderr, err := runCmd(t, "plist", "--help")
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr, "-daemon")
	assert.Contains(t, stderr, "-service")

	_, _, err = runCmd(t, "plist", "extra")
	assert.ErrorIs(t, err, errUsage)

	_, _, err = runCmd(t, "plist", "--service", "bad name")
	assert.ErrorIs(t, err, launchd.ErrInvalidJob)
}

func TestPlistNotesGoRun(t *testing.T) {
	fakeLaunchdEnv(t)
	executable = func() (string, error) { return "/tmp/go-build123/b001/exe/xpcecho", nil }
	out, stderr, err := runCmd(t, "plist")
	require.NoError(t, err)
	assert.Contains(t, out, "<key>Label</key>")
	assert.Contains(t, stderr, "go build -o ~/bin/xpcecho ./cmd/xpcecho")
}

func TestInstallAndUninstall(t *testing.T) {
	fake, dir := fakeLaunchdEnv(t)
	path := filepath.Join(dir, "com.github.goxpc.xpcecho.plist")

	out, _, err := runCmd(t, "install")
	require.NoError(t, err)
	assert.Contains(t, out, "installed com.github.goxpc.xpcecho in gui/501")
	assert.Contains(t, out, "launchctl print gui/501/com.github.goxpc.xpcecho")
	assert.Contains(t, out, "/Users/me/Library/Logs/com.github.goxpc.xpcecho.log")
	assert.Contains(t, out, "xpcecho send --service com.github.goxpc.xpcecho hello")
	assert.Equal(t, []string{
		"bootout gui/501/com.github.goxpc.xpcecho",
		"enable gui/501/com.github.goxpc.xpcecho",
		"bootstrap gui/501 " + path,
	}, fake.Commands())
	assert.FileExists(t, path)

	out, _, err = runCmd(t, "install")
	require.NoError(t, err)
	assert.Contains(t, out, "already installed and loaded")

	fake.Reset()
	out, _, err = runCmd(t, "uninstall")
	require.NoError(t, err)
	assert.Contains(t, out, "uninstalled com.github.goxpc.xpcecho")
	assert.NoFileExists(t, path)
	assert.False(t, fake.Loaded("gui/501/com.github.goxpc.xpcecho"))
	assert.Equal(t, "bootout gui/501/com.github.goxpc.xpcecho", fake.Commands()[0])

	_, _, err = runCmd(t, "uninstall")
	assert.NoError(t, err, "uninstall is idempotent")
}

func TestInstallRefusesGoRunBinary(t *testing.T) {
	fake, _ := fakeLaunchdEnv(t)
	for _, exe := range []string{"/tmp/go-build4105065528/b001/exe/xpcecho", "/Users/me/Library/Caches/go-build/e7/e75b-d/xpcecho"} {
		executable = func() (string, error) { return exe, nil }
		_, _, err := runCmd(t, "install")
		require.Error(t, err, exe)
		assert.Contains(t, err.Error(), "build it first: go build -o ~/bin/xpcecho ./cmd/xpcecho")
	}
	t.Setenv("GOCACHE", "/var/cache/gocache")
	executable = func() (string, error) { return "/var/cache/gocache/ab/abcd-d/xpcecho", nil }
	_, _, err := runCmd(t, "install")
	assert.ErrorContains(t, err, "build it first")
	assert.Empty(t, fake.Calls())
}

func TestInstallOffMacOS(t *testing.T) {
	fake, _ := fakeLaunchdEnv(t)
	launchdSupported = false
	for _, cmd := range []string{"install", "uninstall"} {
		_, _, err := runCmd(t, cmd)
		require.ErrorIs(t, err, errors.ErrUnsupported, cmd)
		assert.Contains(t, err.Error(), "only on macOS")
	}
	assert.Empty(t, fake.Calls())
}

func TestInstallDaemonNeedsRoot(t *testing.T) {
	fake, _ := fakeLaunchdEnv(t)
	_, _, err := runCmd(t, "install", "--daemon")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sudo")
	assert.Empty(t, fake.Calls())
}

func TestInstallAgentRefusesSudo(t *testing.T) {
	fake, _ := fakeLaunchdEnv(t)
	geteuid = func() int { return 0 }
	for _, cmd := range []string{"install", "uninstall"} {
		_, _, err := runCmd(t, cmd)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "without sudo")
	}
	assert.Empty(t, fake.Calls())
}

func TestInstallDaemon(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the plist is chowned to root:wheel, which needs root")
	}
	fake, dir := fakeLaunchdEnv(t)
	geteuid = func() int { return 0 }
	out, stderr, err := runCmd(t, "install", "--daemon")
	require.NoError(t, err)
	assert.Contains(t, stderr, "launchd will run /Users/me/bin/xpcecho as root, but it is in a home directory")
	assert.Contains(t, out, "installed com.github.goxpc.xpcecho in system")
	assert.Contains(t, out, "xpcecho send --privileged --service com.github.goxpc.xpcecho hello")
	assert.True(t, fake.Loaded("system/com.github.goxpc.xpcecho"))
	job, err := launchd.ReadJob(filepath.Join(dir, "com.github.goxpc.xpcecho.plist"))
	require.NoError(t, err)
	assert.Equal(t, "/Library/Logs/com.github.goxpc.xpcecho.log", job.StandardErrorPath)
}

func TestUnsafeForRoot(t *testing.T) {
	assert.Equal(t, "it is in a home directory", unsafeForRoot("/Users/me/bin/xpcecho"))
	dir := t.TempDir()
	exe := filepath.Join(dir, "xpcecho")
	require.NoError(t, os.WriteFile(exe, nil, 0o755))
	require.NoError(t, os.Chmod(dir, 0o755))
	assert.Empty(t, unsafeForRoot(exe))
	require.NoError(t, os.Chmod(exe, 0o777))
	assert.Contains(t, unsafeForRoot(exe), "writable by group or others")
}

func TestInstallReportsLaunchctlFailure(t *testing.T) {
	fake, _ := fakeLaunchdEnv(t)
	for range 1000 { // launchd keeps refusing: Install retries, then gives up
		fake.FailCode("bootstrap", 5)
	}
	launchdGoneTimeout = 50 * time.Millisecond
	t.Cleanup(func() { launchdGoneTimeout = 0 })
	_, _, err := runCmd(t, "install")
	require.ErrorIs(t, err, launchd.ErrIO)
	assert.Contains(t, err.Error(), "launchctl print gui/501/com.github.goxpc.xpcecho")
}
