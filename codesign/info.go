// Package codesign reads and checks Apple code signatures.
//
// The pure-Go parts (the Mach-O signature reader, hash and CMS verification,
// and static evaluation of requirements) work on every OS, so release
// artifacts can be checked on Linux CI. On darwin the package also wraps
// Security.framework (SecStaticCode and SecCode) to describe and check files,
// running processes, audit tokens and the senders of XPC messages; both paths
// produce the same Info struct where their fields overlap.
package codesign

import "time"

// CodeFlags are the code-signing flags stored in a CodeDirectory
// (CS_ADHOC, CS_HARD, CS_RUNTIME, ... from <Kernel/kern/cs_blobs.h>).
type CodeFlags uint32

// Code-signing flags; the values are Apple's.
const (
	FlagHost            CodeFlags = 0x00000001
	FlagAdhoc           CodeFlags = 0x00000002
	FlagForceHard       CodeFlags = 0x00000100
	FlagForceKill       CodeFlags = 0x00000200
	FlagForceExpiration CodeFlags = 0x00000400
	FlagRestrict        CodeFlags = 0x00000800
	FlagEnforcement     CodeFlags = 0x00001000
	FlagRequireLV       CodeFlags = 0x00002000
	FlagRuntime         CodeFlags = 0x00010000
	FlagLinkerSigned    CodeFlags = 0x00020000
	FlagInstallerSigned CodeFlags = 0x00040000 // historical; unused by the kernel
)

// Certificate is the part of a signing certificate that requirements and
// people look at.
type Certificate struct {
	Subject            string // RFC 2253 style, e.g. "CN=Developer ID Application: Example (ABCDE12345),OU=ABCDE12345,O=Example,C=US"
	CommonName         string
	OrganizationalUnit string // the Team ID for Apple-issued certificates
	Organization       string
	SHA1               []byte // certificate hash, as "certificate leaf = H\"…\"" compares
	SHA256             []byte
	Raw                []byte // DER
}

// Info describes one code signature. Fields that a source cannot provide are
// left at their zero value.
type Info struct {
	// MainExecutable is the path of the signed executable, when known.
	MainExecutable string
	// Format names the container, e.g. "Mach-O thin (arm64)" or
	// "Mach-O universal (x86_64 arm64)".
	Format string
	// Identifier is the signing identifier (usually the bundle ID).
	Identifier string
	// TeamID is the team identifier stored in the CodeDirectory; empty for
	// ad-hoc and most Apple platform code.
	TeamID string
	// CDHash is the code directory hash that identifies this code to the
	// kernel: the first 20 bytes of the best CodeDirectory's hash.
	CDHash []byte
	// HashType names the CodeDirectory hash algorithm ("sha1", "sha256", ...).
	HashType string
	// Flags are the CodeDirectory flags (FlagAdhoc, FlagRuntime, ...).
	Flags CodeFlags
	// Entitlements holds the signed entitlements, decoded from their plist.
	Entitlements map[string]any
	// Certificates is the signer's chain, leaf first; empty for ad-hoc code.
	Certificates []Certificate
	// SigningTime is the CMS signing time, if the signature has one.
	SigningTime time.Time
	// DesignatedRequirement is the designated requirement in canonical text,
	// explicit or implied.
	DesignatedRequirement string
}

// Adhoc reports whether the signature is ad hoc (no certificate chain).
func (i *Info) Adhoc() bool { return i.Flags&FlagAdhoc != 0 }
