// Package requirement implements Apple's Code Signing Requirement Language
// in pure Go: a parser for requirement text, a compiler to the binary form
// that code signatures, TCC and Security.framework store (magic 0xfade0c00,
// requirement sets 0xfade0c01), a decompiler back to the canonical text
// codesign prints, and a Builder for the common shapes.
//
// It runs on every OS, so requirements can be validated and inspected on
// Linux CI; the parent package codesign evaluates them against signatures.
//
// # Validating before use
//
// NSXPCConnection and xpc_connection_set_peer_code_signing_requirement abort
// the process on invalid text. Parse accepts exactly the language Apple's
// compiler accepts (minus certificate file references), so check text with
// Parse first and hand the original text to the system only if it parses:
//
//	if _, err := requirement.Parse(text); err != nil {
//		return err // a *SyntaxError with line, column and the bad token
//	}
//
// # Recommended requirement for XPC peers
//
// A Team ID alone is not enough: anyone can create a self-signed
// certificate whose subject OU is your team ID. A service that talks to one
// Developer ID–signed app should require the identifier, an Apple anchor,
// both Developer ID markers and the team:
//
//	identifier "com.example.app" and anchor apple generic and
//	certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and
//	certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and
//	certificate leaf[subject.OU] = ABCDE12345
//
// DeveloperIDApp builds exactly this; Builder composes variations (several
// identifiers, a minimum version, entitlements). For App Store apps use
// Builder without DeveloperID and add
// CertificateExtension(SlotLeaf, OIDMacAppStoreApplication).
//
// # Fidelity
//
// Compiling is byte-for-byte Apple's (csreq -b). Requirement.String prints
// Apple's canonical text (codesign -d -r-), departing only where Apple's
// printer emits text its own parser cannot read back; see
// Requirement.String. Unknown opcodes are handled as Apple's interpreter
// does: those flagged OpGenericFalse or OpGenericSkip decode to UnknownOp,
// others are errors. Inputs are limited by MaxTextSize, MaxBlobSize and
// MaxDepth, and no input makes any function here panic.
package requirement
