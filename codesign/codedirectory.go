package codesign

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // SHA-1 CodeDirectories exist and must be read
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// HashType is a CodeDirectory hash algorithm (CS_HASHTYPE_* in
// <Kernel/kern/cs_blobs.h>).
type HashType uint8

// Hash types; the values are Apple's.
const (
	HashSHA1            HashType = 1
	HashSHA256          HashType = 2
	HashSHA256Truncated HashType = 3 // SHA-256 cut to 20 bytes
	HashSHA384          HashType = 4
)

// String names the hash type as codesign prints it ("sha1", "sha256", ...).
func (h HashType) String() string {
	switch h {
	case HashSHA1:
		return "sha1"
	case HashSHA256:
		return "sha256"
	case HashSHA256Truncated:
		return "sha256Truncated"
	case HashSHA384:
		return "sha384"
	}
	return fmt.Sprintf("hashtype%d", uint8(h))
}

// Size is the length of one hash of this type, 0 if unknown.
func (h HashType) Size() int {
	switch h {
	case HashSHA1, HashSHA256Truncated:
		return 20
	case HashSHA256:
		return 32
	case HashSHA384:
		return 48
	}
	return 0
}

// New returns a hash.Hash computing this type (truncation is left to Sum
// callers via Size), or nil for an unknown type.
func (h HashType) New() hash.Hash {
	switch h {
	case HashSHA1:
		return sha1.New() //nolint:gosec
	case HashSHA256, HashSHA256Truncated:
		return sha256.New()
	case HashSHA384:
		return sha512.New384()
	}
	return nil
}

// sum hashes data and truncates to the type's size.
func (h HashType) sum(data []byte) []byte {
	hh := h.New()
	hh.Write(data)
	return hh.Sum(nil)[:h.Size()]
}

// priority orders hash types as the kernel picks the CodeDirectory whose
// cdhash identifies the code (hashPriorities in xnu's ubc_subr.c): higher wins.
func (h HashType) priority() int {
	switch h {
	case HashSHA384:
		return 4
	case HashSHA256:
		return 3
	case HashSHA256Truncated:
		return 2
	case HashSHA1:
		return 1
	}
	return 0
}

// ExecSegFlags are the executable segment flags of a CodeDirectory
// (CS_EXECSEG_*).
type ExecSegFlags uint64

// Executable segment flags; the values are Apple's.
const (
	ExecSegMainBinary    ExecSegFlags = 0x1
	ExecSegAllowUnsigned ExecSegFlags = 0x10
	ExecSegDebugger      ExecSegFlags = 0x20
	ExecSegJIT           ExecSegFlags = 0x40
	ExecSegSkipLV        ExecSegFlags = 0x80
	ExecSegCanLoadCDHash ExecSegFlags = 0x100
	ExecSegCanExecCDHash ExecSegFlags = 0x200
)

// Supported CodeDirectory versions.
const (
	cdVersionEarliest    = 0x20001
	cdVersionScatter     = 0x20100
	cdVersionTeamID      = 0x20200
	cdVersionCodeLimit64 = 0x20300
	cdVersionExecSeg     = 0x20400
	cdVersionRuntime     = 0x20500
	cdVersionLinkage     = 0x20600
	cdVersionLatest      = 0x206ff // minor revisions of 0x20600 stay readable
)

// CodeDirectory is one parsed CodeDirectory blob: what is signed and the
// hashes that seal it.
type CodeDirectory struct {
	// Slot is SlotCodeDirectory or an alternate (0x1000–0x1004).
	Slot Slot
	// Version is the CodeDirectory format version, e.g. 0x20400.
	Version uint32
	// Flags are the code-signing flags.
	Flags CodeFlags
	// HashType is the algorithm of every hash in this directory.
	HashType HashType
	// PageSize is the size of a code page in bytes; 0 means one page
	// covering the whole signed range.
	PageSize int
	// Platform is the platform identifier, 0 for non-platform code.
	Platform uint8
	// Identifier is the signing identifier.
	Identifier string
	// TeamID is the team identifier (version 0x20200 and later), or "".
	TeamID string
	// CodeLimit is the number of bytes of the slice the page hashes cover
	// (the 64-bit field when present).
	CodeLimit uint64
	// ScatterOffset is nonzero for a legacy scatter vector, which this
	// reader does not verify.
	ScatterOffset uint32
	// ExecSegBase, ExecSegLimit and ExecSegFlags describe the executable
	// segment (version 0x20400 and later).
	ExecSegBase  uint64
	ExecSegLimit uint64
	ExecSegFlags ExecSegFlags
	// Runtime is the hardened-runtime version (0x20500 and later), encoded
	// as Apple's packed xxxx.yy.zz.
	Runtime uint32
	// NSpecialSlots and NCodeSlots count the special and code page hashes.
	NSpecialSlots int
	NCodeSlots    int
	// Raw is the whole blob; its hash is the CodeDirectory hash.
	Raw []byte

	hashOffset int
}

// Hash returns the full hash of the CodeDirectory blob with its own hash type.
func (cd *CodeDirectory) Hash() []byte {
	h := cd.HashType.New()
	h.Write(cd.Raw)
	return h.Sum(nil)
}

// CDHash returns the code directory hash the kernel uses: the first 20 bytes
// of Hash.
func (cd *CodeDirectory) CDHash() []byte { return cd.Hash()[:20] }

// SpecialSlotHash returns the hash stored for special slot n (1 for
// Info.plist, 2 for requirements, ...), or nil when the directory has fewer
// special slots.
func (cd *CodeDirectory) SpecialSlotHash(n Slot) []byte {
	if n == 0 || uint64(n) > uint64(cd.NSpecialSlots) {
		return nil
	}
	size := cd.HashType.Size()
	off := cd.hashOffset - int(n)*size
	return cd.Raw[off : off+size]
}

// PageHash returns the stored hash of code page i.
func (cd *CodeDirectory) PageHash(i int) []byte {
	if i < 0 || i >= cd.NCodeSlots {
		return nil
	}
	size := cd.HashType.Size()
	off := cd.hashOffset + i*size
	return cd.Raw[off : off+size]
}

// flagNames lists flag names in the order codesign prints them.
var flagNames = []struct {
	f    CodeFlags
	name string
}{
	{FlagHost, "host"}, {FlagAdhoc, "adhoc"}, {FlagForceHard, "hard"}, {FlagForceKill, "kill"},
	{FlagForceExpiration, "expires"}, {FlagRestrict, "restrict"}, {FlagEnforcement, "enforcement"},
	{FlagRequireLV, "library-validation"}, {FlagRuntime, "runtime"}, {FlagLinkerSigned, "linker-signed"},
}

// FlagString formats flags as codesign does: "0x20002(adhoc,linker-signed)",
// or "0x0(none)".
func FlagString(f CodeFlags) string {
	var names []string
	rest := f
	for _, n := range flagNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			rest &^= n.f
		}
	}
	if rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(names) == 0 {
		names = []string{"none"}
	}
	return fmt.Sprintf("%#x(%s)", uint32(f), strings.Join(names, ","))
}

var errCD = errors.New("bad CodeDirectory")

// maxCodeLimit bounds the signed range (1 TiB), keeping offsets far from
// int64 overflow.
const maxCodeLimit = 1 << 40

// parseCodeDirectory parses a CodeDirectory blob (magic included). Every
// offset is checked against the blob.
func parseCodeDirectory(b []byte) (*CodeDirectory, error) {
	be := binary.BigEndian
	if len(b) < 44 {
		return nil, fmt.Errorf("%w: %d bytes is too short", errCD, len(b))
	}
	if be.Uint32(b) != magicCodeDirectory {
		return nil, fmt.Errorf("%w: magic %#x", errCD, be.Uint32(b))
	}
	cd := &CodeDirectory{
		Raw:       b,
		Version:   be.Uint32(b[8:]),
		Flags:     CodeFlags(be.Uint32(b[12:])),
		CodeLimit: uint64(be.Uint32(b[32:])),
		HashType:  HashType(b[37]),
		Platform:  b[38],
	}
	hashOffset, identOffset := be.Uint32(b[16:]), be.Uint32(b[20:])
	nSpecial, nCode := be.Uint32(b[24:]), be.Uint32(b[28:])
	if uint64(nSpecial) > uint64(len(b)) || uint64(nCode) > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %d special and %d code hashes cannot fit in %d bytes", errCD, nSpecial, nCode, len(b))
	}
	cd.NSpecialSlots, cd.NCodeSlots = int(nSpecial), int(nCode)
	hashSize, pageShift := int(b[36]), b[39]
	if cd.Version < cdVersionEarliest || cd.Version > cdVersionLatest {
		return nil, fmt.Errorf("%w: version %#x not supported (%#x–%#x)", ErrUnsupportedFormat, cd.Version, cdVersionEarliest, cdVersionLatest)
	}
	if cd.HashType.Size() == 0 {
		return nil, fmt.Errorf("%w: hash type %d", ErrUnsupportedFormat, b[37])
	}
	if hashSize != cd.HashType.Size() {
		return nil, fmt.Errorf("%w: hash size %d for %s", errCD, hashSize, cd.HashType)
	}
	if pageShift != 0 && (pageShift < 9 || pageShift > 30) {
		return nil, fmt.Errorf("%w: page size 2^%d", errCD, pageShift)
	}
	if pageShift != 0 {
		cd.PageSize = 1 << pageShift
	}
	// The fixed header grows with the version; fields past the blob's
	// declared header are absent.
	need := func(end int) error {
		if len(b) < end {
			return fmt.Errorf("%w: version %#x header needs %d bytes, blob has %d", errCD, cd.Version, end, len(b))
		}
		return nil
	}
	headerEnd := 44
	if cd.Version >= cdVersionScatter {
		if err := need(48); err != nil {
			return nil, err
		}
		cd.ScatterOffset = be.Uint32(b[44:])
		headerEnd = 48
	}
	var teamOffset uint32
	if cd.Version >= cdVersionTeamID {
		if err := need(52); err != nil {
			return nil, err
		}
		teamOffset = be.Uint32(b[48:])
		headerEnd = 52
	}
	if cd.Version >= cdVersionCodeLimit64 {
		if err := need(64); err != nil {
			return nil, err
		}
		if cl64 := be.Uint64(b[56:]); cl64 != 0 {
			cd.CodeLimit = cl64
		}
		headerEnd = 64
	}
	if cd.Version >= cdVersionExecSeg {
		if err := need(88); err != nil {
			return nil, err
		}
		cd.ExecSegBase, cd.ExecSegLimit = be.Uint64(b[64:]), be.Uint64(b[72:])
		cd.ExecSegFlags = ExecSegFlags(be.Uint64(b[80:]))
		headerEnd = 88
	}
	if cd.Version >= cdVersionRuntime {
		if err := need(96); err != nil {
			return nil, err
		}
		cd.Runtime = be.Uint32(b[88:])
		headerEnd = 96
	}
	if cd.Version >= cdVersionLinkage {
		if err := need(108); err != nil {
			return nil, err
		}
		headerEnd = 108
	}
	cstr := func(what string, off uint32) (string, error) {
		if int64(off) < int64(headerEnd) || int64(off) >= int64(len(b)) {
			return "", fmt.Errorf("%w: %s offset %#x outside the blob", errCD, what, off)
		}
		end := bytes.IndexByte(b[off:], 0)
		if end < 0 {
			return "", fmt.Errorf("%w: %s is not NUL-terminated", errCD, what)
		}
		return string(b[off : int(off)+end]), nil
	}
	var err error
	if cd.Identifier, err = cstr("identifier", identOffset); err != nil {
		return nil, err
	}
	if teamOffset != 0 {
		if cd.TeamID, err = cstr("team ID", teamOffset); err != nil {
			return nil, err
		}
	}
	// Hash slots: special slots below hashOffset, code slots from it.
	lo := int64(hashOffset) - int64(cd.NSpecialSlots)*int64(hashSize)
	hi := int64(hashOffset) + int64(cd.NCodeSlots)*int64(hashSize)
	if lo < int64(headerEnd) || hi > int64(len(b)) {
		return nil, fmt.Errorf("%w: %d special and %d code hashes at %#x do not fit in %d bytes", errCD, cd.NSpecialSlots, cd.NCodeSlots, hashOffset, len(b))
	}
	cd.hashOffset = int(hashOffset)
	if cd.CodeLimit > maxCodeLimit {
		return nil, fmt.Errorf("%w: code limit %d", errCD, cd.CodeLimit)
	}
	// The page hashes must cover exactly [0, CodeLimit).
	var pages uint64
	switch {
	case cd.CodeLimit == 0:
		pages = 0
	case cd.PageSize == 0:
		pages = 1
	default:
		pages = (cd.CodeLimit + uint64(cd.PageSize) - 1) / uint64(cd.PageSize)
	}
	if cd.ScatterOffset == 0 && pages != uint64(cd.NCodeSlots) {
		return nil, fmt.Errorf("%w: %d code hashes for a code limit of %d and %d-byte pages", errCD, cd.NCodeSlots, cd.CodeLimit, cd.PageSize)
	}
	return cd, nil
}
