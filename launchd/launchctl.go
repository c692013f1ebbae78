package launchd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Domain is a launchctl domain target: "system" for daemons, "gui/<uid>"
// for the agents of a user logged in at the screen, "user/<uid>" for a
// user's background agents (which also exists over ssh).
type Domain string

// System is the privileged domain of LaunchDaemons; changing it needs root.
const System Domain = "system"

// GUI returns the domain of the agents of the user uid's login session.
func GUI(uid int) Domain { return Domain("gui/" + strconv.Itoa(uid)) }

// User returns the per-user background domain of uid, which exists with
// or without a GUI login.
func User(uid int) Domain { return Domain("user/" + strconv.Itoa(uid)) }

// ParseDomain parses "system", "gui/<uid>" or "user/<uid>".
func ParseDomain(s string) (Domain, error) {
	if s == string(System) {
		return System, nil
	}
	kind, uid, ok := strings.Cut(s, "/")
	if ok && (kind == "gui" || kind == "user") {
		if n, err := strconv.Atoi(uid); err == nil && n >= 0 {
			return Domain(kind + "/" + strconv.Itoa(n)), nil
		}
	}
	return "", fmt.Errorf("launchd: domain %q is not system, gui/<uid> or user/<uid>", s)
}

// IsSystem reports whether d is the system (daemon) domain.
func (d Domain) IsSystem() bool { return d == System }

// UID returns the user ID of a gui/ or user/ domain.
func (d Domain) UID() (int, bool) {
	_, uid, ok := strings.Cut(string(d), "/")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(uid)
	return n, err == nil
}

// Service returns the service target of label in d: "gui/501/com.example.x".
func (d Domain) Service(label string) string { return string(d) + "/" + label }

// String returns the domain target as launchctl spells it.
func (d Domain) String() string { return string(d) }

// Result is what one launchctl run produced.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int
}

// Runner runs launchctl. The real one ([ExecRunner]) uses os/exec; tests
// substitute a fake that records the arguments and returns canned results.
type Runner interface {
	// Run runs launchctl with args (without "launchctl" itself). A
	// non-zero exit is reported in Result.ExitCode with a nil error; the
	// error is for failures to run launchctl at all.
	Run(ctx context.Context, args ...string) (Result, error)
}

// Sentinel errors for launchctl's common failures; match them with
// errors.Is on an *[Error].
var (
	// ErrNotLoaded: no such service in the domain (exit 3 "No such
	// process" or 113 "Could not find specified service").
	ErrNotLoaded = errors.New("launchd: service not loaded")
	// ErrIO: "Bootstrap failed: 5: Input/output error" — usually the job is
	// still loaded, is disabled, or its plist is unreadable or owned by
	// the wrong user.
	ErrIO = errors.New("launchd: launchctl input/output error")
	// ErrAlreadyLoaded: "37: Operation already in progress" — the service
	// is loaded, or being unloaded right now.
	ErrAlreadyLoaded = errors.New("launchd: service already loaded or being unloaded")
	// ErrInProgress: "Boot-out failed: 36: Operation now in progress" —
	// macOS 10.15 and later report this when the service did not exit at
	// once; launchd goes on removing it.
	ErrInProgress = errors.New("launchd: operation still in progress")
	// ErrDisabled: "119: Service is disabled".
	ErrDisabled = errors.New("launchd: service disabled")
	// ErrNoGUIDomain: "125: Domain does not support specified action", or
	// 112 / "Could not find domain for user gui: 501" — there is no GUI
	// login for the user (ssh, CI, a headless Mac); use user/<uid>.
	ErrNoGUIDomain = errors.New("launchd: domain does not support the action (no GUI login?)")
	// ErrPermission: "Operation not permitted" — the system domain needs
	// root; with code 150, System Integrity Protection guards the service
	// and not even root may change it.
	ErrPermission = errors.New("launchd: operation not permitted")
)

// Error is a failed launchctl command. Its message says what to check.
type Error struct {
	// Op is the launchctl subcommand: bootstrap, bootout, enable, ...
	Op string
	// Target is the domain or service target the command acted on.
	Target string
	// Path is the plist path, for bootstrap.
	Path string
	// ExitCode is launchctl's exit status.
	ExitCode int
	// Code is launchctl's error code: the number in "Bootstrap failed: 5:"
	// when the message has one, else the exit status. The sentinel errors
	// match on it.
	Code int
	// Message is what launchctl printed, trimmed.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "launchctl %s %s", e.Op, e.Target)
	if e.Path != "" {
		fmt.Fprintf(&b, " %s", e.Path)
	}
	fmt.Fprintf(&b, ": exit %d", e.ExitCode)
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if h := e.Hint(); h != "" {
		fmt.Fprintf(&b, " (%s)", h)
	}
	return b.String()
}

// Is matches the sentinel errors by code.
func (e *Error) Is(target error) bool {
	return target != nil && e.sentinel() == target
}

func (e *Error) sentinel() error {
	if strings.Contains(e.Message, "Could not find domain") {
		return ErrNoGUIDomain
	}
	switch e.Code {
	case 3, 113:
		return ErrNotLoaded
	case 5:
		return ErrIO
	case 36:
		return ErrInProgress
	case 37:
		return ErrAlreadyLoaded
	case 119:
		return ErrDisabled
	case 112, 125:
		return ErrNoGUIDomain
	case 1, 150:
		if strings.Contains(e.Message, "not permitted") || strings.Contains(e.Message, "privilege") || e.Code == 150 {
			return ErrPermission
		}
	}
	return nil
}

// Hint says what to check for this failure, with the command to run.
func (e *Error) Hint() string {
	domain, label, _ := cutDomain(e.Target)
	if label == "" && e.Path != "" {
		// By convention the plist is named <Label>.plist.
		label = strings.TrimSuffix(filepath.Base(e.Path), ".plist")
	}
	svc := domain + "/<label>"
	if label != "" {
		svc = domain + "/" + label
	}
	show := "launchctl print " + svc
	switch e.sentinel() {
	case ErrNotLoaded:
		return fmt.Sprintf("the service is not loaded in %s; check `%s`; daemons live in the system domain (sudo), agents in gui/<uid>", domain, show)
	case ErrIO:
		root := ""
		if domain == string(System) {
			root = "the system domain needs root (run with sudo); otherwise "
		}
		return fmt.Sprintf("%susually the job is still loaded (bootout it first) or disabled (`launchctl enable %s`); also check the plist is mode 0644 and, for a daemon, owned by root:wheel, and that the program exists; see `%s`", root, svc, show)
	case ErrAlreadyLoaded:
		return fmt.Sprintf("the service is loaded or still being removed: bootout it and wait, or restart it with `launchctl kickstart -k %s`; see `%s`", svc, show)
	case ErrDisabled:
		return fmt.Sprintf("the service is disabled: `launchctl enable %s`", svc)
	case ErrNoGUIDomain:
		return "there is no GUI login session for this user (ssh or CI?): use the user/<uid> domain"
	case ErrInProgress:
		return fmt.Sprintf("launchd is still stopping the service; wait until `%s` no longer finds it", show)
	case ErrPermission:
		if e.Code == 150 {
			return "System Integrity Protection guards this service: not even root may change it; leave Apple's services alone or use your own label"
		}
		return "the system domain (LaunchDaemons) needs root: run with sudo"
	}
	return ""
}

// cutDomain splits a target such as "gui/501/label" into "gui/501" and
// "label"; a bare domain gives an empty label.
func cutDomain(target string) (domain, label string, ok bool) {
	kind, rest, found := strings.Cut(target, "/")
	switch {
	case kind == "system":
		return kind, rest, true
	case !found:
		return target, "", false
	}
	uid, label, _ := strings.Cut(rest, "/")
	return kind + "/" + uid, label, true
}

// failedCode matches "Bootstrap failed: 5: Input/output error".
var failedCode = regexp.MustCompile(`failed: (\d+):`)

// Launchctl runs launchctl subcommands through a [Runner]. It only uses the
// bootstrap/bootout family, never the deprecated load/unload. The zero
// value runs the real /bin/launchctl.
type Launchctl struct {
	runner Runner

	// Logger receives a debug record per command and an info record when
	// Install retries or falls back; nil means slog.Default().
	Logger *slog.Logger
	// PollInterval is how often Install and Uninstall ask whether a
	// booted-out service is gone (default 100ms), and the first pause
	// before Install retries a bootstrap (doubling up to 1s).
	PollInterval time.Duration
	// GoneTimeout bounds that wait, and separately the bootstrap retries
	// (default 10s each).
	GoneTimeout time.Duration
}

// NewLaunchctl returns a Launchctl that runs commands with r; nil means the
// real /bin/launchctl ([ExecRunner]).
func NewLaunchctl(r Runner) *Launchctl {
	if r == nil {
		r = ExecRunner{}
	}
	return &Launchctl{runner: r}
}

func (l *Launchctl) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// run executes one subcommand and turns a non-zero exit into an *Error.
func (l *Launchctl) run(ctx context.Context, op, target, path string, args ...string) (Result, error) {
	argv := append([]string{op}, args...)
	r := l.runner
	if r == nil {
		r = ExecRunner{}
	}
	res, err := r.Run(ctx, argv...)
	if err != nil {
		return res, fmt.Errorf("launchctl %s %s: %w", op, target, err)
	}
	l.logger().Debug("launchctl", "args", argv, "exit", res.ExitCode)
	if res.ExitCode == 0 {
		return res, nil
	}
	msg := strings.TrimSpace(res.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(res.Stdout)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	code := res.ExitCode
	if m := failedCode.FindStringSubmatch(msg); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			code = n
		}
	}
	return res, &Error{Op: op, Target: target, Path: path, ExitCode: res.ExitCode, Code: code, Message: msg}
}

// Bootstrap loads the job plist at path into d: launchctl bootstrap d path.
func (l *Launchctl) Bootstrap(ctx context.Context, d Domain, path string) error {
	_, err := l.run(ctx, "bootstrap", d.String(), path, d.String(), path)
	return err
}

// Bootout unloads label from d (stopping it): launchctl bootout d/label.
// A service that is not loaded gives an error matching [ErrNotLoaded].
func (l *Launchctl) Bootout(ctx context.Context, d Domain, label string) error {
	t := d.Service(label)
	_, err := l.run(ctx, "bootout", t, "", t)
	return err
}

// Enable clears a disabled override: launchctl enable d/label.
func (l *Launchctl) Enable(ctx context.Context, d Domain, label string) error {
	t := d.Service(label)
	_, err := l.run(ctx, "enable", t, "", t)
	return err
}

// Disable keeps the service from loading until enabled again:
// launchctl disable d/label.
func (l *Launchctl) Disable(ctx context.Context, d Domain, label string) error {
	t := d.Service(label)
	_, err := l.run(ctx, "disable", t, "", t)
	return err
}

// Kickstart starts the service now; with kill, a running instance is
// killed and restarted (launchctl kickstart -k).
func (l *Launchctl) Kickstart(ctx context.Context, d Domain, label string, kill bool) error {
	t := d.Service(label)
	args := []string{t}
	if kill {
		args = []string{"-k", t}
	}
	_, err := l.run(ctx, "kickstart", t, "", args...)
	return err
}

// Print describes a loaded service (launchctl print d/label). A service
// that is not loaded gives an error matching [ErrNotLoaded].
func (l *Launchctl) Print(ctx context.Context, d Domain, label string) (*ServiceStatus, error) {
	t := d.Service(label)
	res, err := l.run(ctx, "print", t, "", t)
	if err != nil {
		return nil, err
	}
	st := ParsePrint(res.Stdout)
	// Before macOS 11 the first line names the bare label; report the
	// target that was asked for.
	st.Target = t
	return st, nil
}
