package codesign

import (
	"errors"
	"fmt"
)

// Sentinel errors for the outcomes callers branch on. Errors returned by the
// Security.framework binding are *OSStatusError values that match these with
// errors.Is, so a caller can tell "this code is not who you asked for" from
// "this code has no signature" from "your requirement text is wrong".
var (
	// ErrRequirementNotMet reports that the code is validly signed but does
	// not satisfy the given requirement (errSecCSReqFailed).
	ErrRequirementNotMet = errors.New("codesign: code does not satisfy the requirement")
	// ErrNotSigned reports that the code carries no signature at all
	// (errSecCSUnsigned).
	ErrNotSigned = errors.New("codesign: code is not signed")
	// ErrInvalidRequirement reports requirement text that does not compile
	// or a requirement the system cannot use (errSecCSReqInvalid,
	// errSecCSReqUnsupported).
	ErrInvalidRequirement = errors.New("codesign: invalid code requirement")
	// ErrSignatureInvalid reports a signature that exists but does not
	// verify: modified code, a broken seal, or code on disk that no longer
	// matches the running process.
	ErrSignatureInvalid = errors.New("codesign: invalid code signature")
	// ErrNoSuchCode reports that no running code matches a pid or audit
	// token, typically because the process has exited (errSecCSNoSuchCode).
	ErrNoSuchCode = errors.New("codesign: no running code matches")
)

// Code-signing OSStatus values from <Security/CSCommon.h> (macOS 13 SDK).
// Only the ones this package gives meaning to are listed.
const (
	errSecCSInvalidObjectRef   = -67071
	errSecCSStaticCodeNotFound = -67068
	errSecCSNoSuchCode         = -67065
	errSecCSGuestInvalid       = -67063
	errSecCSUnsigned           = -67062
	errSecCSSignatureFailed    = -67061
	errSecCSReqInvalid         = -67052
	errSecCSReqUnsupported     = -67051
	errSecCSReqFailed          = -67050
	errSecCSBadObjectFormat    = -67049
	errSecCSSignatureInvalid   = -67045
	errSecCSStaticCodeChanged  = -67034
	errSecCSInfoPlistFailed    = -67030
)

// osStatusNames gives the SDK name of each known status, for error messages
// that stay readable when Apple supplies no description.
var osStatusNames = map[int32]string{
	errSecCSInvalidObjectRef:   "errSecCSInvalidObjectRef",
	errSecCSStaticCodeNotFound: "errSecCSStaticCodeNotFound",
	errSecCSNoSuchCode:         "errSecCSNoSuchCode",
	errSecCSGuestInvalid:       "errSecCSGuestInvalid",
	errSecCSUnsigned:           "errSecCSUnsigned",
	errSecCSSignatureFailed:    "errSecCSSignatureFailed",
	errSecCSReqInvalid:         "errSecCSReqInvalid",
	errSecCSReqUnsupported:     "errSecCSReqUnsupported",
	errSecCSReqFailed:          "errSecCSReqFailed",
	errSecCSBadObjectFormat:    "errSecCSBadObjectFormat",
	errSecCSSignatureInvalid:   "errSecCSSignatureInvalid",
	errSecCSStaticCodeChanged:  "errSecCSStaticCodeChanged",
	errSecCSInfoPlistFailed:    "errSecCSInfoPlistFailed",
}

// OSStatusError is a failed Security.framework call: which function failed,
// the OSStatus it returned and, when the call produced a CFError, Apple's
// description of the failure. It matches the package's sentinel errors with
// errors.Is (for example a status of errSecCSReqFailed is
// ErrRequirementNotMet).
type OSStatusError struct {
	Func    string // the Security.framework function, e.g. "SecStaticCodeCheckValidityWithErrors"
	Status  int32  // the OSStatus it returned
	Message string // Apple's description of the failure; may be empty
}

// Error formats the call, the status (with its SDK name when known) and
// Apple's message.
func (e *OSStatusError) Error() string {
	s := fmt.Sprintf("codesign: %s: OSStatus %d", e.Func, e.Status)
	if name, ok := osStatusNames[e.Status]; ok {
		s += " (" + name + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is reports whether the status corresponds to target, one of the package's
// sentinel errors.
func (e *OSStatusError) Is(target error) bool {
	switch e.Status {
	case errSecCSReqFailed:
		return target == ErrRequirementNotMet
	case errSecCSUnsigned:
		return target == ErrNotSigned
	case errSecCSReqInvalid, errSecCSReqUnsupported:
		return target == ErrInvalidRequirement
	case errSecCSSignatureFailed, errSecCSSignatureInvalid, errSecCSStaticCodeChanged,
		errSecCSGuestInvalid, errSecCSInfoPlistFailed:
		return target == ErrSignatureInvalid
	case errSecCSNoSuchCode:
		return target == ErrNoSuchCode
	}
	return false
}
