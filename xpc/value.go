package xpc

import (
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Dict is an XPC dictionary: string keys to values of the types listed in
// the package documentation. Messages are always dictionaries.
type Dict map[string]any

// UUID is an XPC UUID: 16 bytes, RFC 4122 layout.
type UUID [16]byte

// String formats u as 8-4-4-4-12 lowercase hex.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:16])
	return string(b[:])
}

// Endpoint names an anonymous listener so that another connection can dial
// it (TN3113). An Endpoint can be sent inside a message; on darwin it holds a
// reference to an xpc_endpoint_t, on other systems the listener's socket
// address. Endpoints are obtained from Listener.Endpoint or from a received
// message, never constructed by hand.
type Endpoint struct {
	impl endpointImpl
}

// endpointImpl is the backend's representation of an endpoint.
type endpointImpl interface {
	String() string
}

// String describes the endpoint for logs.
func (e *Endpoint) String() string {
	if e == nil || e.impl == nil {
		return "<nil endpoint>"
	}
	return e.impl.String()
}

// Typed getters. Each returns the zero value and false when the key is
// missing or holds another type, so callers never need a type switch for the
// common case.

// String returns d[key] if it is a string.
func (d Dict) String(key string) (string, bool) { v, ok := d[key].(string); return v, ok }

// Int64 returns d[key] if it is an int64.
func (d Dict) Int64(key string) (int64, bool) { v, ok := d[key].(int64); return v, ok }

// Uint64 returns d[key] if it is a uint64.
func (d Dict) Uint64(key string) (uint64, bool) { v, ok := d[key].(uint64); return v, ok }

// Bool returns d[key] if it is a bool.
func (d Dict) Bool(key string) (bool, bool) { v, ok := d[key].(bool); return v, ok }

// Float64 returns d[key] if it is a float64 (an XPC double).
func (d Dict) Float64(key string) (float64, bool) { v, ok := d[key].(float64); return v, ok }

// Bytes returns d[key] if it is []byte (XPC data).
func (d Dict) Bytes(key string) ([]byte, bool) { v, ok := d[key].([]byte); return v, ok }

// Time returns d[key] if it is a time.Time (an XPC date).
func (d Dict) Time(key string) (time.Time, bool) { v, ok := d[key].(time.Time); return v, ok }

// Dict returns d[key] if it is a nested Dict.
func (d Dict) Dict(key string) (Dict, bool) { v, ok := d[key].(Dict); return v, ok }

// Array returns d[key] if it is an array ([]any).
func (d Dict) Array(key string) ([]any, bool) { v, ok := d[key].([]any); return v, ok }

// File returns d[key] if it is a file descriptor. The caller owns the
// *os.File of a received message and must close it.
func (d Dict) File(key string) (*os.File, bool) { v, ok := d[key].(*os.File); return v, ok }

// Endpoint returns d[key] if it is an endpoint.
func (d Dict) Endpoint(key string) (*Endpoint, bool) { v, ok := d[key].(*Endpoint); return v, ok }

// typeName names the XPC type of a Go value for error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case int64:
		return "int64"
	case uint64:
		return "uint64"
	case float64:
		return "double"
	case time.Time:
		return "date"
	case []byte:
		return "data"
	case string:
		return "string"
	case UUID:
		return "uuid"
	case *os.File:
		return "fd"
	case []any:
		return "array"
	case Dict:
		return "dictionary"
	case *Endpoint:
		return "endpoint"
	}
	return fmt.Sprintf("unsupported Go type %T", v)
}
