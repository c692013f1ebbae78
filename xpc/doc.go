// Package xpc talks XPC: on macOS through libxpc (cgo), elsewhere through a
// portable backend over Unix domain sockets with the same API, so one code
// path serves every platform and the whole API can be tested without
// launchd.
//
// # Connections
//
// A server calls Listen with the Mach service name that its launchd job
// declares (or ListenAnonymous for a listener reached through its Endpoint:
// tests, development, a second copy beside an installed service). A client
// calls Dial with the name, or DialEndpoint. Both sides may send one-way
// messages (Conn.Send) and requests that wait for a reply (Conn.Request);
// a Listener knows its peers and can push to any of them (Listener.Peers,
// Listener.Broadcast). Handlers are set in the Config before a connection is
// activated, so no message can arrive unhandled; messages of one connection
// are handled one at a time, in order.
//
// # Values
//
// Messages are dictionaries (Dict). Each XPC type has one Go representation:
//
//	XPC type     Go type
//	null         nil
//	bool         bool
//	int64        int64
//	uint64       uint64
//	double       float64
//	date         time.Time (int64 nanoseconds since 1970, so years 1678-2262;
//	             compare with Equal; Marshal sends a zero time as null)
//	data         []byte
//	string       string (no NUL bytes: XPC strings are C strings)
//	uuid         UUID
//	fd           *os.File (sending dups it; a received one is yours to Close)
//	array        []any
//	dictionary   Dict
//	endpoint     *Endpoint
//
// A Dict may also hold Go's other integer and float kinds (int, uint32,
// float32, ...); they are sent as int64, uint64 or double and arrive as
// int64, uint64 or float64.
//
// Marshal and Unmarshal map structs with `xpc:"name,omitempty"` tags to
// dictionaries, in the manner of encoding/json. Go code never holds a
// pointer into C memory: received values are copies.
//
// # Wire format
//
// The portable backend, Encode and Decode use the XPC object serialization
// of RemoteXPC (magic 0x42133742, version 5), framed with RemoteXPC's wrapper
// header, so captures are recognisable; see codec.go and frame.go. Decoding
// enforces size, depth and count limits and never panics.
//
// # Errors
//
// Connection errors are *Error values whose Kind is one of ErrInterrupted,
// ErrInvalid, ErrTerminationImminent, ErrPeerRequirement or ErrClosed (test
// with errors.Is). An error returned by the peer's handler arrives as a
// *RemoteError; the connection stays up.
//
// # Platforms
//
// On darwin a Mach-service listener only works in a process that launchd
// started from a job naming the service in MachServices (package launchd
// writes and loads such jobs). Code-signing requirements
// (Config.SetPeerRequirement) are enforced by libxpc on macOS 12 and later;
// on other systems they are refused with an error wrapping
// errors.ErrUnsupported, and Config.PeerCheck (uid, gid, pid) works
// everywhere.
package xpc
