package requirement

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Blob magics and kinds from Security's requirement.h.
const (
	// MagicRequirement starts a single binary requirement.
	MagicRequirement = 0xfade0c00
	// MagicRequirementSet starts a requirement set (a SuperBlob of
	// requirements indexed by Type).
	MagicRequirementSet = 0xfade0c01
	// KindExpression is the only requirement kind this package handles:
	// the prefix expression form.
	KindExpression = 1
	// KindLightweight is the DER "lightweight code requirement" kind, which
	// this package does not decode.
	KindLightweight = 2
)

func decodeHex(s string) []byte { b, _ := hex.DecodeString(s); return b }

// MarshalBinary compiles the requirement to Apple's binary form: magic
// 0xfade0c00, length, kind 1, then the expression program. The result is
// byte for byte what Apple's compiler (csreq -b) produces for the same text.
func (r *Requirement) MarshalBinary() ([]byte, error) {
	if r == nil || r.Expr == nil {
		return nil, fmt.Errorf("requirement: empty requirement")
	}
	w := &writer{b: make([]byte, 12, 64)}
	binary.BigEndian.PutUint32(w.b[0:], MagicRequirement)
	binary.BigEndian.PutUint32(w.b[8:], KindExpression)
	if err := w.expr(r.Expr, 1); err != nil {
		return nil, err
	}
	if len(w.b) > MaxBlobSize {
		return nil, fmt.Errorf("%w: compiled requirement is %d bytes, limit %d", ErrTooLarge, len(w.b), MaxBlobSize)
	}
	binary.BigEndian.PutUint32(w.b[4:], uint32(len(w.b)))
	return w.b, nil
}

// UnmarshalBinary decodes a binary requirement (magic 0xfade0c00, kind 1).
// Unknown opcodes flagged OpGenericFalse or OpGenericSkip are kept as
// UnknownOp; other unknown opcodes, truncation, trailing bytes, nesting
// beyond MaxDepth and blobs over MaxBlobSize are errors. Known opcodes with
// flag bits and non-zero padding are accepted as Apple does, and dropped
// (canonicalised) by MarshalBinary.
func (r *Requirement) UnmarshalBinary(blob []byte) error {
	e, err := decodeRequirement(blob)
	if err != nil {
		return err
	}
	r.Expr = e
	return nil
}

// Decompile decodes a binary requirement; String on the result gives its
// canonical text.
func Decompile(blob []byte) (*Requirement, error) {
	r := new(Requirement)
	if err := r.UnmarshalBinary(blob); err != nil {
		return nil, err
	}
	return r, nil
}

type writer struct{ b []byte }

func (w *writer) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *writer) data(s []byte) {
	w.u32(uint32(len(s)))
	w.b = append(w.b, s...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *writer) match(m Match) {
	w.u32(uint32(m.Op))
	switch {
	case m.Op == MatchExists || m.Op == MatchAbsent:
	case m.Op.IsDate():
		w.b = binary.BigEndian.AppendUint64(w.b, uint64(m.Seconds))
	default: // string operations, and unknown ones (one data argument, as Apple assumes)
		w.data([]byte(m.Value))
	}
}

func (w *writer) expr(e Expr, depth int) error {
	if err := checkDepth(depth); err != nil {
		return err
	}
	if len(w.b) > MaxBlobSize {
		return fmt.Errorf("%w: compiled requirement exceeds %d bytes", ErrTooLarge, MaxBlobSize)
	}
	switch e := e.(type) {
	case And:
		w.u32(uint32(OpAnd))
		if err := w.expr(e.Left, depth+1); err != nil {
			return err
		}
		return w.expr(e.Right, depth+1)
	case Or:
		w.u32(uint32(OpOr))
		if err := w.expr(e.Left, depth+1); err != nil {
			return err
		}
		return w.expr(e.Right, depth+1)
	case Not:
		w.u32(uint32(OpNot))
		return w.expr(e.X, depth+1)
	case Always:
		w.u32(uint32(OpTrue))
	case Never:
		w.u32(uint32(OpFalse))
	case Identifier:
		w.u32(uint32(OpIdent))
		w.data([]byte(e.Value))
	case CDHash:
		w.u32(uint32(OpCDHash))
		w.data(e.Hash)
	case Platform:
		w.u32(uint32(OpPlatform))
		w.u32(uint32(e.Value))
	case Notarized:
		w.u32(uint32(OpNotarized))
	case Legacy:
		w.u32(uint32(OpLegacyDevID))
	case AppleAnchor:
		w.u32(uint32(OpAppleAnchor))
	case AppleGenericAnchor:
		w.u32(uint32(OpAppleGenericAnchor))
	case NamedAnchor:
		w.u32(uint32(OpNamedAnchor))
		w.data([]byte(e.Name))
	case NamedCode:
		w.u32(uint32(OpNamedCode))
		w.data([]byte(e.Name))
	case TrustedAnchor:
		w.u32(uint32(OpTrustedCerts))
	case TrustedCert:
		w.u32(uint32(OpTrustedCert))
		w.u32(uint32(e.Slot))
	case CertHash:
		w.u32(uint32(OpAnchorHash))
		w.u32(uint32(e.Slot))
		w.data(e.Hash)
	case CertField:
		var op Op
		key := []byte(e.Key)
		switch e.Kind {
		case FieldSubject:
			op = OpCertField
		case FieldOID, FieldPolicy, FieldDate:
			op = map[CertFieldKind]Op{FieldOID: OpCertGeneric, FieldPolicy: OpCertPolicy, FieldDate: OpCertFieldDate}[e.Kind]
			var err error
			if key, err = encodeOID(e.Key); err != nil {
				return fmt.Errorf("requirement: certificate field %q: %w", e.Key, err)
			}
		default:
			return fmt.Errorf("requirement: unknown certificate field kind %d", e.Kind)
		}
		w.u32(uint32(op))
		w.u32(uint32(e.Slot))
		w.data(key)
		w.match(e.Match)
	case InfoKey:
		w.u32(uint32(OpInfoKeyField))
		w.data([]byte(e.Key))
		w.match(e.Match)
	case LegacyInfoKey:
		w.u32(uint32(OpInfoKeyValue))
		w.data([]byte(e.Key))
		w.data([]byte(e.Value))
	case Entitlement:
		w.u32(uint32(OpEntitlementField))
		w.data([]byte(e.Key))
		w.match(e.Match)
	case UnknownOp:
		if e.Op&(OpGenericFalse|OpGenericSkip) == 0 || isKnownOp(e.Op) {
			return fmt.Errorf("requirement: UnknownOp 0x%x must be an unknown opcode with a generic flag", uint32(e.Op))
		}
		skipOnly := e.Op&OpGenericFalse == 0
		if skipOnly != (e.Then != nil) {
			return fmt.Errorf("requirement: UnknownOp 0x%x: Then must be set exactly for OpGenericSkip", uint32(e.Op))
		}
		w.u32(uint32(e.Op))
		w.u32(uint32(len(e.Data)))
		w.b = append(w.b, e.Data...)
		if e.Then != nil {
			return w.expr(e.Then, depth+1)
		}
	case nil:
		return fmt.Errorf("requirement: nil expression")
	default:
		return fmt.Errorf("requirement: unknown expression type %T", e)
	}
	return nil
}

func isKnownOp(op Op) bool { return op&^OpFlagMask <= OpLegacyDevID }

type reader struct {
	b   []byte
	pc  int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = blobErr("at offset %d: %s", r.pc, fmt.Sprintf(format, args...))
	}
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	if len(r.b)-r.pc < 4 {
		r.fail("truncated")
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.pc:])
	r.pc += 4
	return v
}

func (r *reader) u64() uint64 {
	hi := r.u32()
	lo := r.u32()
	return uint64(hi)<<32 | uint64(lo)
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.pc) {
		r.fail("length %d runs past the end", n)
		return nil
	}
	v := append([]byte(nil), r.b[r.pc:r.pc+int(n)]...)
	r.pc += int(n)
	return v
}

func (r *reader) data() []byte {
	n := r.u32()
	v := r.bytes(n)
	if r.err != nil {
		return nil
	}
	pad := (4 - int(n)%4) % 4
	if len(r.b)-r.pc < pad {
		r.fail("missing padding")
		return nil
	}
	r.pc += pad
	return v
}

func (r *reader) match() Match {
	m := Match{Op: MatchOp(r.u32())}
	switch {
	case m.Op == MatchExists || m.Op == MatchAbsent:
	case m.Op.IsDate():
		m.Seconds = int64(r.u64())
	default:
		// Apple assumes an unknown match operation has one data argument.
		m.Value = string(r.data())
	}
	return m
}

func decodeRequirement(blob []byte) (Expr, error) {
	if len(blob) > MaxBlobSize {
		return nil, fmt.Errorf("%w: blob is %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlobSize)
	}
	if len(blob) < 12 {
		return nil, blobErr("requirement blob of %d bytes is too short", len(blob))
	}
	if m := binary.BigEndian.Uint32(blob); m != MagicRequirement {
		return nil, blobErr("bad magic 0x%08x, want 0x%08x", m, MagicRequirement)
	}
	if n := binary.BigEndian.Uint32(blob[4:]); n != uint32(len(blob)) {
		return nil, blobErr("header length %d, blob has %d bytes", n, len(blob))
	}
	switch k := binary.BigEndian.Uint32(blob[8:]); k {
	case KindExpression:
	case KindLightweight:
		return nil, fmt.Errorf("%w: lightweight (DER) code requirement kind", ErrUnsupported)
	default:
		return nil, blobErr("unknown requirement kind %d", k)
	}
	r := &reader{b: blob, pc: 12}
	e := r.expr(1)
	if r.err != nil {
		return nil, r.err
	}
	if r.pc != len(blob) {
		return nil, blobErr("%d trailing bytes after the expression", len(blob)-r.pc)
	}
	return e, nil
}

func (r *reader) expr(depth int) Expr {
	if r.err != nil {
		return nil
	}
	if depth > MaxDepth {
		if r.err == nil {
			r.err = fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
		}
		return nil
	}
	at := r.pc
	raw := Op(r.u32())
	if r.err != nil {
		return nil
	}
	switch raw &^ OpFlagMask {
	case OpFalse:
		return Never{}
	case OpTrue:
		return Always{}
	case OpIdent:
		return Identifier{Value: string(r.data())}
	case OpAppleAnchor:
		return AppleAnchor{}
	case OpAnchorHash:
		slot := Slot(r.u32())
		return CertHash{Slot: slot, Hash: r.data()}
	case OpInfoKeyValue:
		k := string(r.data())
		return LegacyInfoKey{Key: k, Value: string(r.data())}
	case OpAnd:
		l := r.expr(depth + 1)
		return And{Left: l, Right: r.expr(depth + 1)}
	case OpOr:
		l := r.expr(depth + 1)
		return Or{Left: l, Right: r.expr(depth + 1)}
	case OpCDHash:
		return CDHash{Hash: r.data()}
	case OpNot:
		return Not{X: r.expr(depth + 1)}
	case OpInfoKeyField:
		k := string(r.data())
		return InfoKey{Key: k, Match: r.match()}
	case OpEntitlementField:
		k := string(r.data())
		return Entitlement{Key: k, Match: r.match()}
	case OpCertField, OpCertGeneric, OpCertPolicy, OpCertFieldDate:
		slot := Slot(r.u32())
		keyAt := r.pc
		key := r.data()
		f := CertField{Slot: slot, Kind: FieldSubject, Key: string(key)}
		if op := raw &^ OpFlagMask; op != OpCertField {
			f.Kind = map[Op]CertFieldKind{OpCertGeneric: FieldOID, OpCertPolicy: FieldPolicy, OpCertFieldDate: FieldDate}[op]
			if r.err == nil {
				oid, err := decodeOID(key)
				if err != nil {
					r.pc = keyAt
					r.fail("certificate field OID: %v", err)
					return nil
				}
				f.Key = oid
			}
		}
		f.Match = r.match()
		return f
	case OpTrustedCert:
		return TrustedCert{Slot: Slot(r.u32())}
	case OpTrustedCerts:
		return TrustedAnchor{}
	case OpAppleGenericAnchor:
		return AppleGenericAnchor{}
	case OpNamedAnchor:
		return NamedAnchor{Name: string(r.data())}
	case OpNamedCode:
		return NamedCode{Name: string(r.data())}
	case OpPlatform:
		return Platform{Value: int32(r.u32())}
	case OpNotarized:
		return Notarized{}
	case OpLegacyDevID:
		return Legacy{}
	}
	if raw&(OpGenericFalse|OpGenericSkip) == 0 {
		r.pc = at
		r.fail("unknown opcode 0x%x", uint32(raw))
		return nil
	}
	u := UnknownOp{Op: raw, Data: r.bytes(r.u32())}
	if raw&OpGenericFalse == 0 {
		u.Then = r.expr(depth + 1)
	}
	return u
}
