package codesign

import (
	"unsafe"

	"github.com/goxpc/goxpc/xpc"
)

// AuditToken is a process's audit token (audit_token_t): the kernel's
// identity for a process at one point in time. Unlike a pid it is never
// reused, so it is the safe way to identify the peer of a connection. XPC
// and other Mach IPC hand it to the receiver of a message.
type AuditToken [8]uint32

// Fields of an audit token, in the order <bsm/libbsm.h>'s
// audit_token_to_au32 unpacks them.

// AUID returns the audit user ID of the process.
func (t AuditToken) AUID() uint32 { return t[0] }

// EUID returns the effective user ID of the process.
func (t AuditToken) EUID() uint32 { return t[1] }

// EGID returns the effective group ID of the process.
func (t AuditToken) EGID() uint32 { return t[2] }

// RUID returns the real user ID of the process.
func (t AuditToken) RUID() uint32 { return t[3] }

// RGID returns the real group ID of the process.
func (t AuditToken) RGID() uint32 { return t[4] }

// PID returns the process ID. It identifies the process only while the
// token's PIDVersion still matches it.
func (t AuditToken) PID() int { return int(int32(t[5])) }

// ASID returns the audit session ID of the process.
func (t AuditToken) ASID() uint32 { return t[6] }

// PIDVersion returns the pid version, which changes on every exec and tells
// a reused pid apart.
func (t AuditToken) PIDVersion() uint32 { return t[7] }

// MessageSender describes the code signature of the process that sent m,
// identified by the message's audit token (SecCodeCreateWithXPCMessage),
// not by a pid that could have been reused. It needs darwin and the libxpc
// backend; elsewhere it returns an error wrapping errors.ErrUnsupported.
//
// The Info is what the sender's signature claims, not proof of identity
// (anyone can ad-hoc sign with any identifier): to authorize a request, use
// CheckMessageSender. Call it from the handler, while m is being handled.
func MessageSender(m *xpc.Message) (*Info, error) {
	var info *Info
	err := m.UseObject(func(obj unsafe.Pointer) error {
		var err error
		info, err = infoForXPCMessage(obj)
		return err
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

// CheckMessageSender validates the process that sent m and checks it
// against requirement (see CheckPath for the requirement language and the
// errors; "" checks the signature only). This is the per-message peer check
// for servers that serve several kinds of clients; it identifies the sender
// by the message's audit token. It needs darwin and the libxpc backend;
// elsewhere it returns an error wrapping errors.ErrUnsupported.
//
// Call it from the handler, while m is being handled.
func CheckMessageSender(m *xpc.Message, requirement string) error {
	return m.UseObject(func(obj unsafe.Pointer) error {
		return checkXPCMessage(obj, requirement)
	})
}
