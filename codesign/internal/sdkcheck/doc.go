// Package sdkcheck holds the check that codesign's hand-written declarations
// of the CoreFoundation and Security.framework API (codesign/secapi_darwin.h)
// match Apple's SDK headers. It has no code: the check is check.sh and the
// tests of this package, which need zig and framework headers (set
// DARWIN_FRAMEWORKS to a directory holding CoreFoundation.framework and
// Security.framework) and skip without them.
//
// codesign declares that API itself so that its darwin code compiles (and CI
// can vet it) with a macOS SDK that has only libSystem headers, such as zig's.
// A wrong declaration would not fail to compile there: it would pass wrong
// values across the C ABI at run time. This check is what rules that out.
package sdkcheck
