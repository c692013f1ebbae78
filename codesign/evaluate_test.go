package codesign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // certificate hashes in requirements are SHA-1
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/codesign/requirement"
)

type testPKI struct {
	root, inter, leaf *x509.Certificate
	rootFP            []byte
}

func mkCert(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	tmpl.NotBefore = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tmpl.NotAfter = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c, key
}

func mustOID(t *testing.T, arcs ...uint64) x509.OID {
	t.Helper()
	oid, err := x509.OIDFromInts(arcs)
	require.NoError(t, err)
	return oid
}

func marker(oid asn1.ObjectIdentifier) pkix.Extension {
	return pkix.Extension{Id: oid, Value: []byte{0x05, 0x00}}
}

// newPKI makes a Developer ID–shaped chain under a fake Apple root:
// root -> "Developer ID Certification Authority" (marker 6.2.6) -> leaf
// (marker 6.1.13, OU = ABCDE12345, a timestamp extension).
func newPKI(t *testing.T, interCN string, leafExt ...pkix.Extension) *testPKI {
	t.Helper()
	root, rootKey := mkCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Apple Root CA", Organization: []string{"Apple Inc."}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	inter, interKey := mkCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: interCN, Organization: []string{"Apple Inc."}, OrganizationalUnit: []string{"Apple Certification Authority"}},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtraExtensions: []pkix.Extension{marker(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 6})},
	}, root, rootKey)
	ts, _ := asn1.MarshalWithParams("20240131120000Z", "utf8")
	leaf, _ := mkCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject: pkix.Name{CommonName: "Developer ID Application: Example (ABCDE12345)", OrganizationalUnit: []string{"ABCDE12345"},
			Organization: []string{"Example"}, Country: []string{"US"}},
		EmailAddresses: []string{"dev@example.com"},
		Policies:       []x509.OID{mustOID(t, 1, 2, 840, 113635, 100, 5, 1)},
		ExtraExtensions: append([]pkix.Extension{
			marker(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}),
			{Id: asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 33}, Value: ts},
		}, leafExt...),
	}, inter, interKey)
	fp := sha256.Sum256(root.Raw)
	return &testPKI{root: root, inter: inter, leaf: leaf, rootFP: fp[:]}
}

func evalText(t *testing.T, text string, subj *Subject, opts *EvaluateOptions) *Evaluation {
	t.Helper()
	r, err := requirement.Parse(text)
	require.NoError(t, err, text)
	return Evaluate(r, subj, opts)
}

func TestEvaluateDeveloperID(t *testing.T) {
	pki := newPKI(t, "Developer ID Certification Authority")
	// CMS storage order differs from the chain order on purpose.
	subj := &Subject{
		Identifier:   "com.example.app",
		CDHash:       mustHex("0123456789abcdef0123456789abcdef01234567"),
		Certificates: []*x509.Certificate{pki.leaf, pki.root, pki.inter},
		InfoPlist:    map[string]any{"CFBundleShortVersionString": "1.10", "LSMinimumSystemVersion": "12.0"},
		Entitlements: map[string]any{
			"com.apple.security.app-sandbox":        true,
			"com.apple.security.network.client":     false,
			"com.apple.security.application-groups": []any{"ABCDE12345.group.a", "ABCDE12345.group.b"},
			"com.apple.developer.team-identifier":   "ABCDE12345",
		},
	}
	opts := &EvaluateOptions{AppleRoots: [][]byte{pki.rootFP}}
	dr, err := requirement.DeveloperIDApp("com.example.app", "ABCDE12345")
	require.NoError(t, err)

	got := Evaluate(dr, subj, opts)
	assert.Equal(t, Satisfied, got.Outcome, got.String())
	assert.True(t, got.Satisfied())

	// With the real Apple roots the fake root is not an Apple anchor.
	got = Evaluate(dr, subj, nil)
	assert.Equal(t, NotSatisfied, got.Outcome)
	assert.Contains(t, got.String(), "is not an Apple root")

	wrongID := *subj
	wrongID.Identifier = "com.evil.app"
	got = Evaluate(dr, &wrongID, opts)
	assert.Equal(t, NotSatisfied, got.Outcome)
	assert.Contains(t, got.String(), `signing identifier is "com.evil.app"`)

	tests := []struct {
		text string
		want Outcome
		why  string
	}{
		{`certificate leaf[subject.OU] = ABCDE12345`, Satisfied, ""},
		{`certificate leaf[subject.OU] = "ZZZZZ00000"`, NotSatisfied, `"ABCDE12345"`},
		{`certificate leaf[subject.CN] = "Developer ID Application:"*`, Satisfied, ""},
		{`certificate leaf[subject.O] ~ xam`, Satisfied, ""},
		{`certificate leaf[subject.ST] exists`, NotSatisfied, "has no subject.ST"},
		{`certificate leaf[subject.ST] absent`, NotSatisfied, ""}, // Apple: lookup failure is false, even for absent
		{`certificate 1[subject.CN] = "Developer ID Certification Authority"`, Satisfied, ""},
		{`certificate -2[subject.CN] = "Developer ID Certification Authority"`, Satisfied, ""},
		{`certificate root[subject.CN] = "Test Apple Root CA"`, Satisfied, ""},
		{`certificate 2[subject.CN] = "Test Apple Root CA"`, Satisfied, ""},
		{`certificate 3[subject.CN] exists`, NotSatisfied, "no certificate in slot 3"},
		{`certificate 1[field.1.2.840.113635.100.6.2.6]`, Satisfied, ""},
		{`certificate leaf[field.1.2.840.113635.100.6.2.6]`, NotSatisfied, "absent"},
		{`certificate leaf[field.1.2.840.113635.100.6.2.6] absent`, Satisfied, ""},
		{`certificate leaf[policy.1.2.840.113635.100.5.1]`, Satisfied, ""},
		{`certificate leaf[policy.1.2.3.4]`, NotSatisfied, ""},
		{`certificate leaf[timestamp.1.2.840.113635.100.6.1.33] >= timestamp "20240101000000Z"`, Satisfied, ""},
		{`certificate leaf[timestamp.1.2.840.113635.100.6.1.33] < timestamp "20240101000000Z"`, NotSatisfied, ""},
		{`certificate 5[timestamp.1.2.3] absent`, Satisfied, ""}, // certificateCopyFieldDate: missing cert is kCFNull
		{`certificate leaf = H"` + sha1hex(pki.leaf.Raw) + `"`, Satisfied, ""},
		{`anchor = H"` + sha1hex(pki.root.Raw) + `"`, Satisfied, ""},
		{`anchor = H"0000000000000000000000000000000000000000"`, NotSatisfied, "SHA-1"},
		{`info[CFBundleShortVersionString] >= "1.9"`, Satisfied, ""},
		{`info[CFBundleShortVersionString] < "1.9"`, NotSatisfied, `"1.10"`},
		{`info[CFBundleShortVersionString] = "1.10"`, Satisfied, ""},
		{`info[NSMissing] absent`, Satisfied, ""},
		{`info[NSMissing] = x`, NotSatisfied, "absent"},
		{`entitlement["com.apple.security.app-sandbox"]`, Satisfied, ""},
		{`entitlement["com.apple.security.network.client"] exists`, NotSatisfied, "false"},
		{`entitlement["com.apple.security.application-groups"] = "ABCDE12345.group.b"`, Satisfied, ""},
		{`entitlement["com.apple.security.application-groups"] = "ABCDE12345.group.c"`, NotSatisfied, ""},
		{`entitlement["com.apple.developer.team-identifier"] = ABCDE12345`, Satisfied, ""},
		{`cdhash H"0123456789abcdef0123456789abcdef01234567"`, Satisfied, ""},
		{`cdhash H"0000000000000000000000000000000000000000"`, NotSatisfied, "cdhash is 0123"},
		{`platform = 0`, Satisfied, ""},
		{`anchor apple`, NotSatisfied, "Apple Code Signing Certification Authority"},
		{`notarized`, Undecided, "notarization"},
		{`legacy`, Undecided, ""},
		{`anchor trusted`, Undecided, "trust settings"},
		{`certificate leaf trusted`, Undecided, "trust settings"},
		{`certificate 9 trusted`, NotSatisfied, "no certificate"},
		{`anchor apple generic and notarized`, Undecided, "notarization"},
		{`identifier com.other and notarized`, NotSatisfied, "com.example.app"},
		{`identifier "com.example.app" or notarized`, Satisfied, ""},
		{`! notarized`, Undecided, ""},
		{`! identifier foo`, Satisfied, ""},
		{`(com.apple.named)`, Undecided, "Security.framework"},
		{`anchor apple named`, Undecided, "Security.framework"},
		{`always and ! never`, Satisfied, ""},
	}
	// "email" is known to the interpreter but not to the parser, so it can
	// only come from a binary requirement.
	email := requirement.CertField{Slot: requirement.SlotLeaf, Kind: requirement.FieldSubject, Key: "email", Match: requirement.Match{Op: requirement.MatchEqual, Value: "dev@example.com"}}
	got = Evaluate(requirement.New(email), subj, opts)
	assert.Equal(t, Satisfied, got.Outcome, got.String())
	email.Match.Value = "other@example.com"
	assert.Equal(t, NotSatisfied, Evaluate(requirement.New(email), subj, opts).Outcome)

	for _, tt := range tests {
		got := evalText(t, tt.text, subj, opts)
		assert.Equal(t, tt.want, got.Outcome, "%s: %s", tt.text, got)
		assert.Contains(t, got.String(), tt.why, tt.text)
		assert.NotEmpty(t, got.Reasons, tt.text)
	}
}

func sha1hex(b []byte) string {
	sum := sha1.Sum(b) //nolint:gosec
	return hex.EncodeToString(sum[:])
}

func TestEvaluateIncompleteAndForgedChains(t *testing.T) {
	pki := newPKI(t, "Developer ID Certification Authority")
	opts := &EvaluateOptions{AppleRoots: [][]byte{pki.rootFP}}
	noRoot := &Subject{Identifier: "com.example.app", Certificates: []*x509.Certificate{pki.leaf, pki.inter}}
	for text, want := range map[string]Outcome{
		`anchor apple generic`:                                               Undecided,
		`certificate root[subject.CN] exists`:                                Undecided,
		`certificate 2[subject.CN] exists`:                                   Undecided,
		`certificate 1[field.1.2.840.113635.100.6.2.6]`:                      Satisfied,
		`certificate leaf[subject.OU] = ABCDE12345`:                          Satisfied,
		`identifier nope and anchor apple generic`:                           NotSatisfied,
		`anchor apple generic and certificate leaf[subject.OU] = ABCDE12345`: Undecided,
	} {
		got := evalText(t, text, noRoot, opts)
		assert.Equal(t, want, got.Outcome, "%s: %s", text, got)
	}
	got := evalText(t, `anchor apple generic`, noRoot, opts)
	assert.Contains(t, got.String(), "without a root")

	// A self-signed leaf that merely carries the Apple root alongside: the
	// root did not sign it, so the chain is the leaf alone.
	forged, _ := mkCert(t, &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pki.leaf.Subject}, nil, nil)
	got = evalText(t, `anchor apple generic`, &Subject{Certificates: []*x509.Certificate{forged, pki.root, pki.inter}}, opts)
	assert.Equal(t, NotSatisfied, got.Outcome, got.String())

	// A leaf naming the real intermediate as issuer but signed by another key.
	other := newPKI(t, "Developer ID Certification Authority")
	got = evalText(t, `anchor apple generic`, &Subject{Certificates: []*x509.Certificate{other.leaf, pki.inter, pki.root}}, opts)
	assert.Equal(t, Undecided, got.Outcome, "chain stops at the leaf whose issuer is not embedded: %s", got)

	// Ad-hoc code.
	adhoc := &Subject{Identifier: "a.out", CDHash: mustHex("832182bd97ff983cc0d383426d4653d157cb2e4f"), Entitlements: map[string]any{}}
	for text, want := range map[string]Outcome{
		`anchor apple generic`:         NotSatisfied,
		`anchor apple`:                 Undecided,
		`certificate leaf[subject.CN]`: NotSatisfied,
		`anchor trusted`:               NotSatisfied,
		`cdhash H"832182bd97ff983cc0d383426d4653d157cb2e4f"`: Satisfied,
		`entitlement[x] absent`:                              Satisfied,
		`info[CFBundleVersion] exists`:                       Undecided,
	} {
		got := evalText(t, text, adhoc, nil)
		assert.Equal(t, want, got.Outcome, "%s: %s", text, got)
	}
}

func TestEvaluateAppleSigned(t *testing.T) {
	pki := newPKI(t, "Apple Code Signing Certification Authority", marker(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 22}))
	opts := &EvaluateOptions{AppleRoots: [][]byte{pki.rootFP}}
	subj := &Subject{Certificates: []*x509.Certificate{pki.leaf, pki.inter, pki.root}}
	got := evalText(t, `anchor apple`, subj, opts)
	assert.Equal(t, Satisfied, got.Outcome, got.String())

	noMarker := newPKI(t, "Apple Code Signing Certification Authority")
	got = evalText(t, `anchor apple`, &Subject{Certificates: []*x509.Certificate{noMarker.leaf, noMarker.inter, noMarker.root}}, &EvaluateOptions{AppleRoots: [][]byte{noMarker.rootFP}})
	assert.Equal(t, NotSatisfied, got.Outcome)
	assert.Contains(t, got.String(), "1.2.840.113635.100.6.22")
}

func TestAppleRootFingerprints(t *testing.T) {
	der, err := os.ReadFile("../testdata/requirement/AppleRootCA.cer")
	require.NoError(t, err)
	root, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	assert.Equal(t, "Apple Root CA", root.Subject.CommonName)
	got := evalText(t, `anchor apple generic`, &Subject{Certificates: []*x509.Certificate{root}}, nil)
	assert.Equal(t, Satisfied, got.Outcome, got.String())
	assert.Len(t, AppleRootFingerprints(), 5)
}

func TestEvaluateRealCertificate(t *testing.T) {
	// quick-lint-js's csreq (Apple csreq -b output) pins its leaf by SHA-1.
	pemBytes, err := os.ReadFile("../testdata/requirement/quick-lint-js.crt")
	require.NoError(t, err)
	block, _ := pem.Decode(pemBytes)
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	blob := mustHex("fade0c00000000480000000100000006000000020000000d717569636b2d6c696e742d6a73000000000000040000000000000014c247d3485ca92deef2ee69a2b2115a61522e32bd")
	r, err := requirement.Decompile(blob)
	require.NoError(t, err)
	subj := &Subject{Identifier: "quick-lint-js", Certificates: []*x509.Certificate{leaf}}
	got := Evaluate(r, subj, nil)
	assert.Equal(t, Satisfied, got.Outcome, got.String())
	subj.Identifier = "quick-lint-js-fork"
	assert.Equal(t, NotSatisfied, Evaluate(r, subj, nil).Outcome)
}

func TestSignatureEvaluate(t *testing.T) {
	f, err := Open("../testdata/codesign/hello-arm64-signed")
	require.NoError(t, err)
	defer f.Close()
	require.NotEmpty(t, f.Signatures)
	sig := f.Signatures[0]
	var set requirement.Set
	require.NoError(t, set.UnmarshalBinary(sig.Requirements))
	dr := set[requirement.Designated]
	require.NotNil(t, dr)
	got, err := sig.Evaluate(dr, nil)
	require.NoError(t, err)
	// The test chain's root is embedded: the designated requirement
	// (identifier, Developer ID intermediate marker, team) is decided.
	assert.NotEqual(t, Undecided, got.Outcome, got.String())
	t.Log(got)

	// The fixture's signature binds no Info.plist, so one given for it is
	// not the code's (anyone could have written it): an error, as in
	// VerifyWith, never a satisfied info[...] clause.
	got, err = sig.EvaluateText(`identifier "com.example.hello" and info[CFBundleVersion] >= "2"`, &EvaluateOptions{
		InfoPlist: []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleVersion</key><string>10</string></dict></plist>`),
	})
	var hm *HashMismatchError
	require.ErrorAs(t, err, &hm, "%v", got)
	assert.Equal(t, SlotInfoPlist, hm.Slot)

	_, err = sig.EvaluateText(`identifier`, nil)
	assert.ErrorIs(t, err, ErrInvalidRequirement)
	_, err = sig.Evaluate(dr, &EvaluateOptions{InfoPlist: []byte("not a plist <")})
	assert.Error(t, err)
}

func TestCompareNumerically(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.10", "1.9", 1}, {"1.2", "1.2", 0}, {"1.2", "1.2.1", -1}, {"10", "9", 1},
		{"2.0b1", "2.0b2", -1}, {"abc", "abd", -1}, {"", "1", -1}, {"1.02", "1.2", 0},
		{"99999999999999999999999", "99999999999999999999998", 1},
	} {
		assert.Equal(t, tt.want, compareNumerically(tt.a, tt.b), "%q vs %q", tt.a, tt.b)
	}
}

func TestOutcomeStrings(t *testing.T) {
	assert.Equal(t, "undecided", Outcome(0).String())
	assert.Equal(t, "satisfied", Satisfied.String())
	assert.Equal(t, "not satisfied", NotSatisfied.String())
	var e *Evaluation
	assert.False(t, e.Satisfied())
	assert.Equal(t, "undecided", e.String())
	assert.Equal(t, Undecided, Evaluate(nil, nil, nil).Outcome)
}

// Evaluating a requirement against an ad-hoc signature: some clauses are
// settled by the file, others only by the system.
func ExampleEvaluate() {
	subj := &Subject{
		Identifier:   "com.example.tool",
		CDHash:       mustHex("832182bd97ff983cc0d383426d4653d157cb2e4f"),
		Entitlements: map[string]any{},
	}
	for _, text := range []string{
		`identifier "com.example.tool" and cdhash H"832182bd97ff983cc0d383426d4653d157cb2e4f"`,
		`identifier "com.example.tool" and anchor apple generic`,
		`identifier "com.example.tool" and notarized`,
	} {
		r, err := requirement.Parse(text)
		if err != nil {
			panic(err)
		}
		fmt.Println(Evaluate(r, subj, nil).Outcome)
	}
	// Output:
	// satisfied
	// not satisfied
	// undecided
}

func TestEvaluateEmptySubstringNeverMatches(t *testing.T) {
	// CFStringFindWithOptions finds nothing when the string to find (or
	// the string searched) is empty, so Apple's contains / beginsWith /
	// endsWith with an empty value never match.
	subj := &Subject{Entitlements: map[string]any{"k": "value", "e": ""}, InfoPlist: map[string]any{}}
	for _, text := range []string{
		`entitlement["k"] ~ ""`,
		`entitlement["k"] = *""`,
		`entitlement["k"] = ""*`,
		`entitlement["k"] = *""*`,
		`entitlement["e"] ~ ""`,
		`entitlement["e"] = ""*`,
	} {
		ev := evalText(t, text, subj, nil)
		assert.Equal(t, NotSatisfied, ev.Outcome, "%s: %s", text, ev)
	}
	// An empty value still equals an empty string.
	assert.Equal(t, Satisfied, evalText(t, `entitlement["e"] = ""`, subj, nil).Outcome)
}
