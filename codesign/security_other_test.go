//go:build !darwin || !cgo

package codesign

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSecurityUnsupported(t *testing.T) {
	var tok AuditToken
	calls := map[string]error{
		"InfoForPath":       second(InfoForPath("/bin/ls")),
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

func second[T any](_ T, err error) error { return err }
