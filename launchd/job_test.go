package launchd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/launchd"
)

func plistDoc(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>Label</key><string>l</string>` + body + `</dict></plist>`)
}

func TestUnionDecoding(t *testing.T) {
	tests := []struct {
		name string
		body string
		want launchd.Job
	}{
		{"MachServices true", `<key>MachServices</key><dict><key>a.b</key><true/></dict>`,
			launchd.Job{MachServices: map[string]launchd.MachService{"a.b": {}}}},
		{"MachServices false", `<key>MachServices</key><dict><key>a.b</key><false/></dict>`,
			launchd.Job{MachServices: map[string]launchd.MachService{"a.b": {Off: true}}}},
		{"MachServices dict", `<key>MachServices</key><dict><key>a.b</key><dict><key>ResetAtClose</key><true/><key>HideUntilCheckIn</key><true/></dict></dict>`,
			launchd.Job{MachServices: map[string]launchd.MachService{"a.b": {ResetAtClose: true, HideUntilCheckIn: true}}}},
		{"KeepAlive true", `<key>KeepAlive</key><true/>`,
			launchd.Job{KeepAlive: &launchd.KeepAlive{Always: true}}},
		{"KeepAlive false", `<key>KeepAlive</key><false/>`,
			launchd.Job{KeepAlive: &launchd.KeepAlive{}}},
		{"KeepAlive dict", `<key>KeepAlive</key><dict><key>SuccessfulExit</key><false/><key>OtherJobEnabled</key><dict><key>x</key><false/></dict></dict>`,
			launchd.Job{KeepAlive: &launchd.KeepAlive{SuccessfulExit: launchd.Bool(false), OtherJobEnabled: map[string]bool{"x": false}}}},
		{"StringList string", `<key>LimitLoadToSessionType</key><string>Aqua</string>`,
			launchd.Job{LimitLoadToSessionType: launchd.StringList{"Aqua"}}},
		{"StringList array", `<key>AssociatedBundleIdentifiers</key><array><string>a</string><string>b</string></array>`,
			launchd.Job{AssociatedBundleIdentifiers: launchd.StringList{"a", "b"}}},
		{"Sockets dict", `<key>Sockets</key><dict><key>L</key><dict><key>SockPathName</key><string>/s</string><key>SockPathOwner</key><integer>0</integer></dict></dict>`,
			launchd.Job{Sockets: map[string]launchd.SocketGroup{"L": {{SockPathName: "/s", SockPathOwner: new(int)}}}}},
		{"Sockets array", `<key>Sockets</key><dict><key>L</key><array><dict><key>SockServiceName</key><string>80</string></dict><dict><key>SockPassive</key><false/></dict></array></dict>`,
			launchd.Job{Sockets: map[string]launchd.SocketGroup{"L": {{SockServiceName: "80"}, {SockPassive: launchd.Bool(false)}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := launchd.ParseJob(plistDoc(tt.body))
			require.NoError(t, err)
			tt.want.Label = "l"
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Fatalf("decode mismatch (-want +got):\n%s", diff)
			}
			// Encoding and decoding again, in both formats, changes nothing.
			for _, enc := range []func(any) ([]byte, error){launchd.Marshal, launchd.MarshalBinary} {
				data, err := enc(got)
				require.NoError(t, err)
				again, err := launchd.ParseJob(data)
				require.NoError(t, err)
				if diff := cmp.Diff(got, again); diff != "" {
					t.Errorf("round trip mismatch (-first +second):\n%s", diff)
				}
			}
		})
	}
}

func TestUnionEncoding(t *testing.T) {
	tests := []struct {
		name string
		job  launchd.Job
		want string // must appear in the XML
	}{
		{"MachService zero is true", launchd.Job{MachServices: map[string]launchd.MachService{"a.b": {}}},
			"<key>a.b</key>\n\t\t\t<true/>"},
		{"MachService Off is false", launchd.Job{MachServices: map[string]launchd.MachService{"a.b": {Off: true}}},
			"<key>a.b</key>\n\t\t\t<false/>"},
		{"KeepAlive Always is true", launchd.Job{KeepAlive: &launchd.KeepAlive{Always: true}},
			"<key>KeepAlive</key>\n\t\t<true/>"},
		{"KeepAlive conditions are a dict", launchd.Job{KeepAlive: &launchd.KeepAlive{Always: true, Crashed: launchd.Bool(true)}},
			"<key>KeepAlive</key>\n\t\t<dict>\n\t\t\t<key>Crashed</key>\n\t\t\t<true/>\n\t\t</dict>"},
		{"one session type is a string", launchd.Job{LimitLoadToSessionType: launchd.StringList{"Aqua"}},
			"<key>LimitLoadToSessionType</key>\n\t\t<string>Aqua</string>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.job.Label = "l"
			data, err := launchd.Marshal(&tt.job)
			require.NoError(t, err)
			assert.Contains(t, string(data), tt.want)
		})
	}
}

func TestExtraDoesNotOverrideFields(t *testing.T) {
	j := &launchd.Job{Label: "real", Program: "/bin/true", Extra: map[string]any{"Label": "fake", "Nice": int64(5)}}
	data, err := launchd.Marshal(j)
	require.NoError(t, err)
	back, err := launchd.ParseJob(data)
	require.NoError(t, err)
	assert.Equal(t, "real", back.Label)
	assert.Equal(t, map[string]any{"Nice": uint64(5)}, back.Extra)
}

func TestDecodeErrors(t *testing.T) {
	t.Run("type mismatch names the key", func(t *testing.T) {
		_, err := launchd.ParseJob(plistDoc(`<key>RunAtLoad</key><string>yes</string>`))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "key RunAtLoad")
	})
	t.Run("bad union names the key", func(t *testing.T) {
		_, err := launchd.ParseJob(plistDoc(`<key>KeepAlive</key><integer>1</integer>`))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "key KeepAlive")
	})
	t.Run("root is not a dictionary", func(t *testing.T) {
		_, err := launchd.ParseJob([]byte(`<plist version="1.0"><array/></plist>`))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "want a dictionary")
		assert.NotContains(t, err.Error(), "key Label")
	})
	t.Run("text plist", func(t *testing.T) {
		_, err := launchd.ParseJob([]byte(`{ Label = x; Program = "/bin/true"; }`))
		assert.ErrorIs(t, err, launchd.ErrFormat)
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := launchd.ParseJob([]byte("<not a plist"))
		assert.Error(t, err)
	})
	t.Run("truncated binary", func(t *testing.T) {
		data, err := launchd.MarshalBinary(&launchd.Job{Label: "x", Program: "/bin/true"})
		require.NoError(t, err)
		for n := 0; n < len(data); n++ {
			_, err := launchd.ParseJob(data[:n])
			assert.Error(t, err, "prefix of %d bytes", n)
		}
	})
	t.Run("too large", func(t *testing.T) {
		big := plistDoc(`<key>X</key><string>` + strings.Repeat("a", launchd.MaxPlistSize) + `</string>`)
		_, err := launchd.ParseJob(big)
		assert.True(t, errors.Is(err, launchd.ErrTooLarge), "got %v", err)
	})
}

func TestReadJob(t *testing.T) {
	j, err := launchd.ReadJob(goldenDir + "/daemon.bplist")
	require.NoError(t, err)
	assert.Equal(t, daemonJob(), j)
	_, err = launchd.ReadJob(goldenDir + "/missing.plist")
	assert.Error(t, err)
}
