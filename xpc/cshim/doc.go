// Package cshim is the cgo binding of package xpc to libxpc on darwin. It
// is internal plumbing: its API follows what package xpc needs, not what a
// general binding would offer. On other systems the package is empty.
//
// # Ownership
//
// One rule, enforced by the types:
//
//   - An *Object owns exactly one reference to an xpc_object_t. Creating
//     one adopts a reference the C side returned retained (+1), or retains
//     a borrowed one; Release gives it back exactly once (later calls do
//     nothing) and a runtime.AddCleanup is only a safety net for Objects
//     that were dropped without Release. LiveObjects counts Objects not yet
//     released, so tests can prove nothing leaks.
//   - Borrowed pointers (the event inside a handler block, the results of
//     xpc_dictionary_get_* and xpc_array_get_*, the strings inside objects)
//     never reach Go as pointers: the C side copies them into the wire
//     buffer while their owner is alive, and never frees or releases them.
//   - Go memory passed to C (wire buffers, descriptor and endpoint arrays)
//     is used only during the call; C keeps no Go pointer. Callbacks find
//     their Go state through a runtime/cgo.Handle, an integer.
//
// # Conversion
//
// A message crosses the boundary once each way. Sending, goxpc_build reads
// the wire format of package xpc (encoded in Go) and builds the whole
// xpc_object_t tree in one call, descriptors from an int array
// (xpc_fd_create) and endpoints from an array of owned endpoint objects.
// Receiving, goxpc_walk writes a dictionary back into the same format in a
// malloc'ed buffer, with descriptors (xpc_fd_dup) and endpoints (retained)
// in side arrays; the callback copies them into Go and C frees the buffer.
// Types the wire format lacks (shared memory, Mach ports, nested
// connections or errors, ...) arrive as null and are counted in
// Payload.Unsupported, which package xpc logs as a warning.
//
// # Threads
//
// Each connection's handler block runs on a serial dispatch queue of its
// own and calls the exported Go functions in callbacks_darwin.go on that
// GCD thread. Reply blocks run on a global queue, so a handler that blocks
// its connection's queue never delays a reply.
package cshim
