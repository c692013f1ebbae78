package codesign_test

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/goxpc/goxpc/codesign"
)

const readerTestdata = "../testdata/codesign"

// readerFacts is testdata/codesign/facts.json: what blacktop/go-macho, an
// independent reader, saw in the generated files.
type readerFacts struct {
	TamperPage   int    `json:"tamper_page"`
	TamperOffset int64  `json:"tamper_offset"`
	TeamID       string `json:"team_id"`
	Files        map[string][]struct {
		CPU         string   `json:"cpu"`
		Identifier  string   `json:"identifier"`
		TeamID      string   `json:"team_id"`
		Flags       uint32   `json:"flags"`
		Version     uint32   `json:"version"`
		CDHashes    []string `json:"cdhashes"`
		CodeLimit   uint64   `json:"code_limit"`
		NCodeSlots  int      `json:"n_code_slots"`
		HasCMS      bool     `json:"has_cms"`
		Requirement string   `json:"requirement"`
	} `json:"files"`
}

func loadReaderFacts(t testing.TB) readerFacts {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(readerTestdata, "facts.json"))
	require.NoError(t, err)
	var f readerFacts
	require.NoError(t, json.Unmarshal(data, &f))
	return f
}

func openTestdata(t testing.TB, name string) *codesign.File {
	t.Helper()
	f, err := codesign.Open(filepath.Join(readerTestdata, name))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(readerTestdata, name))
	require.NoError(t, err)
	return b
}

// checkAgainstFacts compares each architecture with the independent reading.
func checkAgainstFacts(t *testing.T, f *codesign.File, name string) {
	t.Helper()
	facts := loadReaderFacts(t).Files[name]
	require.Len(t, f.Signatures, len(facts))
	for i, want := range facts {
		s := f.Signatures[i]
		cd := s.CodeDirectories[0]
		assert.Equal(t, want.Identifier, cd.Identifier, "%s identifier", s.Arch)
		assert.Equal(t, want.TeamID, cd.TeamID, "%s team", s.Arch)
		assert.Equal(t, codesign.CodeFlags(want.Flags), cd.Flags, "%s flags", s.Arch)
		assert.Equal(t, want.Version, cd.Version, "%s version", s.Arch)
		assert.Equal(t, want.CodeLimit, cd.CodeLimit, "%s code limit", s.Arch)
		assert.Equal(t, want.NCodeSlots, cd.NCodeSlots, "%s code slots", s.Arch)
		assert.Equal(t, want.HasCMS, !s.Adhoc(), "%s CMS", s.Arch)
		require.Len(t, s.CodeDirectories, len(want.CDHashes))
		for j, h := range want.CDHashes {
			assert.Equal(t, h, hex.EncodeToString(s.CodeDirectories[j].Hash()), "%s CD %d hash", s.Arch, j)
			assert.Equal(t, h[:40], hex.EncodeToString(s.CodeDirectories[j].CDHash()), "%s CD %d cdhash", s.Arch, j)
		}
	}
}

func TestGoLinkerSigned(t *testing.T) {
	f := openTestdata(t, "hello-arm64-linker")
	checkAgainstFacts(t, f, "hello-arm64-linker")
	assert.False(t, f.Universal)
	assert.Equal(t, "Mach-O thin (arm64)", f.Format())
	require.Len(t, f.Signatures, 1)
	s := f.Signatures[0]
	assert.Equal(t, "arm64", s.Arch)
	assert.True(t, s.Adhoc())
	assert.Empty(t, s.Certificates)
	cd := s.CodeDirectory()
	assert.Equal(t, codesign.HashSHA256, cd.HashType)
	assert.Equal(t, 4096, cd.PageSize, "the Go linker hashes 4 KiB pages")
	assert.Equal(t, codesign.ExecSegMainBinary, cd.ExecSegFlags&codesign.ExecSegMainBinary)
	assert.NotZero(t, cd.ExecSegLimit)
	assert.Equal(t, "0x20002(adhoc,linker-signed)", codesign.FlagString(cd.Flags))

	info := f.Info("")
	require.NotNil(t, info)
	assert.Equal(t, "a.out", info.Identifier)
	assert.True(t, info.Adhoc())
	assert.Equal(t, codesign.FlagAdhoc|codesign.FlagLinkerSigned, info.Flags)
	assert.Equal(t, "sha256", info.HashType)
	assert.Equal(t, filepath.Join(readerTestdata, "hello-arm64-linker"), info.MainExecutable)
	assert.Equal(t, "Mach-O thin (arm64)", info.Format)
	assert.Len(t, info.CDHash, 20)
	assert.Nil(t, info.Entitlements)
	// No requirement set: the implied designated requirement of ad-hoc code.
	assert.Equal(t, `cdhash H"`+hex.EncodeToString(info.CDHash)+`"`, info.DesignatedRequirement)

	require.NoError(t, f.Verify())
}

func TestQuillSigned(t *testing.T) {
	f := openTestdata(t, "hello-arm64-signed")
	checkAgainstFacts(t, f, "hello-arm64-signed")
	s := f.Signatures[0]
	assert.False(t, s.Adhoc())
	info := s.Info()
	assert.Equal(t, "com.example.hello", info.Identifier)
	assert.Equal(t, codesign.FlagRuntime, info.Flags)
	assert.False(t, info.Adhoc())
	assert.False(t, info.SigningTime.IsZero(), "quill's CMS has a signing-time attribute")
	assert.Equal(t, "", info.TeamID, "quill does not write a team ID into the CodeDirectory")

	// The chain, leaf first, with the Developer ID–style subjects.
	require.Len(t, info.Certificates, 3)
	leaf := info.Certificates[0]
	team := loadReaderFacts(t).TeamID
	assert.Equal(t, team, leaf.OrganizationalUnit)
	assert.Equal(t, "Developer ID Application: Example Corp ("+team+")", leaf.CommonName)
	assert.Equal(t, "CN=Developer ID Application: Example Corp (ABCDE12345),OU=ABCDE12345,O=Example Corp,C=US", leaf.Subject)
	assert.Equal(t, "Example Corp", leaf.Organization)
	assert.Len(t, leaf.SHA1, 20)
	assert.Len(t, leaf.SHA256, 32)
	assert.Equal(t, "goxpc Test Certification Authority", info.Certificates[1].OrganizationalUnit)
	assert.Equal(t, "goxpc Test Root CA", info.Certificates[2].CommonName)
	devIDMarker := asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 6}
	assert.True(t, hasExtension(s.Certificates[1], devIDMarker), "intermediate carries the Developer ID CA marker")
	assert.True(t, hasExtension(s.Certificates[0], asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}))

	// Entitlements as quill embedded them, compared with the plist given to it.
	var want map[string]any
	_, err := plist.Unmarshal(readTestdata(t, "entitlements.plist"), &want)
	require.NoError(t, err)
	if diff := cmp.Diff(want, info.Entitlements); diff != "" {
		t.Errorf("entitlements (-want +got):\n%s", diff)
	}

	// The internal requirements blob is present and sealed.
	require.NotNil(t, s.Requirements)
	assert.Equal(t, uint32(0xfade0c01), binary.BigEndian.Uint32(s.Requirements))
	assert.NotNil(t, s.CodeDirectory().SpecialSlotHash(codesign.SlotRequirements))
	// quill's explicit designated requirement, as decoded by package
	// codesign/requirement, agrees with blacktop/go-macho's reading up to
	// quoting, grouping and spacing.
	facts := loadReaderFacts(t).Files["hello-arm64-signed"][0]
	assert.Equal(t, normalizeRequirement(facts.Requirement), normalizeRequirement(info.DesignatedRequirement))
	assert.Contains(t, info.DesignatedRequirement, `identifier "com.example.hello"`)

	require.NoError(t, f.Verify())
}

func normalizeRequirement(r string) string {
	r = strings.NewReplacer(`"`, "", "(", "", ")", "").Replace(r)
	return strings.Join(strings.Fields(r), " ")
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

func TestVerifyWithRoots(t *testing.T) {
	f := openTestdata(t, "hello-arm64-signed")
	block, _ := pem.Decode(readTestdata(t, "root.pem"))
	require.NotNil(t, block)
	root, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	require.NoError(t, f.VerifyWith(codesign.VerifyOptions{Roots: roots}))

	// No root the chain leads to.
	other := x509.NewCertPool()
	err = f.VerifyWith(codesign.VerifyOptions{Roots: other})
	var cmsErr *codesign.CMSError
	require.ErrorAs(t, err, &cmsErr)
	assert.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	assert.Contains(t, err.Error(), "root")

	// Ad-hoc code has no signer: asking for a root makes it fail.
	adhoc := openTestdata(t, "hello-arm64-linker")
	err = adhoc.VerifyWith(codesign.VerifyOptions{Roots: roots})
	require.ErrorAs(t, err, &cmsErr)
	assert.Contains(t, err.Error(), "ad hoc")
}

func TestTamperedFailsNamingPage(t *testing.T) {
	facts := loadReaderFacts(t)
	f := openTestdata(t, "hello-arm64-tampered")
	err := f.Verify()
	require.Error(t, err)
	assert.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	var hm *codesign.HashMismatchError
	require.ErrorAs(t, err, &hm)
	assert.Equal(t, "arm64", hm.Arch)
	assert.Equal(t, facts.TamperPage, hm.Page)
	assert.Equal(t, int64(facts.TamperPage*4096), hm.Offset)
	assert.Equal(t, codesign.SlotCodeDirectory, hm.CodeDirectory)
	assert.NotEqual(t, hm.Want, hm.Got)
	assert.Contains(t, err.Error(), "code page 2")
	// Parsing still works: the metadata of tampered code is readable.
	assert.Equal(t, "com.example.hello", f.Signatures[0].Info().Identifier)
}

func TestUniversal(t *testing.T) {
	f := openTestdata(t, "hello-universal")
	checkAgainstFacts(t, f, "hello-universal")
	assert.True(t, f.Universal)
	assert.Equal(t, "Mach-O universal (x86_64 arm64)", f.Format())
	x86 := f.Info("x86_64")
	require.NotNil(t, x86)
	assert.Equal(t, "com.example.hello", x86.Identifier)
	assert.Equal(t, codesign.FlagAdhoc, x86.Flags, "quill ad hoc: no linker-signed flag")
	assert.Equal(t, "Mach-O universal (x86_64 arm64)", x86.Format)
	arm := f.Info("arm64")
	require.NotNil(t, arm)
	assert.Equal(t, "a.out", arm.Identifier)
	assert.Nil(t, f.Info("ppc"))
	assert.NotZero(t, f.Signatures[1].Offset)
	require.NoError(t, f.Verify())

	// The arm64 slice is byte-identical to the thin linker-signed file.
	thin := openTestdata(t, "hello-arm64-linker")
	assert.Equal(t, thin.Signatures[0].Info().CDHash, arm.CDHash)
}

func TestUniversalFat64(t *testing.T) {
	// Rewrite the universal file's header as fat64 (magic 0xcafebabf,
	// 32-byte entries with 64-bit offset and size), slices unchanged.
	data := readTestdata(t, "hello-universal")
	be := binary.BigEndian
	n := int(be.Uint32(data[4:]))
	require.Equal(t, uint32(0xcafebabe), be.Uint32(data))
	hdr := make([]byte, 8+32*n)
	be.PutUint32(hdr, 0xcafebabf)
	be.PutUint32(hdr[4:], uint32(n))
	for i := range n {
		e32, e64 := data[8+20*i:], hdr[8+32*i:]
		copy(e64[:8], e32[:8]) // cputype, cpusubtype
		be.PutUint64(e64[8:], uint64(be.Uint32(e32[8:])))
		be.PutUint64(e64[16:], uint64(be.Uint32(e32[12:])))
		be.PutUint32(e64[24:], be.Uint32(e32[16:]))
	}
	require.Less(t, len(hdr), int(be.Uint32(data[8+8:])), "the new header fits before the first slice")
	fat64 := bytes.Clone(data)
	copy(fat64, hdr)
	f, err := codesign.NewFile(bytes.NewReader(fat64))
	require.NoError(t, err)
	assert.True(t, f.Universal)
	assert.Equal(t, "Mach-O universal (x86_64 arm64)", f.Format())
	require.NoError(t, f.Verify())
	fat32, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	for i := range f.Signatures {
		assert.Equal(t, fat32.Signatures[i].Info().CDHash, f.Signatures[i].Info().CDHash)
		assert.Equal(t, fat32.Signatures[i].Offset, f.Signatures[i].Offset)
	}
}

func TestUniversalTamperedSlice(t *testing.T) {
	data := readTestdata(t, "hello-universal")
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	arm := f.Signatures[1]
	data[arm.Offset+5*4096+7] ^= 1
	f, err = codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	var hm *codesign.HashMismatchError
	require.ErrorAs(t, f.Verify(), &hm)
	assert.Equal(t, "arm64", hm.Arch)
	assert.Equal(t, 5, hm.Page)
}

// sigBlob returns the offset in data of the SuperBlob blob for slot.
func sigBlob(t *testing.T, f *codesign.File, slot codesign.Slot) int64 {
	t.Helper()
	s := f.Signatures[0]
	for _, b := range s.Blobs {
		if b.Slot == slot {
			return s.Offset + int64(s.SignatureOffset) + int64(b.Offset)
		}
	}
	t.Fatalf("no blob for %s", slot)
	return 0
}

func TestTamperedComponents(t *testing.T) {
	orig := readTestdata(t, "hello-arm64-signed")
	f0, err := codesign.NewFile(bytes.NewReader(orig))
	require.NoError(t, err)

	mutate := func(off int64) error {
		data := bytes.Clone(orig)
		data[off] ^= 0x01
		f, err := codesign.NewFile(bytes.NewReader(data))
		if err != nil {
			return err
		}
		return f.Verify()
	}

	t.Run("entitlements", func(t *testing.T) {
		err := mutate(sigBlob(t, f0, codesign.SlotEntitlements) + 60) // inside the XML text
		var hm *codesign.HashMismatchError
		require.ErrorAs(t, err, &hm)
		assert.Equal(t, codesign.SlotEntitlements, hm.Slot)
		assert.Equal(t, -1, hm.Page)
		assert.Contains(t, err.Error(), "entitlements")
	})
	t.Run("requirements", func(t *testing.T) {
		err := mutate(sigBlob(t, f0, codesign.SlotRequirements) + 20)
		var hm *codesign.HashMismatchError
		if errors.As(err, &hm) {
			assert.Equal(t, codesign.SlotRequirements, hm.Slot)
		} else {
			// A flip in the index may make the blob unparsable instead.
			require.ErrorIs(t, err, codesign.ErrMalformed)
		}
	})
	t.Run("code directory", func(t *testing.T) {
		// The last byte of the CodeDirectory is inside the last page hash:
		// the page then mismatches before the CMS check is reached; flip
		// the identifier instead so only the CMS digest catches it.
		s := f0.Signatures[0]
		cdOff := sigBlob(t, f0, codesign.SlotCodeDirectory)
		idOff := bytes.Index(s.CodeDirectories[0].Raw, []byte("com.example.hello"))
		require.Positive(t, idOff)
		err := mutate(cdOff + int64(idOff))
		var ce *codesign.CMSError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "arm64", ce.Arch)
		assert.Contains(t, ce.Reason, "message digest")
		assert.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	})
	t.Run("cms signature", func(t *testing.T) {
		s := f0.Signatures[0]
		var cmsBlob codesign.Blob
		for _, b := range s.Blobs {
			if b.Slot == codesign.SlotCMSSignature {
				cmsBlob = b
			}
		}
		// The signature value is near the end of the SignerInfo, which
		// ends the CMS message.
		off := sigBlob(t, f0, codesign.SlotCMSSignature) + int64(len(cmsBlob.Data)) - 10
		err := mutate(off)
		require.ErrorIs(t, err, codesign.ErrSignatureInvalid)
		var ce *codesign.CMSError
		require.ErrorAs(t, err, &ce)
	})
	t.Run("header", func(t *testing.T) {
		// Byte 0x20 is in the first load command, inside page 0.
		var hm *codesign.HashMismatchError
		require.ErrorAs(t, mutate(0x21), &hm)
		assert.Equal(t, 0, hm.Page)
	})
}

func TestNotSignedAndNotMachO(t *testing.T) {
	data := readTestdata(t, "hello-arm64-linker")
	// Turn LC_CODE_SIGNATURE (0x1d) into an unknown command.
	f, err := codesign.NewFile(bytes.NewReader(data))
	require.NoError(t, err)
	_ = f
	i := findLoadCommand(t, data, 0x1d)
	binary.LittleEndian.PutUint32(data[i:], 0x7fff)
	_, err = codesign.NewFile(bytes.NewReader(data))
	require.ErrorIs(t, err, codesign.ErrNotSigned)
	assert.Contains(t, err.Error(), "arm64")

	_, err = codesign.NewFile(bytes.NewReader([]byte("#!/bin/sh\necho hi\n")))
	require.ErrorIs(t, err, codesign.ErrUnsupportedFormat)
	// A Java class file shares the fat magic.
	_, err = codesign.NewFile(bytes.NewReader([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34, 0, 0}))
	require.ErrorIs(t, err, codesign.ErrUnsupportedFormat)
	_, err = codesign.NewFile(bytes.NewReader(nil))
	require.ErrorIs(t, err, codesign.ErrUnsupportedFormat)
	_, err = codesign.Open(filepath.Join(readerTestdata, "does-not-exist"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// findLoadCommand returns the offset of the first load command cmd in a
// 64-bit little-endian Mach-O.
func findLoadCommand(t *testing.T, data []byte, cmd uint32) int {
	t.Helper()
	ncmds := binary.LittleEndian.Uint32(data[16:])
	off := 32
	for range ncmds {
		if binary.LittleEndian.Uint32(data[off:]) == cmd {
			return off
		}
		off += int(binary.LittleEndian.Uint32(data[off+4:]))
	}
	t.Fatalf("no load command %#x", cmd)
	return 0
}

func TestTruncated(t *testing.T) {
	data := readTestdata(t, "hello-arm64-signed")
	for _, n := range []int{len(data) - 1, len(data) / 2, 4096, 100, 31} {
		_, err := codesign.NewFile(bytes.NewReader(data[:n]))
		require.Error(t, err, "truncated to %d", n)
		assert.True(t, errors.Is(err, codesign.ErrMalformed) || errors.Is(err, codesign.ErrUnsupportedFormat), "truncated to %d: %v", n, err)
	}
}

func TestSignatureBlobs(t *testing.T) {
	f := openTestdata(t, "hello-arm64-signed")
	s := f.Signatures[0]
	var slots []codesign.Slot
	for _, b := range s.Blobs {
		slots = append(slots, b.Slot)
	}
	assert.ElementsMatch(t, []codesign.Slot{codesign.SlotCodeDirectory, codesign.SlotRequirements, codesign.SlotEntitlements, codesign.SlotCMSSignature}, slots)
	assert.Equal(t, "entitlements", codesign.SlotEntitlements.String())
	assert.Equal(t, "alternate CodeDirectory 1", (codesign.SlotAlternateCodeDirectory + 1).String())
	assert.Equal(t, "sha256", codesign.HashSHA256.String())
	assert.Equal(t, 48, codesign.HashSHA384.Size())
	cd := s.CodeDirectory()
	assert.Nil(t, cd.SpecialSlotHash(codesign.SlotDEREntitlements), "quill seals slots up to 5")
	assert.Len(t, cd.SpecialSlotHash(codesign.SlotEntitlements), 32)
	assert.Len(t, cd.PageHash(0), 32)
	assert.Nil(t, cd.PageHash(cd.NCodeSlots))
}

// BenchmarkOpenVerify measures parsing and full verification (282 pages,
// CMS) of the 1.2 MB quill-signed test binary.
func BenchmarkOpenVerify(b *testing.B) {
	data := readTestdata(b, "hello-arm64-signed")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		f, err := codesign.NewFile(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
