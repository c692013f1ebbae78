package launchd

// ExecRunner is the real [Runner]: it runs launchctl with os/exec. It works
// only on macOS; elsewhere Run returns an error wrapping
// errors.ErrUnsupported.
type ExecRunner struct {
	// Path is the launchctl binary; empty means /bin/launchctl.
	Path string
}

func (r ExecRunner) path() string {
	if r.Path != "" {
		return r.Path
	}
	return "/bin/launchctl"
}
