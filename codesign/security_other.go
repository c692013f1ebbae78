//go:build !darwin || !cgo

package codesign

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// unsupported returns an error wrapping errors.ErrUnsupported that names
// the operation and says why it is unavailable here.
func unsupported(op, why string) error {
	if runtime.GOOS == "darwin" {
		why += "; this program was built with CGO_ENABLED=0"
	}
	return fmt.Errorf("codesign: %s on %s: %s: %w", op, runtime.GOOS, why, errors.ErrUnsupported)
}

const (
	whyFramework = "needs Security.framework on macOS (built with cgo)"
	whyProcess   = "needs Security.framework on macOS (built with cgo) to examine running code"
)

// InfoForPath describes the code signature of the Mach-O file at path.
// Without Security.framework it reads the signature with the pure-Go reader
// (Open): Mach-O files only, not bundles, and the slice matching GOARCH if
// the file has one, else the first. Unsigned code yields an error matching
// ErrNotSigned; a missing file one matching fs.ErrNotExist.
//
// As on macOS, the Info says what the signature claims and nothing is
// validated: use (*File).Verify and package codesign/requirement to check.
func InfoForPath(path string) (*Info, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info := f.Info(nativeArch())
	if info == nil {
		info = f.Info("")
	}
	if info == nil {
		return nil, fmt.Errorf("codesign: %s: no architectures: %w", path, ErrNotSigned)
	}
	return info, nil
}

// nativeArch names GOARCH the way Mach-O slices are named.
func nativeArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "arm64"
	}
	return ""
}

// InfoForPID describes the code signature of a running process. Only macOS
// has code-signed processes; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func InfoForPID(pid int) (*Info, error) {
	return nil, unsupported(fmt.Sprintf("InfoForPID(%d)", pid), whyProcess)
}

// InfoForAuditToken describes the code signature of the process tok
// identifies. Audit tokens exist only on macOS; elsewhere it returns an
// error wrapping errors.ErrUnsupported.
func InfoForAuditToken(tok AuditToken) (*Info, error) {
	return nil, unsupported("InfoForAuditToken", whyProcess)
}

// CheckPath validates the signature of the file at path against
// requirement. This build has no Security.framework, so it returns an
// error wrapping errors.ErrUnsupported.
func CheckPath(path, requirement string) error {
	return unsupported("CheckPath("+path+")", whyFramework+"; use the pure-Go verifier and requirement evaluator in this package")
}

// CheckPID validates a running process against requirement. Only macOS has
// code-signed processes; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func CheckPID(pid int, requirement string) error {
	return unsupported(fmt.Sprintf("CheckPID(%d)", pid), whyProcess)
}

// CheckAuditToken validates the process tok identifies against
// requirement. Audit tokens exist only on macOS; elsewhere it returns an
// error wrapping errors.ErrUnsupported.
func CheckAuditToken(tok AuditToken, requirement string) error {
	return unsupported("CheckAuditToken", whyProcess)
}

// infoForXPCMessage is the darwin hook behind MessageSender.
func infoForXPCMessage(obj unsafe.Pointer) (*Info, error) {
	return nil, unsupported("MessageSender", "XPC messages and their senders exist only on macOS")
}

// checkXPCMessage is the darwin hook behind CheckMessageSender.
func checkXPCMessage(obj unsafe.Pointer, requirement string) error {
	return unsupported("CheckMessageSender", "XPC messages and their senders exist only on macOS")
}
