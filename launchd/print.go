package launchd

import (
	"strconv"
	"strings"
)

// ServiceStatus is the part of `launchctl print <service-target>` that tells
// whether a service works: its state, process, last exit and Mach endpoints.
// launchctl's output is meant for people and changes between macOS
// releases, so fields it does not print stay zero.
type ServiceStatus struct {
	// Target is the service target, such as "gui/501/com.example.echo".
	Target string
	// State is "running", "waiting", "not running", "spawn scheduled", ...
	State string
	// PID is the running process, 0 when none.
	PID int
	// Path is the plist the service was loaded from.
	Path string
	// Program is the executable launchd runs.
	Program string
	// Arguments is the argv launchd passes.
	Arguments []string
	// LastExit is launchd's "last exit code" line as printed, such as
	// "0", "78: EX_CONFIG" or "(never exited)"; empty if absent.
	LastExit string
	// LastExitCode is the number LastExit starts with; -1 when the job
	// never exited or the line is absent.
	LastExitCode int
	// Endpoints are the Mach services the job advertises.
	Endpoints []Endpoint
}

// Endpoint is one Mach service endpoint of a loaded service.
type Endpoint struct {
	// Name is the Mach service name.
	Name string
	// Port is the Mach port name as launchctl prints it ("0x1234").
	Port string
	// Active is true while the job holds the receive right (checked in).
	Active bool
}

// maxPrintOutput bounds how much of launchctl's output ParsePrint reads.
const maxPrintOutput = 1 << 20

// ParsePrint extracts a [ServiceStatus] from the output of
// `launchctl print <domain>/<label>`. Unknown lines are ignored; it never
// fails, it only finds less.
func ParsePrint(out string) *ServiceStatus {
	if len(out) > maxPrintOutput {
		out = out[:maxPrintOutput]
	}
	st := &ServiceStatus{LastExitCode: -1}
	var stack []string // names of the open "x = {" blocks
	var ep *Endpoint
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if line == "}" {
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			if ep != nil && len(stack) < 3 {
				st.Endpoints = append(st.Endpoints, *ep)
				ep = nil
			}
			continue
		}
		key, value, hasEq := strings.Cut(line, " = ")
		if !hasEq && strings.HasSuffix(line, " ={") {
			key, value, hasEq = strings.TrimSuffix(line, " ={"), "{", true
		}
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		depth := len(stack)
		if hasEq && value == "{" {
			if depth == 0 && st.Target == "" {
				st.Target = key
			}
			if depth == 2 && stack[1] == "endpoints" {
				ep = &Endpoint{Name: strings.Trim(key, `"`)}
			}
			stack = append(stack, key)
			continue
		}
		switch {
		case depth == 1 && hasEq:
			st.setField(key, value)
		case depth == 2 && stack[1] == "arguments" && !hasEq:
			st.Arguments = append(st.Arguments, line)
		case depth == 3 && ep != nil && hasEq:
			switch key {
			case "port":
				ep.Port = value
			case "active":
				ep.Active = value == "1"
			}
		}
	}
	if ep != nil { // truncated output
		st.Endpoints = append(st.Endpoints, *ep)
	}
	return st
}

func (st *ServiceStatus) setField(key, value string) {
	switch key {
	case "state":
		st.State = value
	case "pid":
		if n, err := strconv.Atoi(value); err == nil && n > 0 {
			st.PID = n
		}
	case "path":
		st.Path = value
	case "program":
		st.Program = value
	case "last exit code", "last exit status":
		st.LastExit = value
		num, _, _ := strings.Cut(value, ":")
		if n, err := strconv.Atoi(strings.TrimSpace(num)); err == nil {
			st.LastExitCode = n
		}
	}
}

// Running reports whether the service has a process.
func (st *ServiceStatus) Running() bool { return st.PID > 0 }

// Endpoint returns the endpoint named name, if the job advertises it.
func (st *ServiceStatus) Endpoint(name string) (Endpoint, bool) {
	for _, e := range st.Endpoints {
		if e.Name == name {
			return e, true
		}
	}
	return Endpoint{}, false
}
