// Package launchdtest provides a fake launchctl, so code that installs
// launchd jobs can be tested on any OS, without launchd and without root.
//
// The fake keeps a little state like launchd does: which services are
// loaded (from the plist files passed to bootstrap) and which are disabled;
// it answers with launchctl's exit codes and messages, records every
// command, and can be told to fail the next run of a subcommand.
package launchdtest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/goxpc/goxpc/launchd"
)

// Fake is a simulated launchctl that implements [launchd.Runner]. It is
// safe for concurrent use.
type Fake struct {
	// NoGUI makes gui/<uid> domains behave like a user without a GUI login
	// (ssh, CI): changes fail with 125, print finds nothing.
	NoGUI bool
	// Linger is how many print calls still see a service after bootout,
	// like launchd tearing a job down asynchronously.
	Linger int

	mu       sync.Mutex
	calls    [][]string
	loaded   map[string]loadedJob // service target → job
	lingers  map[string]int
	disabled map[string]bool
	failures map[string][]launchd.Result
}

// New returns a Fake with nothing loaded.
func New() *Fake {
	return &Fake{
		loaded:   make(map[string]loadedJob),
		lingers:  make(map[string]int),
		disabled: make(map[string]bool),
		failures: make(map[string][]launchd.Result),
	}
}

// Fail makes the next run of subcommand op return res instead of acting.
// Calls queue up: two Fail("bootstrap", …) fail the next two bootstraps.
func (f *Fake) Fail(op string, res launchd.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[op] = append(f.failures[op], res)
}

// FailCode is Fail with launchctl's usual message for code:
// "<Op> failed: <code>: <text>".
func (f *Fake) FailCode(op string, code int) {
	f.Fail(op, failure(op, code))
}

type loadedJob struct {
	job  *launchd.Job
	path string // plist it was bootstrapped from; "" when preloaded
}

// Load marks a job as loaded in domain d, as if bootstrapped earlier from
// path (which may be empty).
func (f *Fake) Load(d launchd.Domain, job *launchd.Job, path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loaded[d.Service(job.Label)] = loadedJob{job, path}
}

// Loaded reports whether the service target (domain/label) is loaded.
func (f *Fake) Loaded(target string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.loaded[target]
	return ok
}

// Disabled reports whether the service target was disabled.
func (f *Fake) Disabled(target string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.disabled[target]
}

// Calls returns the argv of every run so far, without "launchctl".
func (f *Fake) Calls() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([][]string, len(f.calls))
	for i, c := range f.calls {
		out[i] = slices.Clone(c)
	}
	return out
}

// Commands returns every run so far as one space-joined string each, such
// as "bootstrap gui/501 /Users/me/Library/LaunchAgents/x.plist".
func (f *Fake) Commands() []string {
	calls := f.Calls()
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = strings.Join(c, " ")
	}
	return out
}

// Reset forgets the recorded calls (state is kept).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// Run implements [launchd.Runner].
func (f *Fake) Run(ctx context.Context, args ...string) (launchd.Result, error) {
	if err := ctx.Err(); err != nil {
		return launchd.Result{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(args))
	if len(args) == 0 {
		return usage("no subcommand"), nil
	}
	op, rest := args[0], args[1:]
	if q := f.failures[op]; len(q) > 0 {
		f.failures[op] = q[1:]
		return q[0], nil
	}
	switch op {
	case "bootstrap":
		if len(rest) != 2 {
			return usage("bootstrap <domain> <path>"), nil
		}
		return f.bootstrap(launchd.Domain(rest[0]), rest[1]), nil
	case "bootout", "enable", "disable", "print":
		if len(rest) != 1 {
			return usage(op + " <service-target>"), nil
		}
		if op == "print" && isDomainTarget(rest[0]) {
			return f.printDomain(rest[0]), nil
		}
		return f.serviceOp(op, rest[0]), nil
	case "kickstart":
		if len(rest) == 2 && rest[0] == "-k" {
			rest = rest[1:]
		}
		if len(rest) != 1 {
			return usage("kickstart [-k] <service-target>"), nil
		}
		return f.serviceOp(op, rest[0]), nil
	case "load", "unload":
		return launchd.Result{ExitCode: 1, Stderr: "launchdtest: " + op + " is deprecated; use bootstrap/bootout\n"}, nil
	default:
		return usage("unknown subcommand " + op), nil
	}
}

// isDomainTarget reports whether target names a domain (system, gui/501)
// rather than a service in one.
func isDomainTarget(target string) bool {
	kind, rest, _ := strings.Cut(target, "/")
	return target == "system" || (kind != "system" && rest != "" && !strings.Contains(rest, "/"))
}

// printDomain answers `launchctl print <domain-target>`: a GUI domain
// without a GUI login does not exist (exit 112, as launchctl does).
func (f *Fake) printDomain(target string) launchd.Result {
	if f.noGUI(target) {
		kind, uid, _ := strings.Cut(target, "/")
		return launchd.Result{ExitCode: 112, Stderr: fmt.Sprintf("Could not find domain for user %s: %s\n", kind, uid)}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s = {\n\tservices = {\n", target)
	for t := range f.loaded {
		if strings.HasPrefix(t, target+"/") {
			fmt.Fprintf(&b, "\t\t0\t-\t%s\n", label(t))
		}
	}
	b.WriteString("\t}\n}\n")
	return launchd.Result{Stdout: b.String()}
}

func (f *Fake) noGUI(target string) bool {
	return f.NoGUI && strings.HasPrefix(target, "gui/")
}

func (f *Fake) bootstrap(d launchd.Domain, path string) launchd.Result {
	if f.noGUI(string(d)) {
		return failure("bootstrap", 125)
	}
	job, err := launchd.ReadJob(path)
	if err != nil {
		return failure("bootstrap", 5)
	}
	t := d.Service(job.Label)
	if _, ok := f.loaded[t]; ok || f.disabled[t] || f.lingers[t] > 0 {
		return failure("bootstrap", 5)
	}
	f.loaded[t] = loadedJob{job, path}
	return launchd.Result{}
}

func (f *Fake) serviceOp(op, target string) launchd.Result {
	if f.noGUI(target) {
		if op == "print" {
			return launchd.Result{ExitCode: 113, Stderr: fmt.Sprintf("Bad request.\nCould not find domain for %s\n", target)}
		}
		return failure(op, 125)
	}
	entry, loaded := f.loaded[target]
	switch op {
	case "enable":
		delete(f.disabled, target)
		return launchd.Result{}
	case "disable":
		f.disabled[target] = true
		return launchd.Result{}
	case "print":
		if n := f.lingers[target]; n > 0 {
			f.lingers[target] = n - 1
			return launchd.Result{Stdout: fmt.Sprintf("%s = {\n\tstate = exiting\n}\n", target)}
		}
		if !loaded {
			return launchd.Result{ExitCode: 113, Stderr: fmt.Sprintf("Could not find service %q in domain for port\n", label(target))}
		}
		return launchd.Result{Stdout: printOutput(target, entry)}
	case "bootout":
		if !loaded {
			return failure("bootout", 3)
		}
		delete(f.loaded, target)
		if f.Linger > 0 {
			f.lingers[target] = f.Linger
		}
		return launchd.Result{}
	case "kickstart":
		if !loaded {
			return launchd.Result{ExitCode: 113, Stderr: "Could not find service \"" + label(target) + "\" in domain for port\n"}
		}
		return launchd.Result{}
	}
	return usage(op)
}

func label(target string) string {
	return target[strings.LastIndex(target, "/")+1:]
}

// printOutput imitates `launchctl print` for a loaded, waiting service.
func printOutput(target string, entry loadedJob) string {
	job := entry.job
	var b strings.Builder
	fmt.Fprintf(&b, "%s = {\n\tactive count = 0\n", target)
	if entry.path != "" {
		fmt.Fprintf(&b, "\tpath = %s\n", entry.path)
	}
	b.WriteString("\tstate = waiting\n\n")
	prog := job.Program
	if prog == "" && len(job.ProgramArguments) > 0 {
		prog = job.ProgramArguments[0]
	}
	fmt.Fprintf(&b, "\tprogram = %s\n\targuments = {\n", prog)
	for _, a := range job.ProgramArguments {
		fmt.Fprintf(&b, "\t\t%s\n", a)
	}
	b.WriteString("\t}\n\n\tlast exit code = (never exited)\n\n\tendpoints = {\n")
	names := make([]string, 0, len(job.MachServices))
	for n := range job.MachServices {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		fmt.Fprintf(&b, "\t\t%q = {\n\t\t\tport = 0x%x\n\t\t\tactive = 0\n\t\t\tmanaged = 1\n\t\t}\n", n, 0x1003+i*0x100)
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// messages are launchctl's texts for the codes the fake produces.
var messages = map[int]string{
	3:   "No such process",
	5:   "Input/output error",
	37:  "Operation already in progress",
	113: "Could not find specified service",
	119: "Service is disabled",
	125: "Domain does not support specified action",
}

func failure(op string, code int) launchd.Result {
	name := op
	switch op {
	case "bootstrap":
		name = "Bootstrap"
	case "bootout":
		name = "Boot-out"
	default:
		if op != "" {
			name = strings.ToUpper(op[:1]) + op[1:]
		}
	}
	msg, ok := messages[code]
	if !ok {
		msg = "Unknown error"
	}
	return launchd.Result{ExitCode: code, Stderr: fmt.Sprintf("%s failed: %d: %s\n", name, code, msg)}
}

func usage(why string) launchd.Result {
	return launchd.Result{ExitCode: 64, Stderr: "Usage: launchctl " + why + "\n"}
}
