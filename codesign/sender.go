package codesign

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
