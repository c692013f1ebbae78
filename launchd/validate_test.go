package launchd_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
)

func validJob() launchd.Job {
	return launchd.Job{
		Label:            "com.example.echo",
		ProgramArguments: []string{"/usr/local/bin/echo", "serve"},
		MachServices:     map[string]launchd.MachService{"com.example.echo": {}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(j *launchd.Job)
		problem string // "" means valid
		warning string // must appear among the warnings, if set
	}{
		{"valid", func(j *launchd.Job) {}, "", ""},
		{"empty label", func(j *launchd.Job) { j.Label = "" }, "Label is empty", ""},
		{"slash in label", func(j *launchd.Job) { j.Label = "gui/501/x" }, "contains '/'", ""},
		{"control char in label", func(j *launchd.Job) { j.Label = "a\nb" }, "control characters", ""},
		{"space in label", func(j *launchd.Job) { j.Label = "my job" }, "", "contains spaces"},
		{"apple prefix", func(j *launchd.Job) { j.Label = "com.apple.mine" }, "", "com.apple."},
		{"nothing to run", func(j *launchd.Job) { j.ProgramArguments = nil }, "nothing to run", ""},
		{"relative Program", func(j *launchd.Job) { j.Program = "bin/echo" }, "not an absolute path", ""},
		{"relative argv0", func(j *launchd.Job) { j.ProgramArguments[0] = "echo" }, "", "default PATH"},
		{"BundleProgram alone", func(j *launchd.Job) { j.ProgramArguments = nil; j.BundleProgram = "Contents/MacOS/helper" }, "", ""},
		{"absolute BundleProgram", func(j *launchd.Job) { j.BundleProgram = "/Applications/X.app/Contents/MacOS/h" }, "relative to the app bundle", ""},
		{"empty Mach name", func(j *launchd.Job) { j.MachServices[""] = launchd.MachService{} }, "empty service name", ""},
		{"long Mach name", func(j *launchd.Job) { j.MachServices["com."+strings.Repeat("x", 124)] = launchd.MachService{} }, "longer than bootstrap's 127", ""},
		{"127-byte Mach name", func(j *launchd.Job) { j.MachServices["com."+strings.Repeat("x", 123)] = launchd.MachService{} }, "", ""},
		{"space in Mach name", func(j *launchd.Job) { j.MachServices["com.example bad"] = launchd.MachService{} }, "contains spaces", ""},
		{"non reverse-DNS Mach name", func(j *launchd.Job) { j.MachServices["echo"] = launchd.MachService{} }, "", "not reverse-DNS"},
		{"ResetAtClose with XPC", func(j *launchd.Job) { j.MachServices["com.example.echo"] = launchd.MachService{ResetAtClose: true} }, "", "ResetAtClose"},
		{"HideUntilCheckIn with XPC", func(j *launchd.Job) { j.MachServices["com.example.echo"] = launchd.MachService{HideUntilCheckIn: true} }, "", "HideUntilCheckIn"},
		{"Mach service false", func(j *launchd.Job) { j.MachServices["com.example.echo"] = launchd.MachService{Off: true} }, "", "does not advertise"},
		{"KeepAlive with Mach service", func(j *launchd.Job) { j.KeepAlive = &launchd.KeepAlive{Always: true} }, "", "instead of on demand"},
		{"relative PathState", func(j *launchd.Job) { j.KeepAlive = &launchd.KeepAlive{PathState: map[string]bool{"tmp/x": true}} }, "PathState", ""},
		{"relative log path", func(j *launchd.Job) { j.StandardOutPath = "echo.log" }, "StandardOutPath", ""},
		{"bad ProcessType", func(j *launchd.Job) { j.ProcessType = "Fast" }, "ProcessType", ""},
		{"odd session type", func(j *launchd.Job) { j.LimitLoadToSessionType = launchd.StringList{"Desktop"} }, "", "LimitLoadToSessionType"},
		{"negative throttle", func(j *launchd.Job) { j.ThrottleInterval = -1 }, "ThrottleInterval", ""},
		{"disabled", func(j *launchd.Job) { j.Disabled = true }, "", "launchctl enable"},
		{"bad env name", func(j *launchd.Job) { j.EnvironmentVariables = map[string]string{"A=B": "c"} }, "EnvironmentVariables", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob()
			tt.edit(&j)
			warnings, err := j.Validate()
			if tt.problem == "" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, launchd.ErrInvalidJob)
				var ve *launchd.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Contains(t, strings.Join(ve.Problems, "\n"), tt.problem)
			}
			if tt.warning != "" {
				assert.Contains(t, strings.Join(warnings, "\n"), tt.warning)
			}
		})
	}
}

func TestValidateFor(t *testing.T) {
	j := validJob()
	j.UserName, j.GroupName = "_echo", "_echo"

	warnings, err := j.ValidateFor(launchd.GUI(501))
	require.NoError(t, err)
	assert.Len(t, warnings, 2)
	assert.Contains(t, warnings[0], "only daemons")

	warnings, err = j.ValidateFor(launchd.System)
	require.NoError(t, err)
	assert.Empty(t, warnings)
}

func TestBundleInfoValidate(t *testing.T) {
	ok := launchd.NewXPCServiceInfo("com.example.app.helper", "helper")
	warnings, err := ok.Validate()
	require.NoError(t, err)
	assert.Empty(t, warnings)

	bad := launchd.NewXPCServiceInfo("", "Contents/MacOS/helper")
	bad.CFBundlePackageType = "APPL"
	bad.XPCService.ServiceType = "Global"
	bad.XPCService.RunLoopType = "CFRunLoop"
	bad.NSEndpointSecurityMachServiceName = "bad name"
	warnings, err = bad.Validate()
	var ve *launchd.ValidationError
	require.ErrorAs(t, err, &ve)
	all := strings.Join(ve.Problems, "\n")
	for _, want := range []string{"CFBundleIdentifier is empty", "CFBundleExecutable", "XPC!", "ServiceType", "NSEndpointSecurityMachServiceName"} {
		assert.Contains(t, all, want)
	}
	assert.Contains(t, strings.Join(warnings, "\n"), "RunLoopType")

	none := &launchd.BundleInfo{CFBundleIdentifier: "com.example.x", CFBundleExecutable: "x", CFBundlePackageType: "APPL"}
	warnings, err = none.Validate()
	require.NoError(t, err)
	assert.Contains(t, strings.Join(warnings, "\n"), "offers no XPC service")
}

func TestParseBundleInfoKeepsExtra(t *testing.T) {
	data := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<plist version="1.0"><dict>
<key>CFBundleIdentifier</key><string>com.example.svc</string>
<key>CFBundleExecutable</key><string>svc</string>
<key>CFBundlePackageType</key><string>XPC!</string>
<key>NSHumanReadableCopyright</key><string>(c) Example</string>
<key>XPCService</key><dict>
  <key>ServiceType</key><string>Application</string>
  <key>_MultipleInstances</key><true/>
</dict>
</dict></plist>`)
	b, err := launchd.ParseBundleInfo(data)
	require.NoError(t, err)
	assert.Equal(t, launchd.ServiceApplication, b.XPCService.ServiceType)
	assert.Equal(t, map[string]any{"_MultipleInstances": true}, b.XPCService.Extra)
	assert.Equal(t, map[string]any{"NSHumanReadableCopyright": "(c) Example"}, b.Extra)

	out, err := launchd.Marshal(b)
	require.NoError(t, err)
	assert.Contains(t, string(out), "<key>_MultipleInstances</key>")
	assert.Contains(t, string(out), "<key>NSHumanReadableCopyright</key>")
}
