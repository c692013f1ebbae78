package codesign

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // requirement certificate hashes are SHA-1 by definition
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goxpc/goxpc/internal/plistsafe"

	"github.com/goxpc/goxpc/codesign/requirement"
)

// Outcome is the three-valued result of evaluating a requirement against a
// signature read from a file.
type Outcome int

// Outcomes. The zero value is Undecided, so an unset result never reads as
// satisfied.
const (
	// Undecided means the file alone cannot settle the requirement: it
	// depends on the system (trust settings, notarization tickets, the
	// trust cache, Security.framework's named requirements) or on data the
	// caller did not supply (Info.plist, a chain without its root).
	Undecided Outcome = iota
	// Satisfied means Security.framework would accept the signature,
	// provided the signature itself is valid (see Signature.Verify).
	Satisfied
	// NotSatisfied means Security.framework would reject it.
	NotSatisfied
)

// String returns "satisfied", "not satisfied" or "undecided".
func (o Outcome) String() string {
	switch o {
	case Satisfied:
		return "satisfied"
	case NotSatisfied:
		return "not satisfied"
	}
	return "undecided"
}

// Evaluation is the result of evaluating a requirement statically.
type Evaluation struct {
	Outcome Outcome
	// Reasons explains the outcome: the clauses that failed (NotSatisfied),
	// that could not be decided (Undecided), or that carried the decision
	// (Satisfied).
	Reasons []string
}

// Satisfied reports whether the outcome is Satisfied.
func (e *Evaluation) Satisfied() bool { return e != nil && e.Outcome == Satisfied }

// String gives the outcome and its reasons on one line.
func (e *Evaluation) String() string {
	if e == nil {
		return Undecided.String()
	}
	if len(e.Reasons) == 0 {
		return e.Outcome.String()
	}
	return e.Outcome.String() + ": " + strings.Join(e.Reasons, "; ")
}

// Subject is what a requirement is evaluated against. Signature.Subject
// fills it from a file; callers with other sources (a darwin Info, a test)
// can fill it themselves.
type Subject struct {
	// Identifier is the CodeDirectory's signing identifier.
	Identifier string
	// CDHash is the cdhash (20 bytes) of the CodeDirectory the system uses.
	CDHash []byte
	// Platform is the CodeDirectory's platform identifier.
	Platform uint8
	// Certificates holds the signer's certificate first, then any other
	// certificates from the signature in any order. Certificate slots
	// follow the chain built from the signer (each certificate verified
	// against its issuer's key), not this order. Empty for ad-hoc code.
	Certificates []*x509.Certificate
	// InfoPlist is the decoded Info.plist. nil means unknown (info[...]
	// clauses are then undecided); use an empty map for code that has none.
	InfoPlist map[string]any
	// Entitlements are the signed entitlements. nil means unknown; use an
	// empty map for code without entitlements.
	Entitlements map[string]any
}

// EvaluateOptions tunes Evaluate.
type EvaluateOptions struct {
	// AppleRoots holds SHA-256 fingerprints of the certificates treated as
	// Apple root CAs for "anchor apple" and "anchor apple generic". nil
	// means AppleRootFingerprints(); tests inject their own roots here.
	AppleRoots [][]byte
	// InfoPlist is the bundle's Info.plist (XML or binary), used by
	// Signature.Evaluate. Without it info[...] clauses are undecided.
	InfoPlist []byte
}

// appleRootFingerprints are the SHA-256 fingerprints Security.framework
// accepts as Apple anchors (SecIsAppleTrustAnchor, OSX/utilities/
// SecAppleAnchor.c in apple-oss-distributions/Security): Apple Root CA,
// Apple Root CA - G2, Apple Root CA - G3, Apple Platform Backport RSA and
// ECC Root CA - G1.
var appleRootFingerprints = []string{
	"b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024", // Apple Root CA
	"c2b9b042dd57830e7d117dac55ac8ae19407d38e41d88f3215bc3a890444a050", // Apple Root CA - G2
	"63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179", // Apple Root CA - G3
	"fb3f6cf69467b5fa9ffa2b3b392b6e5e775bbb09c77b6e759e9038e26bbf9049", // Apple Platform Backport RSA Root CA - G1
	"eda23b3f224f45e0952f20e4d2b33e000d49c8044c1168de47b443cd2b3536dc", // Apple Platform Backport ECC Root CA - G1
}

// AppleRootFingerprints returns the SHA-256 fingerprints of the Apple root
// certificates Security.framework accepts as Apple anchors.
func AppleRootFingerprints() [][]byte {
	out := make([][]byte, len(appleRootFingerprints))
	for i, h := range appleRootFingerprints {
		out[i] = mustHex(h)
	}
	return out
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			default:
				v |= byte(c-'a') + 10
			}
		}
		b[i] = v
	}
	return b
}

// Subject describes the signature for requirement evaluation, with the
// CodeDirectory the system would use, the signer's certificates and the
// decoded entitlements (nil, so undecided, if they do not decode). The
// Info.plist is unknown (nil).
func (s *Signature) Subject() *Subject {
	subj := &Subject{Certificates: s.Certificates}
	if cd := s.CodeDirectory(); cd != nil {
		subj.Identifier = cd.Identifier
		subj.CDHash = cd.CDHash()
		subj.Platform = cd.Platform
	}
	if ent, err := s.DecodeEntitlements(); err == nil {
		if ent == nil {
			ent = map[string]any{}
		}
		subj.Entitlements = ent
	}
	return subj
}

// Evaluate checks the requirement against this signature without asking the
// system, the way Security.framework's requirement interpreter would, and
// says whether the file alone settles it. It does not check the
// signature's hashes or CMS signature, nor certificate validity dates or
// revocation; call Verify for the former. An opts.InfoPlist that the
// signature does not bind (unsealed, or a different hash) is an error, a
// *HashMismatchError as from VerifyWith. opts may be nil.
func (s *Signature) Evaluate(r *requirement.Requirement, opts *EvaluateOptions) (*Evaluation, error) {
	subj := s.Subject()
	if opts != nil && opts.InfoPlist != nil {
		// Only the Info.plist the signature binds is the code's: a
		// changed or unbound one would let anyone satisfy info[...].
		if err := s.checkBundleFile(SlotInfoPlist, opts.InfoPlist); err != nil {
			return nil, err
		}
		m, err := decodeInfoPlist(opts.InfoPlist)
		if err != nil {
			return nil, err
		}
		subj.InfoPlist = m
	}
	return Evaluate(r, subj, opts), nil
}

// EvaluateText parses requirement text and evaluates it; see Evaluate.
// Invalid text returns an error wrapping ErrInvalidRequirement.
func (s *Signature) EvaluateText(text string, opts *EvaluateOptions) (*Evaluation, error) {
	r, err := requirement.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRequirement, err)
	}
	return s.Evaluate(r, opts)
}

func decodeInfoPlist(b []byte) (m map[string]any, err error) {
	if _, err := plistsafe.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("codesign: Info.plist: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// Evaluate checks a requirement against subj with Kleene three-valued
// logic: "and" is not satisfied if either side is not, "or" is satisfied if
// either side is, and anything the file cannot decide (notarized, legacy,
// anchor trusted, certificate trust settings, named requirements, anchor
// apple for ad-hoc code, chains whose root is not embedded, info[...]
// without an Info.plist) is Undecided. opts may be nil.
func Evaluate(r *requirement.Requirement, subj *Subject, opts *EvaluateOptions) *Evaluation {
	if r == nil || r.Expr == nil {
		return &Evaluation{Outcome: Undecided, Reasons: []string{"empty requirement"}}
	}
	if subj == nil {
		subj = &Subject{}
	}
	roots := AppleRootFingerprints()
	if opts != nil && opts.AppleRoots != nil {
		roots = opts.AppleRoots
	}
	ev := &evaluator{subj: subj, roots: roots}
	ev.chain, ev.complete = buildChain(subj.Certificates)
	return ev.eval(r.Expr, 0)
}

type evaluator struct {
	subj     *Subject
	roots    [][]byte
	chain    []*x509.Certificate
	complete bool // the chain ends in a self-signed certificate (or there are no certificates)
}

func clause(e requirement.Expr) string { return requirement.New(e).String() }

func yes(e requirement.Expr, why string) *Evaluation {
	return &Evaluation{Outcome: Satisfied, Reasons: []string{clause(e) + ": " + why}}
}

func no(e requirement.Expr, why string) *Evaluation {
	return &Evaluation{Outcome: NotSatisfied, Reasons: []string{clause(e) + ": " + why}}
}

func undecided(e requirement.Expr, why string) *Evaluation {
	return &Evaluation{Outcome: Undecided, Reasons: []string{clause(e) + ": " + why}}
}

func verdict(e requirement.Expr, ok bool, why string) *Evaluation {
	if ok {
		return yes(e, why)
	}
	return no(e, why)
}

func (ev *evaluator) eval(e requirement.Expr, depth int) *Evaluation {
	if depth > requirement.MaxDepth {
		return &Evaluation{Outcome: Undecided, Reasons: []string{"requirement nested too deeply"}}
	}
	switch e := e.(type) {
	case requirement.And:
		l, r := ev.eval(e.Left, depth+1), ev.eval(e.Right, depth+1)
		switch {
		case l.Outcome == NotSatisfied || r.Outcome == NotSatisfied:
			return &Evaluation{Outcome: NotSatisfied, Reasons: reasonsOf(NotSatisfied, l, r)}
		case l.Outcome == Satisfied && r.Outcome == Satisfied:
			return &Evaluation{Outcome: Satisfied, Reasons: append(l.Reasons, r.Reasons...)}
		}
		return &Evaluation{Outcome: Undecided, Reasons: reasonsOf(Undecided, l, r)}
	case requirement.Or:
		l, r := ev.eval(e.Left, depth+1), ev.eval(e.Right, depth+1)
		switch {
		case l.Outcome == Satisfied || r.Outcome == Satisfied:
			return &Evaluation{Outcome: Satisfied, Reasons: reasonsOf(Satisfied, l, r)}
		case l.Outcome == NotSatisfied && r.Outcome == NotSatisfied:
			return &Evaluation{Outcome: NotSatisfied, Reasons: append(l.Reasons, r.Reasons...)}
		}
		return &Evaluation{Outcome: Undecided, Reasons: reasonsOf(Undecided, l, r)}
	case requirement.Not:
		x := ev.eval(e.X, depth+1)
		switch x.Outcome {
		case Satisfied:
			return &Evaluation{Outcome: NotSatisfied, Reasons: x.Reasons}
		case NotSatisfied:
			return &Evaluation{Outcome: Satisfied, Reasons: x.Reasons}
		}
		return x
	case requirement.Always:
		return yes(e, "always true")
	case requirement.Never:
		return no(e, "always false")
	case requirement.Identifier:
		return verdict(e, ev.subj.Identifier == e.Value, fmt.Sprintf("signing identifier is %q", ev.subj.Identifier))
	case requirement.CDHash:
		return verdict(e, len(ev.subj.CDHash) > 0 && bytes.Equal(ev.subj.CDHash, e.Hash), fmt.Sprintf("cdhash is %x", ev.subj.CDHash))
	case requirement.Platform:
		return verdict(e, int32(ev.subj.Platform) == e.Value, fmt.Sprintf("platform is %d", ev.subj.Platform))
	case requirement.Notarized:
		return undecided(e, "notarization is checked against Apple's ticket database or a stapled ticket, not the file's signature")
	case requirement.Legacy:
		return undecided(e, "the legacy Developer ID policy depends on notarization and system policy")
	case requirement.TrustedAnchor:
		if len(ev.subj.Certificates) == 0 {
			return no(e, "ad-hoc code has no certificates")
		}
		return undecided(e, "depends on the system's trust settings")
	case requirement.TrustedCert:
		c, st := ev.cert(e.Slot)
		switch st {
		case slotMissing:
			return no(e, "no certificate in slot "+e.Slot.String())
		case slotUnknown:
			return undecided(e, ev.unknownSlotWhy(e.Slot))
		}
		_ = c
		return undecided(e, "depends on the system's trust settings")
	case requirement.NamedAnchor, requirement.NamedCode:
		return undecided(e, "named requirements are stored inside Security.framework")
	case requirement.AppleGenericAnchor:
		return ev.appleAnchored(e)
	case requirement.AppleAnchor:
		return ev.appleSigned(e)
	case requirement.CertHash:
		c, st := ev.cert(e.Slot)
		switch st {
		case slotMissing:
			return no(e, "no certificate in slot "+e.Slot.String())
		case slotUnknown:
			return undecided(e, ev.unknownSlotWhy(e.Slot))
		}
		sum := sha1.Sum(c.Raw) //nolint:gosec
		return verdict(e, bytes.Equal(sum[:], e.Hash), fmt.Sprintf("certificate %s has SHA-1 %x", e.Slot, sum))
	case requirement.CertField:
		return ev.certField(e)
	case requirement.InfoKey:
		return ev.dictMatch(e, "Info.plist", ev.subj.InfoPlist, e.Key, e.Match)
	case requirement.LegacyInfoKey:
		return ev.dictMatch(e, "Info.plist", ev.subj.InfoPlist, e.Key, requirement.Match{Op: requirement.MatchEqual, Value: e.Value})
	case requirement.Entitlement:
		return ev.dictMatch(e, "entitlements", ev.subj.Entitlements, e.Key, e.Match)
	case requirement.UnknownOp:
		if e.Then == nil {
			return no(e, fmt.Sprintf("unknown opcode %d evaluates to false", uint32(e.Op&^requirement.OpFlagMask)))
		}
		return ev.eval(e.Then, depth+1)
	}
	return &Evaluation{Outcome: Undecided, Reasons: []string{fmt.Sprintf("unknown expression %T", e)}}
}

func reasonsOf(o Outcome, evs ...*Evaluation) []string {
	var out []string
	for _, e := range evs {
		if e.Outcome == o {
			out = append(out, e.Reasons...)
		}
	}
	return out
}

type slotState int

const (
	slotPresent slotState = iota
	slotMissing
	slotUnknown
)

// cert resolves a certificate slot as Requirement::Context::cert does:
// non-negative slots count from the leaf, negative ones from the anchor.
func (ev *evaluator) cert(s requirement.Slot) (*x509.Certificate, slotState) {
	n := len(ev.chain)
	if s >= 0 {
		if int(s) < n {
			return ev.chain[s], slotPresent
		}
		if ev.complete {
			return nil, slotMissing
		}
		return nil, slotUnknown
	}
	if !ev.complete {
		return nil, slotUnknown
	}
	if i := n + int(s); i >= 0 {
		return ev.chain[i], slotPresent
	}
	return nil, slotMissing
}

func (ev *evaluator) unknownSlotWhy(s requirement.Slot) string {
	return fmt.Sprintf("the embedded chain stops at %q without a root, so the system would complete it and certificate %s is not known from the file",
		ev.chain[len(ev.chain)-1].Issuer.String(), s)
}

func (ev *evaluator) isAppleRoot(c *x509.Certificate) bool {
	sum := sha256.Sum256(c.Raw)
	for _, r := range ev.roots {
		if bytes.Equal(r, sum[:]) {
			return true
		}
	}
	return false
}

func (ev *evaluator) appleAnchored(e requirement.Expr) *Evaluation {
	c, st := ev.cert(requirement.SlotRoot)
	switch st {
	case slotMissing:
		return no(e, "no certificate chain (ad-hoc or unsigned)")
	case slotUnknown:
		return undecided(e, ev.unknownSlotWhy(requirement.SlotRoot))
	}
	if ev.isAppleRoot(c) {
		return yes(e, fmt.Sprintf("anchored at %q", c.Subject.CommonName))
	}
	return no(e, fmt.Sprintf("anchor %q is not an Apple root", c.Subject.String()))
}

// oidMacOSSoftwareSigning marks leaves of Apple's own macOS software.
var oidMacOSSoftwareSigning = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 22}

// appleSigned follows Interpreter::appleSigned: in the trust cache, or
// Apple-anchored with the "Apple Code Signing Certification Authority"
// intermediate and the macOS software signing marker on the leaf.
func (ev *evaluator) appleSigned(e requirement.Expr) *Evaluation {
	if len(ev.subj.Certificates) == 0 {
		return undecided(e, "ad-hoc code satisfies \"anchor apple\" only if its cdhash is in the system trust cache")
	}
	a := ev.appleAnchored(e)
	if a.Outcome != Satisfied {
		return a
	}
	leaf, _ := ev.cert(requirement.SlotLeaf)
	inter, st := ev.cert(-2)
	if st != slotPresent || leaf == nil {
		return no(e, "no intermediate certificate")
	}
	if !hasAttr(inter, oidCN, "Apple Code Signing Certification Authority") || !hasAttr(inter, oidO, "Apple Inc.") {
		return no(e, fmt.Sprintf("intermediate %q is not Apple Code Signing Certification Authority", inter.Subject.CommonName))
	}
	if !hasExtension(leaf, oidMacOSSoftwareSigning) {
		return no(e, "leaf lacks the macOS software signing marker 1.2.840.113635.100.6.22")
	}
	return yes(e, "signed by Apple's code signing CA with the macOS software signing marker")
}

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// subjectKeys maps the certificate[subject.*] keys Apple's interpreter
// knows (certFieldValue in reqinterp.cpp) to attribute OIDs.
var subjectKeys = map[string]asn1.ObjectIdentifier{
	"subject.C":        {2, 5, 4, 6},
	"subject.CN":       {2, 5, 4, 3},
	"subject.D":        {2, 5, 4, 13},
	"subject.L":        {2, 5, 4, 7},
	"subject.O":        {2, 5, 4, 10},
	"subject.C-O":      {2, 5, 4, 10, 1},
	"subject.OU":       {2, 5, 4, 11},
	"subject.C-OU":     {2, 5, 4, 11, 1},
	"subject.ST":       {2, 5, 4, 8},
	"subject.C-ST":     {2, 5, 4, 8, 1},
	"subject.STREET":   {2, 5, 4, 9},
	"subject.C-STREET": {2, 5, 4, 9, 1},
	"subject.UID":      {0, 9, 2342, 19200300, 100, 1, 1},
}

var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

func attrValues(c *x509.Certificate, oid asn1.ObjectIdentifier) []string {
	var out []string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oid) {
			if s, ok := n.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func hasAttr(c *x509.Certificate, oid asn1.ObjectIdentifier, v string) bool {
	vals := attrValues(c, oid)
	return len(vals) > 0 && vals[0] == v
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, x := range c.Extensions {
		if x.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func parseOID(dotted string) (asn1.ObjectIdentifier, bool) {
	var oid asn1.ObjectIdentifier
	for _, p := range strings.Split(dotted, ".") {
		var n int
		if p == "" || len(p) > 9 {
			return nil, false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return nil, false
			}
			n = n*10 + int(c-'0')
		}
		oid = append(oid, n)
	}
	return oid, len(oid) >= 2
}

func (ev *evaluator) certField(e requirement.CertField) *Evaluation {
	c, st := ev.cert(e.Slot)
	if st == slotUnknown {
		return undecided(e, ev.unknownSlotWhy(e.Slot))
	}
	if e.Kind == requirement.FieldDate {
		// certificateCopyFieldDate: a missing certificate or field is kCFNull,
		// which only "absent" matches.
		var val any
		if c != nil {
			oid, ok := parseOID(e.Key)
			if !ok {
				return undecided(e, "OID component too large to look up")
			}
			for _, x := range c.Extensions {
				if x.Id.Equal(oid) {
					var s string
					if _, err := asn1.UnmarshalWithParams(x.Value, &s, "utf8"); err == nil {
						if t, err := time.Parse("20060102150405Z0700", s); err == nil {
							val = t
						}
					}
					break
				}
			}
		}
		return ev.matchResult(e, val, e.Match, "certificate "+e.Slot.String()+" timestamp."+e.Key)
	}
	if c == nil {
		return no(e, "no certificate in slot "+e.Slot.String())
	}
	switch e.Kind {
	case requirement.FieldOID, requirement.FieldPolicy:
		oid, ok := parseOID(e.Key)
		if !ok {
			return undecided(e, "OID component too large to look up")
		}
		var present bool
		if e.Kind == requirement.FieldOID {
			present = hasExtension(c, oid)
		} else {
			for _, p := range c.Policies {
				present = present || p.EqualASN1OID(oid)
			}
			for _, p := range c.PolicyIdentifiers {
				present = present || p.Equal(oid)
			}
		}
		var val any // kCFNull
		if present {
			val = true
		}
		return ev.matchResult(e, val, e.Match, "certificate "+e.Slot.String())
	case requirement.FieldSubject:
		if e.Key == "email" {
			var all []any
			for _, v := range attrValues(c, oidEmailAddress) {
				all = append(all, v)
			}
			for _, v := range c.EmailAddresses {
				all = append(all, v)
			}
			if len(all) == 0 {
				return no(e, "certificate has no email addresses")
			}
			return ev.matchResult(e, all, e.Match, "certificate email")
		}
		oid, ok := subjectKeys[e.Key]
		if !ok {
			return no(e, "certificate field "+e.Key+" is not one Apple's interpreter knows")
		}
		vals := attrValues(c, oid)
		if len(vals) == 0 {
			return no(e, fmt.Sprintf("certificate %s has no %s", e.Slot, e.Key))
		}
		first := ev.matchResult(e, vals[0], e.Match, "certificate "+e.Slot.String()+" "+e.Key)
		for _, v := range vals[1:] {
			if ev.matchResult(e, v, e.Match, "").Outcome != first.Outcome {
				return undecided(e, fmt.Sprintf("certificate %s has several %s values %q and they match differently", e.Slot, e.Key, vals))
			}
		}
		return first
	}
	return undecided(e, "unknown certificate field kind")
}

func (ev *evaluator) dictMatch(e requirement.Expr, what string, dict map[string]any, key string, m requirement.Match) *Evaluation {
	if dict == nil {
		return undecided(e, what+" not available")
	}
	v, ok := dict[key]
	if !ok {
		v = nil
	}
	return ev.matchResult(e, v, m, what+" "+key)
}

func (ev *evaluator) matchResult(e requirement.Expr, v any, m requirement.Match, what string) *Evaluation {
	ok, decided := match(v, m)
	desc := what + " is " + describe(v)
	if !decided {
		return undecided(e, desc+", which cannot be compared statically")
	}
	return verdict(e, ok, desc)
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "absent"
	case string:
		return fmt.Sprintf("%q", v)
	case time.Time:
		return v.UTC().Format(time.RFC3339)
	}
	s := fmt.Sprintf("%v", v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// match applies a match operation to a candidate value as
// Interpreter::Match::operator() does; nil is kCFNull (absent). decided is
// false for comparisons whose CoreFoundation semantics this code does not
// reproduce.
func match(v any, m requirement.Match) (ok, decided bool) {
	if v == nil {
		return m.Op == requirement.MatchAbsent, true
	}
	if arr, isArr := v.([]any); isArr {
		anyUndecided := false
		for _, el := range arr {
			ok, dec := match(el, m)
			if ok && dec {
				return true, true
			}
			anyUndecided = anyUndecided || !dec
		}
		if anyUndecided {
			return false, false
		}
		// fall through: the array itself, as Apple does
	}
	switch op := m.Op; {
	case op == requirement.MatchAbsent:
		return false, true
	case op == requirement.MatchExists:
		b, isBool := v.(bool)
		return !isBool || b, true
	case op == requirement.MatchEqual:
		s, isStr := v.(string)
		if !utf8.ValidString(m.Value) {
			return false, true // Apple cannot make a CFString of it
		}
		return isStr && s == m.Value, true
	case op == requirement.MatchContains || op == requirement.MatchBeginsWith || op == requirement.MatchEndsWith:
		s, isStr := v.(string)
		// CFStringFindWithOptions finds nothing when either string is
		// empty, so an empty value (or candidate) never matches.
		if !isStr || s == "" || m.Value == "" {
			return false, true
		}
		switch op {
		case requirement.MatchContains:
			return strings.Contains(s, m.Value), true
		case requirement.MatchBeginsWith:
			return strings.HasPrefix(s, m.Value), true
		}
		return strings.HasSuffix(s, m.Value), true
	case op.HasValue():
		s, isStr := v.(string)
		if !isStr {
			return false, true
		}
		c := compareNumerically(s, m.Value)
		switch op {
		case requirement.MatchLessThan:
			return c < 0, true
		case requirement.MatchGreaterThan:
			return c > 0, true
		case requirement.MatchLessEqual:
			return c <= 0, true
		}
		return c >= 0, true
	case op.IsDate():
		t, isTime := v.(time.Time)
		if !isTime {
			return false, true
		}
		c := t.Compare(m.Time())
		switch op {
		case requirement.MatchOn:
			return c == 0, true
		case requirement.MatchBefore:
			return c < 0, true
		case requirement.MatchAfter:
			return c > 0, true
		case requirement.MatchOnOrBefore:
			return c <= 0, true
		}
		return c >= 0, true
	}
	return false, true // unknown match operations never match
}

// compareNumerically compares strings as CFStringCompare with
// kCFCompareNumerically does: runs of digits compare by value, so
// "1.10" > "1.9" and "10" > "9".
func compareNumerically(a, b string) int {
	isD := func(c byte) bool { return c >= '0' && c <= '9' }
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isD(a[i]) && isD(b[j]) {
			si, sj := i, j
			for i < len(a) && isD(a[i]) {
				i++
			}
			for j < len(b) && isD(b[j]) {
				j++
			}
			x, _ := new(big.Int).SetString(a[si:i], 10)
			y, _ := new(big.Int).SetString(b[sj:j], 10)
			if c := x.Cmp(y); c != 0 {
				return c
			}
			continue
		}
		ra, na := utf8.DecodeRuneInString(a[i:])
		rb, nb := utf8.DecodeRuneInString(b[j:])
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		i += na
		j += nb
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}

// buildChain orders certificates the way the system's trust evaluation
// would present them: the signer (certs[0]), then the certificate whose key
// verifies its signature, and so on. complete is true when the chain ends in
// a self-signed certificate, or when there are no certificates at all.
func buildChain(certs []*x509.Certificate) (chain []*x509.Certificate, complete bool) {
	if len(certs) == 0 || certs[0] == nil {
		return nil, true
	}
	used := make([]bool, len(certs))
	used[0] = true
	cur := certs[0]
	chain = []*x509.Certificate{cur}
	for len(chain) <= len(certs) {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			return chain, true
		}
		next := -1
		for i, c := range certs {
			if !used[i] && c != nil && bytes.Equal(c.RawSubject, cur.RawIssuer) && signedBy(cur, c) {
				next = i
				break
			}
		}
		if next < 0 {
			return chain, false
		}
		used[next] = true
		cur = certs[next]
		chain = append(chain, cur)
	}
	return chain, false
}

// signedBy reports whether parent's key verifies child's signature,
// accepting SHA-1 RSA signatures (still found on Apple's older code
// signing chains) that crypto/x509 refuses.
func signedBy(child, parent *x509.Certificate) bool {
	err := child.CheckSignatureFrom(parent)
	if err == nil {
		return true
	}
	var insecure x509.InsecureAlgorithmError
	isCA := parent.Version < 3 || (parent.BasicConstraintsValid && parent.IsCA)
	if errors.As(err, &insecure) && child.SignatureAlgorithm == x509.SHA1WithRSA && isCA {
		if pub, ok := parent.PublicKey.(*rsa.PublicKey); ok {
			sum := sha1.Sum(child.RawTBSCertificate) //nolint:gosec
			return rsa.VerifyPKCS1v15(pub, crypto.SHA1, sum[:], child.Signature) == nil
		}
	}
	return false
}
