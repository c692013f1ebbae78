package codesign_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/goxpc/goxpc/codesign"
)

// Apple's cdhash attributes in the CMS signer info (see cms.go).
var (
	testOIDCDHashes  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	testOIDCDHashes2 = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
	testOIDSHA256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

type testSigner struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestSigner(t *testing.T) testSigner { return makeTestSigner(t, nil) }

// newTestSignerWithMarker adds the Developer ID Application leaf marker.
func newTestSignerWithMarker(t *testing.T) testSigner {
	return makeTestSigner(t, []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}, Value: []byte{5, 0}}})
}

func makeTestSigner(t *testing.T, exts []pkix.Extension) testSigner {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:    big.NewInt(7),
		Subject:         pkix.Name{CommonName: "Test Signer", OrganizationalUnit: []string{"TEAM000001"}},
		NotBefore:       time.Now().Add(-time.Hour),
		NotAfter:        time.Now().Add(time.Hour),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return testSigner{cert, key}
}

// cms signs the slot-0 CodeDirectory as codesign does (detached, SHA-256),
// adding the cdhash attributes that attrs returns.
func (s testSigner) cms(t *testing.T, attrs func(cds [][]byte) []pkcs7.Attribute) func([][]byte) []byte {
	return func(cds [][]byte) []byte {
		sd, err := pkcs7.NewSignedData(cds[0])
		require.NoError(t, err)
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		var extra []pkcs7.Attribute
		if attrs != nil {
			extra = attrs(cds)
		}
		require.NoError(t, sd.AddSigner(s.cert, s.key, pkcs7.SignerInfoConfig{ExtraSignedAttributes: extra}))
		sd.Detach()
		der, err := sd.Finish()
		require.NoError(t, err)
		return der
	}
}

// cdHashesPlist is the value of Apple's CDHashes attribute: a plist
// {cdhashes: [<20-byte cdhash> ...]} in CodeDirectory order.
func cdHashesPlist(t *testing.T, hashes [][]byte) []byte {
	b, err := plist.Marshal(map[string]any{"cdhashes": hashes}, plist.XMLFormat)
	require.NoError(t, err)
	return b
}

func truncatedCDHash(cd []byte, sha1CD bool) []byte {
	if sha1CD {
		h := sha1.Sum(cd) //nolint:gosec
		return h[:20]
	}
	h := sha256.Sum256(cd)
	return h[:20]
}

func TestCMSWithCDHashesAttribute(t *testing.T) {
	signer := newTestSigner(t)
	base := readTestdata(t, "hello-arm64-linker")
	twoCDs := []testCD{{hashType: codesign.HashSHA1, corruptPage: -1}, {hashType: codesign.HashSHA256, corruptPage: -1}}

	verify := func(attrs func(cds [][]byte) []pkcs7.Attribute) error {
		data := resignWith(t, base, resignOptions{cds: twoCDs, cms: signer.cms(t, attrs)})
		f, err := codesign.NewFile(bytes.NewReader(data))
		require.NoError(t, err)
		s := f.Signatures[0]
		require.False(t, s.Adhoc())
		require.Len(t, s.Certificates, 1)
		assert.Equal(t, "TEAM000001", s.Info().Certificates[0].OrganizationalUnit)
		return f.Verify()
	}

	t.Run("CDHashes plist names both", func(t *testing.T) {
		err := verify(func(cds [][]byte) []pkcs7.Attribute {
			return []pkcs7.Attribute{{Type: testOIDCDHashes, Value: cdHashesPlist(t, [][]byte{
				truncatedCDHash(cds[0], true), truncatedCDHash(cds[1], false)})}}
		})
		require.NoError(t, err)
	})
	t.Run("CDHashes plist names the wrong alternate", func(t *testing.T) {
		err := verify(func(cds [][]byte) []pkcs7.Attribute {
			return []pkcs7.Attribute{{Type: testOIDCDHashes, Value: cdHashesPlist(t, [][]byte{
				truncatedCDHash(cds[0], true), make([]byte, 20)})}}
		})
		var ce *codesign.CMSError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Reason, "alternate CodeDirectory 0")
	})
	t.Run("CDHashes plist names one of two", func(t *testing.T) {
		err := verify(func(cds [][]byte) []pkcs7.Attribute {
			return []pkcs7.Attribute{{Type: testOIDCDHashes, Value: cdHashesPlist(t, [][]byte{truncatedCDHash(cds[0], true)})}}
		})
		require.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	})
	t.Run("no attribute: alternates must agree with slot 0", func(t *testing.T) {
		// Security.framework accepts alternates no attribute covers.
		require.NoError(t, verify(nil))
		// This reader also wants them to agree with the signed directory.
		cds := []testCD{twoCDs[0], {hashType: codesign.HashSHA256, corruptPage: -1, flags: codesign.FlagRuntime}}
		data := resignWith(t, base, resignOptions{cds: cds, cms: signer.cms(t, nil)})
		f, err := codesign.NewFile(bytes.NewReader(data))
		require.NoError(t, err)
		var ce *codesign.CMSError
		require.ErrorAs(t, f.Verify(), &ce)
		assert.Contains(t, ce.Reason, "disagrees")
	})
	t.Run("CDHashes plist is ordered by hash type", func(t *testing.T) {
		// slot 0 SHA-256, alternate SHA-1: the list is still [sha1, sha256].
		cds := []testCD{{hashType: codesign.HashSHA256, corruptPage: -1}, {hashType: codesign.HashSHA1, corruptPage: -1}}
		mk := func(swap bool) error {
			data := resignWith(t, base, resignOptions{cds: cds, cms: signer.cms(t, func(cds [][]byte) []pkcs7.Attribute {
				list := [][]byte{truncatedCDHash(cds[1], true), truncatedCDHash(cds[0], false)}
				if swap {
					list[0], list[1] = list[1], list[0]
				}
				return []pkcs7.Attribute{{Type: testOIDCDHashes, Value: cdHashesPlist(t, list)}}
			})})
			f, err := codesign.NewFile(bytes.NewReader(data))
			require.NoError(t, err)
			return f.Verify()
		}
		require.NoError(t, mk(false))
		require.ErrorIs(t, mk(true), codesign.ErrSignatureInvalid)
	})
	t.Run("CDHashes2 full hashes", func(t *testing.T) {
		type pair struct {
			Alg    asn1.ObjectIdentifier
			Digest []byte
		}
		err := verify(func(cds [][]byte) []pkcs7.Attribute {
			h0 := sha1.Sum(cds[0]) //nolint:gosec
			h1 := sha256.Sum256(cds[1])
			return []pkcs7.Attribute{
				{Type: testOIDCDHashes2, Value: pair{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, h0[:]}},
				{Type: testOIDCDHashes2, Value: pair{testOIDSHA256, h1[:]}},
			}
		})
		require.NoError(t, err)
		err = verify(func(cds [][]byte) []pkcs7.Attribute {
			h1 := sha256.Sum256(cds[1])
			return []pkcs7.Attribute{{Type: testOIDCDHashes2, Value: pair{testOIDSHA256, h1[:]}}}
		})
		var ce *codesign.CMSError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Reason, "CDHashes2")
		err = verify(func(cds [][]byte) []pkcs7.Attribute {
			h0 := sha1.Sum(cds[0]) //nolint:gosec
			h1 := sha256.Sum256(cds[1])
			return []pkcs7.Attribute{
				{Type: testOIDCDHashes2, Value: pair{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, h0[:]}},
				{Type: testOIDCDHashes2, Value: pair{testOIDSHA256, append(h1[:31:31], h1[31]^1)}},
			}
		})
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Reason, "does not match alternate CodeDirectory 0 (sha256)")
	})
}

func TestCMSTeamIDMatchesCertificate(t *testing.T) {
	// A leaf with Apple's Developer ID Application marker: its OU must be
	// the CodeDirectory's team ID.
	signer := newTestSignerWithMarker(t)
	base := readTestdata(t, "hello-arm64-linker")
	for team, ok := range map[string]bool{"TEAM000001": true, "OTHERTEAM1": false} {
		cds := []testCD{{hashType: codesign.HashSHA256, corruptPage: -1, teamID: team}}
		data := resignWith(t, base, resignOptions{cds: cds, cms: signer.cms(t, nil)})
		f, err := codesign.NewFile(bytes.NewReader(data))
		require.NoError(t, err)
		err = f.Verify()
		if ok {
			require.NoError(t, err)
			continue
		}
		var ce *codesign.CMSError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, ce.Reason, "(TEAM000001) does not match the CodeDirectory's (OTHERTEAM1)")
	}
	// Without the marker the OU is not a team ID: no check.
	plain := newTestSigner(t)
	data := resignWith(t, base, resignOptions{cds: []testCD{{hashType: codesign.HashSHA256, corruptPage: -1, teamID: "OTHERTEAM1"}}, cms: plain.cms(t, nil)})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, f.Verify())
}

func TestBundleSlots(t *testing.T) {
	infoPlist := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleIdentifier</key><string>alt.test</string></dict></plist>`)
	resources := []byte(`<plist version="1.0"><dict><key>files</key><dict/></dict></plist>`)
	data := resignWith(t, readTestdata(t, "hello-arm64-linker"), resignOptions{
		cds:      []testCD{{hashType: codesign.HashSHA256, corruptPage: -1}},
		external: map[int][]byte{1: infoPlist, 3: resources},
	})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)

	// Without the bundle files, their slots are not checked.
	require.NoError(t, f.Verify())
	require.NoError(t, f.VerifyWith(codesign.VerifyOptions{InfoPlist: infoPlist, CodeResources: resources}))

	var hm *codesign.HashMismatchError
	err = f.VerifyWith(codesign.VerifyOptions{InfoPlist: append(bytes.Clone(infoPlist), ' ')})
	require.ErrorAs(t, err, &hm)
	assert.Equal(t, codesign.SlotInfoPlist, hm.Slot)
	assert.Contains(t, err.Error(), "Info.plist")

	err = f.VerifyWith(codesign.VerifyOptions{CodeResources: []byte("changed")})
	require.ErrorAs(t, err, &hm)
	assert.Equal(t, codesign.SlotResourceDir, hm.Slot)

	// Evaluate reads info[...] only from the Info.plist the signature binds.
	s := f.Signatures[0]
	ev, err := s.EvaluateText(`info[CFBundleIdentifier] = "alt.test"`, &codesign.EvaluateOptions{InfoPlist: infoPlist})
	require.NoError(t, err)
	assert.Equal(t, codesign.Satisfied, ev.Outcome, ev.String())
	forged := []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>CFBundleIdentifier</key><string>other</string></dict></plist>`)
	_, err = s.EvaluateText(`info[CFBundleIdentifier] = "other"`, &codesign.EvaluateOptions{InfoPlist: forged})
	require.ErrorAs(t, err, &hm)
	assert.Equal(t, codesign.SlotInfoPlist, hm.Slot)

	// A file whose signature binds no Info.plist rejects one given to it.
	plain := openTestdata(t, "hello-arm64-linker")
	err = plain.VerifyWith(codesign.VerifyOptions{InfoPlist: infoPlist})
	require.ErrorAs(t, err, &hm)
	assert.Nil(t, hm.Want)
	assert.Contains(t, err.Error(), "not sealed")
}

// tstInfo is the start of an RFC 3161 TSTInfo.
type testTSTInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	SerialNumber *big.Int
	GenTime      time.Time `asn1:"generalized"`
}

// timestampedCMS signs like testSigner.cms and adds an RFC 3161 timestamp
// token made by tsa over imprint(signature value).
func timestampedCMS(t *testing.T, signer, tsa testSigner, genTime time.Time, imprint func(sig []byte) []byte) func([][]byte) []byte {
	return func(cds [][]byte) []byte {
		sd, err := pkcs7.NewSignedData(cds[0])
		require.NoError(t, err)
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		require.NoError(t, sd.AddSigner(signer.cert, signer.key, pkcs7.SignerInfoConfig{}))
		sd.Detach()
		si := &sd.GetSignedData().SignerInfos[0]

		var tst testTSTInfo
		tst.Version = 1
		tst.Policy = asn1.ObjectIdentifier{1, 2, 3, 4}
		tst.MessageImprint.HashAlgorithm.Algorithm = pkcs7.OIDDigestAlgorithmSHA256
		tst.MessageImprint.HashedMessage = imprint(si.EncryptedDigest)
		tst.SerialNumber = big.NewInt(99)
		tst.GenTime = genTime
		tstDER, err := asn1.Marshal(tst)
		require.NoError(t, err)
		tok, err := pkcs7.NewSignedData(tstDER)
		require.NoError(t, err)
		tok.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		require.NoError(t, tok.AddSigner(tsa.cert, tsa.key, pkcs7.SignerInfoConfig{}))
		tokDER, err := tok.Finish()
		require.NoError(t, err)
		require.NoError(t, si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{
			Type:  asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14},
			Value: asn1.RawValue{FullBytes: tokDER},
		}}))
		der, err := sd.Finish()
		require.NoError(t, err)
		return der
	}
}

func TestCMSTimestamp(t *testing.T) {
	signer, tsa := newTestSigner(t), newTestSigner(t)
	genTime := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	base := readTestdata(t, "hello-arm64-linker")
	oneCD := []testCD{{hashType: codesign.HashSHA256, corruptPage: -1}}
	sha := func(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

	data := resignWith(t, base, resignOptions{cds: oneCD, cms: timestampedCMS(t, signer, tsa, genTime, sha)})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, genTime, f.Signatures[0].Timestamp)
	require.NoError(t, f.Verify())

	// A token that stamps some other signature.
	other := func(b []byte) []byte { return sha(append(bytes.Clone(b), 0)) }
	data = resignWith(t, base, resignOptions{cds: oneCD, cms: timestampedCMS(t, signer, tsa, genTime, other)})
	f, err = codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	var ce *codesign.CMSError
	require.ErrorAs(t, f.Verify(), &ce)
	assert.Contains(t, ce.Reason, "does not stamp this signature")

	// quill's signatures carry no timestamp.
	assert.True(t, openTestdata(t, "hello-arm64-signed").Signatures[0].Timestamp.IsZero())
}
