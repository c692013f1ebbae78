package xpc

// Test hooks for the external conformance suite. The backend-specific half
// lives in export_portable_test.go and export_darwin_test.go.

// BackendName is "libxpc" on darwin and "sockets" elsewhere.
const BackendName = backendName
