package codesign

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeedFiles are the generated binaries in testdata/codesign.
var fuzzSeedFiles = []string{"hello-arm64-linker", "hello-arm64-signed", "hello-arm64-tampered", "hello-universal"}

// fuzzSeedSignatures returns the embedded signatures of the testdata files.
func fuzzSeedSignatures(f *testing.F) []*Signature {
	var sigs []*Signature
	for _, name := range fuzzSeedFiles {
		cf, err := Open(filepath.Join("..", "testdata", "codesign", name))
		if err != nil {
			f.Fatal(err)
		}
		sigs = append(sigs, cf.Signatures...)
		f.Cleanup(func() { cf.Close() })
	}
	return sigs
}

// FuzzOpen feeds whole files to NewFile, then exercises Info and Verify on
// whatever parses. Seeds: the testdata binaries, whole and cut down to
// their first pages (header and load commands).
func FuzzOpen(f *testing.F) {
	for _, name := range fuzzSeedFiles {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "codesign", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:8192])
	}
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbf, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		cf, err := NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		_ = cf.Format()
		for _, s := range cf.Signatures {
			_ = s.Info()
		}
		_ = cf.Verify()
	})
}

// FuzzSuperBlob parses an embedded signature (SuperBlob, CodeDirectories,
// entitlements, CMS) without a Mach-O around it and verifies it against a
// small fixed "code" region.
func FuzzSuperBlob(f *testing.F) {
	for _, s := range fuzzSeedSignatures(f) {
		data, err := readFull(s.slice, int64(s.SignatureOffset), int64(s.SignatureSize))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	code := bytes.Repeat([]byte("code"), 4096)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Signature{Arch: "fuzz", Size: int64(len(code)), slice: bytes.NewReader(code)}
		if err := s.parseSuperBlob(data); err != nil {
			return
		}
		_ = s.Info()
		_ = s.Verify(nil)
	})
}

// FuzzCodeDirectory parses single CodeDirectory blobs and reads every hash.
func FuzzCodeDirectory(f *testing.F) {
	for _, s := range fuzzSeedSignatures(f) {
		for _, cd := range s.CodeDirectories {
			f.Add(cd.Raw)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cd, err := parseCodeDirectory(data)
		if err != nil {
			return
		}
		_ = cd.CDHash()
		for n := Slot(0); n <= 12; n++ {
			_ = cd.SpecialSlotHash(n)
		}
		for i := range cd.NCodeSlots {
			if len(cd.PageHash(i)) != cd.HashType.Size() {
				t.Fatalf("page hash %d has the wrong size", i)
			}
		}
	})
}

// FuzzCMS parses CMS blobs and verifies them against a CodeDirectory.
func FuzzCMS(f *testing.F) {
	var cd *CodeDirectory
	for _, s := range fuzzSeedSignatures(f) {
		if s.CMS != nil {
			f.Add(s.CMS)
			cd = s.CodeDirectories[0]
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Signature{Arch: "fuzz", CMS: data, CodeDirectories: []*CodeDirectory{cd}}
		if err := s.parseCMS(); err != nil {
			return
		}
		_ = s.Info()
		_ = s.verifyCMS(&VerifyOptions{})
	})
}

// FuzzDEREntitlements decodes DER entitlements.
func FuzzDEREntitlements(f *testing.F) {
	f.Add([]byte{0x70, 0x0c, 0x02, 0x01, 0x01, 0xb0, 0x07, 0x30, 0x05, 0x0c, 0x01, 'k', 0x01, 0x01, 0xff})
	f.Add([]byte{0x70, 0x05, 0x02, 0x01, 0x01, 0xb0, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = DecodeDEREntitlements(data)
	})
}
