package xpc

import (
	"context"
	"log/slog"
	"os"
	"strings"
)

// PeerInfo identifies the process at the other end of a connection, as the
// kernel reports it. A field is -1 when the platform cannot tell.
//
// A pid alone does not identify a process safely (pids are reused): to
// authenticate a peer use a code-signing requirement on darwin
// (Config.SetPeerRequirement, codesign.MessageSender) or the uid/gid.
type PeerInfo struct {
	PID  int
	UID  int // effective user ID
	GID  int // effective group ID
	ASID int // audit session ID (darwin only)
}

// Config configures Dial and Listen. The zero value is usable; a Config must
// not be modified after it is passed to Dial or Listen.
type Config struct {
	// Handler serves messages from the peer: requests and one-way messages
	// on a listener, messages the server pushes on a dialed connection.
	// If nil, messages are answered with an error reply (or dropped when
	// one-way) and logged.
	Handler Handler

	// Accept, for listeners, is called for each new peer before any of its
	// messages is read. It returns the handler for that peer (nil means
	// Handler) or an error to reject the peer.
	Accept func(c *Conn) (Handler, error)

	// Privileged selects the system-wide service namespace: a launch
	// daemon on darwin (XPC_CONNECTION_MACH_SERVICE_PRIVILEGED), the system
	// socket directory elsewhere. Without it, a client looks the name up in
	// its own session (launch agents).
	Privileged bool

	// SocketDir overrides where the portable backend puts service sockets
	// (default: $GOXPC_SOCKET_DIR, else a per-user or system directory, see
	// SocketPath). Ignored on darwin.
	SocketDir string

	// MaxMessageSize bounds an encoded message, sent or received
	// (default DefaultMaxMessageSize).
	MaxMessageSize int

	// PeerCheck, if set, must approve the peer's credentials before the
	// connection is used: on a listener before any message of that peer is
	// read, on a dialed connection before Dial returns. It works on every
	// backend. A rejected client's requests fail with ErrPeerRequirement
	// and the reason. On darwin, where libxpc connects lazily, a dialing
	// Config with PeerCheck makes Dial exchange one handshake message
	// ({"goxpc.hello": true}) so the peer is known before Dial returns:
	// use it only against goxpc listeners.
	PeerCheck func(PeerInfo) error

	// OnError, if set, is told about connection errors that do not end a
	// call: interruptions, termination notices, and the final error of a
	// connection. It runs on its own goroutine.
	OnError func(c *Conn, err error)

	// Logger receives diagnostics (rejected peers, handler panics, errors
	// of one-way messages). Default: slog.Default().
	Logger *slog.Logger

	requirement string
}

// SetPeerRequirement makes the connection or listener accept only peers
// whose code signature satisfies requirement, written in Apple's code-signing
// requirement language. The text is checked now, so a typo is an error here
// rather than a crash or a silent mismatch later.
//
// Recommended for a daemon that serves your Developer ID-signed app:
//
//	identifier "com.example.app" and anchor apple generic and
//	certificate 1[field.1.2.840.113635.100.6.2.6] exists and
//	certificate leaf[field.1.2.840.113635.100.6.1.13] exists and
//	certificate leaf[subject.OU] = "TEAMID1234"
//
// A Team ID alone is not enough: it admits every program your team signed.
// Only darwin can check code signatures of a live peer: on other systems
// Dial and Listen with a requirement fail with an error wrapping
// errors.ErrUnsupported (use PeerCheck with a uid there).
func (c *Config) SetPeerRequirement(requirement string) error {
	if err := validateRequirement(requirement); err != nil {
		return err
	}
	c.requirement = requirement
	return nil
}

// PeerRequirement returns the requirement set with SetPeerRequirement.
func (c *Config) PeerRequirement() string { return c.requirement }

func (c *Config) maxSize() int {
	if c == nil || c.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return c.MaxMessageSize
}

func (c *Config) logger() *slog.Logger {
	if c == nil || c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Dial connects to the Mach service name. See Config.Dial.
func Dial(ctx context.Context, name string) (*Conn, error) {
	return (&Config{}).Dial(ctx, name)
}

// DialEndpoint connects to the anonymous listener behind ep.
func DialEndpoint(ctx context.Context, ep *Endpoint) (*Conn, error) {
	return (&Config{}).DialEndpoint(ctx, ep)
}

// Listen serves the Mach service name with h. See Config.Listen.
func Listen(name string, h Handler) (*Listener, error) {
	return (&Config{Handler: h}).Listen(context.Background(), name)
}

// ListenAnonymous starts an anonymous listener served by h; Dial it through
// its Endpoint. See Config.ListenAnonymous.
func ListenAnonymous(h Handler) (*Listener, error) {
	return (&Config{Handler: h}).ListenAnonymous(context.Background())
}

// validServiceName reports why name cannot be a service name, or "".
func validServiceName(name string) string {
	switch {
	case name == "":
		return "empty service name"
	case len(name) > 128:
		return "service name longer than 128 bytes"
	case strings.ContainsAny(name, "/\x00") || name == "." || name == "..":
		return "service name must not contain '/' or NUL (use reverse-DNS names like com.example.helper)"
	}
	return ""
}

// envSocketDir is the environment variable that overrides the socket
// directory of the portable backend.
const envSocketDir = "GOXPC_SOCKET_DIR"

func socketDirFromEnv() string { return os.Getenv(envSocketDir) }
