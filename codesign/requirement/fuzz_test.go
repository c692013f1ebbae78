package requirement_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	rq "github.com/goxpc/goxpc/codesign/requirement"
)

var seedTexts = []string{
	`identifier "com.example.app" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ABCDE12345`,
	`(identifier a or identifier b) and ! info[CFBundleVersion] < "1.0" or entitlement["x-y"] = *0x00ff*`,
	`certificate -2 trusted or anchor trusted or cert root = H"0123456789abcdef0123456789abcdef01234567"`,
	`info[k] >= timestamp "20240131120000Z" and certificate leaf[timestamp.1.2.3] < timestamp "19991231235959.9+0130"`,
	`anchor apple "named" or (com.apple.sub) or platform 2 or notarized and legacy; ;`,
	"# c\n// d\n/* e */ always",
	`designated => identifier a` + "\n" + `host => anchor apple`,
}

// FuzzParse: Parse never panics; what parses prints canonical text that
// parses back to the same AST and compiles, and the compiled blob decodes
// to the same AST.
func FuzzParse(f *testing.F) {
	for _, s := range seedTexts {
		f.Add(s)
	}
	for _, v := range loadVectors(f) {
		f.Add(v.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if s, err := rq.ParseSet(text); err == nil {
			b, err := s.MarshalBinary()
			if err != nil {
				if errors.Is(err, rq.ErrTooLarge) {
					return
				}
				t.Fatalf("ParseSet(%q) does not compile: %v", text, err)
			}
			var back rq.Set
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("set blob does not decode: %v", err)
			}
			if diff := cmp.Diff(s, back); diff != "" {
				t.Fatalf("set binary round trip (-want +got):\n%s", diff)
			}
		}
		r, err := rq.Parse(text)
		if err != nil {
			var se *rq.SyntaxError
			if !errors.As(err, &se) && !errors.Is(err, rq.ErrTooLarge) && !errors.Is(err, rq.ErrTooDeep) {
				t.Fatalf("Parse(%q): unexpected error type %T: %v", text, err, err)
			}
			return
		}
		canon := r.String()
		if len(canon) <= rq.MaxTextSize {
			r2, err := rq.Parse(canon)
			if err != nil {
				t.Fatalf("canonical text %q of %q does not parse: %v", canon, text, err)
			}
			if diff := cmp.Diff(r, r2); diff != "" {
				t.Fatalf("re-parse of %q differs (-want +got):\n%s", canon, diff)
			}
			if again := r2.String(); again != canon {
				t.Fatalf("canonical text not a fixpoint: %q then %q", canon, again)
			}
		}
		b, err := r.MarshalBinary()
		if err != nil {
			if errors.Is(err, rq.ErrTooLarge) {
				return
			}
			t.Fatalf("%q does not compile: %v", text, err)
		}
		back, err := rq.Decompile(b)
		if err != nil {
			t.Fatalf("compiled %q does not decode: %v (%x)", text, err, b)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("binary round trip of %q (-want +got):\n%s", text, diff)
		}
	})
}

// FuzzDecompile: decoding never panics; what decodes re-encodes to a
// canonical blob that decodes to the same AST, and its text, when it
// parses, is a fixpoint.
func FuzzDecompile(f *testing.F) {
	for _, v := range loadVectors(f) {
		b, _ := hex.DecodeString(v.hex)
		f.Add(b)
	}
	for _, s := range seedTexts {
		if r, err := rq.Parse(s); err == nil {
			b, _ := r.MarshalBinary()
			f.Add(b)
		}
	}
	f.Add(blobOf(f, uint32(rq.OpAnd), uint32(rq.OpGenericSkip|99), 4, 0xdeadbeef, uint32(rq.OpTrue), uint32(rq.OpAppleAnchor)))
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) >= 4 && binary.BigEndian.Uint32(blob) == rq.MagicRequirementSet {
			var s rq.Set
			if err := s.UnmarshalBinary(blob); err != nil {
				checkDecodeErr(t, err)
				return
			}
			b, err := s.MarshalBinary()
			if err != nil {
				t.Fatalf("decoded set does not re-encode: %v", err)
			}
			var back rq.Set
			if err := back.UnmarshalBinary(b); err != nil {
				t.Fatalf("re-encoded set does not decode: %v", err)
			}
			if diff := cmp.Diff(s, back); diff != "" {
				t.Fatalf("set round trip (-want +got):\n%s", diff)
			}
			_ = s.String()
			return
		}
		r, err := rq.Decompile(blob)
		if err != nil {
			checkDecodeErr(t, err)
			return
		}
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %x does not re-encode: %v", blob, err)
		}
		if len(b) != len(blob) {
			t.Fatalf("canonical re-encoding changed the size: %x -> %x", blob, b)
		}
		back, err := rq.Decompile(b)
		if err != nil {
			t.Fatalf("re-encoded blob does not decode: %v", err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		// Text of a decoded blob may not parse (Apple's printer has the
		// same gaps: unknown opcodes, odd hash lengths); when it does, its
		// canonical form is a fixpoint.
		if p, err := rq.Parse(r.String()); err == nil {
			canon := p.String()
			p2, err := rq.Parse(canon)
			if err != nil {
				t.Fatalf("canonical text %q does not parse: %v", canon, err)
			}
			if again := p2.String(); again != canon {
				t.Fatalf("text %q re-prints as %q", canon, again)
			}
		}
	})
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	for _, want := range []error{rq.ErrInvalidBlob, rq.ErrTooDeep, rq.ErrTooLarge, rq.ErrUnsupported} {
		if errors.Is(err, want) {
			return
		}
	}
	t.Fatalf("unexpected error type %T: %v", err, err)
}
