package xpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// The wire format is the XPC object serialization that RemoteXPC uses
// (documented by pymobiledevice3 and go-ios; our code is our own): a
// little-endian stream that starts with objectMagic and objectVersion,
// followed by one root object. Every object is a uint32 type tag and a
// payload padded to 4 bytes:
//
//	null 0x1000      (no payload)
//	bool 0x2000      uint32 0 or 1
//	int64 0x3000     int64
//	uint64 0x4000    uint64
//	double 0x5000    IEEE 754 bits
//	date 0x7000      int64 nanoseconds since the Unix epoch
//	data 0x8000      uint32 length, bytes, pad
//	string 0x9000    uint32 length including NUL, bytes, NUL, pad
//	uuid 0xa000      16 bytes
//	fd 0xb000        uint32 index into the message's attachments
//	array 0xe000     uint32 byte length of what follows, uint32 count, objects
//	dict 0xf000      uint32 byte length of what follows, uint32 count,
//	                 then count × (key: NUL-terminated, padded; object)
//	endpoint 0x12000 uint32 index into the message's attachments
//
// File descriptors and endpoints cannot travel as bytes, so they are
// attachments that each backend carries its own way (SCM_RIGHTS and an
// address table on sockets; xpc objects on darwin).
const (
	objectMagic   = 0x42133742
	objectVersion = 5
)

const (
	tagNull       = 0x1000
	tagBool       = 0x2000
	tagInt64      = 0x3000
	tagUint64     = 0x4000
	tagDouble     = 0x5000
	tagDate       = 0x7000
	tagData       = 0x8000
	tagString     = 0x9000
	tagUUID       = 0xa000
	tagFD         = 0xb000
	tagArray      = 0xe000
	tagDictionary = 0xf000
	tagEndpoint   = 0x12000
)

// Limits that decoding enforces on untrusted bytes.
const (
	// DefaultMaxMessageSize is the largest encoded message accepted unless a
	// Config says otherwise.
	DefaultMaxMessageSize = 64 << 20
	// MaxDepth is the deepest nesting of arrays and dictionaries accepted.
	MaxDepth = 64
	// maxAttachments bounds file descriptors plus endpoints in one message.
	maxAttachments = 256
	// preallocMax bounds how many elements a container's count may
	// preallocate before they are read: nested containers each claiming
	// the whole rest of the input would otherwise multiply (a 1 MiB
	// message could allocate 250 MiB).
	preallocMax = 64
)

// The dates an XPC date (int64 nanoseconds since the Unix epoch) can hold;
// time.Time.UnixNano is undefined outside them.
var (
	minDate = time.Unix(0, math.MinInt64)
	maxDate = time.Unix(0, math.MaxInt64)
)

// ErrMalformed reports bytes that are not a valid encoded message.
var ErrMalformed = errors.New("xpc: malformed message")

// DecodeError locates the first problem in a malformed message.
type DecodeError struct {
	Offset int    // byte offset into the encoded message
	Reason string // what was wrong there
}

// Error implements the error interface.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("xpc: malformed message at byte %d: %s", e.Offset, e.Reason)
}

// Is makes errors.Is(err, ErrMalformed) true.
func (e *DecodeError) Is(target error) bool { return target == ErrMalformed }

// EncodeError reports a value that cannot be encoded, naming its key path.
type EncodeError struct {
	Path   string // e.g. "items[2].name"
	Reason string
}

// Error implements the error interface.
func (e *EncodeError) Error() string {
	if e.Path == "" {
		return "xpc: cannot encode message: " + e.Reason
	}
	return fmt.Sprintf("xpc: cannot encode %s: %s", e.Path, e.Reason)
}

// attachments carry what cannot be serialized as bytes, in the order the
// encoder met them.
type attachments struct {
	files     []*os.File
	endpoints []*Endpoint
}

func (a *attachments) count() int { return len(a.files) + len(a.endpoints) }

// closeFiles closes received descriptors that no decoded value took.
func (a *attachments) closeFiles() {
	for _, f := range a.files {
		if f != nil {
			f.Close()
		}
	}
}

// encodeMessage appends the encoding of body to buf. Files and endpoints in
// body are added to att.
func encodeMessage(buf []byte, body Dict, att *attachments) ([]byte, error) {
	buf = binary.LittleEndian.AppendUint32(buf, objectMagic)
	buf = binary.LittleEndian.AppendUint32(buf, objectVersion)
	e := encoder{buf: buf, att: att}
	if err := e.dict(body, 0); err != nil {
		return nil, e.wrap(err)
	}
	return e.buf, nil
}

type encoder struct {
	buf  []byte
	att  *attachments
	path []string // reversed key path, only filled on error
}

// errEncode is a failure deep in the tree; the path is built on the way up.
type errEncode struct{ reason string }

func (e *errEncode) Error() string { return e.reason }

func (e *encoder) wrap(err error) error {
	var ee *errEncode
	if !errors.As(err, &ee) {
		return err
	}
	slices.Reverse(e.path) // collected innermost first
	return &EncodeError{Path: pathString(e.path), Reason: ee.reason}
}

func (e *encoder) u32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v) }

func (e *encoder) pad() {
	for len(e.buf)%4 != 0 {
		e.buf = append(e.buf, 0)
	}
}

// cstring appends s, a NUL and padding. XPC strings are C strings, so an
// embedded NUL would silently truncate them: refuse it.
func (e *encoder) cstring(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return &errEncode{"string contains a NUL byte (XPC strings are C strings; send []byte instead)"}
	}
	e.buf = append(e.buf, s...)
	e.buf = append(e.buf, 0)
	e.pad()
	return nil
}

// begin reserves a container's length word and returns its position.
func (e *encoder) begin(tag uint32, count int) int {
	e.u32(tag)
	at := len(e.buf)
	e.u32(0)
	e.u32(uint32(count))
	return at
}

func (e *encoder) end(at int) error {
	n := len(e.buf) - at - 4
	if n > math.MaxUint32 {
		return &errEncode{"container larger than 4 GiB"}
	}
	binary.LittleEndian.PutUint32(e.buf[at:], uint32(n))
	return nil
}

func (e *encoder) dict(d Dict, depth int) error {
	if depth >= MaxDepth {
		return &errEncode{fmt.Sprintf("nesting deeper than %d", MaxDepth)}
	}
	at := e.begin(tagDictionary, len(d))
	for k, v := range d {
		if err := e.cstring(k); err != nil {
			e.path = append(e.path, strconv.Quote(k))
			return err
		}
		if err := e.value(v, depth+1); err != nil {
			e.path = append(e.path, k)
			return err
		}
	}
	return e.end(at)
}

func (e *encoder) array(a []any, depth int) error {
	if depth >= MaxDepth {
		return &errEncode{fmt.Sprintf("nesting deeper than %d", MaxDepth)}
	}
	at := e.begin(tagArray, len(a))
	for i, v := range a {
		if err := e.value(v, depth+1); err != nil {
			e.path = append(e.path, "["+strconv.Itoa(i)+"]")
			return err
		}
	}
	return e.end(at)
}

func (e *encoder) value(v any, depth int) error {
	switch v := v.(type) {
	case nil:
		e.u32(tagNull)
	case bool:
		e.u32(tagBool)
		if v {
			e.u32(1)
		} else {
			e.u32(0)
		}
	case int64:
		e.u32(tagInt64)
		e.u64(uint64(v))
	case uint64:
		e.u32(tagUint64)
		e.u64(v)
	case float64:
		e.u32(tagDouble)
		e.u64(math.Float64bits(v))
	case time.Time:
		if v.Before(minDate) || v.After(maxDate) {
			return &errEncode{"date " + v.Format(time.RFC3339) + " is outside the years 1678-2262 that XPC's int64 nanosecond dates hold (for an unset time use omitempty or *time.Time)"}
		}
		e.u32(tagDate)
		e.u64(uint64(v.UnixNano()))
	case []byte:
		if len(v) > math.MaxUint32 {
			return &errEncode{"data larger than 4 GiB"}
		}
		e.u32(tagData)
		e.u32(uint32(len(v)))
		e.buf = append(e.buf, v...)
		e.pad()
	case string:
		if len(v) >= math.MaxUint32 {
			return &errEncode{"string larger than 4 GiB"}
		}
		e.u32(tagString)
		e.u32(uint32(len(v) + 1))
		return e.cstring(v)
	case UUID:
		e.u32(tagUUID)
		e.buf = append(e.buf, v[:]...)
	case *os.File:
		if v == nil {
			return &errEncode{"nil *os.File"}
		}
		if e.att.count() >= maxAttachments {
			return &errEncode{fmt.Sprintf("more than %d file descriptors and endpoints", maxAttachments)}
		}
		e.u32(tagFD)
		e.u32(uint32(len(e.att.files)))
		e.att.files = append(e.att.files, v)
	case *Endpoint:
		if v == nil || v.impl == nil {
			return &errEncode{"nil *Endpoint"}
		}
		if e.att.count() >= maxAttachments {
			return &errEncode{fmt.Sprintf("more than %d file descriptors and endpoints", maxAttachments)}
		}
		e.u32(tagEndpoint)
		e.u32(uint32(len(e.att.endpoints)))
		e.att.endpoints = append(e.att.endpoints, v)
	case []any:
		return e.array(v, depth)
	case Dict:
		return e.dict(v, depth)
	case map[string]any:
		return e.dict(Dict(v), depth)
	// Go's other numeric kinds are sent as the XPC type that holds them, so
	// Dict{"n": 5} works; they come back as int64, uint64 or float64.
	case int, int8, int16, int32:
		return e.value(reflect.ValueOf(v).Int(), depth)
	case uint, uint8, uint16, uint32:
		return e.value(reflect.ValueOf(v).Uint(), depth)
	case float32:
		return e.value(float64(v), depth)
	default:
		return &errEncode{fmt.Sprintf("unsupported type %T (use Marshal for structs, or one of the types in the package doc)", v)}
	}
	return nil
}

// decodeMessage decodes an encoded message. Files in att that the message
// references are handed to the result (the caller owns them); the others
// are closed. Endpoints are referenced by index.
func decodeMessage(b []byte, att *attachments) (Dict, error) {
	d := decoder{b: b, att: att}
	if att != nil {
		d.usedFiles = make([]bool, len(att.files))
	}
	body, err := d.message()
	if att != nil {
		// Close descriptors that no value took, including all of them
		// when decoding failed part way.
		for i, f := range att.files {
			if f != nil && (err != nil || !d.usedFiles[i]) {
				f.Close()
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return body, nil
}

type decoder struct {
	b         []byte
	off       int
	att       *attachments
	usedFiles []bool
	arena     []byte // current string chunk; see str
}

// String arena limits: keys and short strings are carved from shared
// chunks of at most arenaChunk bytes (one allocation per chunk instead of
// one per string); a retained string pins at most its chunk. Longer strings
// get their own allocation.
const (
	arenaChunk     = 4096
	arenaMaxString = 512
)

// str returns b as a string. Bytes already handed out are never written
// again (the arena only grows by append into fresh capacity), which is what
// makes unsafe.String sound here.
func (d *decoder) str(b []byte) string {
	n := len(b)
	if n == 0 {
		return ""
	}
	if n > arenaMaxString {
		return string(b)
	}
	if cap(d.arena)-len(d.arena) < n {
		// The rest of the input bounds the strings still to come.
		size := min(arenaChunk, len(d.b)-d.off+n)
		d.arena = make([]byte, 0, max(size, n))
	}
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[start], n)
}

func (d *decoder) fail(format string, args ...any) error {
	return d.failAt(d.off, format, args...)
}

// failAt reports a problem with the field that starts at off.
func (d *decoder) failAt(off int, format string, args ...any) error {
	return &DecodeError{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

func (d *decoder) message() (Dict, error) {
	magic, err := d.u32()
	if err != nil {
		return nil, err
	}
	if magic != objectMagic {
		return nil, d.failAt(0, "bad magic %#x, want %#x", magic, objectMagic)
	}
	version, err := d.u32()
	if err != nil {
		return nil, err
	}
	if version != objectVersion {
		return nil, d.failAt(4, "unsupported version %d, want %d", version, objectVersion)
	}
	tag, err := d.u32()
	if err != nil {
		return nil, err
	}
	if tag != tagDictionary {
		return nil, d.failAt(8, "root is type %#x, want a dictionary", tag)
	}
	body, err := d.dict(1)
	if err != nil {
		return nil, err
	}
	if d.off != len(d.b) {
		return nil, d.fail("%d trailing bytes after the root dictionary", len(d.b)-d.off)
	}
	return body, nil
}

func (d *decoder) u32() (uint32, error) {
	if len(d.b)-d.off < 4 {
		return 0, d.fail("truncated")
	}
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

func (d *decoder) u64() (uint64, error) {
	if len(d.b)-d.off < 8 {
		return 0, d.fail("truncated")
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v, nil
}

// bytes returns the next n bytes (aliasing the input) and skips padding.
func (d *decoder) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(d.b)-d.off) {
		return nil, d.failAt(d.off-4, "length %d runs past the end", n)
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	if p := (4 - d.off%4) % 4; p > 0 {
		if len(d.b)-d.off < p {
			return nil, d.fail("truncated padding")
		}
		d.off += p
	}
	return v, nil
}

// cstring reads a NUL-terminated, padded key.
func (d *decoder) cstring() (string, error) {
	rest := d.b[d.off:]
	n := 0
	for n < len(rest) && rest[n] != 0 {
		n++
	}
	if n == len(rest) {
		return "", d.fail("unterminated key")
	}
	s := d.str(rest[:n])
	d.off += n + 1
	if p := (4 - d.off%4) % 4; p > 0 {
		if len(d.b)-d.off < p {
			return "", d.fail("truncated padding")
		}
		d.off += p
	}
	return s, nil
}

// container reads a length and count and checks them against the input.
func (d *decoder) container(depth int) (end int, count int, err error) {
	if depth > MaxDepth {
		return 0, 0, d.failAt(d.off-4, "nesting deeper than %d", MaxDepth)
	}
	n, err := d.u32()
	if err != nil {
		return 0, 0, err
	}
	if uint64(n) > uint64(len(d.b)-d.off) || n < 4 {
		return 0, 0, d.failAt(d.off-4, "container length %d does not fit", n)
	}
	end = d.off + int(n)
	c, err := d.u32()
	if err != nil {
		return 0, 0, err
	}
	// Every element takes at least 4 bytes: this bounds allocation by
	// the input size.
	if uint64(c)*4 > uint64(end-d.off) {
		return 0, 0, d.failAt(d.off-4, "count %d does not fit in %d bytes", c, end-d.off)
	}
	return end, int(c), nil
}

func (d *decoder) dict(depth int) (Dict, error) {
	end, count, err := d.container(depth)
	if err != nil {
		return nil, err
	}
	m := make(Dict, min(count, preallocMax))
	for i := 0; i < count; i++ {
		keyAt := d.off
		k, err := d.cstring()
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		// One map operation per key: a duplicate does not grow the map.
		m[k] = v
		if len(m) != i+1 {
			return nil, d.failAt(keyAt, "duplicate key %q", k)
		}
	}
	if d.off != end {
		return nil, d.fail("dictionary length disagrees with its contents")
	}
	return m, nil
}

func (d *decoder) array(depth int) ([]any, error) {
	end, count, err := d.container(depth)
	if err != nil {
		return nil, err
	}
	a := make([]any, 0, min(count, preallocMax))
	for i := 0; i < count; i++ {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
	if d.off != end {
		return nil, d.fail("array length disagrees with its contents")
	}
	return a, nil
}

func (d *decoder) value(depth int) (any, error) {
	at := d.off
	tag, err := d.u32()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNull:
		return nil, nil
	case tagBool:
		v, err := d.u32()
		if err != nil {
			return nil, err
		}
		if v > 1 {
			return nil, d.failAt(at, "bool value %d", v)
		}
		return v == 1, nil
	case tagInt64:
		v, err := d.u64()
		return int64(v), err
	case tagUint64:
		return d.u64()
	case tagDouble:
		v, err := d.u64()
		return math.Float64frombits(v), err
	case tagDate:
		v, err := d.u64()
		return time.Unix(0, int64(v)), err
	case tagData:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		b, err := d.bytes(n)
		if err != nil {
			return nil, err
		}
		return append([]byte{}, b...), nil
	case tagString:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, d.failAt(at, "string length 0 (must count its NUL)")
		}
		b, err := d.bytes(n)
		if err != nil {
			return nil, err
		}
		if b[n-1] != 0 {
			return nil, d.failAt(at, "string not NUL-terminated")
		}
		s := b[:n-1]
		if i := bytes.IndexByte(s, 0); i >= 0 {
			return nil, d.failAt(at+8+i, "string contains a NUL byte")
		}
		return d.str(s), nil
	case tagUUID:
		b, err := d.bytes(16)
		if err != nil {
			return nil, err
		}
		return UUID(b), nil
	case tagFD:
		i, err := d.u32()
		if err != nil {
			return nil, err
		}
		if d.att == nil || uint64(i) >= uint64(len(d.att.files)) || d.usedFiles[i] {
			return nil, d.failAt(at, "file descriptor %d was not attached", i)
		}
		d.usedFiles[i] = true
		return d.att.files[i], nil
	case tagEndpoint:
		i, err := d.u32()
		if err != nil {
			return nil, err
		}
		if d.att == nil || uint64(i) >= uint64(len(d.att.endpoints)) {
			return nil, d.failAt(at, "endpoint %d was not attached", i)
		}
		return d.att.endpoints[i], nil
	case tagArray:
		return d.array(depth + 1)
	case tagDictionary:
		return d.dict(depth + 1)
	}
	return nil, d.failAt(at, "unsupported type %#x", tag)
}
