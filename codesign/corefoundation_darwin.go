//go:build cgo

package codesign

// Thin wrappers over the CoreFoundation calls the Security.framework binding
// needs, one Go function per C function in the style of Go's
// crypto/x509/internal/macos. Ownership rules, kept everywhere:
//
//   - a value from a Create or Copy function is released exactly once, by the
//     caller, with a deferred cfRelease right after the call succeeded;
//   - a value from a Get function (cfDictionaryGetValue,
//     cfArrayGetValueAtIndex) is borrowed and never released;
//   - strings and bytes are copied into Go memory before the owning object
//     is released, and C never keeps a Go pointer.
//
// cgo represents the CF*Ref types (and Security's *Ref types that have a
// GetTypeID function) as uintptr, so a nil reference is 0. CoreFoundation
// may hand out tagged pointers (small CFNumbers, CFStrings) that are not
// addresses; the three helpers below exist so that such a value never passes
// through a Go unsafe.Pointer, which the garbage collector might inspect.

/*
#cgo LDFLAGS: -framework CoreFoundation
#include "secapi_darwin.h" // our declarations of the CoreFoundation API: see that file
#include <limits.h>
#include <stdlib.h>

static CFTypeRef goxpc_CFDictionaryGetValue(CFDictionaryRef d, CFTypeRef key) {
	return CFDictionaryGetValue(d, key);
}

static CFTypeRef goxpc_CFArrayGetValueAtIndex(CFArrayRef a, CFIndex i) {
	return CFArrayGetValueAtIndex(a, i);
}

static CFDictionaryRef goxpc_CFDictionaryCreate1(CFTypeRef key, CFTypeRef value) {
	const void *keys[1] = {key};
	const void *values[1] = {value};
	return CFDictionaryCreate(NULL, keys, values, 1,
		&kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
}
*/
import "C"

import (
	"fmt"
	"strings"
	"time"
	"unsafe"
)

// cfRelease releases a reference obtained from a Create or Copy function.
func cfRelease(ref C.CFTypeRef) {
	C.CFRelease(ref)
}

// cfGetTypeID returns the CoreFoundation type of ref.
func cfGetTypeID(ref C.CFTypeRef) C.CFTypeID {
	return C.CFGetTypeID(ref)
}

// cfStringCreateWithCString returns a new CFString holding s, or an error if
// s contains a NUL byte (which C would silently cut the string at).
func cfStringCreateWithCString(s string) (C.CFStringRef, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return 0, fmt.Errorf("codesign: string %q contains a NUL byte", s)
	}
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	ref := C.CFStringCreateWithCString(0, cs, C.kCFStringEncodingUTF8)
	if ref == 0 {
		return 0, fmt.Errorf("codesign: cfStringCreateWithCString failed for %q", s)
	}
	return ref, nil
}

// cfStringToString copies a CFString into a Go string (UTF-8).
func cfStringToString(s C.CFStringRef) string {
	if s == 0 {
		return ""
	}
	r := C.CFRange{location: 0, length: C.CFStringGetLength(s)}
	var n C.CFIndex
	// The first call measures, the second copies.
	C.CFStringGetBytes(s, r, C.kCFStringEncodingUTF8, 0, 0, nil, 0, &n)
	if n == 0 {
		return ""
	}
	buf := make([]byte, n)
	C.CFStringGetBytes(s, r, C.kCFStringEncodingUTF8, 0, 0,
		(*C.UInt8)(unsafe.Pointer(&buf[0])), n, &n)
	return string(buf[:n])
}

// cfDataCreate returns a new CFData holding a copy of b.
func cfDataCreate(b []byte) C.CFDataRef {
	var p *C.UInt8
	if len(b) > 0 {
		p = (*C.UInt8)(unsafe.Pointer(&b[0]))
	}
	return C.CFDataCreate(0, p, C.CFIndex(len(b)))
}

// cfDataToSlice copies the contents of a CFData into Go memory.
func cfDataToSlice(d C.CFDataRef) []byte {
	n := C.CFDataGetLength(d)
	if n <= 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(C.CFDataGetBytePtr(d)), C.int(n))
}

// cfNumberCreateInt32 returns a new CFNumber holding v.
func cfNumberCreateInt32(v int32) C.CFNumberRef {
	cv := C.int32_t(v)
	return C.CFNumberCreate(0, C.kCFNumberSInt32Type, unsafe.Pointer(&cv))
}

// cfNumberGetValue returns the value of a CFNumber as an int64; ok is false
// if it does not fit.
func cfNumberGetValue(n C.CFNumberRef) (v int64, ok bool) {
	var cv C.int64_t
	ok = C.CFNumberGetValue(n, C.kCFNumberSInt64Type, unsafe.Pointer(&cv)) != 0
	return int64(cv), ok
}

// cfDictionaryCreate returns a new dictionary holding one key and value,
// both retained by the dictionary.
func cfDictionaryCreate(key, value C.CFTypeRef) C.CFDictionaryRef {
	return C.goxpc_CFDictionaryCreate1(key, value)
}

// cfDictionaryGetValue returns the value stored under key, or 0. The value
// is borrowed from dict: never release it.
func cfDictionaryGetValue(dict C.CFDictionaryRef, key C.CFStringRef) C.CFTypeRef {
	return C.goxpc_CFDictionaryGetValue(dict, C.CFTypeRef(key))
}

// cfArrayGetCount returns the number of elements of a CFArray.
func cfArrayGetCount(a C.CFArrayRef) int {
	return int(C.CFArrayGetCount(a))
}

// cfArrayGetValueAtIndex returns element i of a CFArray, borrowed from the
// array: never release it.
func cfArrayGetValueAtIndex(a C.CFArrayRef, i int) C.CFTypeRef {
	return C.goxpc_CFArrayGetValueAtIndex(a, C.CFIndex(i))
}

// cfURLCreateFromFileSystemRepresentation returns a new file URL for path.
func cfURLCreateFromFileSystemRepresentation(path string) (C.CFURLRef, error) {
	if strings.IndexByte(path, 0) >= 0 {
		return 0, fmt.Errorf("codesign: path %q contains a NUL byte", path)
	}
	cs := C.CString(path)
	defer C.free(unsafe.Pointer(cs))
	u := C.CFURLCreateFromFileSystemRepresentation(0, (*C.UInt8)(unsafe.Pointer(cs)), C.CFIndex(len(path)), 0)
	if u == 0 {
		return 0, fmt.Errorf("codesign: cfURLCreateFromFileSystemRepresentation failed for %q", path)
	}
	return u, nil
}

// cfURLGetFileSystemRepresentation returns the file system path of a file
// URL, or "" if it has none.
func cfURLGetFileSystemRepresentation(u C.CFURLRef) string {
	var buf [C.PATH_MAX + 1]C.UInt8
	if C.CFURLGetFileSystemRepresentation(u, 1, &buf[0], C.CFIndex(len(buf))) == 0 {
		return ""
	}
	return C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
}

// cfAbsoluteTimeEpoch is the reference date of CFAbsoluteTime.
var cfAbsoluteTimeEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// cfDateGetAbsoluteTime returns a CFDate as a time.Time (UTC).
func cfDateGetAbsoluteTime(d C.CFDateRef) time.Time {
	secs := float64(C.CFDateGetAbsoluteTime(d))
	return cfAbsoluteTimeEpoch.Add(time.Duration(secs * float64(time.Second)))
}

// cfErrorCopyDescription returns Apple's description of a CFError.
func cfErrorCopyDescription(e C.CFErrorRef) string {
	s := C.CFErrorCopyDescription(e)
	if s == 0 {
		return ""
	}
	defer cfRelease(C.CFTypeRef(s))
	return cfStringToString(s)
}

// cfPropertyListCreateData serializes a property list as XML (format
// kCFPropertyListXMLFormat_v1_0).
func cfPropertyListCreateData(plist C.CFPropertyListRef) ([]byte, error) {
	var cerr C.CFErrorRef
	d := C.CFPropertyListCreateData(0, plist, C.kCFPropertyListXMLFormat_v1_0, 0, &cerr)
	if d == 0 {
		msg := "unknown error"
		if cerr != 0 {
			msg = cfErrorCopyDescription(cerr)
			cfRelease(C.CFTypeRef(cerr))
		}
		return nil, fmt.Errorf("codesign: cfPropertyListCreateData: %s", msg)
	}
	defer cfRelease(C.CFTypeRef(d))
	return cfDataToSlice(d), nil
}

// Typed, borrowed lookups in a CFDictionary: each returns ok=false when the
// key is absent or its value has another type.

func dictString(dict C.CFDictionaryRef, key C.CFStringRef) (string, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFStringGetTypeID() {
		return "", false
	}
	return cfStringToString(C.CFStringRef(v)), true
}

func dictData(dict C.CFDictionaryRef, key C.CFStringRef) ([]byte, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFDataGetTypeID() {
		return nil, false
	}
	return cfDataToSlice(C.CFDataRef(v)), true
}

func dictNumber(dict C.CFDictionaryRef, key C.CFStringRef) (int64, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFNumberGetTypeID() {
		return 0, false
	}
	return cfNumberGetValue(C.CFNumberRef(v))
}

func dictDate(dict C.CFDictionaryRef, key C.CFStringRef) (time.Time, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFDateGetTypeID() {
		return time.Time{}, false
	}
	return cfDateGetAbsoluteTime(C.CFDateRef(v)), true
}

func dictURLPath(dict C.CFDictionaryRef, key C.CFStringRef) (string, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFURLGetTypeID() {
		return "", false
	}
	return cfURLGetFileSystemRepresentation(C.CFURLRef(v)), true
}

func dictArray(dict C.CFDictionaryRef, key C.CFStringRef) (C.CFArrayRef, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFArrayGetTypeID() {
		return 0, false
	}
	return C.CFArrayRef(v), true
}

func dictDictionary(dict C.CFDictionaryRef, key C.CFStringRef) (C.CFDictionaryRef, bool) {
	v := cfDictionaryGetValue(dict, key)
	if v == 0 || cfGetTypeID(v) != C.CFDictionaryGetTypeID() {
		return 0, false
	}
	return C.CFDictionaryRef(v), true
}
