//go:build cgo

package codesign

// The Security.framework binding: SecStaticCode for files, SecCode for
// running processes. Each wrapped C function has one unexported Go function
// named after it (secCodeCopySigningInformation for
// SecCodeCopySigningInformation, ...); the exported API at the bottom of the
// file composes them. Ownership follows the rules in corefoundation_darwin.go.

/*
#cgo LDFLAGS: -framework Security -framework CoreFoundation
#include "secapi_darwin.h" // our declarations of the Security API: see that file
#include <mach/mach.h>

// goxpc_task_audit_token fills tok with the audit token of this process.
static kern_return_t goxpc_task_audit_token(audit_token_t *tok) {
	mach_msg_type_number_t n = TASK_AUDIT_TOKEN_COUNT;
	return task_info(mach_task_self(), TASK_AUDIT_TOKEN, (task_info_t)tok, &n);
}
*/
import "C"

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"unsafe"

	"github.com/goxpc/goxpc/internal/plistsafe"
)

// Flags passed to Security.framework.
const (
	// infoFlags asks SecCodeCopySigningInformation for the generic set
	// (identifier, cdhash, flags, format, entitlements, main executable)
	// plus kSecCSSigningInformation (certificates, team ID, signing time).
	// The designated requirement comes from SecCodeCopyDesignatedRequirement.
	infoFlags = C.kSecCSSigningInformation

	// staticCheckFlags are the on-disk checks of CheckPath, the equivalent
	// of `codesign --verify --strict --deep --all-architectures`: every
	// slice of a universal binary, nested code in bundles, and the strict
	// structural checks. All three exist in the macOS 13 SDK (they date from
	// 10.7-10.9). Revocation checking and network use are left to the system
	// setting: neither kSecCSNoNetworkAccess nor kSecCSAllowNetworkAccess is
	// passed.
	staticCheckFlags = C.kSecCSCheckAllArchitectures | C.kSecCSCheckNestedCode | C.kSecCSStrictValidate

	// dynamicCheckFlags are the checks of CheckPID, CheckAuditToken and
	// CheckMessageSender: the kernel's view of the running code plus its
	// static signature, as SecCodeCheckValidity does by default.
	dynamicCheckFlags = C.kSecCSDefaultFlags
)

// newOSStatusError builds the error for a failed call. cerr, when not 0, is
// consumed (released); without it Apple's generic message for the status is
// used.
func newOSStatusError(fn string, status C.OSStatus, cerr C.CFErrorRef) error {
	e := &OSStatusError{Func: fn, Status: int32(status)}
	if cerr != 0 {
		e.Message = cfErrorCopyDescription(cerr)
		cfRelease(C.CFTypeRef(cerr))
	} else {
		e.Message = secCopyErrorMessageString(status)
	}
	return e
}

// secCopyErrorMessageString returns Apple's text for an OSStatus.
func secCopyErrorMessageString(status C.OSStatus) string {
	s := C.SecCopyErrorMessageString(status, nil)
	if s == 0 {
		return ""
	}
	defer cfRelease(C.CFTypeRef(s))
	return cfStringToString(s)
}

// secStaticCodeCreateWithPath returns a new SecStaticCode for the file or
// bundle at path.
func secStaticCodeCreateWithPath(path string) (C.SecStaticCodeRef, error) {
	u, err := cfURLCreateFromFileSystemRepresentation(path)
	if err != nil {
		return 0, err
	}
	defer cfRelease(C.CFTypeRef(u))
	var code C.SecStaticCodeRef
	if st := C.SecStaticCodeCreateWithPath(u, C.kSecCSDefaultFlags, &code); st != 0 {
		return 0, newOSStatusError("SecStaticCodeCreateWithPath", st, 0)
	}
	return code, nil
}

// secCodeCopyGuestWithAttributes returns a new SecCode for the running code
// (a guest of the kernel, host 0) that attrs describe.
func secCodeCopyGuestWithAttributes(attrs C.CFDictionaryRef) (C.SecCodeRef, error) {
	var code C.SecCodeRef
	if st := C.SecCodeCopyGuestWithAttributes(0, attrs, C.kSecCSDefaultFlags, &code); st != 0 {
		return 0, newOSStatusError("SecCodeCopyGuestWithAttributes", st, 0)
	}
	return code, nil
}

// secCodeCreateWithXPCMessage returns a new SecCode for the process that sent
// the XPC message msg (an xpc_object_t), found by the message's audit token.
//
// The function appeared in macOS 11. No availability check is made because
// Go 1.23 and later only run on macOS 11 or newer, and go.mod requires 1.24.
func secCodeCreateWithXPCMessage(msg unsafe.Pointer) (C.SecCodeRef, error) {
	if msg == nil {
		return 0, fmt.Errorf("codesign: SecCodeCreateWithXPCMessage: nil message")
	}
	var code C.SecCodeRef
	if st := C.SecCodeCreateWithXPCMessage(C.xpc_object_t(msg), C.kSecCSDefaultFlags, &code); st != 0 {
		return 0, newOSStatusError("SecCodeCreateWithXPCMessage", st, 0)
	}
	return code, nil
}

// secCodeCopySigningInformation returns a new dictionary describing the
// signature of code (a SecStaticCode or a SecCode).
func secCodeCopySigningInformation(code C.SecStaticCodeRef, flags C.SecCSFlags) (C.CFDictionaryRef, error) {
	var dict C.CFDictionaryRef
	if st := C.SecCodeCopySigningInformation(code, flags, &dict); st != 0 {
		return 0, newOSStatusError("SecCodeCopySigningInformation", st, 0)
	}
	return dict, nil
}

// secCodeCopyDesignatedRequirement returns a new SecRequirement holding the
// designated requirement of code, explicit or implied.
func secCodeCopyDesignatedRequirement(code C.SecStaticCodeRef) (C.SecRequirementRef, error) {
	var req C.SecRequirementRef
	if st := C.SecCodeCopyDesignatedRequirement(code, C.kSecCSDefaultFlags, &req); st != 0 {
		return 0, newOSStatusError("SecCodeCopyDesignatedRequirement", st, 0)
	}
	return req, nil
}

// secRequirementCopyString returns the canonical text of a requirement.
func secRequirementCopyString(req C.SecRequirementRef) (string, error) {
	var s C.CFStringRef
	if st := C.SecRequirementCopyString(req, C.kSecCSDefaultFlags, &s); st != 0 {
		return "", newOSStatusError("SecRequirementCopyString", st, 0)
	}
	defer cfRelease(C.CFTypeRef(s))
	return cfStringToString(s), nil
}

// secRequirementCreateWithStringAndErrors compiles requirement text. A
// syntax error comes back as an *OSStatusError matching
// ErrInvalidRequirement, with Apple's description of what is wrong.
func secRequirementCreateWithStringAndErrors(text string) (C.SecRequirementRef, error) {
	s, err := cfStringCreateWithCString(text)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInvalidRequirement, err)
	}
	defer cfRelease(C.CFTypeRef(s))
	var req C.SecRequirementRef
	var cerr C.CFErrorRef
	if st := C.SecRequirementCreateWithStringAndErrors(s, C.kSecCSDefaultFlags, &cerr, &req); st != 0 {
		return 0, newOSStatusError("SecRequirementCreateWithStringAndErrors", st, cerr)
	}
	return req, nil
}

// secStaticCodeCheckValidityWithErrors validates code on disk and, if req
// is not 0, checks it against req.
func secStaticCodeCheckValidityWithErrors(code C.SecStaticCodeRef, flags C.SecCSFlags, req C.SecRequirementRef) error {
	var cerr C.CFErrorRef
	if st := C.SecStaticCodeCheckValidityWithErrors(code, flags, req, &cerr); st != 0 {
		return newOSStatusError("SecStaticCodeCheckValidityWithErrors", st, cerr)
	}
	return nil
}

// secCodeCheckValidityWithErrors validates running code and, if req is not
// 0, checks it against req.
func secCodeCheckValidityWithErrors(code C.SecCodeRef, flags C.SecCSFlags, req C.SecRequirementRef) error {
	var cerr C.CFErrorRef
	if st := C.SecCodeCheckValidityWithErrors(code, flags, req, &cerr); st != 0 {
		return newOSStatusError("SecCodeCheckValidityWithErrors", st, cerr)
	}
	return nil
}

// secCertificateCopyData returns the DER encoding of a certificate.
func secCertificateCopyData(cert C.SecCertificateRef) []byte {
	d := C.SecCertificateCopyData(cert)
	if d == 0 {
		return nil
	}
	defer cfRelease(C.CFTypeRef(d))
	return cfDataToSlice(d)
}

// secCertificateCopySubjectSummary returns a human-readable summary of the
// certificate's subject (usually its common name).
func secCertificateCopySubjectSummary(cert C.SecCertificateRef) string {
	s := C.SecCertificateCopySubjectSummary(cert)
	if s == 0 {
		return ""
	}
	defer cfRelease(C.CFTypeRef(s))
	return cfStringToString(s)
}

// taskAuditToken returns the audit token of the calling process.
func taskAuditToken() (AuditToken, error) {
	var tok C.audit_token_t
	if kr := C.goxpc_task_audit_token(&tok); kr != C.KERN_SUCCESS {
		return AuditToken{}, fmt.Errorf("codesign: task_info(TASK_AUDIT_TOKEN): kern_return_t %d", int(kr))
	}
	var t AuditToken
	for i := range t {
		t[i] = uint32(tok.val[i])
	}
	return t, nil
}

// guestAttributes returns a new one-entry dictionary for
// SecCodeCopyGuestWithAttributes.
func guestAttributes(key C.CFStringRef, value C.CFTypeRef) (C.CFDictionaryRef, error) {
	if value == 0 {
		return 0, fmt.Errorf("codesign: cannot create guest attribute value")
	}
	defer cfRelease(value)
	d := cfDictionaryCreate(C.CFTypeRef(key), value)
	if d == 0 {
		return 0, fmt.Errorf("codesign: CFDictionaryCreate failed")
	}
	return d, nil
}

// codeForPID returns a new SecCode for the running process pid.
func codeForPID(pid int) (C.SecCodeRef, error) {
	if pid <= 0 || int(int32(pid)) != pid {
		return 0, fmt.Errorf("codesign: invalid pid %d", pid)
	}
	attrs, err := guestAttributes(C.kSecGuestAttributePid, C.CFTypeRef(cfNumberCreateInt32(int32(pid))))
	if err != nil {
		return 0, err
	}
	defer cfRelease(C.CFTypeRef(attrs))
	return secCodeCopyGuestWithAttributes(attrs)
}

// codeForAuditToken returns a new SecCode for the process tok names.
func codeForAuditToken(tok AuditToken) (C.SecCodeRef, error) {
	b := make([]byte, 0, len(tok)*4)
	for _, v := range tok {
		// audit_token_t is an array of native-endian unsigned ints; both
		// darwin architectures are little-endian.
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	attrs, err := guestAttributes(C.kSecGuestAttributeAudit, C.CFTypeRef(cfDataCreate(b)))
	if err != nil {
		return 0, err
	}
	defer cfRelease(C.CFTypeRef(attrs))
	return secCodeCopyGuestWithAttributes(attrs)
}

// staticCodeForPath returns a new SecStaticCode for path, reporting a
// missing file as an *os.PathError (errors.Is(err, fs.ErrNotExist)).
func staticCodeForPath(path string) (C.SecStaticCodeRef, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, fmt.Errorf("codesign: %w", err)
	}
	return secStaticCodeCreateWithPath(path)
}

// codeInfo describes the signature of code (a SecStaticCode, or a SecCode
// whose static code is then examined).
func codeInfo(code C.SecStaticCodeRef) (*Info, error) {
	dict, err := secCodeCopySigningInformation(code, infoFlags)
	if err != nil {
		return nil, err
	}
	defer cfRelease(C.CFTypeRef(dict))

	info := new(Info)
	var ok bool
	if info.Identifier, ok = dictString(dict, C.kSecCodeInfoIdentifier); !ok {
		// Documented: the identifier is present exactly when code is signed.
		return nil, &OSStatusError{
			Func:    "SecCodeCopySigningInformation",
			Status:  errSecCSUnsigned,
			Message: "code object is not signed at all",
		}
	}
	info.MainExecutable, _ = dictURLPath(dict, C.kSecCodeInfoMainExecutable)
	info.Format, _ = dictString(dict, C.kSecCodeInfoFormat)
	info.TeamID, _ = dictString(dict, C.kSecCodeInfoTeamIdentifier)
	info.CDHash, _ = dictData(dict, C.kSecCodeInfoUnique)
	if alg, ok := dictNumber(dict, C.kSecCodeInfoDigestAlgorithm); ok {
		// kSecCodeSignatureHash* and CS_HASHTYPE_* share their values.
		info.HashType = HashType(alg).String()
	}
	if flags, ok := dictNumber(dict, C.kSecCodeInfoFlags); ok {
		info.Flags = CodeFlags(uint32(flags))
	}
	info.SigningTime, _ = dictDate(dict, C.kSecCodeInfoTime)
	if info.Entitlements, err = entitlements(dict); err != nil {
		return nil, err
	}
	if certs, ok := dictArray(dict, C.kSecCodeInfoCertificates); ok {
		for i := range cfArrayGetCount(certs) {
			c := cfArrayGetValueAtIndex(certs, i)
			if c == 0 || cfGetTypeID(c) != C.SecCertificateGetTypeID() {
				continue
			}
			info.Certificates = append(info.Certificates, certificate(C.SecCertificateRef(c)))
		}
	}

	// Modified or improperly signed code may have no designated requirement
	// (documented for SecCodeCopyDesignatedRequirement); the rest of the
	// description is still worth having, so the field stays empty.
	if req, err := secCodeCopyDesignatedRequirement(code); err == nil {
		defer cfRelease(C.CFTypeRef(req))
		info.DesignatedRequirement, _ = secRequirementCopyString(req)
	}
	return info, nil
}

// entitlementsBlobMagic is CSMAGIC_EMBEDDED_ENTITLEMENTS: a raw
// kSecCodeInfoEntitlements blob is this magic, a big-endian length, then the
// XML plist.
const entitlementsBlobMagic = 0xfade7171

// entitlements decodes the entitlements of a signing dictionary, preferring
// the parsed kSecCodeInfoEntitlementsDict and falling back to the raw blob.
func entitlements(dict C.CFDictionaryRef) (map[string]any, error) {
	var xml []byte
	if d, ok := dictDictionary(dict, C.kSecCodeInfoEntitlementsDict); ok {
		var err error
		if xml, err = cfPropertyListCreateData(C.CFPropertyListRef(d)); err != nil {
			return nil, err
		}
	} else if blob, ok := dictData(dict, C.kSecCodeInfoEntitlements); ok && len(blob) >= 8 {
		magic := uint32(blob[0])<<24 | uint32(blob[1])<<16 | uint32(blob[2])<<8 | uint32(blob[3])
		if magic != entitlementsBlobMagic {
			return nil, fmt.Errorf("codesign: entitlements blob has magic %#x, want %#x", magic, entitlementsBlobMagic)
		}
		xml = blob[8:]
	} else {
		return nil, nil
	}
	var m map[string]any
	if _, err := plistsafe.Unmarshal(xml, &m); err != nil {
		return nil, fmt.Errorf("codesign: decoding entitlements: %w", err)
	}
	return m, nil
}

// certificate describes one certificate of a signing chain.
func certificate(cert C.SecCertificateRef) Certificate {
	der := secCertificateCopyData(cert)
	if x, err := x509.ParseCertificate(der); err == nil {
		return certInfo(x)
	}
	// crypto/x509 rejects some certificates the system accepts (for example
	// negative serial numbers); keep what Security can tell.
	s1 := sha1.Sum(der) //nolint:gosec // certificate hashes as requirements compare them
	s256 := sha256.Sum256(der)
	return Certificate{
		CommonName: secCertificateCopySubjectSummary(cert),
		SHA1:       s1[:],
		SHA256:     s256[:],
		Raw:        der,
	}
}

// compileRequirement compiles requirement text, or returns 0 for "".
func compileRequirement(requirement string) (C.SecRequirementRef, error) {
	if requirement == "" {
		return 0, nil
	}
	return secRequirementCreateWithStringAndErrors(requirement)
}

// checkCode validates running code against requirement.
func checkCode(code C.SecCodeRef, requirement string) error {
	req, err := compileRequirement(requirement)
	if err != nil {
		return err
	}
	if req != 0 {
		defer cfRelease(C.CFTypeRef(req))
	}
	return secCodeCheckValidityWithErrors(code, dynamicCheckFlags, req)
}

// InfoForPath describes the code signature of the file or bundle at path,
// as Security.framework sees it. Unsigned code yields an error matching
// ErrNotSigned; a missing file one matching fs.ErrNotExist.
//
// The Info says what the signature claims; it is not proof. InfoForPath
// does not validate the signature, and anyone can ad-hoc sign code with any
// identifier: authenticate code with CheckPath and a requirement.
// DesignatedRequirement is empty when Security.framework cannot derive one
// (modified or improperly signed code).
func InfoForPath(path string) (*Info, error) {
	code, err := staticCodeForPath(path)
	if err != nil {
		return nil, err
	}
	defer cfRelease(C.CFTypeRef(code))
	return codeInfo(code)
}

// InfoForPID describes the code signature of the running process pid (the
// signature on disk of its main executable). Prefer InfoForAuditToken when
// the pid comes from a peer: a pid can be reused by another process, an
// audit token cannot. Like InfoForPath it does not validate anything: use
// CheckPID or CheckAuditToken to authenticate a process.
func InfoForPID(pid int) (*Info, error) {
	code, err := codeForPID(pid)
	if err != nil {
		return nil, err
	}
	defer cfRelease(C.CFTypeRef(code))
	return codeInfo(C.SecStaticCodeRef(code))
}

// InfoForAuditToken describes the code signature of the process tok
// identifies. It does not validate anything: use CheckAuditToken to
// authenticate the process. A token of a process that has exited yields an
// error (usually matching ErrNoSuchCode).
func InfoForAuditToken(tok AuditToken) (*Info, error) {
	code, err := codeForAuditToken(tok)
	if err != nil {
		return nil, err
	}
	defer cfRelease(C.CFTypeRef(code))
	return codeInfo(C.SecStaticCodeRef(code))
}

// CheckPath validates the signature of the file or bundle at path (all
// architectures, nested code, strict checks, as `codesign --verify --strict
// --deep` does) and checks it against requirement, written in Apple's
// requirement language (e.g. `anchor apple generic and certificate
// leaf[subject.OU] = "ABCDE12345"`). An empty requirement checks the
// signature only.
//
// A valid signature that does not satisfy the requirement returns an error
// matching ErrRequirementNotMet; requirement text that does not compile one
// matching ErrInvalidRequirement.
func CheckPath(path, requirement string) error {
	req, err := compileRequirement(requirement)
	if err != nil {
		return err
	}
	if req != 0 {
		defer cfRelease(C.CFTypeRef(req))
	}
	code, err := staticCodeForPath(path)
	if err != nil {
		return err
	}
	defer cfRelease(C.CFTypeRef(code))
	return secStaticCodeCheckValidityWithErrors(code, staticCheckFlags, req)
}

// CheckPID validates the running process pid (its dynamic code-signing
// state as the kernel tracks it, and its signature) and checks it against
// requirement; see CheckPath for the errors. Prefer CheckAuditToken for
// peers: pids are reused.
func CheckPID(pid int, requirement string) error {
	code, err := codeForPID(pid)
	if err != nil {
		return err
	}
	defer cfRelease(C.CFTypeRef(code))
	return checkCode(code, requirement)
}

// CheckAuditToken validates the running process tok identifies and checks
// it against requirement; see CheckPath for the errors.
func CheckAuditToken(tok AuditToken, requirement string) error {
	code, err := codeForAuditToken(tok)
	if err != nil {
		return err
	}
	defer cfRelease(C.CFTypeRef(code))
	return checkCode(code, requirement)
}

// infoForXPCMessage describes the sender of an XPC message; obj is the
// message's xpc_object_t, valid for the duration of the call.
func infoForXPCMessage(obj unsafe.Pointer) (*Info, error) {
	code, err := secCodeCreateWithXPCMessage(obj)
	if err != nil {
		return nil, err
	}
	defer cfRelease(C.CFTypeRef(code))
	return codeInfo(C.SecStaticCodeRef(code))
}

// checkXPCMessage validates the sender of an XPC message against
// requirement; obj is the message's xpc_object_t, valid during the call.
func checkXPCMessage(obj unsafe.Pointer, requirement string) error {
	code, err := secCodeCreateWithXPCMessage(obj)
	if err != nil {
		return err
	}
	defer cfRelease(C.CFTypeRef(code))
	return checkCode(code, requirement)
}
