// sdkcheck.c proves codesign/secapi_darwin.h agrees with Apple's SDK. It is
// compiled, never linked, by check.sh and sdkcheck_test.go: once per darwin
// architecture, with the real CoreFoundation and Security framework headers
// (-F pointing at a directory holding CoreFoundation.framework and
// Security.framework) and -I pointing at codesign/.
//
// How it proves it: the SDK headers come first, then ours. C lets a typedef,
// a function or an extern object be declared again only with the same type,
// so each of our typedefs, prototypes and extern constants that differs from
// the SDK's (a parameter type, a return type, const-ness, CFIndex's width...)
// is a compile error. What C cannot declare twice, anonymous structs and
// enumerators, our header defines under goxpc_ours_ names in this mode, and
// the _Static_asserts below compare them with the SDK's field by field and
// value by value.

#include <CoreFoundation/CoreFoundation.h>
// Security.h itself needs libDER headers that framework stubs may lack; these
// are the headers that declare everything secapi_darwin.h copies.
#include <Security/CSCommon.h>
#include <Security/SecBase.h>
#include <Security/SecCertificate.h>
#include <Security/SecCode.h>
#include <Security/SecRequirement.h>
#include <Security/SecStaticCode.h>
#include <stddef.h>

#define GOXPC_SECAPI_SDKCHECK 1
#include "secapi_darwin.h"

#define GOXPC_SAME_TYPE(a, b) __builtin_types_compatible_p(a, b)

// A struct agrees when its size and alignment agree and each of our fields
// has the SDK's offset and type.
#define GOXPC_CHECK_STRUCT(T)                                              \
	_Static_assert(sizeof(goxpc_ours_##T) == sizeof(T), #T ": size");      \
	_Static_assert(_Alignof(goxpc_ours_##T) == _Alignof(T), #T ": alignment");
#define GOXPC_CHECK_FIELD(T, f)                                            \
	_Static_assert(offsetof(goxpc_ours_##T, f) == offsetof(T, f),          \
		#T "." #f ": offset");                                             \
	_Static_assert(GOXPC_SAME_TYPE(__typeof__(((goxpc_ours_##T *)0)->f),   \
		__typeof__(((T *)0)->f)), #T "." #f ": type");

GOXPC_CHECK_STRUCT(CFRange)
GOXPC_CHECK_FIELD(CFRange, location)
GOXPC_CHECK_FIELD(CFRange, length)

GOXPC_CHECK_STRUCT(CFDictionaryKeyCallBacks)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, version)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, retain)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, release)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, copyDescription)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, equal)
GOXPC_CHECK_FIELD(CFDictionaryKeyCallBacks, hash)

GOXPC_CHECK_STRUCT(CFDictionaryValueCallBacks)
GOXPC_CHECK_FIELD(CFDictionaryValueCallBacks, version)
GOXPC_CHECK_FIELD(CFDictionaryValueCallBacks, retain)
GOXPC_CHECK_FIELD(CFDictionaryValueCallBacks, release)
GOXPC_CHECK_FIELD(CFDictionaryValueCallBacks, copyDescription)
GOXPC_CHECK_FIELD(CFDictionaryValueCallBacks, equal)

// Every enumerator of our list has the SDK's value (the SDK's name must
// exist, or this does not compile).
#define GOXPC_CHECK_ENUMERATOR(name, value)                                \
	_Static_assert(name == (value) && goxpc_ours_##name == name,           \
		#name ": value differs from the SDK");
GOXPC_SECAPI_ENUMERATORS(GOXPC_CHECK_ENUMERATOR)
