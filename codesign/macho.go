package codesign

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Limits on what the pure-Go reader accepts. They keep a hostile file from
// making the reader allocate or loop without bound; real signatures are far
// below them.
const (
	// MaxArchitectures is the most slices a universal file may hold.
	MaxArchitectures = 32
	// MaxSignatureSize is the largest embedded signature (LC_CODE_SIGNATURE
	// data) read into memory: 64 MiB covers a code directory of a multi-GB
	// binary with SHA-1 and SHA-256 variants.
	MaxSignatureSize = 64 << 20
	// MaxBlobs is the most entries a SuperBlob index may have.
	MaxBlobs = 256
	// MaxCodeDirectories is the most CodeDirectories (slot 0 plus
	// alternates) a signature may hold; Apple defines five alternate slots.
	MaxCodeDirectories = 6
	// MaxCMSSize is the largest CMS blob parsed.
	MaxCMSSize = 1 << 20
	// MaxCertificates is the most certificates taken from a CMS blob.
	MaxCertificates = 16
)

// Sentinel errors of the pure-Go reader, besides ErrNotSigned and
// ErrSignatureInvalid which the whole package shares.
var (
	// ErrUnsupportedFormat reports a file that is not Mach-O (thin or
	// universal) or a signature feature this reader does not handle, such
	// as a scatter vector or an unknown hash type.
	ErrUnsupportedFormat = errors.New("codesign: unsupported format")
	// ErrMalformed reports a signature or Mach-O structure that is
	// truncated, out of bounds, inconsistent, or over a size limit.
	ErrMalformed = errors.New("codesign: malformed signature")
)

// FormatError describes malformed input: where it was and what was wrong.
// It matches ErrMalformed with errors.Is.
type FormatError struct {
	Arch   string // architecture of the slice, if known
	Offset int64  // byte offset in the file, or -1 when not meaningful
	Msg    string
}

// Error implements the error interface.
func (e *FormatError) Error() string {
	var b strings.Builder
	b.WriteString("codesign: malformed")
	if e.Arch != "" {
		b.WriteString(" " + e.Arch)
	}
	if e.Offset >= 0 {
		fmt.Fprintf(&b, " at offset %#x", e.Offset)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Is makes a FormatError match ErrMalformed.
func (e *FormatError) Is(target error) bool { return target == ErrMalformed }

// File is a Mach-O file, thin or universal, with the code signature of each
// architecture parsed. Use Open or NewFile; Close releases a file from Open.
type File struct {
	// Path is the file name given to Open; empty for NewFile.
	Path string
	// Universal reports a fat (universal) file, with a 32- or 64-bit fat header.
	Universal bool
	// Signatures holds one signature per architecture, in file order.
	Signatures []*Signature

	closer io.Closer
}

// Open opens the named Mach-O file and parses its signatures. The file stays
// open until Close so Verify can hash its pages.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	cf, err := NewFile(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cf.Path = path
	cf.closer = f
	return cf, nil
}

// Close closes the underlying file if the File came from Open.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// Format describes the container the way codesign -d does, e.g.
// "Mach-O thin (arm64)" or "Mach-O universal (x86_64 arm64)".
func (f *File) Format() string {
	arches := make([]string, len(f.Signatures))
	for i, s := range f.Signatures {
		arches[i] = s.Arch
	}
	if f.Universal {
		return "Mach-O universal (" + strings.Join(arches, " ") + ")"
	}
	return "Mach-O thin (" + strings.Join(arches, " ") + ")"
}

// Mach-O and fat magic numbers (<mach-o/loader.h>, <mach-o/fat.h>).
const (
	fatMagic32  = 0xcafebabe
	fatMagic64  = 0xcafebabf
	lcCodeSig   = 0x1d // LC_CODE_SIGNATURE
	fatArch32Sz = 20
	fatArch64Sz = 32
)

// NewFile parses the signatures of the Mach-O file (thin or universal) that
// r reads. It fails with ErrUnsupportedFormat for other files and with
// ErrNotSigned when a slice has no LC_CODE_SIGNATURE. If r has a
// Size() int64 method (bytes.Reader, io.SectionReader), offsets are also
// checked against the size up front; otherwise reads past the end fail
// when they happen.
func NewFile(r io.ReaderAt) (*File, error) {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("%w: reading header: %v", ErrUnsupportedFormat, err)
	}
	switch magic := binary.BigEndian.Uint32(hdr[:4]); magic {
	case fatMagic32, fatMagic64:
		return newFatFile(r, magic == fatMagic64, binary.BigEndian.Uint32(hdr[4:]))
	}
	size := int64(-1)
	if sz, ok := r.(interface{ Size() int64 }); ok {
		size = sz.Size()
	}
	sig, err := newSlice(r, 0, size)
	if err != nil {
		return nil, err
	}
	return &File{Signatures: []*Signature{sig}}, nil
}

func newFatFile(r io.ReaderAt, is64 bool, n uint32) (*File, error) {
	if n == 0 || n > MaxArchitectures {
		// 0xcafebabe is also a Java class file, whose "count" is a version.
		return nil, fmt.Errorf("%w: fat header with %d architectures", ErrUnsupportedFormat, n)
	}
	entSize := fatArch32Sz
	if is64 {
		entSize = fatArch64Sz
	}
	tbl := make([]byte, int(n)*entSize)
	if _, err := r.ReadAt(tbl, 8); err != nil {
		return nil, &FormatError{Offset: 8, Msg: "truncated fat header: " + err.Error()}
	}
	f := &File{Universal: true}
	type arch struct{ cpu, sub uint32 }
	seen := make(map[arch]bool)
	for i := range int(n) {
		e := tbl[i*entSize:]
		var off, size uint64
		if is64 {
			off, size = binary.BigEndian.Uint64(e[8:]), binary.BigEndian.Uint64(e[16:])
		} else {
			off, size = uint64(binary.BigEndian.Uint32(e[8:])), uint64(binary.BigEndian.Uint32(e[12:]))
		}
		const maxOff = 1 << 62
		if off < uint64(8+len(tbl)) || off > maxOff || size > maxOff || size == 0 {
			return nil, &FormatError{Offset: int64(8 + i*entSize), Msg: fmt.Sprintf("fat architecture %d has offset %#x size %#x", i, off, size)}
		}
		sig, err := newSlice(r, int64(off), int64(size))
		if err != nil {
			return nil, err
		}
		cpu, sub := binary.BigEndian.Uint32(e[0:]), binary.BigEndian.Uint32(e[4:])
		if cpu != sig.CPU || sub&^cpuSubtypeMask != sig.CPUSubtype&^cpuSubtypeMask {
			return nil, &FormatError{Arch: sig.Arch, Offset: int64(8 + i*entSize), Msg: "fat header cpu type does not match the slice's"}
		}
		// Two slices for one architecture leave the choice of which runs
		// to the loader; a caller checking one could be shown the other.
		a := arch{cpu, sub &^ cpuSubtypeMask}
		if seen[a] {
			return nil, &FormatError{Arch: sig.Arch, Offset: int64(8 + i*entSize), Msg: "architecture appears twice in the fat header"}
		}
		seen[a] = true
		f.Signatures = append(f.Signatures, sig)
	}
	return f, nil
}

// cpuSubtypeMask covers the capability bits (CPU_SUBTYPE_MASK) that are not
// part of the subtype proper.
const cpuSubtypeMask = 0xff000000

// newSlice parses the thin Mach-O at off; size < 0 means unknown.
func newSlice(r io.ReaderAt, off, size int64) (*Signature, error) {
	readSize := size
	if size < 0 {
		readSize = 1<<63 - 1 - off
	}
	sr := io.NewSectionReader(r, off, readSize)
	m, err := safeMachoNewFile(sr)
	if err != nil {
		var fe *macho.FormatError
		if errors.As(err, &fe) && off == 0 && strings.Contains(err.Error(), "invalid magic") {
			return nil, fmt.Errorf("%w: not a Mach-O file", ErrUnsupportedFormat)
		}
		return nil, &FormatError{Offset: off, Msg: "Mach-O: " + err.Error()}
	}
	s := &Signature{
		CPU:        uint32(m.Cpu),
		CPUSubtype: m.SubCpu,
		Arch:       archName(uint32(m.Cpu), m.SubCpu),
		Offset:     off,
		Size:       size,
		slice:      sr,
	}
	var found bool
	for _, l := range m.Loads {
		raw := l.Raw()
		if len(raw) < 16 || m.ByteOrder.Uint32(raw) != lcCodeSig {
			continue
		}
		if found {
			return nil, &FormatError{Arch: s.Arch, Offset: off, Msg: "more than one LC_CODE_SIGNATURE"}
		}
		found = true
		s.SignatureOffset = m.ByteOrder.Uint32(raw[8:])
		s.SignatureSize = m.ByteOrder.Uint32(raw[12:])
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", s.Arch, ErrNotSigned)
	}
	if s.SignatureSize > MaxSignatureSize {
		return nil, &FormatError{Arch: s.Arch, Offset: off, Msg: fmt.Sprintf("signature size %d over the limit of %d", s.SignatureSize, MaxSignatureSize)}
	}
	if size >= 0 && int64(s.SignatureOffset)+int64(s.SignatureSize) > size {
		return nil, &FormatError{Arch: s.Arch, Offset: off, Msg: "LC_CODE_SIGNATURE points past the end of the slice"}
	}
	data, err := readFull(sr, int64(s.SignatureOffset), int64(s.SignatureSize))
	if err != nil {
		return nil, &FormatError{Arch: s.Arch, Offset: off + int64(s.SignatureOffset), Msg: "reading signature: " + err.Error()}
	}
	if err := s.parseSuperBlob(data); err != nil {
		return nil, err
	}
	return s, nil
}

// safeMachoNewFile calls debug/macho, turning a panic on hostile input (the
// standard library is not guaranteed free of them) into an error.
func safeMachoNewFile(r io.ReaderAt) (m *macho.File, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("debug/macho panicked: %v", p)
		}
	}()
	return macho.NewFile(r)
}

// readFull reads n bytes at off, growing the buffer as data arrives so that
// a size field larger than the file costs no more memory than the file.
func readFull(r io.ReaderAt, off, n int64) ([]byte, error) {
	const chunk = 1 << 20
	var buf bytes.Buffer
	for n > 0 {
		c := min(n, chunk)
		b := make([]byte, c)
		got, err := r.ReadAt(b, off)
		buf.Write(b[:got])
		if int64(got) < c {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		off += c
		n -= c
	}
	return buf.Bytes(), nil
}

// archName names a cpu type/subtype pair the way Apple's tools print it.
func archName(cpu, sub uint32) string {
	sub &^= cpuSubtypeMask
	switch cpu {
	case 0x0100000c: // CPU_TYPE_ARM64
		if sub == 2 {
			return "arm64e"
		}
		return "arm64"
	case 0x0200000c:
		return "arm64_32"
	case 0x01000007:
		if sub == 8 {
			return "x86_64h"
		}
		return "x86_64"
	case 7:
		return "i386"
	case 12:
		return "arm"
	case 18:
		return "ppc"
	case 0x01000012:
		return "ppc64"
	}
	return fmt.Sprintf("cpu%#x/%#x", cpu, sub)
}
