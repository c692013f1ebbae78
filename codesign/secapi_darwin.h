// secapi_darwin.h: the part of CoreFoundation and Security.framework that
// package codesign calls, declared by hand.
//
// Why not <Security/Security.h>? Those headers live in the frameworks, not in
// the SDK's usr/include, so a cross compiler that has only libSystem headers
// (zig's macOS SDK, used by CI to vet the darwin build on Linux) cannot see
// them. Like Go's own crypto/x509/internal/macos, the package instead declares
// exactly what it uses; only libSystem headers are included. Linking still
// takes the real frameworks (-framework Security -framework CoreFoundation).
//
// Every declaration copies the macOS 13 SDK. codesign/internal/sdkcheck
// compiles this file together with the real SDK headers, for arm64 and
// x86_64, so that any difference in a type, a prototype, a constant's type or
// an enum value is a compile error (run codesign/internal/sdkcheck/check.sh).
// Change this file only together with that check.
//
// GOXPC_SECAPI_SDKCHECK is defined only by that check. C cannot declare an
// anonymous struct or an enumerator twice, so the SDK then provides those and
// this file defines its own under goxpc_ours_ names, which the check compares
// (layout, field types, values). Everything else is declared twice as is,
// which C accepts only if both declarations agree.

// Each opaque FooRef type comes with its FooGetTypeID declaration, used or
// not: cgo represents FooRef as a uintptr (not a Go pointer, which a tagged
// CF pointer must never be) only when FooGetTypeID is declared, and the Go
// code relies on that (cmd/cgo's badCFType; sdkcheck tests it).

#ifndef GOXPC_SECAPI_DARWIN_H
#define GOXPC_SECAPI_DARWIN_H

#include <MacTypes.h>  // UInt8, UInt32, SInt32, Boolean, OSStatus
#include <stdint.h>
#include <xpc/xpc.h>   // xpc_object_t, for SecCodeCreateWithXPCMessage

#ifdef GOXPC_SECAPI_SDKCHECK
#define GOXPC_SDK_NAME(name) goxpc_ours_##name
#else
#define GOXPC_SDK_NAME(name) name
#endif

// ---- CoreFoundation: CFBase.h (LP64: CFIndex is long, CFTypeID unsigned long)

typedef unsigned long CFTypeID;
typedef unsigned long CFOptionFlags;
typedef unsigned long CFHashCode;
typedef signed long CFIndex;
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef CFTypeRef CFPropertyListRef;
typedef const struct __CFAllocator *CFAllocatorRef;

typedef struct {
	CFIndex location;
	CFIndex length;
} GOXPC_SDK_NAME(CFRange);

extern CFTypeID CFAllocatorGetTypeID(void);
extern CFTypeID CFGetTypeID(CFTypeRef cf);
extern void CFRelease(CFTypeRef cf);

// ---- CFArray.h, CFData.h, CFDate.h, CFError.h, CFNumber.h, CFURL.h

typedef const struct __CFArray *CFArrayRef;
extern CFTypeID CFArrayGetTypeID(void);
extern CFIndex CFArrayGetCount(CFArrayRef theArray);
extern const void *CFArrayGetValueAtIndex(CFArrayRef theArray, CFIndex idx);

typedef const struct __CFData *CFDataRef;
extern CFTypeID CFDataGetTypeID(void);
extern CFDataRef CFDataCreate(CFAllocatorRef allocator, const UInt8 *bytes, CFIndex length);
extern CFIndex CFDataGetLength(CFDataRef theData);
extern const UInt8 *CFDataGetBytePtr(CFDataRef theData);

typedef double CFTimeInterval;
typedef CFTimeInterval CFAbsoluteTime;
typedef const struct __CFDate *CFDateRef;
extern CFTypeID CFDateGetTypeID(void);
extern CFAbsoluteTime CFDateGetAbsoluteTime(CFDateRef theDate);

typedef struct __CFError *CFErrorRef;
extern CFTypeID CFErrorGetTypeID(void);
extern CFStringRef CFErrorCopyDescription(CFErrorRef err);

typedef CFIndex CFNumberType;
typedef const struct __CFNumber *CFNumberRef;
extern CFTypeID CFNumberGetTypeID(void);
extern CFNumberRef CFNumberCreate(CFAllocatorRef allocator, CFNumberType theType, const void *valuePtr);
extern Boolean CFNumberGetValue(CFNumberRef number, CFNumberType theType, void *valuePtr);

typedef const struct __CFURL *CFURLRef;
extern CFTypeID CFURLGetTypeID(void);
extern CFURLRef CFURLCreateFromFileSystemRepresentation(CFAllocatorRef allocator, const UInt8 *buffer, CFIndex bufLen, Boolean isDirectory);
extern Boolean CFURLGetFileSystemRepresentation(CFURLRef url, Boolean resolveAgainstBase, UInt8 *buffer, CFIndex maxBufLen);

// ---- CFString.h

typedef UInt32 CFStringEncoding;
extern CFTypeID CFStringGetTypeID(void);
extern CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *cStr, CFStringEncoding encoding);
extern CFIndex CFStringGetLength(CFStringRef theString);
extern CFIndex CFStringGetBytes(CFStringRef theString, CFRange range, CFStringEncoding encoding, UInt8 lossByte, Boolean isExternalRepresentation, UInt8 *buffer, CFIndex maxBufLen, CFIndex *usedBufLen);

// ---- CFDictionary.h

typedef const void *(*CFDictionaryRetainCallBack)(CFAllocatorRef allocator, const void *value);
typedef void (*CFDictionaryReleaseCallBack)(CFAllocatorRef allocator, const void *value);
typedef CFStringRef (*CFDictionaryCopyDescriptionCallBack)(const void *value);
typedef Boolean (*CFDictionaryEqualCallBack)(const void *value1, const void *value2);
typedef CFHashCode (*CFDictionaryHashCallBack)(const void *value);

typedef struct {
	CFIndex version;
	CFDictionaryRetainCallBack retain;
	CFDictionaryReleaseCallBack release;
	CFDictionaryCopyDescriptionCallBack copyDescription;
	CFDictionaryEqualCallBack equal;
	CFDictionaryHashCallBack hash;
} GOXPC_SDK_NAME(CFDictionaryKeyCallBacks);

typedef struct {
	CFIndex version;
	CFDictionaryRetainCallBack retain;
	CFDictionaryReleaseCallBack release;
	CFDictionaryCopyDescriptionCallBack copyDescription;
	CFDictionaryEqualCallBack equal;
} GOXPC_SDK_NAME(CFDictionaryValueCallBacks);

extern const CFDictionaryKeyCallBacks kCFTypeDictionaryKeyCallBacks;
extern const CFDictionaryValueCallBacks kCFTypeDictionaryValueCallBacks;

typedef const struct __CFDictionary *CFDictionaryRef;
extern CFTypeID CFDictionaryGetTypeID(void);
extern CFDictionaryRef CFDictionaryCreate(CFAllocatorRef allocator, const void **keys, const void **values, CFIndex numValues, const CFDictionaryKeyCallBacks *keyCallBacks, const CFDictionaryValueCallBacks *valueCallBacks);
extern const void *CFDictionaryGetValue(CFDictionaryRef theDict, const void *key);

// ---- CFPropertyList.h

typedef CFIndex CFPropertyListFormat;
extern CFDataRef CFPropertyListCreateData(CFAllocatorRef allocator, CFPropertyListRef propertyList, CFPropertyListFormat format, CFOptionFlags options, CFErrorRef *error);

// ---- Security: SecBase.h, SecCertificate.h

typedef struct __SecCertificate *SecCertificateRef;
extern CFStringRef SecCopyErrorMessageString(OSStatus status, void *reserved);
extern CFTypeID SecCertificateGetTypeID(void);
extern CFDataRef SecCertificateCopyData(SecCertificateRef certificate);
extern CFStringRef SecCertificateCopySubjectSummary(SecCertificateRef certificate);

// ---- CSCommon.h, SecCode.h, SecStaticCode.h, SecRequirement.h

typedef struct __SecCode *SecCodeRef;               // running code
typedef struct __SecCode const *SecStaticCodeRef;   // code on disk
typedef struct __SecRequirement *SecRequirementRef;
typedef uint32_t SecCSFlags;

extern CFTypeID SecCodeGetTypeID(void);
extern CFTypeID SecStaticCodeGetTypeID(void);
extern CFTypeID SecRequirementGetTypeID(void);

extern OSStatus SecStaticCodeCreateWithPath(CFURLRef path, SecCSFlags flags, SecStaticCodeRef *staticCode);
extern OSStatus SecCodeCopyGuestWithAttributes(SecCodeRef host, CFDictionaryRef attributes, SecCSFlags flags, SecCodeRef *guest);
extern OSStatus SecCodeCreateWithXPCMessage(xpc_object_t message, SecCSFlags flags, SecCodeRef *target); // macOS 11+
extern OSStatus SecCodeCopySigningInformation(SecStaticCodeRef code, SecCSFlags flags, CFDictionaryRef *information);
extern OSStatus SecCodeCopyDesignatedRequirement(SecStaticCodeRef code, SecCSFlags flags, SecRequirementRef *requirement);
extern OSStatus SecCodeCheckValidityWithErrors(SecCodeRef code, SecCSFlags flags, SecRequirementRef requirement, CFErrorRef *errors);
extern OSStatus SecStaticCodeCheckValidityWithErrors(SecStaticCodeRef staticCode, SecCSFlags flags, SecRequirementRef requirement, CFErrorRef *errors);
extern OSStatus SecRequirementCreateWithStringAndErrors(CFStringRef text, SecCSFlags flags, CFErrorRef *errors, SecRequirementRef *requirement);
extern OSStatus SecRequirementCopyString(SecRequirementRef requirement, SecCSFlags flags, CFStringRef *text);

extern const CFStringRef kSecGuestAttributePid;
extern const CFStringRef kSecGuestAttributeAudit;

extern const CFStringRef kSecCodeInfoCertificates;
extern const CFStringRef kSecCodeInfoDigestAlgorithm;
extern const CFStringRef kSecCodeInfoEntitlements;
extern const CFStringRef kSecCodeInfoEntitlementsDict;
extern const CFStringRef kSecCodeInfoFlags;
extern const CFStringRef kSecCodeInfoFormat;
extern const CFStringRef kSecCodeInfoIdentifier;
extern const CFStringRef kSecCodeInfoMainExecutable;
extern const CFStringRef kSecCodeInfoTeamIdentifier;
extern const CFStringRef kSecCodeInfoTime;
extern const CFStringRef kSecCodeInfoUnique;

// ---- Enumerators, as X(name, value): the enum below, and the check's
// _Static_assert(name == value) for each, come from this one list.

#define GOXPC_SECAPI_ENUMERATORS(X)                 \
	X(kCFNumberSInt32Type, 3)                       \
	X(kCFNumberSInt64Type, 4)                       \
	X(kCFPropertyListXMLFormat_v1_0, 100)           \
	X(kCFStringEncodingUTF8, 0x08000100)            \
	X(kSecCSDefaultFlags, 0)                        \
	X(kSecCSCheckAllArchitectures, 1 << 0)          \
	X(kSecCSSigningInformation, 1 << 1)             \
	X(kSecCSCheckNestedCode, 1 << 3)                \
	X(kSecCSStrictValidate, 1 << 4)

#define GOXPC_SECAPI_ENUMERATOR(name, value) GOXPC_SDK_NAME(name) = (value),
enum { GOXPC_SECAPI_ENUMERATORS(GOXPC_SECAPI_ENUMERATOR) };
#undef GOXPC_SECAPI_ENUMERATOR

#endif // GOXPC_SECAPI_DARWIN_H
