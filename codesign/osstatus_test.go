package codesign

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOSStatusErrorIs(t *testing.T) {
	sentinels := []error{ErrRequirementNotMet, ErrNotSigned, ErrInvalidRequirement, ErrSignatureInvalid, ErrNoSuchCode}
	for _, tc := range []struct {
		status int32
		want   error // nil: matches no sentinel
	}{
		{errSecCSReqFailed, ErrRequirementNotMet},
		{errSecCSUnsigned, ErrNotSigned},
		{errSecCSReqInvalid, ErrInvalidRequirement},
		{errSecCSReqUnsupported, ErrInvalidRequirement},
		{errSecCSSignatureFailed, ErrSignatureInvalid},
		{errSecCSStaticCodeChanged, ErrSignatureInvalid},
		{errSecCSNoSuchCode, ErrNoSuchCode},
		{errSecCSBadObjectFormat, nil},
		{-1, nil},
	} {
		err := fmt.Errorf("wrapped: %w", &OSStatusError{Func: "SecX", Status: tc.status})
		for _, s := range sentinels {
			assert.Equal(t, s == tc.want, errors.Is(err, s), "status %d vs %v", tc.status, s)
		}
		var se *OSStatusError
		assert.True(t, errors.As(err, &se))
		assert.Equal(t, tc.status, se.Status)
	}
}

func TestOSStatusErrorMessage(t *testing.T) {
	err := &OSStatusError{Func: "SecStaticCodeCheckValidityWithErrors", Status: errSecCSReqFailed, Message: "failed to satisfy requirement"}
	assert.Equal(t, "codesign: SecStaticCodeCheckValidityWithErrors: OSStatus -67050 (errSecCSReqFailed): failed to satisfy requirement", err.Error())
	err = &OSStatusError{Func: "SecCodeCopyGuestWithAttributes", Status: -12345}
	assert.Equal(t, "codesign: SecCodeCopyGuestWithAttributes: OSStatus -12345", err.Error())
}

func TestAuditTokenFields(t *testing.T) {
	tok := AuditToken{501, 502, 20, 503, 21, 4242, 100007, 9}
	assert.Equal(t, uint32(501), tok.AUID())
	assert.Equal(t, uint32(502), tok.EUID())
	assert.Equal(t, uint32(20), tok.EGID())
	assert.Equal(t, uint32(503), tok.RUID())
	assert.Equal(t, uint32(21), tok.RGID())
	assert.Equal(t, 4242, tok.PID())
	assert.Equal(t, uint32(100007), tok.ASID())
	assert.Equal(t, uint32(9), tok.PIDVersion())
}
