package codesign

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Slot is an index type in a signature's SuperBlob (CSSLOT_* in
// <Kernel/kern/cs_blobs.h>). The values 1–11 are also the "special slots"
// whose hashes a CodeDirectory stores at negative indices: slot 5 is the
// hash codesign prints as -5.
type Slot uint32

// SuperBlob slots; the values are Apple's.
const (
	SlotCodeDirectory               Slot = 0
	SlotInfoPlist                   Slot = 1 // hash of Contents/Info.plist (not stored in the signature)
	SlotRequirements                Slot = 2
	SlotResourceDir                 Slot = 3 // hash of _CodeSignature/CodeResources (not stored)
	SlotApplication                 Slot = 4 // application-specific data (not stored)
	SlotEntitlements                Slot = 5
	SlotRepSpecific                 Slot = 6
	SlotDEREntitlements             Slot = 7
	SlotLaunchConstraintSelf        Slot = 8
	SlotLaunchConstraintParent      Slot = 9
	SlotLaunchConstraintResponsible Slot = 10
	SlotLibraryConstraint           Slot = 11
	SlotAlternateCodeDirectory      Slot = 0x1000 // first of five: 0x1000–0x1004
	SlotCMSSignature                Slot = 0x10000
	SlotIdentification              Slot = 0x10001
	SlotTicket                      Slot = 0x10002
)

var slotNames = map[Slot]string{
	SlotCodeDirectory:               "CodeDirectory",
	SlotInfoPlist:                   "Info.plist",
	SlotRequirements:                "requirements",
	SlotResourceDir:                 "resource directory",
	SlotApplication:                 "application specific",
	SlotEntitlements:                "entitlements",
	SlotRepSpecific:                 "rep specific",
	SlotDEREntitlements:             "DER entitlements",
	SlotLaunchConstraintSelf:        "launch constraints (self)",
	SlotLaunchConstraintParent:      "launch constraints (parent)",
	SlotLaunchConstraintResponsible: "launch constraints (responsible)",
	SlotLibraryConstraint:           "library constraints",
	SlotCMSSignature:                "CMS signature",
	SlotIdentification:              "identification",
	SlotTicket:                      "ticket",
}

// String names the slot, e.g. "entitlements" or "alternate CodeDirectory 1".
func (s Slot) String() string {
	if n, ok := slotNames[s]; ok {
		return n
	}
	if s >= SlotAlternateCodeDirectory && s < SlotAlternateCodeDirectory+5 {
		return fmt.Sprintf("alternate CodeDirectory %d", s-SlotAlternateCodeDirectory)
	}
	return fmt.Sprintf("slot %#x", uint32(s))
}

// Blob magic numbers (CSMAGIC_* in <Kernel/kern/cs_blobs.h>).
const (
	magicRequirement      = 0xfade0c00
	magicRequirements     = 0xfade0c01
	magicCodeDirectory    = 0xfade0c02
	magicEmbeddedSig      = 0xfade0cc0
	magicBlobWrapper      = 0xfade0b01 // CMS signature
	magicEntitlementsXML  = 0xfade7171
	magicEntitlementsDER  = 0xfade7172
	magicLaunchConstraint = 0xfade8181
)

// Blob is one entry of a signature's SuperBlob.
type Blob struct {
	Slot   Slot
	Magic  uint32
	Offset uint32 // from the start of the SuperBlob
	Data   []byte // the whole blob, magic and length included
}

// Payload returns the blob's contents after its 8-byte header.
func (b Blob) Payload() []byte {
	if len(b.Data) < 8 {
		return nil
	}
	return b.Data[8:]
}

// parseSuperBlob reads the embedded signature and fills s.
func (s *Signature) parseSuperBlob(data []byte) error {
	bad := func(off uint32, format string, args ...any) error {
		return &FormatError{Arch: s.Arch, Offset: s.Offset + int64(s.SignatureOffset) + int64(off), Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) < 12 {
		return bad(0, "signature of %d bytes is too short for a SuperBlob", len(data))
	}
	if m := binary.BigEndian.Uint32(data); m != magicEmbeddedSig {
		return bad(0, "SuperBlob magic %#x, want %#x", m, magicEmbeddedSig)
	}
	length := binary.BigEndian.Uint32(data[4:])
	count := binary.BigEndian.Uint32(data[8:])
	if length < 12 || uint64(length) > uint64(len(data)) {
		return bad(4, "SuperBlob length %d outside the %d-byte signature", length, len(data))
	}
	data = data[:length]
	if count > MaxBlobs {
		return bad(8, "SuperBlob has %d blobs, over the limit of %d", count, MaxBlobs)
	}
	if uint64(12+8*count) > uint64(length) {
		return bad(8, "SuperBlob index of %d entries overruns its %d bytes", count, length)
	}
	seen := make(map[Slot]bool)
	for i := range count {
		e := data[12+8*i:]
		slot, off := Slot(binary.BigEndian.Uint32(e)), binary.BigEndian.Uint32(e[4:])
		if seen[slot] {
			return bad(12+8*i, "slot %s appears twice", slot)
		}
		seen[slot] = true
		if off < 12+8*count || uint64(off)+8 > uint64(length) {
			return bad(12+8*i+4, "blob for %s at %#x is outside the SuperBlob", slot, off)
		}
		magic := binary.BigEndian.Uint32(data[off:])
		blen := binary.BigEndian.Uint32(data[off+4:])
		if blen < 8 || uint64(off)+uint64(blen) > uint64(length) {
			return bad(off+4, "blob for %s has length %d, outside the SuperBlob", slot, blen)
		}
		s.Blobs = append(s.Blobs, Blob{Slot: slot, Magic: magic, Offset: off, Data: data[off : off+blen]})
	}
	for _, b := range s.Blobs {
		if err := s.takeBlob(b, bad); err != nil {
			return err
		}
	}
	if len(s.CodeDirectories) == 0 {
		return bad(0, "signature has no CodeDirectory")
	}
	if s.CodeDirectories[0].Slot != SlotCodeDirectory {
		return bad(0, "signature has alternate CodeDirectories but none in slot 0")
	}
	seenType := make(map[HashType]bool)
	for _, cd := range s.CodeDirectories {
		if seenType[cd.HashType] {
			return bad(0, "two CodeDirectories use %s", cd.HashType)
		}
		seenType[cd.HashType] = true
	}
	// Like Security.framework, ignore components the CodeDirectory does not
	// seal: they stay in Blobs but are not reported as the code's.
	best := s.CodeDirectory()
	sealed := func(slot Slot) bool {
		h := best.SpecialSlotHash(slot)
		return h != nil && !isZero(h)
	}
	if !sealed(SlotRequirements) {
		s.Requirements = nil
	}
	if !sealed(SlotEntitlements) {
		s.Entitlements = nil
	}
	if !sealed(SlotDEREntitlements) {
		s.EntitlementsDER = nil
	}
	for slot := range s.LaunchConstraints {
		if !sealed(slot) {
			delete(s.LaunchConstraints, slot)
		}
	}
	return nil
}

func (s *Signature) takeBlob(b Blob, bad func(uint32, string, ...any) error) error {
	wantMagic := func(m uint32) error {
		if b.Magic != m {
			return bad(b.Offset, "blob for %s has magic %#x, want %#x", b.Slot, b.Magic, m)
		}
		return nil
	}
	switch {
	case b.Slot == SlotCodeDirectory || (b.Slot >= SlotAlternateCodeDirectory && b.Slot < SlotAlternateCodeDirectory+5):
		if err := wantMagic(magicCodeDirectory); err != nil {
			return err
		}
		if len(s.CodeDirectories) >= MaxCodeDirectories {
			return bad(b.Offset, "more than %d CodeDirectories", MaxCodeDirectories)
		}
		cd, err := parseCodeDirectory(b.Data)
		if errors.Is(err, ErrUnsupportedFormat) {
			return fmt.Errorf("codesign: %s: %s: %w", s.Arch, b.Slot, err)
		}
		if err != nil {
			return bad(b.Offset, "%s: %v", b.Slot, err)
		}
		cd.Slot = b.Slot
		// Keep slot 0 first, alternates in slot order.
		s.CodeDirectories = append(s.CodeDirectories, cd)
		for i := len(s.CodeDirectories) - 1; i > 0 && s.CodeDirectories[i].Slot < s.CodeDirectories[i-1].Slot; i-- {
			s.CodeDirectories[i], s.CodeDirectories[i-1] = s.CodeDirectories[i-1], s.CodeDirectories[i]
		}
	case b.Slot == SlotRequirements:
		if err := wantMagic(magicRequirements); err != nil {
			return err
		}
		s.Requirements = b.Data
	case b.Slot == SlotEntitlements:
		if err := wantMagic(magicEntitlementsXML); err != nil {
			return err
		}
		s.Entitlements = b.Payload()
	case b.Slot == SlotDEREntitlements:
		if err := wantMagic(magicEntitlementsDER); err != nil {
			return err
		}
		s.EntitlementsDER = b.Payload()
	case b.Slot >= SlotLaunchConstraintSelf && b.Slot <= SlotLibraryConstraint:
		if err := wantMagic(magicLaunchConstraint); err != nil {
			return err
		}
		if s.LaunchConstraints == nil {
			s.LaunchConstraints = make(map[Slot][]byte)
		}
		s.LaunchConstraints[b.Slot] = b.Payload()
	case b.Slot == SlotCMSSignature:
		if err := wantMagic(magicBlobWrapper); err != nil {
			return err
		}
		if len(b.Payload()) == 0 {
			return nil // an empty wrapper: ad hoc
		}
		if len(b.Payload()) > MaxCMSSize {
			return bad(b.Offset, "CMS blob of %d bytes over the limit of %d", len(b.Payload()), MaxCMSSize)
		}
		s.CMS = b.Payload()
		if err := s.parseCMS(); err != nil {
			return bad(b.Offset, "CMS signature: %v", err)
		}
	}
	return nil
}
