package launchd_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/launchd")

const goldenDir = "../testdata/launchd"

// goldenValues are the structs behind each golden file. Their keys and value
// types follow launchd.plist(5) and xpcservice.plist(5).
func goldenValues() map[string]any {
	return map[string]any{
		// A per-user XPC agent: what xpcecho install writes.
		"agent.plist": &launchd.Job{
			Label:             "com.example.echo",
			ProgramArguments:  []string{"/Users/me/bin/echo", "serve", "--service", "com.example.echo"},
			MachServices:      map[string]launchd.MachService{"com.example.echo": {}},
			StandardOutPath:   "/Users/me/Library/Logs/com.example.echo.log",
			StandardErrorPath: "/Users/me/Library/Logs/com.example.echo.log",
			ProcessType:       launchd.ProcessAdaptive,
		},
		// A daemon using every modelled key.
		"daemon.plist": daemonJob(),
		// The same daemon as a binary plist.
		"daemon.bplist": daemonJob(),
		// An XPC service bundle's Info.plist.
		"xpcservice-info.plist": func() *launchd.BundleInfo {
			b := launchd.NewXPCServiceInfo("com.example.app.helper", "helper")
			b.XPCService.JoinExistingSession = true
			b.XPCService.EnvironmentVariables = map[string]string{"HELPER_LOG": "debug"}
			b.LSMinimumSystemVersion = "13.0"
			return b
		}(),
		// A system extension serving XPC on both documented keys.
		"sysext-info.plist": &launchd.BundleInfo{
			CFBundleIdentifier:                "com.example.app.extension",
			CFBundleExecutable:                "com.example.app.extension",
			CFBundlePackageType:               "SYSX",
			CFBundleInfoDictionaryVersion:     "6.0",
			CFBundleVersion:                   "1",
			CFBundleShortVersionString:        "1.0",
			NSEndpointSecurityMachServiceName: "ABCDE12345.com.example.app.extension.es",
			NetworkExtension: &launchd.NetworkExtension{
				NEMachServiceName: "group.com.example.app.ne",
				NEProviderClasses: map[string]string{"com.apple.networkextension.filter-data": "FilterDataProvider"},
			},
		},
	}
}

func daemonJob() *launchd.Job {
	return &launchd.Job{
		Label:                "com.example.echod",
		Program:              "/Library/PrivilegedHelperTools/com.example.echod",
		ProgramArguments:     []string{"com.example.echod", "serve"},
		UserName:             "_echod",
		GroupName:            "_echod",
		WorkingDirectory:     "/var/empty",
		EnvironmentVariables: map[string]string{"ECHOD_LOG": "info"},
		MachServices: map[string]launchd.MachService{
			"com.example.echod":        {},
			"com.example.echod.legacy": {ResetAtClose: true},
		},
		Sockets: map[string]launchd.SocketGroup{
			"Listeners": {{SockPathName: "/var/run/com.example.echod.sock", SockPathMode: 438}},
			"Web": {
				{SockServiceName: "8080", SockFamily: "IPv4", SockType: "stream"},
				{SockServiceName: "8080", SockFamily: "IPv6", SockType: "stream"},
			},
		},
		RunAtLoad: true,
		KeepAlive: &launchd.KeepAlive{
			SuccessfulExit:  launchd.Bool(false),
			Crashed:         launchd.Bool(true),
			PathState:       map[string]bool{"/var/db/com.example.echod.enabled": true},
			OtherJobEnabled: map[string]bool{"com.example.other": true},
		},
		ThrottleInterval:            30,
		StandardOutPath:             "/Library/Logs/com.example.echod.log",
		StandardErrorPath:           "/Library/Logs/com.example.echod.log",
		ProcessType:                 launchd.ProcessInteractive,
		AbandonProcessGroup:         true,
		LimitLoadToSessionType:      launchd.StringList{"System"},
		AssociatedBundleIdentifiers: launchd.StringList{"com.example.app", "com.example.app.helper"},
		SpawnConstraint: map[string]any{
			"team-identifier":    "ABCDE12345",
			"signing-identifier": "com.example.echod",
		},
	}
}

func encodeGolden(t *testing.T, name string, v any) []byte {
	t.Helper()
	var data []byte
	var err error
	if filepath.Ext(name) == ".bplist" {
		data, err = launchd.MarshalBinary(v)
	} else {
		data, err = launchd.Marshal(v)
	}
	require.NoError(t, err)
	return data
}

func TestGoldenFiles(t *testing.T) {
	for name, v := range goldenValues() {
		t.Run(name, func(t *testing.T) {
			got := encodeGolden(t, name, v)
			path := filepath.Join(goldenDir, name)
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "encoding differs from %s (go test -update rewrites it)", path)

			// Decoding the golden file gives back the struct.
			back := newLike(v)
			require.NoError(t, launchd.Unmarshal(want, back))
			if diff := cmp.Diff(v, back); diff != "" {
				t.Errorf("decode(%s) mismatch (-want +got):\n%s", name, diff)
			}
		})
	}
}

func newLike(v any) any {
	switch v.(type) {
	case *launchd.Job:
		return new(launchd.Job)
	case *launchd.BundleInfo:
		return new(launchd.BundleInfo)
	}
	panic("unexpected golden type")
}

// TestGoldenThirdParty reads every golden file with Python's plistlib, an
// independent implementation, and compares its view with ours.
func TestGoldenThirdParty(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	values := goldenValues()
	args := []string{"-c", pyDump}
	for name := range values {
		args = append(args, filepath.Join(goldenDir, name))
	}
	out, err := exec.Command(py, args...).Output()
	require.NoError(t, err)
	var theirs map[string]map[string]any
	require.NoError(t, json.Unmarshal(out, &theirs))

	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			// Our view: encode, decode generically, normalise through JSON.
			var ours map[string]any
			require.NoError(t, launchd.Unmarshal(encodeGolden(t, name, v), &ours))
			js, err := json.Marshal(ours)
			require.NoError(t, err)
			var oursJSON map[string]any
			require.NoError(t, json.NewDecoder(bytes.NewReader(js)).Decode(&oursJSON))
			if diff := cmp.Diff(theirs[filepath.Join(goldenDir, name)], oursJSON); diff != "" {
				t.Errorf("plistlib reads %s differently (-plistlib +ours):\n%s", name, diff)
			}
		})
	}
}

const pyDump = `
import json, plistlib, sys
out = {}
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        out[name] = plistlib.load(f)
print(json.dumps(out))
`

// TestAppleStyleFile decodes a plist laid out the way Apple's tools write
// them, with keys this package does not model, and checks that a round trip
// keeps every key.
func TestAppleStyleFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(goldenDir, "apple-style.plist"))
	require.NoError(t, err)
	job, err := launchd.ParseJob(data)
	require.NoError(t, err)

	assert.Equal(t, "com.example.watcher", job.Label)
	assert.Equal(t, []string{"/usr/local/libexec/watcher", "--verbose"}, job.ProgramArguments)
	assert.Equal(t, map[string]launchd.MachService{
		"com.example.watcher":       {},
		"com.example.watcher.debug": {HideUntilCheckIn: true},
	}, job.MachServices)
	assert.Equal(t, &launchd.KeepAlive{Always: true}, job.KeepAlive)
	assert.Equal(t, launchd.StringList{"Aqua"}, job.LimitLoadToSessionType)
	assert.Equal(t, launchd.StringList{"com.example.app"}, job.AssociatedBundleIdentifiers)
	require.Contains(t, job.Extra, "LaunchEvents")
	require.Contains(t, job.Extra, "EnableTransactions")
	require.Contains(t, job.Extra, "StartInterval")
	assert.Equal(t, true, job.Extra["EnableTransactions"])
	assert.EqualValues(t, 3600, job.Extra["StartInterval"])

	var before map[string]any
	require.NoError(t, launchd.Unmarshal(data, &before))
	for _, enc := range []func(any) ([]byte, error){launchd.Marshal, launchd.MarshalBinary} {
		out, err := enc(job)
		require.NoError(t, err)
		var after map[string]any
		require.NoError(t, launchd.Unmarshal(out, &after))
		// The one documented normalisation: a one-element StringList is
		// written as a string.
		assert.Equal(t, "com.example.app", after["AssociatedBundleIdentifiers"])
		after["AssociatedBundleIdentifiers"] = []any{"com.example.app"}
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("round trip changed the plist (-before +after):\n%s", diff)
		}
	}
}
