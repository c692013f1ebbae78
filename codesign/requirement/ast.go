package requirement

import (
	"fmt"
	"time"
)

// Expr is one node of a requirement expression. The concrete types in this
// package (And, Or, Not, Identifier, CertField, ...) are the only
// implementations, so evaluators can type-switch over them.
type Expr interface {
	isExpr()
}

// Op is an expression opcode of Apple's binary requirement form
// (ExprOp in Security's requirement.h).
type Op uint32

// Opcodes; the values are Apple's.
const (
	OpFalse              Op = 0  // never
	OpTrue               Op = 1  // always
	OpIdent              Op = 2  // identifier "..."
	OpAppleAnchor        Op = 3  // anchor apple
	OpAnchorHash         Op = 4  // certificate <slot> = H"sha1"
	OpInfoKeyValue       Op = 5  // legacy info[key] = value
	OpAnd                Op = 6  // expr and expr
	OpOr                 Op = 7  // expr or expr
	OpCDHash             Op = 8  // cdhash H"..."
	OpNot                Op = 9  // ! expr
	OpInfoKeyField       Op = 10 // info[key] match
	OpCertField          Op = 11 // certificate <slot>[subject.X] match
	OpTrustedCert        Op = 12 // certificate <slot> trusted
	OpTrustedCerts       Op = 13 // anchor trusted
	OpCertGeneric        Op = 14 // certificate <slot>[field.OID] match
	OpAppleGenericAnchor Op = 15 // anchor apple generic
	OpEntitlementField   Op = 16 // entitlement[key] match
	OpCertPolicy         Op = 17 // certificate <slot>[policy.OID] match
	OpNamedAnchor        Op = 18 // anchor apple <name>
	OpNamedCode          Op = 19 // (<name>)
	OpPlatform           Op = 20 // platform = N
	OpNotarized          Op = 21 // notarized
	OpCertFieldDate      Op = 22 // certificate <slot>[timestamp.OID] match
	OpLegacyDevID        Op = 23 // legacy

	// OpFlagMask selects the flag byte of an opcode.
	OpFlagMask Op = 0xFF000000
	// OpGenericFalse marks an opcode followed by a size field that an
	// interpreter which does not know it may treat as false.
	OpGenericFalse Op = 0x80000000
	// OpGenericSkip marks an opcode followed by a size field that an
	// interpreter which does not know it may skip, evaluating the next
	// expression in its place.
	OpGenericSkip Op = 0x40000000
)

// MatchOp is the match operation of a field test (MatchOperation in
// Security's requirement.h).
type MatchOp uint32

// Match operations; the values are Apple's.
const (
	MatchExists       MatchOp = 0  // exists (anything but false)
	MatchEqual        MatchOp = 1  // = value
	MatchContains     MatchOp = 2  // ~ value, or = *value*
	MatchBeginsWith   MatchOp = 3  // = value*
	MatchEndsWith     MatchOp = 4  // = *value
	MatchLessThan     MatchOp = 5  // < value
	MatchGreaterThan  MatchOp = 6  // > value
	MatchLessEqual    MatchOp = 7  // <= value
	MatchGreaterEqual MatchOp = 8  // >= value
	MatchOn           MatchOp = 9  // = timestamp "..."
	MatchBefore       MatchOp = 10 // < timestamp "..."
	MatchAfter        MatchOp = 11 // > timestamp "..."
	MatchOnOrBefore   MatchOp = 12 // <= timestamp "..."
	MatchOnOrAfter    MatchOp = 13 // >= timestamp "..."
	MatchAbsent       MatchOp = 14 // absent
)

// HasValue reports whether the operation compares against a string value.
func (m MatchOp) HasValue() bool { return m >= MatchEqual && m <= MatchGreaterEqual }

// IsDate reports whether the operation compares against a timestamp.
func (m MatchOp) IsDate() bool { return m >= MatchOn && m <= MatchOnOrAfter }

// appleEpoch is the CFAbsoluteTime reference date (2001-01-01T00:00:00Z)
// in Unix seconds; binary timestamps count seconds from it.
const appleEpoch = 978307200

// Match is the test applied to an Info.plist value, entitlement or
// certificate field.
type Match struct {
	Op MatchOp
	// Value is the operand of string operations (MatchEqual ...
	// MatchGreaterEqual). It holds raw bytes: text written as 0x… hex may
	// not be UTF-8.
	Value string
	// Seconds is the operand of date operations (MatchOn ... MatchOnOrAfter)
	// in seconds since 2001-01-01T00:00:00Z, as Apple stores it.
	Seconds int64
}

// Time returns the date operand as a time.Time in UTC.
func (m Match) Time() time.Time { return time.Unix(m.Seconds, 0).Add(appleEpoch * time.Second).UTC() }

// Slot selects a certificate in the signing chain. Non-negative slots count
// from the leaf (0), negative ones from the anchor (-1).
type Slot int32

// Named certificate slots.
const (
	SlotLeaf Slot = 0
	SlotRoot Slot = -1
)

// String returns the slot as written in requirement text.
func (s Slot) String() string {
	switch s {
	case SlotLeaf:
		return "leaf"
	case SlotRoot:
		return "root"
	}
	return fmt.Sprint(int32(s))
}

// CertFieldKind says which part of a certificate a CertField tests.
type CertFieldKind int

// Certificate field kinds.
const (
	// FieldSubject tests a subject attribute ("subject.OU"; OpCertField).
	FieldSubject CertFieldKind = iota
	// FieldOID tests for an extension or field by OID ("field.OID" or
	// "extension.OID"; OpCertGeneric).
	FieldOID
	// FieldPolicy tests for a certificate policy OID ("policy.OID";
	// OpCertPolicy).
	FieldPolicy
	// FieldDate tests a date-valued extension ("timestamp.OID";
	// OpCertFieldDate).
	FieldDate
)

type (
	// And is true when both operands are.
	And struct{ Left, Right Expr }
	// Or is true when either operand is.
	Or struct{ Left, Right Expr }
	// Not negates its operand.
	Not struct{ X Expr }
	// Always is always true ("always" or "true").
	Always struct{}
	// Never is always false ("never" or "false").
	Never struct{}
	// Identifier matches the signing identifier exactly.
	Identifier struct{ Value string }
	// CDHash matches the code directory hash.
	CDHash struct{ Hash []byte }
	// Platform matches the platform identifier in the code directory.
	Platform struct{ Value int32 }
	// Notarized requires a notarization ticket (online or stapled).
	Notarized struct{}
	// Legacy is Apple's pre-notarization Developer ID policy ("legacy").
	Legacy struct{}
	// AppleAnchor requires code signed by Apple as Apple's own product
	// ("anchor apple").
	AppleAnchor struct{}
	// AppleGenericAnchor requires a chain anchored at an Apple root
	// ("anchor apple generic"), as for App Store and Developer ID code.
	AppleGenericAnchor struct{}
	// NamedAnchor refers to an anchor requirement shipped inside
	// Security.framework ("anchor apple <name>").
	NamedAnchor struct{ Name string }
	// NamedCode refers to a code requirement shipped inside
	// Security.framework ("(<name>)").
	NamedCode struct{ Name string }
	// TrustedAnchor requires the chain to be trusted by the system's trust
	// settings ("anchor trusted").
	TrustedAnchor struct{}
	// TrustedCert requires one certificate to be trusted by the trust
	// settings ("certificate <slot> trusted").
	TrustedCert struct{ Slot Slot }
	// CertHash matches the SHA-1 of one certificate
	// ("certificate <slot> = H\"…\"", "anchor = H\"…\"").
	CertHash struct {
		Slot Slot
		Hash []byte
	}
	// CertField tests a field of one certificate.
	CertField struct {
		Slot Slot
		Kind CertFieldKind
		// Key is the subject key ("subject.OU") for FieldSubject and the
		// dotted OID ("1.2.840.113635.100.6.2.6") for the other kinds.
		Key   string
		Match Match
	}
	// InfoKey tests an Info.plist entry ("info[key] match").
	InfoKey struct {
		Key   string
		Match Match
	}
	// LegacyInfoKey is the obsolete OpInfoKeyValue form of
	// info[key] = value; it is only produced by decoding old blobs.
	LegacyInfoKey struct{ Key, Value string }
	// Entitlement tests an entitlement ("entitlement[key] match").
	Entitlement struct {
		Key   string
		Match Match
	}
	// UnknownOp is an opcode this package does not know, carrying one of
	// the flags OpGenericFalse or OpGenericSkip (anything else is an error).
	// Apple evaluates it as false (OpGenericFalse) or skips it and evaluates
	// Then in its place (OpGenericSkip). It is only produced by decoding.
	UnknownOp struct {
		Op   Op
		Data []byte
		Then Expr // nil when the op evaluates to false
	}
)

func (And) isExpr()                {}
func (Or) isExpr()                 {}
func (Not) isExpr()                {}
func (Always) isExpr()             {}
func (Never) isExpr()              {}
func (Identifier) isExpr()         {}
func (CDHash) isExpr()             {}
func (Platform) isExpr()           {}
func (Notarized) isExpr()          {}
func (Legacy) isExpr()             {}
func (AppleAnchor) isExpr()        {}
func (AppleGenericAnchor) isExpr() {}
func (NamedAnchor) isExpr()        {}
func (NamedCode) isExpr()          {}
func (TrustedAnchor) isExpr()      {}
func (TrustedCert) isExpr()        {}
func (CertHash) isExpr()           {}
func (CertField) isExpr()          {}
func (InfoKey) isExpr()            {}
func (LegacyInfoKey) isExpr()      {}
func (Entitlement) isExpr()        {}
func (UnknownOp) isExpr()          {}

// Requirement is one code requirement: an expression in Apple's
// "expression form" (kind 1).
type Requirement struct {
	Expr Expr
}

// New wraps an expression in a Requirement.
func New(e Expr) *Requirement { return &Requirement{Expr: e} }
