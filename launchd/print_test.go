package launchd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
)

func readPrint(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, name))
	require.NoError(t, err)
	return string(data)
}

func TestParsePrintRunning(t *testing.T) {
	st := launchd.ParsePrint(readPrint(t, "print-running.txt"))
	assert.Equal(t, &launchd.ServiceStatus{
		Target:       "gui/501/com.github.goxpc.xpcecho",
		State:        "running",
		PID:          4242,
		Path:         "/Users/me/Library/LaunchAgents/com.github.goxpc.xpcecho.plist",
		Program:      "/Users/me/bin/xpcecho",
		Arguments:    []string{"/Users/me/bin/xpcecho", "serve", "--service", "com.github.goxpc.xpcecho"},
		LastExit:     "(never exited)",
		LastExitCode: -1,
		Endpoints:    []launchd.Endpoint{{Name: "com.github.goxpc.xpcecho", Port: "0x4b13", Active: true}},
	}, st)
	assert.True(t, st.Running())
}

func TestParsePrintExited(t *testing.T) {
	st := launchd.ParsePrint(readPrint(t, "print-exited.txt"))
	assert.Equal(t, "system/com.example.echod", st.Target)
	assert.Equal(t, "not running", st.State)
	assert.False(t, st.Running())
	assert.Equal(t, "78: EX_CONFIG", st.LastExit)
	assert.Equal(t, 78, st.LastExitCode)
	assert.Equal(t, []launchd.Endpoint{
		{Name: "com.example.echod", Port: "0x2a03"},
		{Name: "com.example.echod.legacy", Port: "0x2b03"},
	}, st.Endpoints)
	_, ok := st.Endpoint("com.example.missing")
	assert.False(t, ok)
}

func TestParsePrintTolerant(t *testing.T) {
	for _, in := range []string{"", "}\n}\n}", "x = {\n\tendpoints = {\n\t\t\"a\" = {\n\t\t\tactive = 1", "= {\n= {\n= {\n= {"} {
		st := launchd.ParsePrint(in)
		require.NotNil(t, st, "%q", in)
	}
	// Truncated in an endpoint: what was read is kept.
	st := launchd.ParsePrint("x = {\n\tendpoints = {\n\t\t\"a.b\" = {\n\t\t\tactive = 1")
	assert.Equal(t, []launchd.Endpoint{{Name: "a.b", Active: true}}, st.Endpoints)
	// Oversized input is cut, not rejected.
	st = launchd.ParsePrint("s = {\n\tpid = 7\n" + strings.Repeat("\tx = y\n", 300000))
	assert.Equal(t, 7, st.PID)
}
