package codesign_test

import (
	"bytes"
	"crypto/sha1" //nolint:gosec
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/codesign"
)

// These tests re-sign the Go-linker binary in memory with layouts the
// third-party tools in testdata do not produce: a SHA-1 CodeDirectory in
// slot 0 with a SHA-256 alternate (as codesign does for code that supports
// old systems), and DER entitlements. The layout follows
// <Kernel/kern/cs_blobs.h>; the DER entitlements follow CoreEntitlements
// (CCDER_ENTITLEMENTS = [APPLICATION 16], dictionary = [CONTEXT 16]).

func derTLV(tag byte, content ...[]byte) []byte {
	body := bytes.Join(content, nil)
	out := []byte{tag}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, body...)
}

// testDEREntitlements encodes
// {"com.apple.security.get-task-allow": true, "groups": ["A.b"], "n": 42, "nested": {"k": "v"}}.
func testDEREntitlements() []byte {
	entry := func(k string, v []byte) []byte { return derTLV(0x30, derTLV(0x0c, []byte(k)), v) }
	dict := derTLV(0xb0,
		entry("com.apple.security.get-task-allow", []byte{0x01, 0x01, 0xff}),
		entry("groups", derTLV(0x30, derTLV(0x0c, []byte("A.b")))),
		entry("n", []byte{0x02, 0x01, 42}),
		entry("nested", derTLV(0xb0, entry("k", derTLV(0x0c, []byte("v"))))),
	)
	return derTLV(0x70, []byte{0x02, 0x01, 0x01}, dict)
}

type testCD struct {
	hashType codesign.HashType
	version  uint32 // default 0x20400
	teamID   string // needs version >= 0x20200
	// codeLimit64 stores the code limit in the 64-bit field (0x20300+).
	codeLimit64 bool
	flags       codesign.CodeFlags // default FlagAdhoc
	// corruptPage, if >= 0, stores a wrong hash for that page.
	corruptPage int
	// codeLimit, if nonzero, replaces the signature offset as the signed
	// range (a signature that does not cover all the code).
	codeLimit uint32
	// unsealed lists special slots this directory leaves zero, on top of
	// resignOptions.unsealed.
	unsealed []int
	// platform is the platform identifier.
	platform uint8
}

func blob(magic uint32, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, magic)
	binary.BigEndian.PutUint32(b[4:], uint32(8+len(payload)))
	return append(b, payload...)
}

func testHash(ht codesign.HashType, data []byte) []byte {
	if ht == codesign.HashSHA1 {
		h := sha1.Sum(data) //nolint:gosec
		return h[:]
	}
	h := sha256.Sum256(data)
	return h[:]
}

// resign replaces the signature of a thin 64-bit Mach-O with an ad-hoc one
// holding the given CodeDirectories (the first in slot 0, the others as
// alternates), XML and DER entitlements.
func resign(t *testing.T, data []byte, cds []testCD) []byte {
	return resignWith(t, data, resignOptions{cds: cds})
}

type resignOptions struct {
	cds []testCD
	// external holds bundle files whose hashes go in special slots 1
	// (Info.plist) and 3 (CodeResources).
	external map[int][]byte
	// unsealed lists special slots whose blobs stay in the SuperBlob but
	// whose hashes are left zero.
	unsealed []int
	// cms, if set, returns the CMS blob payload for the CodeDirectory
	// blobs (slot 0 first); else the signature is ad hoc.
	cms func(cds [][]byte) []byte
}

func resignWith(t *testing.T, data []byte, o resignOptions) []byte {
	t.Helper()
	lc := findLoadCommand(t, data, 0x1d)
	codeLimit := binary.LittleEndian.Uint32(data[lc+8:])
	code := bytes.Clone(data[:codeLimit])
	// The header is hashed too, so its datasize must be final first; like
	// codesign, reserve room (a CMS signature's size varies) and pad.
	sb := buildSuperBlob(code, codeLimit, o)
	size := len(sb) + 256
	binary.LittleEndian.PutUint32(code[lc+12:], uint32(size))
	sb = buildSuperBlob(code, codeLimit, o)
	require.LessOrEqual(t, len(sb), size)
	return append(append(code, sb...), make([]byte, size-len(sb))...)
}

func buildSuperBlob(code []byte, codeLimit uint32, o resignOptions) []byte {
	cds := o.cds
	entXML := blob(0xfade7171, []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>com.apple.security.get-task-allow</key><true/></dict></plist>`))
	entDER := blob(0xfade7172, testDEREntitlements())
	launch := blob(0xfade8181, []byte{0x30, 0x03, 0x02, 0x01, 0x01}) // opaque to the reader
	special := map[int][]byte{5: entXML, 7: entDER, 8: launch}
	for slot, b := range o.external {
		special[slot] = b
	}
	const nSpecial = 8

	var cdBlobs [][]byte
	for _, c := range cds {
		hs := c.hashType.Size()
		codeLimit := codeLimit
		if c.codeLimit != 0 {
			codeLimit = c.codeLimit
		}
		version := c.version
		if version == 0 {
			version = 0x20400
		}
		// Fixed header size per version (<Kernel/kern/cs_blobs.h>).
		hdr := map[uint32]int{0x20001: 44, 0x20100: 48, 0x20200: 52, 0x20300: 64, 0x20400: 88, 0x20500: 96, 0x20600: 108}[version]
		ident := []byte("alt.test\x00")
		var team []byte
		if c.teamID != "" {
			team = []byte(c.teamID + "\x00")
		}
		nPages := (int(codeLimit) + 4095) / 4096
		hashOff := hdr + len(ident) + len(team) + nSpecial*hs
		cd := make([]byte, hashOff+nPages*hs)
		be := binary.BigEndian
		be.PutUint32(cd[0:], 0xfade0c02)
		be.PutUint32(cd[4:], uint32(len(cd)))
		be.PutUint32(cd[8:], version)
		flags := c.flags
		if flags == 0 {
			flags = codesign.FlagAdhoc
		}
		be.PutUint32(cd[12:], uint32(flags))
		be.PutUint32(cd[16:], uint32(hashOff))
		be.PutUint32(cd[20:], uint32(hdr))
		be.PutUint32(cd[24:], nSpecial)
		be.PutUint32(cd[28:], uint32(nPages))
		be.PutUint32(cd[32:], codeLimit)
		cd[36], cd[37], cd[38], cd[39] = byte(hs), byte(c.hashType), c.platform, 12
		if team != nil {
			be.PutUint32(cd[48:], uint32(hdr+len(ident)))
			copy(cd[hdr+len(ident):], team)
		}
		if c.codeLimit64 {
			be.PutUint32(cd[32:], 0)
			be.PutUint64(cd[56:], uint64(codeLimit))
		}
		if version >= 0x20400 {
			be.PutUint64(cd[72:], 0x4000) // exec seg limit
			be.PutUint64(cd[80:], uint64(codesign.ExecSegMainBinary))
		}
		copy(cd[hdr:], ident)
		for slot, b := range special {
			if !slices.Contains(o.unsealed, slot) && !slices.Contains(c.unsealed, slot) {
				copy(cd[hashOff-slot*hs:], testHash(c.hashType, b)[:hs])
			}
		}
		for p := range nPages {
			page := code[p*4096 : min((p+1)*4096, int(codeLimit))]
			h := testHash(c.hashType, page)[:hs]
			if p == c.corruptPage {
				h = make([]byte, hs)
			}
			copy(cd[hashOff+p*hs:], h)
		}
		cdBlobs = append(cdBlobs, cd)
	}

	type entry struct {
		slot uint32
		b    []byte
	}
	entries := []entry{{0, cdBlobs[0]}, {5, entXML}, {7, entDER}, {8, launch}}
	for i, cd := range cdBlobs[1:] {
		entries = append(entries, entry{0x1000 + uint32(i), cd})
	}
	var cmsDER []byte // empty: ad hoc
	if o.cms != nil {
		cmsDER = o.cms(cdBlobs)
	}
	entries = append(entries, entry{0x10000, blob(0xfade0b01, cmsDER)})
	off := 12 + 8*len(entries)
	var index, body []byte
	for _, e := range entries {
		index = binary.BigEndian.AppendUint32(index, e.slot)
		index = binary.BigEndian.AppendUint32(index, uint32(off+len(body)))
		body = append(body, e.b...)
	}
	sb := binary.BigEndian.AppendUint32(nil, 0xfade0cc0)
	sb = binary.BigEndian.AppendUint32(sb, uint32(off+len(body)))
	sb = binary.BigEndian.AppendUint32(sb, uint32(len(entries)))
	return append(append(sb, index...), body...)
}

func TestAlternateCodeDirectories(t *testing.T) {
	data := resign(t, readTestdata(t, "hello-arm64-linker"), []testCD{
		{hashType: codesign.HashSHA1, corruptPage: -1},
		{hashType: codesign.HashSHA256, corruptPage: -1},
	})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	s := f.Signatures[0]
	require.Len(t, s.CodeDirectories, 2)
	assert.Equal(t, codesign.SlotCodeDirectory, s.CodeDirectories[0].Slot)
	assert.Equal(t, codesign.HashSHA1, s.CodeDirectories[0].HashType)
	assert.Equal(t, codesign.SlotAlternateCodeDirectory, s.CodeDirectories[1].Slot)

	// The kernel's choice is the SHA-256 directory.
	best := s.CodeDirectory()
	assert.Equal(t, codesign.HashSHA256, best.HashType)
	info := s.Info()
	assert.Equal(t, "sha256", info.HashType)
	sum := sha256.Sum256(s.CodeDirectories[1].Raw)
	assert.Equal(t, sum[:20], info.CDHash)
	assert.Equal(t, "alt.test", info.Identifier)
	assert.Equal(t, codesign.ExecSegMainBinary, best.ExecSegFlags)
	assert.Equal(t, uint64(0x4000), best.ExecSegLimit)

	// XML entitlements win in Info; the DER form decodes on its own.
	assert.Equal(t, map[string]any{"com.apple.security.get-task-allow": true}, info.Entitlements)
	der, err := codesign.DecodeDEREntitlements(s.EntitlementsDER)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"com.apple.security.get-task-allow": true,
		"groups":                            []any{"A.b"},
		"n":                                 int64(42),
		"nested":                            map[string]any{"k": "v"},
	}, der)

	require.NoError(t, f.Verify())

	// A flipped DER entitlements byte is caught by the slot-0 directory.
	for _, b := range s.Blobs {
		if b.Slot == codesign.SlotDEREntitlements {
			bad := bytes.Clone(data)
			bad[int64(s.SignatureOffset)+int64(b.Offset)+12] ^= 1
			f2, err := codesign.NewFile(bytes.NewReader(bad))
			require.NoError(t, err)
			var hm *codesign.HashMismatchError
			require.ErrorAs(t, f2.Verify(), &hm)
			assert.Equal(t, codesign.SlotDEREntitlements, hm.Slot)
			assert.Equal(t, codesign.HashSHA1, hm.HashType)
		}
	}
}

func TestAlternateCodeDirectoryPageMismatch(t *testing.T) {
	// Slot 0 is right, the alternate's page 3 is wrong: the error names the
	// alternate.
	data := resign(t, readTestdata(t, "hello-arm64-linker"), []testCD{
		{hashType: codesign.HashSHA256, corruptPage: -1},
		{hashType: codesign.HashSHA1, corruptPage: 3},
	})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	var hm *codesign.HashMismatchError
	require.ErrorAs(t, f.Verify(), &hm)
	assert.Equal(t, codesign.SlotAlternateCodeDirectory, hm.CodeDirectory)
	assert.Equal(t, 3, hm.Page)
	assert.Contains(t, hm.Error(), "alternate CodeDirectory 0 sha1")
}

func TestDEREntitlementsErrors(t *testing.T) {
	good := testDEREntitlements()
	for name, b := range map[string][]byte{
		"empty":         nil,
		"wrong outer":   append([]byte{0x30}, good[1:]...),
		"trailing":      append(bytes.Clone(good), 0),
		"version 2":     derTLV(0x70, []byte{0x02, 0x01, 0x02}, derTLV(0xb0)),
		"non-dict top":  derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0x30)),
		"bad key":       derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0xb0, derTLV(0x30, []byte{0x02, 0x01, 0x01}, []byte{0x01, 0x01, 0xff}))),
		"huge integer":  derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0xb0, derTLV(0x30, derTLV(0x0c, []byte("k")), derTLV(0x02, bytes.Repeat([]byte{0x7f}, 12))))),
		"unknown value": derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0xb0, derTLV(0x30, derTLV(0x0c, []byte("k")), []byte{0x05, 0x00}))),
		// Two values for one key: which one the system sees depends on its
		// lookup, so the dictionary is refused rather than guessed at.
		"duplicate key": derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0xb0,
			derTLV(0x30, derTLV(0x0c, []byte("k")), []byte{0x01, 0x01, 0x00}),
			derTLV(0x30, derTLV(0x0c, []byte("k")), []byte{0x01, 0x01, 0xff}))),
	} {
		_, err := codesign.DecodeDEREntitlements(b)
		assert.Error(t, err, name)
	}
	deep := derTLV(0x0c, []byte("x"))
	for range 40 {
		deep = derTLV(0x30, deep)
	}
	_, err := codesign.DecodeDEREntitlements(derTLV(0x70, []byte{0x02, 0x01, 0x01}, derTLV(0xb0, derTLV(0x30, derTLV(0x0c, []byte("k")), deep))))
	assert.ErrorContains(t, err, "deeper")
}

func TestCodeDirectoryVersions(t *testing.T) {
	base := readTestdata(t, "hello-arm64-linker")
	for _, c := range []testCD{
		{version: 0x20001},
		{version: 0x20100},
		{version: 0x20200, teamID: "TEAM000001"},
		{version: 0x20300, teamID: "TEAM000001", codeLimit64: true},
		{version: 0x20400, teamID: "TEAM000001"},
		{version: 0x20500},
		{version: 0x20600, teamID: "TEAM000001", codeLimit64: true},
	} {
		c.hashType, c.corruptPage = codesign.HashSHA256, -1
		data := resign(t, base, []testCD{c})
		f, err := codesign.NewFile(bytes.NewReader(data))
		require.NoError(t, err, "%#x", c.version)
		s := f.Signatures[0]
		cd := s.CodeDirectory()
		assert.Equal(t, c.version, cd.Version)
		assert.Equal(t, "alt.test", cd.Identifier)
		assert.Equal(t, c.teamID, cd.TeamID, "%#x", c.version)
		assert.Equal(t, c.teamID, s.Info().TeamID)
		assert.Equal(t, uint64(findCodeLimit(t, base)), cd.CodeLimit, "%#x", c.version)
		if c.version >= 0x20400 {
			assert.Equal(t, uint64(0x4000), cd.ExecSegLimit)
		} else {
			assert.Zero(t, cd.ExecSegLimit)
		}
		assert.Equal(t, []byte{0x30, 0x03, 0x02, 0x01, 0x01}, s.LaunchConstraints[codesign.SlotLaunchConstraintSelf])
		require.NoError(t, f.Verify(), "%#x", c.version)
	}
	// Versions outside the known range are refused.
	data := resign(t, base, []testCD{{hashType: codesign.HashSHA256, version: 0x20600, corruptPage: -1}})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	cdOff := int(f.Signatures[0].SignatureOffset) + int(f.Signatures[0].Blobs[0].Offset)
	binary.BigEndian.PutUint32(data[cdOff+8:], 0x20700)
	_, err = codesign.NewFile(bytes.NewReader(data))
	require.ErrorIs(t, err, codesign.ErrUnsupportedFormat)
	assert.ErrorContains(t, err, "version 0x20700")
}

func TestLaunchConstraintTampered(t *testing.T) {
	data := resign(t, readTestdata(t, "hello-arm64-linker"), []testCD{{hashType: codesign.HashSHA256, corruptPage: -1}})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	s := f.Signatures[0]
	for _, b := range s.Blobs {
		if b.Slot == codesign.SlotLaunchConstraintSelf {
			data[int(s.SignatureOffset)+int(b.Offset)+9] ^= 1
		}
	}
	f, err = codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	var hm *codesign.HashMismatchError
	require.ErrorAs(t, f.Verify(), &hm)
	assert.Equal(t, codesign.SlotLaunchConstraintSelf, hm.Slot)
}

func findCodeLimit(t *testing.T, data []byte) uint32 {
	return binary.LittleEndian.Uint32(data[findLoadCommand(t, data, 0x1d)+8:])
}

func TestUnsealedBlobsIgnored(t *testing.T) {
	data := resignWith(t, readTestdata(t, "hello-arm64-linker"), resignOptions{
		cds:      []testCD{{hashType: codesign.HashSHA256, corruptPage: -1}},
		unsealed: []int{5, 8},
	})
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	s := f.Signatures[0]
	assert.Nil(t, s.Entitlements, "unsealed XML entitlements are not the code's")
	assert.NotContains(t, s.LaunchConstraints, codesign.SlotLaunchConstraintSelf)
	assert.NotNil(t, s.EntitlementsDER, "the sealed DER form stays")
	var slots []codesign.Slot
	for _, b := range s.Blobs {
		slots = append(slots, b.Slot)
	}
	assert.Contains(t, slots, codesign.SlotEntitlements, "Blobs still lists it")
	// Info falls back to the sealed DER entitlements.
	assert.Equal(t, int64(42), s.Info().Entitlements["n"])
	require.NoError(t, f.Verify())
}

func TestDuplicateHashTypes(t *testing.T) {
	data := resign(t, readTestdata(t, "hello-arm64-linker"), []testCD{
		{hashType: codesign.HashSHA256, corruptPage: -1},
		{hashType: codesign.HashSHA256, corruptPage: -1},
	})
	_, err := codesign.NewFile(bytes.NewReader(data))
	require.ErrorIs(t, err, codesign.ErrMalformed)
	assert.ErrorContains(t, err, "two CodeDirectories use sha256")
}

func TestCodeLimitMustReachSignature(t *testing.T) {
	// A CodeDirectory whose code limit stops a page short of the signature
	// leaves that page unsigned: a change there must not verify.
	// Security.framework requires the code limit to equal the signing
	// limit (the LC_CODE_SIGNATURE offset).
	base := readTestdata(t, "hello-arm64-linker")
	sigOff := findCodeLimit(t, base)
	short := (sigOff - 1) &^ 4095
	require.Positive(t, short)
	data := resign(t, base, []testCD{{hashType: codesign.HashSHA256, corruptPage: -1, codeLimit: short}})
	data[short+1] ^= 0xff // outside the signed range, before the signature
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	err = f.Verify()
	require.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	assert.ErrorContains(t, err, "code limit")
}

func TestUnsignedAlternateCannotSealMore(t *testing.T) {
	// CMS signs slot 0 with no cdhash attribute, so the SHA-256 alternate
	// is covered by nothing. It must not add sealed components (here the
	// entitlements, which slot 0 leaves unsealed) or change what the
	// kernel's pick says about the code (platform).
	signer := newTestSigner(t)
	base := readTestdata(t, "hello-arm64-linker")
	for name, alt := range map[string]testCD{
		"entitlements": {hashType: codesign.HashSHA256, corruptPage: -1},
		"platform":     {hashType: codesign.HashSHA256, corruptPage: -1, unsealed: []int{5}, platform: 2},
	} {
		t.Run(name, func(t *testing.T) {
			cds := []testCD{{hashType: codesign.HashSHA1, corruptPage: -1, unsealed: []int{5}}, alt}
			data := resignWith(t, base, resignOptions{cds: cds, cms: signer.cms(t, nil)})
			f, err := codesign.NewFile(bytes.NewReader(data))
			require.NoError(t, err)
			var ce *codesign.CMSError
			require.ErrorAs(t, f.Verify(), &ce)
			assert.Contains(t, ce.Reason, "disagrees")
		})
	}
}
