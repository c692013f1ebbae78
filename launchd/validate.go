package launchd

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidJob is matched (errors.Is) by every [ValidationError].
var ErrInvalidJob = errors.New("launchd: invalid job")

// ValidationError lists what makes a job unusable: launchd would refuse to
// load it or could not run it.
type ValidationError struct {
	// Label is the job's label (may be empty: that is one of the problems).
	Label string
	// Problems are the individual findings, one sentence each.
	Problems []string
}

// Error implements error.
func (e *ValidationError) Error() string {
	return fmt.Sprintf("launchd: invalid job %q: %s", e.Label, strings.Join(e.Problems, "; "))
}

// Is makes errors.Is(err, ErrInvalidJob) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidJob }

// maxMachServiceName is the longest Mach service name bootstrap accepts:
// name_t is 128 bytes including the terminating NUL (<servers/bootstrap.h>).
const maxMachServiceName = 127

// Validate checks the job on its own, whatever domain it goes to. The error,
// a *[ValidationError], lists what launchd would reject; warnings are legal
// settings that are probably mistakes, such as Mach service options that do
// not work with XPC.
func (j *Job) Validate() (warnings []string, err error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }

	switch {
	case j.Label == "":
		bad("Label is empty")
	case strings.Contains(j.Label, "/"):
		bad("Label %q contains '/', which launchctl reads as a domain separator", j.Label)
	case !printable(j.Label):
		bad("Label %q contains control characters or invalid UTF-8", j.Label)
	case strings.ContainsFunc(j.Label, unicode.IsSpace):
		warn("Label %q contains spaces: quote it in every launchctl command", j.Label)
	}
	if strings.HasPrefix(j.Label, "com.apple.") {
		warn("Label %q uses Apple's com.apple. prefix", j.Label)
	}

	if j.Disabled {
		warn("Disabled is true: launchd loads the job only after `launchctl enable`, which Launchctl.Install runs")
	}

	switch {
	case j.Program == "" && len(j.ProgramArguments) == 0 && j.BundleProgram == "":
		bad("no Program, ProgramArguments or BundleProgram: launchd has nothing to run")
	case j.Program != "" && !path.IsAbs(j.Program):
		bad("Program %q is not an absolute path", j.Program)
	case j.Program == "" && j.BundleProgram == "" && j.ProgramArguments[0] == "":
		bad("ProgramArguments[0] is empty and there is no Program: launchd has nothing to run")
	case j.Program == "" && j.BundleProgram == "" && !path.IsAbs(j.ProgramArguments[0]):
		warn("ProgramArguments[0] %q is not absolute: launchd looks it up only in its default PATH (/usr/bin:/bin:/usr/sbin:/sbin)", j.ProgramArguments[0])
	}
	if j.BundleProgram != "" && path.IsAbs(j.BundleProgram) {
		bad("BundleProgram %q must be relative to the app bundle", j.BundleProgram)
	}

	for _, name := range sortedKeys(j.MachServices) {
		if err := checkMachServiceName(name); err != nil {
			bad("MachServices: %v", err)
			continue
		}
		if !strings.Contains(name, ".") {
			warn("MachServices name %q is not reverse-DNS (com.example.name): names share one namespace per domain", name)
		}
		ms := j.MachServices[name]
		if ms.ResetAtClose {
			warn("MachServices %q sets ResetAtClose, which does not work with XPC (XPC reports server death itself)", name)
		}
		if ms.HideUntilCheckIn {
			warn("MachServices %q sets HideUntilCheckIn, which does not work with XPC (XPC needs the name always present)", name)
		}
		if ms.Off {
			warn("MachServices %q is false: launchd does not advertise it", name)
		}
	}

	if j.KeepAlive != nil {
		for _, p := range sortedKeys(j.KeepAlive.PathState) {
			if !path.IsAbs(p) {
				bad("KeepAlive PathState %q is not an absolute path", p)
			}
		}
		if j.KeepAlive.Always && len(j.MachServices) > 0 {
			warn("KeepAlive true with MachServices: the service runs all the time instead of on demand")
		}
	}

	for key, p := range map[string]string{
		"WorkingDirectory":  j.WorkingDirectory,
		"StandardInPath":    j.StandardInPath,
		"StandardOutPath":   j.StandardOutPath,
		"StandardErrorPath": j.StandardErrorPath,
	} {
		if p != "" && !path.IsAbs(p) {
			bad("%s %q is not an absolute path", key, p)
		}
	}

	switch j.ProcessType {
	case "", ProcessBackground, ProcessStandard, ProcessAdaptive, ProcessInteractive:
	default:
		bad("ProcessType %q is not Background, Standard, Adaptive or Interactive", j.ProcessType)
	}
	for _, s := range j.LimitLoadToSessionType {
		switch s {
		case "Aqua", "Background", "LoginWindow", "StandardIO", "System":
		default:
			warn("LimitLoadToSessionType %q is not one launchd documents (Aqua, Background, LoginWindow, StandardIO, System)", s)
		}
	}
	if j.ThrottleInterval < 0 {
		bad("ThrottleInterval %d is negative", j.ThrottleInterval)
	}
	for _, name := range sortedKeys(j.EnvironmentVariables) {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			bad("EnvironmentVariables name %q is empty or contains '=' or NUL", name)
		}
	}

	for _, key := range sortedKeys(j.Extra) {
		if why, ok := ignoredKeys[key]; ok {
			warn("%s is ignored by launchd: %s", key, why)
		}
	}

	sort.Strings(problems)
	if len(problems) > 0 {
		return warnings, &ValidationError{Label: j.Label, Problems: problems}
	}
	return warnings, nil
}

// ignoredKeys are launchd.plist(5) keys that current launchd no longer acts
// on, with what to use instead.
var ignoredKeys = map[string]string{
	// launchd.plist(5): deprecated and replaced by KeepAlive in 10.5.
	"OnDemand": "it was replaced by KeepAlive in Mac OS X 10.5",
}

// ValidateFor is [Job.Validate] plus the checks that depend on where the
// job is installed: UserName and GroupName only take effect for daemons in
// the system domain.
func (j *Job) ValidateFor(d Domain) (warnings []string, err error) {
	warnings, err = j.Validate()
	if !d.IsSystem() {
		if j.UserName != "" {
			warnings = append(warnings, fmt.Sprintf("UserName %q is ignored in %s: only daemons (system domain) can run as another user", j.UserName, d))
		}
		if j.GroupName != "" {
			warnings = append(warnings, fmt.Sprintf("GroupName %q is ignored in %s: only daemons (system domain) can run as another group", j.GroupName, d))
		}
	}
	return warnings, err
}

// checkMachServiceName reports whether name can be registered with the
// bootstrap server and typed on a command line.
func checkMachServiceName(name string) error {
	switch {
	case name == "":
		return errors.New("empty service name")
	case len(name) > maxMachServiceName:
		return fmt.Errorf("service name %q is %d bytes, longer than bootstrap's %d", name, len(name), maxMachServiceName)
	case !printable(name) || strings.ContainsFunc(name, unicode.IsSpace):
		return fmt.Errorf("service name %q contains spaces, control characters or invalid UTF-8", name)
	}
	return nil
}

func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
