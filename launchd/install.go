package launchd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Where launchd looks for job plists.
const (
	// DaemonDir holds the plists of third-party LaunchDaemons.
	DaemonDir = "/Library/LaunchDaemons"
	// agentSubdir, under the user's home, holds their LaunchAgents.
	agentSubdir = "Library/LaunchAgents"
)

// DefaultDir returns where a job for d belongs: /Library/LaunchDaemons for
// the system domain, ~/Library/LaunchAgents for gui/ and user/ domains.
//
// For another user's domain (a root installer setting up an agent for
// gui/501, say) it is that user's home, not the caller's.
func DefaultDir(d Domain) (string, error) {
	if d.IsSystem() {
		return DaemonDir, nil
	}
	home, err := homeOf(d)
	if err != nil {
		return "", fmt.Errorf("launchd: find LaunchAgents directory for %s: %w", d, err)
	}
	return filepath.Join(home, agentSubdir), nil
}

// homeOf returns the home directory of the user whose domain d is.
func homeOf(d Domain) (string, error) {
	uid, ok := d.UID()
	if !ok || uid == os.Getuid() {
		return os.UserHomeDir()
	}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", err
	}
	if u.HomeDir == "" {
		return "", fmt.Errorf("user %d has no home directory", uid)
	}
	return u.HomeDir, nil
}

// InstallOptions says where a job goes.
type InstallOptions struct {
	// Domain is the launchctl domain: [System] for a daemon, [GUI] for an
	// agent of the logged-in user (falls back to [User] when there is no
	// GUI login).
	Domain Domain
	// Dir overrides the plist directory ([DefaultDir] when empty); tests
	// point it at a temporary directory.
	Dir string
}

func (o InstallOptions) plistPath(label string) (string, error) {
	if o.Domain == "" {
		return "", errors.New("launchd: InstallOptions.Domain is empty")
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDir(o.Domain); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, label+".plist"), nil
}

// InstallResult reports what Install did.
type InstallResult struct {
	// Path is the plist file.
	Path string
	// Domain is where the job was bootstrapped; user/<uid> when a gui/<uid>
	// install fell back because there was no GUI login.
	Domain Domain
	// Written is false when the plist on disk already had these bytes.
	Written bool
	// Bootstrapped is false when nothing changed and the job was already
	// loaded, so Install left it running.
	Bootstrapped bool
	// Warnings are Validate's warnings about the job.
	Warnings []string
}

// chown is os.Chown, replaced in tests that do not run as root.
var chown = os.Chown

// geteuid is os.Geteuid, replaced in tests.
var geteuid = os.Geteuid

// ids is a file owner.
type ids struct{ uid, gid int }

// agentOwner returns who should own the plist (and any LaunchAgents
// directories created for it) of an agent installed by root into another
// user's domain: that user, so the directory stays theirs. Nil otherwise.
func agentOwner(d Domain) *ids {
	uid, ok := d.UID()
	if !ok || d.IsSystem() || geteuid() != 0 || uid == 0 {
		return nil
	}
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		// Unknown user: leave the files root's (launchd accepts a
		// root-owned agent plist).
		return nil
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return nil
	}
	return &ids{uid, gid}
}

// Install writes job's plist and (re)loads it into opts.Domain, the way that
// avoids launchctl's usual failures:
//
//   - the job is validated first;
//   - the plist is written atomically (temporary file, fsync, rename), mode
//     0644, root:wheel for daemons (and owned by the user for an agent root
//     installs for someone else); when the file already holds the same
//     bytes with that mode and owner and the job is loaded from it,
//     nothing else happens;
//   - otherwise the old instance is booted out and Install waits (up to
//     GoneTimeout, and no longer than ctx) until launchd has let it go,
//     enables the label, and bootstraps the plist, retrying with a growing
//     pause for up to GoneTimeout on "5: Input/output error" or
//     "37: Operation already in progress" (launchd finishes tearing down
//     the old instance asynchronously);
//   - a gui/<uid> domain without a GUI login (125, 112, or a 5 when
//     "launchctl print gui/<uid>" finds no such domain) falls back to
//     user/<uid>.
//
// On failure after the plist was written, the error says that the plist is
// in place but not loaded.
func (l *Launchctl) Install(ctx context.Context, job *Job, opts InstallOptions) (*InstallResult, error) {
	warnings, err := job.ValidateFor(opts.Domain)
	if err != nil {
		return nil, err
	}
	path, err := opts.plistPath(job.Label)
	if err != nil {
		return nil, err
	}
	data, err := job.Encode()
	if err != nil {
		return nil, err
	}
	if job.BundleProgram != "" && job.Program == "" && len(job.ProgramArguments) == 0 {
		warnings = append(warnings, "BundleProgram is resolved only for a plist an app registers with SMAppService from inside its bundle; "+
			"a plist bootstrapped from "+filepath.Dir(path)+" has no bundle: set Program or ProgramArguments to an absolute path")
	}
	res := &InstallResult{Path: path, Domain: opts.Domain, Warnings: warnings}

	old, err := os.ReadFile(path)
	unchanged := err == nil && bytes.Equal(old, data) && fileAcceptable(path, opts.Domain.IsSystem())
	if unchanged {
		for _, d := range l.candidateDomains(opts.Domain) {
			// Loaded, and from this file (launchctl print names it).
			if st, err := l.Print(ctx, d, job.Label); err == nil && (st.Path == "" || st.Path == path) {
				res.Domain = d
				return res, nil
			}
		}
	} else {
		if err := writeFileAtomic(path, data, opts.Domain.IsSystem(), agentOwner(opts.Domain)); err != nil {
			return nil, err
		}
		res.Written = true
	}

	err = l.reload(ctx, opts.Domain, job.Label, path)
	if errors.Is(err, ErrNoGUIDomain) {
		if uid, ok := opts.Domain.UID(); ok && opts.Domain == GUI(uid) {
			l.logger().Info("no GUI login: using the user domain", "label", job.Label, "domain", User(uid))
			res.Domain = User(uid)
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s has no GUI login session: installed into %s instead", opts.Domain, res.Domain))
			if len(job.LimitLoadToSessionType) > 0 && !slices.Contains(job.LimitLoadToSessionType, "Background") {
				res.Warnings = append(res.Warnings, fmt.Sprintf("LimitLoadToSessionType %v lacks Background, the session of %s: launchd may refuse to load the job there", []string(job.LimitLoadToSessionType), res.Domain))
			}
			err = l.reload(ctx, res.Domain, job.Label, path)
		}
	}
	if err != nil {
		// Never leave a half-installed job silently: the plist stays (launchd
		// would load it at the next login or boot) but nothing runs now.
		return nil, fmt.Errorf("launchd: %s is not loaded although its plist %s is in place (fix the cause and Install again, or Uninstall to remove it): %w",
			job.Label, path, err)
	}
	res.Bootstrapped = true
	return res, nil
}

// candidateDomains lists where a job installed for d may be loaded: a gui
// install may have fallen back to the user domain.
func (l *Launchctl) candidateDomains(d Domain) []Domain {
	if uid, ok := d.UID(); ok && d == GUI(uid) {
		return []Domain{d, User(uid)}
	}
	return []Domain{d}
}

// reload is bootout, wait until gone, enable, bootstrap. launchd may refuse
// the bootstrap with 5 or 37 for a few seconds after the old instance went
// away (it finishes tearing the job down asynchronously), so those are
// retried with a growing pause for up to GoneTimeout, within ctx.
func (l *Launchctl) reload(ctx context.Context, d Domain, label, path string) error {
	if err := l.bootoutAndWait(ctx, d, label); err != nil {
		return err
	}
	if err := l.Enable(ctx, d, label); err != nil {
		return err
	}
	pause, timeout := l.intervals()
	deadline := time.Now().Add(timeout)
	for attempt := 1; ; attempt++ {
		err := l.Bootstrap(ctx, d, path)
		if !errors.Is(err, ErrIO) && !errors.Is(err, ErrAlreadyLoaded) {
			return err
		}
		if attempt == 1 {
			// Over ssh with no GUI login, bootstrap into gui/<uid> can fail
			// with 5 instead of 125: ask whether the domain exists at all.
			if perr := l.probeGUIDomain(ctx, d); perr != nil {
				return perr
			}
		}
		if time.Now().Add(pause).After(deadline) {
			return fmt.Errorf("%w (gave up after %d attempts in %v)", err, attempt, timeout)
		}
		l.logger().Info("bootstrap failed, retrying", "label", label, "attempt", attempt, "err", err)
		if err := l.bootoutAndWait(ctx, d, label); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("launchd: bootstrap %s: %w (last error: %w)", d.Service(label), ctx.Err(), err)
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// probeGUIDomain returns an error matching ErrNoGUIDomain when d is a
// gui/<uid> domain that does not exist (no GUI login), else nil.
func (l *Launchctl) probeGUIDomain(ctx context.Context, d Domain) error {
	if uid, ok := d.UID(); !ok || d != GUI(uid) {
		return nil
	}
	_, err := l.run(ctx, "print", d.String(), "", d.String())
	if errors.Is(err, ErrNoGUIDomain) {
		return err
	}
	return nil
}

func (l *Launchctl) intervals() (interval, timeout time.Duration) {
	interval, timeout = l.PollInterval, l.GoneTimeout
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return interval, timeout
}

// bootoutAndWait boots label out of d (not loaded is fine) and waits until
// launchd no longer knows it: bootout returns before the job is gone, and
// a bootstrap in that window fails with 5 or 37.
func (l *Launchctl) bootoutAndWait(ctx context.Context, d Domain, label string) error {
	err := l.Bootout(ctx, d, label)
	switch {
	case errors.Is(err, ErrNotLoaded):
		return nil
	case errors.Is(err, ErrInProgress), errors.Is(err, ErrAlreadyLoaded):
		// 36 (macOS 10.15+: the job did not exit at once) or 37: launchd
		// is removing it; wait below.
	case err != nil:
		return err
	}
	return l.waitGone(ctx, d, label)
}

// waitGone polls launchctl print until the service is not loaded, for at
// most GoneTimeout.
func (l *Launchctl) waitGone(ctx context.Context, d Domain, label string) error {
	interval, timeout := l.intervals()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		_, err := l.Print(ctx, d, label)
		switch {
		case errors.Is(err, ErrNotLoaded), errors.Is(err, ErrNoGUIDomain):
			return nil // gone, or the whole domain is
		case ctx.Err() != nil:
			return fmt.Errorf("launchd: %s still loaded after bootout (waited %v; check `launchctl print %s`): %w",
				d.Service(label), timeout, d.Service(label), ctx.Err())
		case err != nil:
			return err
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// Uninstall boots the job out of opts.Domain (and of user/<uid> for a gui
// domain, where Install may have fallen back) and removes its plist. Both
// steps accept that the job is already gone, so Uninstall can be repeated.
func (l *Launchctl) Uninstall(ctx context.Context, label string, opts InstallOptions) error {
	if err := (&Job{Label: label}).checkLabel(); err != nil {
		return err
	}
	path, err := opts.plistPath(label)
	if err != nil {
		return err
	}
	for _, d := range l.candidateDomains(opts.Domain) {
		err := l.bootoutAndWait(ctx, d, label)
		if errors.Is(err, ErrNoGUIDomain) {
			continue // no GUI session: nothing can be loaded there
		}
		if err != nil {
			return err
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("launchd: remove %s: %w%s", path, err, rootHint(err, opts.Domain))
	}
	return nil
}

// checkLabel applies Validate's label rules alone.
func (j *Job) checkLabel() error {
	if j.Label == "" || strings.Contains(j.Label, "/") || !printable(j.Label) {
		return &ValidationError{Label: j.Label, Problems: []string{"Label must be non-empty, printable and contain no '/'"}}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so launchd never reads half a plist. The file is
// 0644 (launchd refuses group- or world-writable plists) and, for daemons,
// owned by root:wheel.
//
// owner, when set, owns the file and the directories this call creates (an
// agent root installs for another user).
func writeFileAtomic(path string, data []byte, daemon bool, owner *ids) (err error) {
	dir := filepath.Dir(path)
	d := Domain("")
	if daemon {
		d = System
	}
	if err := mkdirOwned(dir, owner); err != nil {
		return fmt.Errorf("launchd: create %s: %w%s", dir, err, rootHint(err, d))
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("launchd: write %s: %w%s", path, err, rootHint(err, d))
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("launchd: write %s: %w", tmp, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("launchd: chmod %s: %w", tmp, err)
	}
	if owner != nil && !daemon {
		if err = chown(tmp, owner.uid, owner.gid); err != nil {
			return fmt.Errorf("launchd: chown %s to its user: %w", tmp, err)
		}
	}
	if daemon {
		if err = chown(tmp, 0, 0); err != nil { // root:wheel (wheel is gid 0)
			return fmt.Errorf("launchd: a LaunchDaemon plist must be owned by root:wheel: %w%s", err, rootHint(err, d))
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("launchd: sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("launchd: close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("launchd: rename into %s: %w%s", path, err, rootHint(err, d))
	}
	// Make the rename itself durable; best effort (not every platform can
	// sync a directory).
	if df, derr := os.Open(dir); derr == nil {
		_ = df.Sync()
		df.Close()
	}
	return nil
}

// mkdirOwned is os.MkdirAll(dir, 0755) that chowns each directory it
// creates to owner, when set.
func mkdirOwned(dir string, owner *ids) error {
	if owner == nil {
		return os.MkdirAll(dir, 0o755)
	}
	var missing []string
	for p := dir; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := chown(missing[i], owner.uid, owner.gid); err != nil {
			return err
		}
	}
	return nil
}

// fileAcceptable reports whether the plist at path has the mode (0644) and,
// for a daemon, the owner (root:wheel) Install gives it: launchd refuses a
// group- or world-writable plist, or a daemon's not owned by root, with
// "Bootstrap failed: 5", so reusing such a file would fail every time.
func fileAcceptable(path string, daemon bool) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		return false
	}
	if daemon {
		if uid, gid, ok := fileOwner(fi); ok && (uid != 0 || gid != 0) {
			return false
		}
	}
	return true
}

func rootHint(err error, d Domain) string {
	if d.IsSystem() && errors.Is(err, fs.ErrPermission) {
		return " (LaunchDaemons need root: run with sudo)"
	}
	return ""
}
