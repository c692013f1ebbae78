package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/goxpc/goxpc/launchd"
)

// defaultService is the Mach service name of the echo service, which is
// also its launchd label.
const defaultService = "com.github.goxpc.xpcecho"

// The launchd subcommands reach the system through these variables, so
// tests can run them anywhere with a fake launchctl and a temporary
// directory.
var (
	// launchdRunner runs launchctl; nil means the real /bin/launchctl.
	launchdRunner launchd.Runner
	// launchdDir overrides where plists are written (tests); empty means
	// ~/Library/LaunchAgents or /Library/LaunchDaemons.
	launchdDir string
	// launchdGoneTimeout bounds each wait for launchd (0: the package
	// default); tests shorten it.
	launchdGoneTimeout time.Duration
	// launchdSupported is false where launchd does not exist.
	launchdSupported = runtime.GOOS == "darwin"
	// executable, userHomeDir, getuid and geteuid are the os functions.
	executable  = os.Executable
	userHomeDir = os.UserHomeDir
	getuid      = os.Getuid
	geteuid     = os.Geteuid
)

func init() {
	register(command{
		name:    "plist",
		summary: "print the launchd job plist for the echo service",
		run:     cmdPlist,
	})
	register(command{
		name:    "install",
		summary: "install the echo service as a LaunchAgent (or --daemon) and load it (macOS)",
		run:     cmdInstall,
	})
	register(command{
		name:    "uninstall",
		summary: "unload the echo service and remove its plist (macOS)",
		run:     cmdUninstall,
	})
}

// jobFlags are the flags plist, install and uninstall share.
type jobFlags struct {
	daemon  bool
	service string
}

func (f *jobFlags) add(fs *flag.FlagSet, daemonHelp string) {
	fs.BoolVar(&f.daemon, "daemon", false, daemonHelp)
	fs.StringVar(&f.service, "service", defaultService, "Mach service `name`, also the launchd label")
}

// domain is where the job lives: the system domain for a daemon, the
// user's GUI session for an agent.
func (f *jobFlags) domain() launchd.Domain {
	if f.daemon {
		return launchd.System
	}
	return launchd.GUI(getuid())
}

func cmdPlist(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const summary = "Print the launchd job for the echo service: the running binary serving NAME,\n" +
		"advertised as a Mach service, with its output logged to a file.\n" +
		"A --daemon job runs \"serve --privileged\"; clients then use \"send --privileged\"."
	fs := newFlagSet("plist", "", summary, stderr)
	var f jobFlags
	f.add(fs, "print a LaunchDaemon (system domain) instead of a LaunchAgent")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("plist takes no arguments: %w", errUsage)
	}
	job, exe, err := echoJob(f.service, f.daemon)
	if err != nil {
		return err
	}
	if dir, ok := goRunDir(exe); ok {
		fmt.Fprintf(stderr, "xpcecho: note: %s is in go run's temporary directory %s, deleted on exit; build it first: go build -o ~/bin/xpcecho ./cmd/xpcecho\n", exe, dir)
	}
	data, err := job.Encode()
	if err != nil {
		return err
	}
	_, err = stdout.Write(data)
	return err
}

func cmdInstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const summary = "Install the echo service with launchd: write its plist (~/Library/LaunchAgents,\n" +
		"or /Library/LaunchDaemons with --daemon) and bootstrap it, replacing an older copy.\n" +
		"Run it again after rebuilding; it does nothing when nothing changed."
	fs := newFlagSet("install", "", summary, stderr)
	var f jobFlags
	f.add(fs, "install a LaunchDaemon in the system domain (needs sudo)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("install takes no arguments: %w", errUsage)
	}
	if err := checkLaunchd("install", f.daemon); err != nil {
		return err
	}
	job, exe, err := echoJob(f.service, f.daemon)
	if err != nil {
		return err
	}
	if dir, ok := goRunDir(exe); ok {
		return fmt.Errorf("install: %s lives in go run's temporary directory %s, which is deleted when it exits; build it first: go build -o ~/bin/xpcecho ./cmd/xpcecho", exe, dir)
	}
	if f.daemon {
		if why := unsafeForRoot(exe); why != "" {
			fmt.Fprintf(stderr, "xpcecho: warning: launchd will run %s as root, but %s; copy it somewhere only root can write first, e.g.\n"+
				"  sudo install -d /usr/local/libexec && sudo install -m 0755 %s /usr/local/libexec/xpcecho && sudo /usr/local/libexec/xpcecho install --daemon\n",
				exe, why, exe)
		}
	}
	lc := newLaunchctl()
	res, err := lc.Install(ctx, job, launchd.InstallOptions{Domain: f.domain(), Dir: launchdDir})
	if err != nil {
		return fmt.Errorf("install: %w", err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "xpcecho: warning: %s\n", w)
	}
	if res.Bootstrapped {
		fmt.Fprintf(stdout, "installed %s in %s\n", job.Label, res.Domain)
	} else {
		fmt.Fprintf(stdout, "%s is already installed and loaded in %s (plist unchanged)\n", job.Label, res.Domain)
	}
	fmt.Fprintf(stdout, "  plist:  %s\n", res.Path)
	fmt.Fprintf(stdout, "  logs:   %s\n", job.StandardOutPath)
	fmt.Fprintf(stdout, "  status: launchctl print %s\n", res.Domain.Service(job.Label))
	privileged := ""
	if f.daemon {
		privileged = "--privileged "
	}
	fmt.Fprintf(stdout, "  try:    %s send %s--service %s hello\n", filepath.Base(exe), privileged, f.service)
	return nil
}

func cmdUninstall(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const summary = "Unload the echo service (launchctl bootout) and remove its plist.\n" +
		"Succeeds when it is already gone."
	fs := newFlagSet("uninstall", "", summary, stderr)
	var f jobFlags
	f.add(fs, "remove the LaunchDaemon from the system domain (needs sudo)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("uninstall takes no arguments: %w", errUsage)
	}
	if err := checkLaunchd("uninstall", f.daemon); err != nil {
		return err
	}
	lc := newLaunchctl()
	if err := lc.Uninstall(ctx, f.service, launchd.InstallOptions{Domain: f.domain(), Dir: launchdDir}); err != nil {
		return fmt.Errorf("uninstall: %w", err)
	}
	fmt.Fprintf(stdout, "uninstalled %s from %s\n", f.service, f.domain())
	return nil
}

func newLaunchctl() *launchd.Launchctl {
	lc := launchd.NewLaunchctl(launchdRunner)
	lc.GoneTimeout = launchdGoneTimeout
	return lc
}

// checkLaunchd fails early, with the reason, where install/uninstall
// cannot work: off macOS, or a daemon without root.
func checkLaunchd(op string, daemon bool) error {
	if !launchdSupported {
		return fmt.Errorf("%s: launchd exists only on macOS (use xpcecho demo here): %w", op, errors.ErrUnsupported)
	}
	if daemon && geteuid() != 0 {
		return fmt.Errorf("%s --daemon changes the system domain and /Library/LaunchDaemons, which needs root: run it with sudo", op)
	}
	if !daemon && geteuid() == 0 {
		return fmt.Errorf("%s as root would use root's LaunchAgents (gui/0): run it without sudo for your own agent, or pass --daemon for a LaunchDaemon", op)
	}
	return nil
}

// echoJob returns the launchd job that runs this binary as the echo
// service, and the binary's path.
func echoJob(service string, daemon bool) (*launchd.Job, string, error) {
	exe, err := executable()
	if err != nil {
		return nil, "", fmt.Errorf("find the xpcecho binary: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return nil, "", fmt.Errorf("find the xpcecho binary: %w", err)
	}
	logDir := "/Library/Logs"
	if !daemon {
		home, err := userHomeDir()
		if err != nil {
			return nil, "", fmt.Errorf("find the log directory: %w", err)
		}
		logDir = filepath.Join(home, "Library", "Logs")
	}
	logFile := filepath.Join(logDir, service+".log")
	argv := []string{exe, "serve", "--service", service}
	if daemon {
		argv = append(argv, "--privileged") // a daemon serves the system namespace
	}
	job := &launchd.Job{
		Label:             service,
		ProgramArguments:  argv,
		MachServices:      map[string]launchd.MachService{service: {}},
		StandardOutPath:   logFile,
		StandardErrorPath: logFile,
		// Adaptive: background priority, raised while a client waits on a reply.
		ProcessType: launchd.ProcessAdaptive,
	}
	if _, err := job.Validate(); err != nil {
		return nil, "", err
	}
	return job, exe, nil
}

// unsafeForRoot says why a daemon binary at exe could be replaced by a
// non-root user (which would then run code as root), or "" if it looks safe.
func unsafeForRoot(exe string) string {
	if strings.HasPrefix(exe, "/Users/") || strings.HasPrefix(exe, "/home/") {
		return "it is in a home directory"
	}
	for _, p := range []string{exe, filepath.Dir(exe)} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o022 != 0 {
			return p + " is writable by group or others"
		}
	}
	return ""
}

// goRunDir reports whether exe was built by go run (or go test) into a
// go-build temporary directory or the build cache (where go run keeps
// binaries since Go 1.24), and returns that directory.
func goRunDir(exe string) (string, bool) {
	if cache := os.Getenv("GOCACHE"); cache != "" && strings.HasPrefix(exe, filepath.Clean(cache)+string(filepath.Separator)) {
		return cache, true
	}
	for dir := filepath.Dir(exe); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if strings.HasPrefix(filepath.Base(dir), "go-build") {
			return dir, true
		}
	}
	return "", false
}
