package requirement

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Type says what a requirement in a Set is for (SecRequirementType).
type Type uint32

// Requirement types; the values are Apple's.
const (
	Host       Type = 1 // what hosts may run this code
	Guest      Type = 2 // what guests this code may run
	Designated Type = 3 // what this code is (its designated requirement)
	Library    Type = 4 // what libraries this code may link against
	Plugin     Type = 5 // what plug-ins this code may load
)

var typeNames = map[Type]string{Host: "host", Guest: "guest", Designated: "designated", Library: "library", Plugin: "plugin"}

var typeByName = map[string]Type{"host": Host, "guest": Guest, "designated": Designated, "library": Library, "plugin": Plugin}

// String returns the type's keyword ("designated"), or its number.
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprint(uint32(t))
}

// Set is a requirement set, as embedded in a code signature's requirements
// slot: at most one requirement per Type.
type Set map[Type]*Requirement

// Types returns the set's types in ascending order, the order Apple writes them.
func (s Set) Types() []Type {
	ts := make([]Type, 0, len(s))
	for t := range s {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// String returns the set in the text form codesign -d -r- prints: one
// "type => requirement" line per entry, ending in a newline.
func (s Set) String() string {
	var b strings.Builder
	for _, t := range s.Types() {
		if _, ok := typeNames[t]; ok {
			b.WriteString(t.String())
		} else {
			fmt.Fprintf(&b, "/*unknown type*/ %d", uint32(t))
		}
		b.WriteString(" => ")
		// Apple's set dumper keeps the leading space an unknown opcode
		// prints; so do we.
		var p printer
		if r := s[t]; r != nil && r.Expr != nil {
			p.expr(r.Expr, slTop)
		}
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// MarshalBinary compiles the set into Apple's requirements SuperBlob (magic
// 0xfade0c01): a header, an index of (type, offset) pairs sorted by type,
// then the requirement blobs. An empty set gives the 12-byte blob ad-hoc
// signatures carry.
func (s Set) MarshalBinary() ([]byte, error) {
	if len(s) > MaxSetEntries {
		return nil, fmt.Errorf("%w: %d requirements in set, limit %d", ErrTooLarge, len(s), MaxSetEntries)
	}
	types := s.Types()
	blobs := make([][]byte, len(types))
	size := 12 + 8*len(types)
	for i, t := range types {
		b, err := s[t].MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("requirement: %s requirement: %w", t, err)
		}
		blobs[i] = b
		size += len(b)
	}
	if size > MaxBlobSize {
		return nil, fmt.Errorf("%w: requirement set is %d bytes, limit %d", ErrTooLarge, size, MaxBlobSize)
	}
	out := make([]byte, 0, size)
	out = binary.BigEndian.AppendUint32(out, MagicRequirementSet)
	out = binary.BigEndian.AppendUint32(out, uint32(size))
	out = binary.BigEndian.AppendUint32(out, uint32(len(types)))
	off := 12 + 8*len(types)
	for i, t := range types {
		out = binary.BigEndian.AppendUint32(out, uint32(t))
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		off += len(blobs[i])
	}
	for _, b := range blobs {
		out = append(out, b...)
	}
	return out, nil
}

// UnmarshalBinary decodes a requirements SuperBlob (magic 0xfade0c01),
// replacing the set's contents. Every entry must be a valid requirement
// blob lying inside the set; duplicate types are an error.
func (s *Set) UnmarshalBinary(blob []byte) error {
	if len(blob) > MaxBlobSize {
		return fmt.Errorf("%w: blob is %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlobSize)
	}
	if len(blob) < 12 {
		return blobErr("requirement set of %d bytes is too short", len(blob))
	}
	if m := binary.BigEndian.Uint32(blob); m != MagicRequirementSet {
		return blobErr("bad magic 0x%08x, want 0x%08x", m, MagicRequirementSet)
	}
	if n := binary.BigEndian.Uint32(blob[4:]); n != uint32(len(blob)) {
		return blobErr("set header length %d, blob has %d bytes", n, len(blob))
	}
	count := binary.BigEndian.Uint32(blob[8:])
	if count > MaxSetEntries {
		return blobErr("%d entries in requirement set, limit %d", count, MaxSetEntries)
	}
	indexEnd := 12 + 8*int(count)
	if indexEnd > len(blob) {
		return blobErr("index of %d entries runs past the end", count)
	}
	out := Set{}
	for i := 0; i < int(count); i++ {
		t := Type(binary.BigEndian.Uint32(blob[12+8*i:]))
		off := binary.BigEndian.Uint32(blob[16+8*i:])
		if _, dup := out[t]; dup {
			return blobErr("duplicate requirement type %s", t)
		}
		if off < uint32(indexEnd) || uint64(off)+8 > uint64(len(blob)) {
			return blobErr("entry %d offset %d out of range", i, off)
		}
		n := binary.BigEndian.Uint32(blob[off+4:])
		if uint64(off)+uint64(n) > uint64(len(blob)) {
			return blobErr("entry %d length %d runs past the end", i, n)
		}
		e, err := decodeRequirement(blob[off : off+n])
		if err != nil {
			return fmt.Errorf("%s requirement: %w", t, err)
		}
		out[t] = &Requirement{Expr: e}
	}
	*s = out
	return nil
}
