//go:build !darwin || !cgo

package codesign

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecurityUnsupported(t *testing.T) {
	var tok AuditToken
	calls := map[string]error{
		"InfoForPID":        second(InfoForPID(1)),
		"InfoForAuditToken": second(InfoForAuditToken(tok)),
		"CheckPath":         CheckPath("/bin/ls", "anchor apple"),
		"CheckPID":          CheckPID(1, "anchor apple"),
		"CheckAuditToken":   CheckAuditToken(tok, "anchor apple"),
		"infoForXPCMessage": second(infoForXPCMessage(nil)),
		"checkXPCMessage":   checkXPCMessage(nil, "anchor apple"),
	}
	for name, err := range calls {
		assert.ErrorIs(t, err, errors.ErrUnsupported, name)
		assert.ErrorContains(t, err, "macOS", name)
	}
}

// Without Security.framework, InfoForPath is the pure-Go reader.
func TestInfoForPathPureGo(t *testing.T) {
	info, err := InfoForPath("../testdata/codesign/hello-arm64-linker")
	require.NoError(t, err)
	assert.Equal(t, "a.out", info.Identifier)
	assert.True(t, info.Adhoc())
	assert.Equal(t, FlagAdhoc|FlagLinkerSigned, info.Flags)
	// testdata/codesign/facts.json, cdhash truncated to 20 bytes.
	assert.Equal(t, "832182bd97ff983cc0d383426d4653d157cb2e4f", hex.EncodeToString(info.CDHash))
	assert.Equal(t, "Mach-O thin (arm64)", info.Format)

	_, err = InfoForPath(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	script := filepath.Join(t.TempDir(), "script.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755))
	_, err = InfoForPath(script)
	assert.Error(t, err)
}

func second[T any](_ T, err error) error { return err }
