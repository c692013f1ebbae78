package codesign

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // RFC 3161 imprints may use SHA-1
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"slices"
	"time"

	"github.com/goxpc/goxpc/internal/plistsafe"
	"github.com/smallstep/pkcs7"
)

// CMS attribute OIDs Apple's codesign adds to the signer info (Security
// framework, SecCodeSigner / CMSSignerInfo): a plist of truncated cdhashes,
// and a set of (algorithm, full hash) pairs.
var (
	oidAppleCDHashes  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	oidAppleCDHashes2 = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
	oidSigningTime    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	// id-aa-timeStampToken (RFC 3161 appendix A), an unsigned attribute.
	oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
)

// tstInfo is the start of an RFC 3161 TSTInfo; later fields are ignored
// (encoding/asn1 allows trailing elements).
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

// cmsInfo keeps the parsed CMS message for verification.
type cmsInfo struct {
	p7 *pkcs7.PKCS7
	// cdHashes2 holds the (algorithm, full hash) pairs of the CDHashes2
	// attribute; nil when absent.
	cdHashes2 []cdHashPair
	// tsToken and tst are the RFC 3161 timestamp token, if any.
	tsToken *pkcs7.PKCS7
	tst     *tstInfo
}

// parseCMS parses s.CMS, filling the certificate chain, signing time and
// cdhash attributes. It does not verify anything.
func (s *Signature) parseCMS() (err error) {
	p7, err := safePKCS7Parse(s.CMS)
	if err != nil {
		return err
	}
	if len(p7.Signers) != 1 {
		return fmt.Errorf("%d signers, want 1", len(p7.Signers))
	}
	if len(p7.Certificates) > MaxCertificates {
		return fmt.Errorf("%d certificates, over the limit of %d", len(p7.Certificates), MaxCertificates)
	}
	s.cms = &cmsInfo{p7: p7}
	s.Certificates = orderChain(p7.GetOnlySigner(), p7.Certificates)
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if !a.Type.Equal(oidTimeStampToken) {
			continue
		}
		tok, err := safePKCS7Parse(a.Value.Bytes)
		if err != nil {
			return fmt.Errorf("timestamp token: %w", err)
		}
		var tst tstInfo
		if _, err := asn1.Unmarshal(tok.Content, &tst); err != nil {
			return fmt.Errorf("timestamp token TSTInfo: %w", err)
		}
		s.cms.tsToken, s.cms.tst = tok, &tst
		s.Timestamp = tst.GenTime.UTC()
	}

	var t time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &t); err == nil {
		s.SigningTime = t.UTC()
	}
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		switch {
		case a.Type.Equal(oidAppleCDHashes):
			var raw []byte
			if _, err := asn1.Unmarshal(a.Value.Bytes, &raw); err != nil {
				return fmt.Errorf("CDHashes attribute: %w", err)
			}
			hashes, err := decodeCDHashesPlist(raw)
			if err != nil {
				return err
			}
			s.CMSCDHashes = hashes
		case a.Type.Equal(oidAppleCDHashes2):
			rest := a.Value.Bytes
			for len(rest) > 0 {
				var pair struct {
					Alg    asn1.ObjectIdentifier
					Digest []byte
				}
				if rest, err = asn1.Unmarshal(rest, &pair); err != nil {
					return fmt.Errorf("CDHashes2 attribute: %w", err)
				}
				s.cms.cdHashes2 = append(s.cms.cdHashes2, cdHashPair{pair.Alg, pair.Digest})
			}
		}
	}
	return nil
}

// decodeCDHashesPlist decodes the CDHashes attribute's plist,
// {cdhashes: [data...]}, guarding against a panic in the plist decoder.
func decodeCDHashesPlist(raw []byte) (hashes [][]byte, err error) {
	var pl struct {
		CDHashes [][]byte `plist:"cdhashes"`
	}
	if _, err := plistsafe.Unmarshal(raw, &pl); err != nil {
		return nil, fmt.Errorf("CDHashes plist: %w", err)
	}
	if pl.CDHashes == nil {
		return nil, errors.New("CDHashes plist has no cdhashes array")
	}
	return pl.CDHashes, nil
}

// safePKCS7Verify runs the library's verification, turning a panic on
// hostile input into an error.
func safePKCS7Verify(p7 *pkcs7.PKCS7) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pkcs7 verification panicked: %v", p)
		}
	}()
	return p7.Verify()
}

// safePKCS7Parse parses a CMS message, turning a panic in the library on
// hostile input into an error.
func safePKCS7Parse(der []byte) (p7 *pkcs7.PKCS7, err error) {
	defer func() {
		if p := recover(); p != nil {
			p7, err = nil, fmt.Errorf("pkcs7 parser panicked: %v", p)
		}
	}()
	return pkcs7.Parse(der)
}

// orderChain returns leaf, its issuer, its issuer's issuer ... as far as
// the certificates reach, followed by any certificates not in that chain.
func orderChain(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	if leaf == nil {
		return certs
	}
	used := make([]bool, len(certs))
	chain := []*x509.Certificate{leaf}
	for i, c := range certs {
		if c == leaf {
			used[i] = true
		}
	}
	for cur := leaf; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		next := -1
		for i, c := range certs {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		cur = certs[next]
		chain = append(chain, cur)
	}
	for i, c := range certs {
		if !used[i] {
			chain = append(chain, c)
		}
	}
	return chain
}

// verifyCMS checks the CMS signature over the slot-0 CodeDirectory with the
// embedded signer certificate, the timestamp token, the cdhash attributes
// that cover the other CodeDirectories, and the team ID, as
// Security.framework's SecStaticCode::verifySignature does — except trust,
// which only opts.Roots adds.
func (s *Signature) verifyCMS(opts *VerifyOptions) error {
	if s.cms == nil {
		if opts != nil && opts.Roots != nil {
			return &CMSError{Arch: s.Arch, Reason: "signature is ad hoc: no signer to check against the given roots"}
		}
		return nil
	}
	p7 := s.cms.p7
	base := s.CodeDirectories[0]
	p7.Content = base.Raw
	defer func() { p7.Content = nil }()
	if err := safePKCS7Verify(p7); err != nil {
		reason := "signature does not verify"
		var mdErr *pkcs7.MessageDigestMismatchError
		if errors.As(err, &mdErr) {
			reason = "message digest does not match the CodeDirectory"
		}
		return &CMSError{Arch: s.Arch, Reason: reason, Err: err}
	}
	if err := s.verifyTimestamp(); err != nil {
		return err
	}
	if err := s.verifyCDHashAttributes(); err != nil {
		return err
	}
	if err := s.verifyTeamID(); err != nil {
		return err
	}
	if opts != nil && opts.Roots != nil {
		if err := s.verifyChain(opts); err != nil {
			return &CMSError{Arch: s.Arch, Reason: "certificate chain does not lead to a given root", Err: err}
		}
	}
	return nil
}

type cdHashPair struct {
	alg    asn1.ObjectIdentifier
	digest []byte
}

// hashTypeOID returns the digest OID Security.framework uses for a
// CodeDirectory hash type in CDHashes2, or nil for types it does not map.
func hashTypeOID(h HashType) asn1.ObjectIdentifier {
	switch h {
	case HashSHA1:
		return pkcs7.OIDDigestAlgorithmSHA1
	case HashSHA256:
		return pkcs7.OIDDigestAlgorithmSHA256
	case HashSHA384:
		return pkcs7.OIDDigestAlgorithmSHA384
	}
	return nil
}

// verifyCDHashAttributes applies Security.framework's rules
// (SecStaticCode::verifySignature) to the signer's cdhash attributes, which
// extend the CMS signature from the slot-0 CodeDirectory to the others:
//   - CDHashes (plist): the truncated cdhashes of all CodeDirectories,
//     ordered by hash type, must equal the attribute's list;
//   - CDHashes2: one entry per CodeDirectory; each one whose algorithm is
//     known must carry its full hash, and the kernel's pick must be named.
//
// Like Security.framework it accepts a signature with neither attribute;
// then, as an extra check of this reader, every alternate must agree with
// the signed slot-0 directory on everything but its hashes (see
// disagreement), since Info, Subject and the sealed components come from
// the alternate when its hash type is stronger.
func (s *Signature) verifyCDHashAttributes() error {
	fail := func(format string, args ...any) error {
		return &CMSError{Arch: s.Arch, Reason: fmt.Sprintf(format, args...)}
	}
	if s.CMSCDHashes != nil {
		byType := slices.Clone(s.CodeDirectories)
		slices.SortStableFunc(byType, func(a, b *CodeDirectory) int { return int(a.HashType) - int(b.HashType) })
		if len(s.CMSCDHashes) != len(byType) {
			return fail("CDHashes attribute names %d CodeDirectories, the signature has %d", len(s.CMSCDHashes), len(byType))
		}
		for i, cd := range byType {
			if !bytes.Equal(s.CMSCDHashes[i], cd.CDHash()) {
				return fail("CDHashes attribute does not match %s (%s)", cd.Slot, cd.HashType)
			}
		}
	}
	if s.cms.cdHashes2 != nil {
		if len(s.cms.cdHashes2) != len(s.CodeDirectories) {
			return fail("CDHashes2 attribute names %d CodeDirectories, the signature has %d", len(s.cms.cdHashes2), len(s.CodeDirectories))
		}
		best := s.CodeDirectory()
		foundBest := false
		for _, cd := range s.CodeDirectories {
			oid := hashTypeOID(cd.HashType)
			if oid == nil {
				continue
			}
			var got []byte
			for _, p := range s.cms.cdHashes2 {
				if p.alg.Equal(oid) {
					got = p.digest
				}
			}
			if !bytes.Equal(got, cd.Hash()) {
				return fail("CDHashes2 attribute does not match %s (%s)", cd.Slot, cd.HashType)
			}
			foundBest = foundBest || cd == best
		}
		if !foundBest {
			return fail("CDHashes2 attribute does not name the %s CodeDirectory", best.HashType)
		}
	}
	if s.CMSCDHashes == nil && s.cms.cdHashes2 == nil {
		base := s.CodeDirectories[0]
		for _, cd := range s.CodeDirectories[1:] {
			if what := disagreement(base, cd); what != "" {
				return fail("%s is not covered by a cdhash attribute and disagrees with the signed CodeDirectory on %s", cd.Slot, what)
			}
		}
	}
	return nil
}

// verifyTeamID applies Security.framework's rule that an Apple developer
// certificate's team (the leaf's first OU) must equal the CodeDirectory's
// team ID when both exist. Here "Apple developer certificate" means a leaf
// carrying one of Apple's developer marker extensions; whether it really
// chains to Apple is the trust decision left to the caller.
func (s *Signature) verifyTeamID() error {
	team := s.CodeDirectory().TeamID
	if team == "" || len(s.Certificates) == 0 {
		return nil
	}
	leaf := s.Certificates[0]
	if len(leaf.Subject.OrganizationalUnit) == 0 || !hasAppleLeafMarker(leaf) {
		return nil
	}
	if ou := leaf.Subject.OrganizationalUnit[0]; ou != team {
		return &CMSError{Arch: s.Arch, Reason: fmt.Sprintf("team identifier in the signing certificate (%s) does not match the CodeDirectory's (%s)", ou, team)}
	}
	return nil
}

func hasAppleLeafMarker(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		for _, m := range appleLeafMarkers {
			if e.Id.Equal(m) {
				return true
			}
		}
	}
	return false
}

// verifyTimestamp checks that the timestamp token is signed by the
// certificate it carries and that it stamps this signature: its message
// imprint is the hash of the signer's signature value. The time-stamping
// authority's chain is not trusted, only reported.
func (s *Signature) verifyTimestamp() error {
	tok, tst := s.cms.tsToken, s.cms.tst
	if tok == nil {
		return nil
	}
	if err := safePKCS7Verify(tok); err != nil {
		return &CMSError{Arch: s.Arch, Reason: "timestamp token signature does not verify", Err: err}
	}
	var h hash.Hash
	switch alg := tst.MessageImprint.HashAlgorithm.Algorithm; {
	case alg.Equal(pkcs7.OIDDigestAlgorithmSHA1):
		h = sha1.New() //nolint:gosec
	case alg.Equal(pkcs7.OIDDigestAlgorithmSHA256):
		h = sha256.New()
	case alg.Equal(pkcs7.OIDDigestAlgorithmSHA384):
		h = sha512.New384()
	case alg.Equal(pkcs7.OIDDigestAlgorithmSHA512):
		h = sha512.New()
	default:
		return &CMSError{Arch: s.Arch, Reason: fmt.Sprintf("timestamp imprint uses unknown hash %v", alg)}
	}
	h.Write(s.cms.p7.Signers[0].EncryptedDigest)
	if !bytes.Equal(h.Sum(nil), tst.MessageImprint.HashedMessage) {
		return &CMSError{Arch: s.Arch, Reason: "timestamp token does not stamp this signature"}
	}
	return nil
}

// Apple certificate extensions that mark Developer ID and Mac App Store
// leaves; crypto/x509 does not know them and would refuse a chain whose
// leaf marks them critical.
var appleLeafMarkers = []asn1.ObjectIdentifier{
	{1, 2, 840, 113635, 100, 6, 1, 2},  // iPhone Developer / Apple Development
	{1, 2, 840, 113635, 100, 6, 1, 4},  // iPhone Distribution
	{1, 2, 840, 113635, 100, 6, 1, 9},  // Mac App Store
	{1, 2, 840, 113635, 100, 6, 1, 12}, // Mac Developer
	{1, 2, 840, 113635, 100, 6, 1, 13}, // Developer ID Application
	{1, 2, 840, 113635, 100, 6, 1, 14}, // Developer ID Installer
	{1, 2, 840, 113635, 100, 6, 1, 18}, // Developer ID Kernel
}

// verifyChain checks the signer chain against the caller's roots at the
// signing time (or now), for code signing.
func (s *Signature) verifyChain(opts *VerifyOptions) error {
	if len(s.Certificates) == 0 {
		return errors.New("no certificates")
	}
	// Work on a copy so that clearing known critical extensions does not
	// change the Signature's certificates.
	leaf, err := x509.ParseCertificate(s.Certificates[0].Raw)
	if err != nil {
		return err
	}
	kept := leaf.UnhandledCriticalExtensions[:0]
	for _, ext := range leaf.UnhandledCriticalExtensions {
		known := false
		for _, m := range appleLeafMarkers {
			known = known || ext.Equal(m)
		}
		if !known {
			kept = append(kept, ext)
		}
	}
	leaf.UnhandledCriticalExtensions = kept
	inter := x509.NewCertPool()
	for _, c := range s.Certificates[1:] {
		inter.AddCert(c)
	}
	at := opts.Time
	if at.IsZero() {
		at = s.SigningTime
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots:         opts.Roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	return err
}

// disagreement names the first property in which an unsigned alternate
// CodeDirectory differs from the signed one, or returns "". Page and
// special-slot hashes are checked against the file separately; what is
// compared here is what the alternate would otherwise say about the code
// unsigned: its identity, flags, platform, executable segment, runtime,
// signed range, and which special slots it seals.
func disagreement(base, alt *CodeDirectory) string {
	switch {
	case alt.Identifier != base.Identifier:
		return "identifier"
	case alt.TeamID != base.TeamID:
		return "team ID"
	case alt.Flags != base.Flags:
		return "flags"
	case alt.Platform != base.Platform:
		return "platform"
	case alt.ExecSegBase != base.ExecSegBase || alt.ExecSegLimit != base.ExecSegLimit || alt.ExecSegFlags != base.ExecSegFlags:
		return "executable segment"
	case alt.Runtime != base.Runtime:
		return "runtime version"
	case alt.CodeLimit != base.CodeLimit:
		return "code limit"
	}
	// Slots past the last one Apple defines seal nothing anyone reads.
	for slot := Slot(1); slot <= SlotLibraryConstraint; slot++ {
		b, a := base.SpecialSlotHash(slot), alt.SpecialSlotHash(slot)
		if (b != nil && !isZero(b)) != (a != nil && !isZero(a)) {
			return "sealing " + slot.String()
		}
	}
	return ""
}
