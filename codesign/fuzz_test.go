package codesign

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	// Small seeds the fuzzer can mutate quickly: a minimal Mach-O holding
	// only LC_CODE_SIGNATURE and a real signature, thin and fat.
	var thins [][]byte
	for _, s := range fuzzSeedSignatures(f) {
		sig, err := readFull(s.slice, int64(s.SignatureOffset), int64(s.SignatureSize))
		if err != nil {
			f.Fatal(err)
		}
		thin := tinyMachO(s.CPU, sig)
		thins = append(thins, thin)
		f.Add(thin)
	}
	f.Add(tinyFat(thins[0], thins[1]))
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

// tinyMachO returns a 64-bit little-endian Mach-O executable header with a
// single LC_CODE_SIGNATURE load command pointing at sig, which follows it.
func tinyMachO(cpu uint32, sig []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, 64, 64+len(sig))
	le.PutUint32(b[0:], 0xfeedfacf)
	le.PutUint32(b[4:], cpu)
	le.PutUint32(b[12:], 2)  // MH_EXECUTE
	le.PutUint32(b[16:], 1)  // ncmds
	le.PutUint32(b[20:], 16) // sizeofcmds
	le.PutUint32(b[32:], lcCodeSig)
	le.PutUint32(b[36:], 16)
	le.PutUint32(b[40:], 64)
	le.PutUint32(b[44:], uint32(len(sig)))
	return append(b, sig...)
}

// tinyFat wraps thin Mach-O files in a 32-bit fat header.
func tinyFat(slices ...[]byte) []byte {
	be := binary.BigEndian
	hdr := make([]byte, 8+20*len(slices))
	be.PutUint32(hdr, fatMagic32)
	be.PutUint32(hdr[4:], uint32(len(slices)))
	off := (len(hdr) + 4095) &^ 4095
	out := make([]byte, off)
	for i, s := range slices {
		e := hdr[8+20*i:]
		be.PutUint32(e, binary.LittleEndian.Uint32(s[4:]))
		be.PutUint32(e[8:], uint32(len(out)))
		be.PutUint32(e[12:], uint32(len(s)))
		be.PutUint32(e[16:], 12)
		out = append(out, s...)
		out = append(out, make([]byte, (len(out)+4095)&^4095-len(out))...)
	}
	copy(out, hdr)
	return out
}

func TestTinySeedsParse(t *testing.T) {
	// The fuzz seeds must reach the signature parser, or FuzzOpen only
	// exercises header errors.
	cf, err := Open(filepath.Join("..", "testdata", "codesign", "hello-arm64-signed"))
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	s := cf.Signatures[0]
	sig, err := readFull(s.slice, int64(s.SignatureOffset), int64(s.SignatureSize))
	if err != nil {
		t.Fatal(err)
	}
	thin := tinyMachO(s.CPU, sig)
	thinX86 := tinyMachO(0x01000007, sig) // x86_64 header, same signature
	for i, data := range [][]byte{thin, tinyFat(thin, thinX86)} {
		f, err := NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Signatures[0].CodeDirectories[0].Identifier; got != "com.example.hello" {
			t.Fatalf("identifier %q", got)
		}
		// The signed range of the original binary is past this file's end.
		if err := f.Verify(); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d: Verify = %v, want ErrMalformed", i, err)
		}
	}
}

func TestFatDuplicateArchitecture(t *testing.T) {
	// Two slices for one architecture: which one runs is the loader's
	// choice, so a caller checking "the arm64 slice" could check the other
	// one. Such a file is refused.
	cf, err := Open(filepath.Join("..", "testdata", "codesign", "hello-arm64-signed"))
	require.NoError(t, err)
	defer cf.Close()
	s := cf.Signatures[0]
	sig, err := readFull(s.slice, int64(s.SignatureOffset), int64(s.SignatureSize))
	require.NoError(t, err)
	thin := tinyMachO(s.CPU, sig)
	_, err = NewFile(bytes.NewReader(tinyFat(thin, thin)))
	require.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "twice")
}
