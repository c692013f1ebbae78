package codesign

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// HashMismatchError reports a signed component whose hash does not match
// the one a CodeDirectory stores: a code page, or a special slot such as
// the entitlements. It matches ErrSignatureInvalid with errors.Is.
type HashMismatchError struct {
	Arch string
	// CodeDirectory is the slot of the CodeDirectory holding the hash
	// (SlotCodeDirectory or an alternate); HashType is its algorithm.
	CodeDirectory Slot
	HashType      HashType
	// Slot is the special slot that failed (SlotRequirements,
	// SlotEntitlements, ...), or SlotCodeDirectory (0) for a code page.
	Slot Slot
	// Page is the index of the failing code page, -1 for a special slot.
	Page int
	// Offset is the page's byte offset in the slice (code pages only).
	Offset int64
	// Want is the stored hash (nil: a bundle file given in VerifyOptions
	// is not sealed); Got is the hash of what the file holds (nil: sealed
	// but missing).
	Want, Got []byte
}

// Error implements the error interface.
func (e *HashMismatchError) Error() string {
	var what string
	switch {
	case e.Page >= 0:
		what = fmt.Sprintf("code page %d (offset %#x)", e.Page, e.Offset)
	case e.Want == nil:
		what = e.Slot.String() + " present but not sealed"
	case e.Got == nil:
		what = e.Slot.String() + " sealed but missing"
	default:
		what = e.Slot.String()
	}
	return fmt.Sprintf("codesign: %s: %s does not match %s %s hash", e.Arch, what, e.CodeDirectory, e.HashType)
}

// Is makes a HashMismatchError match ErrSignatureInvalid.
func (e *HashMismatchError) Is(target error) bool { return target == ErrSignatureInvalid }

// CMSError reports a CMS signature that does not verify, or whose cdhash
// attributes disagree with the CodeDirectories. It matches
// ErrSignatureInvalid with errors.Is and unwraps to the library's error.
type CMSError struct {
	Arch   string
	Reason string
	Err    error
}

// Error implements the error interface.
func (e *CMSError) Error() string {
	s := fmt.Sprintf("codesign: %s: CMS signature: %s", e.Arch, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes a CMSError match ErrSignatureInvalid.
func (e *CMSError) Is(target error) bool { return target == ErrSignatureInvalid }

// Unwrap returns the underlying error.
func (e *CMSError) Unwrap() error { return e.Err }

// VerifyOptions supplies what the Mach-O file alone does not contain.
type VerifyOptions struct {
	// InfoPlist is the bundle's Contents/Info.plist. When set, it is
	// checked against special slot 1; when nil, that slot is not checked.
	InfoPlist []byte
	// CodeResources is the bundle's Contents/_CodeSignature/CodeResources.
	// When set it is checked against special slot 3 (only the file's hash:
	// the resources it lists are not checked); when nil, not checked.
	CodeResources []byte
	// Roots, when set, makes Verify also require the signer's chain to lead
	// to one of these roots for code signing, at Time or else the CMS
	// signing time. Without Roots the chain is reported, not trusted:
	// deciding whom to trust (Apple's roots, your own) is the caller's job,
	// or Security.framework's on darwin.
	Roots *x509.CertPool
	// Time overrides the time at which the chain is checked.
	Time time.Time
}

// Verify checks every architecture's signature against the file's bytes:
// each code page hash of every CodeDirectory (up to its code limit), each
// special slot the file itself holds (requirements, entitlements, DER
// entitlements, launch constraints: a sealed one must be present and match;
// an unsealed blob is ignored, as Security.framework does), and for
// CMS-signed code the message digest over the slot-0 CodeDirectory, the
// signature made with the embedded leaf certificate, the cdhash attributes
// covering the other CodeDirectories, a timestamp token if any, and the
// team ID against a developer leaf's OU. Info.plist and resources are not
// checked (see VerifyWith); nor is the application-specific slot. The
// certificate chain is not trusted, only reported; see VerifyOptions.Roots.
//
// Every CodeDirectory's code limit must end exactly where the signature
// starts, as Security.framework requires, so no byte before the signature
// is left unsigned.
//
// The first failure is returned: a *HashMismatchError, *CMSError or
// *FormatError, or an error wrapping ErrSignatureInvalid for a code limit
// that misses the signature; all match ErrSignatureInvalid or ErrMalformed.
func (f *File) Verify() error { return f.VerifyWith(VerifyOptions{}) }

// VerifyWith is Verify with bundle files and trust roots from opts.
func (f *File) VerifyWith(opts VerifyOptions) error {
	for _, s := range f.Signatures {
		if err := s.Verify(&opts); err != nil {
			return err
		}
	}
	return nil
}

// Verify checks this architecture's signature; see (*File).Verify. opts
// may be nil.
func (s *Signature) Verify(opts *VerifyOptions) error {
	if s.slice == nil {
		return errors.New("codesign: signature has no file to verify against")
	}
	if opts == nil {
		opts = &VerifyOptions{}
	}
	for _, cd := range s.CodeDirectories {
		if err := s.verifySpecialSlots(cd, opts); err != nil {
			return err
		}
		if err := s.verifyPages(cd); err != nil {
			return err
		}
	}
	return s.verifyCMS(opts)
}

func (s *Signature) verifySpecialSlots(cd *CodeDirectory, opts *VerifyOptions) error {
	blobs := make(map[Slot][]byte)
	for _, b := range s.Blobs {
		blobs[b.Slot] = b.Data
	}
	check := func(slot Slot, data []byte, present, external bool) error {
		want := cd.SpecialSlotHash(slot)
		if want == nil || isZero(want) {
			// An unsealed blob in the signature is ignored, as
			// Security.framework does (and the reader does not report
			// it); a bundle file the caller asked about is an error.
			if present && external {
				return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Slot: slot, Page: -1, Got: cd.HashType.sum(data)}
			}
			return nil
		}
		if !present {
			return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Slot: slot, Page: -1, Want: want}
		}
		if got := cd.HashType.sum(data); !bytes.Equal(got, want) {
			return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Slot: slot, Page: -1, Want: want, Got: got}
		}
		return nil
	}
	for _, slot := range []Slot{SlotRequirements, SlotEntitlements, SlotDEREntitlements,
		SlotLaunchConstraintSelf, SlotLaunchConstraintParent, SlotLaunchConstraintResponsible, SlotLibraryConstraint} {
		data, ok := blobs[slot]
		if err := check(slot, data, ok, false); err != nil {
			return err
		}
	}
	// Bundle files are checked only when given. The application-specific
	// slot (4) holds a hash of data outside the signature and is not checked.
	for _, ext := range []struct {
		slot Slot
		data []byte
	}{{SlotInfoPlist, opts.InfoPlist}, {SlotResourceDir, opts.CodeResources}} {
		if ext.data == nil {
			continue
		}
		if err := check(ext.slot, ext.data, true, true); err != nil {
			return err
		}
	}
	return nil
}

// checkBundleFile checks a bundle file (Info.plist, CodeResources) against
// the special slot every CodeDirectory stores for it: it must be sealed and
// match.
func (s *Signature) checkBundleFile(slot Slot, data []byte) error {
	for _, cd := range s.CodeDirectories {
		got := cd.HashType.sum(data)
		want := cd.SpecialSlotHash(slot)
		if want == nil || isZero(want) {
			return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Slot: slot, Page: -1, Got: got}
		}
		if !bytes.Equal(got, want) {
			return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Slot: slot, Page: -1, Want: want, Got: got}
		}
	}
	return nil
}

func (s *Signature) verifyPages(cd *CodeDirectory) error {
	if cd.ScatterOffset != 0 {
		return fmt.Errorf("codesign: %s: %s uses a scatter vector: %w", s.Arch, cd.Slot, ErrUnsupportedFormat)
	}
	if s.Size >= 0 && cd.CodeLimit > uint64(s.Size) {
		return &FormatError{Arch: s.Arch, Offset: -1, Msg: fmt.Sprintf("%s code limit %d is past the slice's end", cd.Slot, cd.CodeLimit)}
	}
	// Security.framework: "code limit must cover (exactly) the entire
	// file", which for Mach-O ends where the signature starts. A shorter
	// limit would leave code pages unsigned.
	if cd.CodeLimit != uint64(s.SignatureOffset) {
		return fmt.Errorf("codesign: %s: %s code limit %#x does not end at the signature (%#x): %w",
			s.Arch, cd.Slot, cd.CodeLimit, s.SignatureOffset, ErrSignatureInvalid)
	}
	pageSize := int64(cd.PageSize)
	if pageSize == 0 {
		pageSize = int64(cd.CodeLimit)
	}
	buf := make([]byte, 64<<10)
	for i := range cd.NCodeSlots {
		off := int64(i) * pageSize
		n := min(pageSize, int64(cd.CodeLimit)-off)
		h := cd.HashType.New()
		if got, err := io.CopyBuffer(h, io.NewSectionReader(s.slice, off, n), buf); err != nil || got != n {
			return &FormatError{Arch: s.Arch, Offset: s.Offset + off, Msg: fmt.Sprintf("reading code page %d: read %d of %d bytes: %v", i, got, n, err)}
		}
		var got []byte
		got = h.Sum(nil)[:cd.HashType.Size()]
		if want := cd.PageHash(i); !bytes.Equal(got, want) {
			return &HashMismatchError{Arch: s.Arch, CodeDirectory: cd.Slot, HashType: cd.HashType, Page: i, Offset: off, Want: want, Got: got}
		}
	}
	return nil
}

func isZero(b []byte) bool {
	return strings.Count(string(b), "\x00") == len(b)
}
