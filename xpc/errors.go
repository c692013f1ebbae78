package xpc

import (
	"errors"
	"fmt"
	"strings"
)

// The four XPC connection error kinds, plus closed. Test with errors.Is; a
// connection error is an *Error whose Kind is one of these.
var (
	// ErrInterrupted: the peer went away (crashed, exited, or never
	// answered), but the connection may be used again: the next message to
	// a Mach service relaunches it. Messages in flight are lost. This is
	// XPC_ERROR_CONNECTION_INTERRUPTED.
	ErrInterrupted = errors.New("xpc: connection interrupted")
	// ErrInvalid: the connection can never work again, because the service
	// could not be looked up, the peer of an anonymous connection died, or
	// the connection was cancelled. This is XPC_ERROR_CONNECTION_INVALID.
	ErrInvalid = errors.New("xpc: connection invalid")
	// ErrTerminationImminent: the system (or, on the portable backend, the
	// serving process) is about to terminate the peer; finish up. This is
	// XPC_ERROR_TERMINATION_IMMINENT.
	ErrTerminationImminent = errors.New("xpc: termination imminent")
	// ErrPeerRequirement: the peer did not satisfy the code-signing
	// requirement or peer check set on the connection. This is
	// XPC_ERROR_PEER_CODE_SIGNING_REQUIREMENT.
	ErrPeerRequirement = errors.New("xpc: peer requirement not satisfied")
	// ErrClosed: the Conn or Listener was closed by this process.
	ErrClosed = errors.New("xpc: use of closed connection")
	// ErrTooLarge: a message is larger than the configured MaxMessageSize.
	ErrTooLarge = errors.New("xpc: message too large")
	// ErrAddrInUse: another live listener already serves the name.
	ErrAddrInUse = errors.New("xpc: service name already in use")
)

// Error is a connection-level error with details. errors.Is(err, Kind)
// holds, and errors.Unwrap reaches the underlying cause, if any.
type Error struct {
	Kind        error  // one of the sentinels above
	Op          string // "dial", "listen", "send", "request", "reply", "accept"
	Service     string // Mach service name, socket path or endpoint, if known
	Description string // what happened and what to check
	// Retryable reports whether sending again may succeed (interrupted
	// connections to a launchd service are relaunched on demand).
	Retryable bool
	// PID is the peer's process ID when known (0 otherwise); on a listener
	// it identifies which client failed.
	PID int
	Err error // underlying cause
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("xpc: error")
	}
	if e.Op != "" {
		b.WriteString(" (")
		b.WriteString(e.Op)
		if e.Service != "" {
			b.WriteString(" ")
			b.WriteString(e.Service)
		}
		b.WriteString(")")
	} else if e.Service != "" {
		fmt.Fprintf(&b, " (%s)", e.Service)
	}
	if e.PID > 0 {
		fmt.Fprintf(&b, " peer pid %d", e.PID)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is reports whether target is the error's Kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// RemoteError is an error that the peer's handler returned, carried in the
// reply. The connection is fine; only that request failed.
type RemoteError struct {
	Code    string // machine-readable, e.g. "unknown_method"; may be empty
	Message string
}

// Error implements the error interface.
func (e *RemoteError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("xpc: remote error %s: %s", e.Code, e.Message)
	}
	return "xpc: remote error: " + e.Message
}

// Reply keys that carry a handler's error. A reply with KeyError set is
// returned by Conn.Request as a *RemoteError.
const (
	KeyError     = "goxpc.error"
	KeyErrorCode = "goxpc.error.code"
)

// Error codes goxpc itself puts in KeyErrorCode.
const (
	CodeUnknownMethod = "unknown_method"
	CodeBadRequest    = "bad_request"
	CodeInternal      = "internal"
)

// errorReply encodes err as a reply body.
func errorReply(err error) Dict {
	var re *RemoteError
	if errors.As(err, &re) {
		d := Dict{KeyError: re.Message}
		if re.Code != "" {
			d[KeyErrorCode] = re.Code
		}
		return d
	}
	return Dict{KeyError: err.Error()}
}

// replyError turns an error reply back into a *RemoteError.
func replyError(body Dict) error {
	msg, ok := body[KeyError].(string)
	if !ok {
		return nil
	}
	code, _ := body[KeyErrorCode].(string)
	return &RemoteError{Code: code, Message: msg}
}
