package codesign

import (
	"crypto/sha1" //nolint:gosec // certificate hashes as requirements compare them
	"crypto/sha256"
	"crypto/x509"
	"io"
	"time"
)

// Signature is the code signature of one architecture of a Mach-O file, as
// stored in its LC_CODE_SIGNATURE SuperBlob.
type Signature struct {
	// Arch names the architecture as Apple's tools do ("arm64", "x86_64").
	Arch string
	// CPU and CPUSubtype are the Mach-O header's cpu type and subtype.
	CPU, CPUSubtype uint32
	// Offset and Size locate the slice in the file (Offset 0 for thin
	// files). Size is -1 when NewFile could not learn the file's size.
	Offset, Size int64
	// SignatureOffset and SignatureSize are LC_CODE_SIGNATURE's dataoff and
	// datasize, relative to the slice.
	SignatureOffset, SignatureSize uint32

	// Blobs lists every SuperBlob entry in index order.
	Blobs []Blob
	// CodeDirectories holds the CodeDirectory in slot 0 first, then the
	// alternates in slot order.
	CodeDirectories []*CodeDirectory
	// Requirements, Entitlements, EntitlementsDER and LaunchConstraints
	// hold only components the CodeDirectory seals (an unsealed blob is
	// ignored, as Security.framework does; Blobs still lists it).
	//
	// Requirements is the internal requirement set blob (magic 0xfade0c01,
	// header included), or nil. Package codesign/requirement decodes it.
	Requirements []byte
	// Entitlements is the XML entitlements plist, or nil.
	Entitlements []byte
	// EntitlementsDER is the DER-encoded entitlements, or nil.
	EntitlementsDER []byte
	// LaunchConstraints holds the raw launch/library constraint payloads
	// by slot (SlotLaunchConstraintSelf … SlotLibraryConstraint).
	LaunchConstraints map[Slot][]byte
	// CMS is the DER of the CMS SignedData; nil for ad-hoc signatures.
	CMS []byte
	// Certificates is the signer's chain from the CMS blob, leaf first,
	// followed by any other certificates it carries. The chain is reported,
	// not trusted: see VerifyOptions.Roots.
	Certificates []*x509.Certificate
	// SigningTime is the CMS signing-time attribute, zero if absent. The
	// signer chose it; Timestamp is the one a third party vouches for.
	SigningTime time.Time
	// Timestamp is the genTime of the RFC 3161 timestamp token (unsigned
	// attribute 1.2.840.113549.1.9.16.2.14, Apple's "Timestamp="), zero
	// if absent. Verify checks the token's signature and that it stamps
	// this signature; the time-stamping authority is not trusted.
	Timestamp time.Time
	// CMSCDHashes lists the cdhashes named by the CMS "CDHashes" plist
	// attribute (1.2.840.113635.100.9.1), when present.
	CMSCDHashes [][]byte

	slice io.ReaderAt
	cms   *cmsInfo
}

// CodeDirectory returns the CodeDirectory the kernel would pick: the one
// with the strongest hash type (SHA-384, then SHA-256, then truncated
// SHA-256, then SHA-1).
func (s *Signature) CodeDirectory() *CodeDirectory {
	var best *CodeDirectory
	for _, cd := range s.CodeDirectories {
		if best == nil || cd.HashType.priority() > best.HashType.priority() {
			best = cd
		}
	}
	return best
}

// Adhoc reports whether the signature has no CMS signer.
func (s *Signature) Adhoc() bool { return len(s.CMS) == 0 }

// Info describes the signature with the fields the darwin Security.framework
// path also fills. Format names this slice as thin and MainExecutable is
// empty: (*File).Info fills both for the file. DesignatedRequirement is
// explained in designated.go: explicit, or implied for ad-hoc code.
func (s *Signature) Info() *Info {
	cd := s.CodeDirectory()
	info := &Info{
		Format:     "Mach-O thin (" + s.Arch + ")",
		Identifier: cd.Identifier,
		TeamID:     cd.TeamID,
		CDHash:     cd.CDHash(),
		HashType:   cd.HashType.String(),
		Flags:      cd.Flags,
	}
	if ent, err := s.DecodeEntitlements(); err == nil {
		info.Entitlements = ent
	}
	for _, c := range s.Certificates {
		info.Certificates = append(info.Certificates, certInfo(c))
	}
	info.SigningTime = s.SigningTime
	info.DesignatedRequirement = s.designatedRequirement()
	return info
}

// Info describes the signature of the architecture named arch ("arm64",
// "x86_64"), or of the first architecture if arch is "", with the file's
// format and path filled in. It returns nil if there is no such
// architecture.
func (f *File) Info(arch string) *Info {
	for _, s := range f.Signatures {
		if arch == "" || s.Arch == arch {
			info := s.Info()
			info.Format = f.Format()
			info.MainExecutable = f.Path
			return info
		}
	}
	return nil
}

// certInfo converts a certificate to the package's summary form.
func certInfo(c *x509.Certificate) Certificate {
	s1 := sha1.Sum(c.Raw) //nolint:gosec
	s256 := sha256.Sum256(c.Raw)
	ci := Certificate{
		Subject:    c.Subject.String(),
		CommonName: c.Subject.CommonName,
		SHA1:       s1[:],
		SHA256:     s256[:],
		Raw:        c.Raw,
	}
	if len(c.Subject.OrganizationalUnit) > 0 {
		ci.OrganizationalUnit = c.Subject.OrganizationalUnit[0]
	}
	if len(c.Subject.Organization) > 0 {
		ci.Organization = c.Subject.Organization[0]
	}
	return ci
}
