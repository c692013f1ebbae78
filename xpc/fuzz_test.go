package xpc

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fuzzSeedMessages are valid messages whose encodings seed FuzzDecode.
func fuzzSeedMessages() []Dict {
	return []Dict{
		{},
		{"a": int64(1)},
		{"s": "hello", "": ""},
		{"n": nil, "t": true, "f": false, "u": uint64(math.MaxUint64), "i": int64(math.MinInt64)},
		{"d": 1.5, "nan": math.NaN(), "inf": math.Inf(-1)},
		{"date": time.Unix(-5, 7), "id": UUID{1, 2, 3}},
		{"data": []byte{1, 2, 3}, "empty": []byte{}},
		{"arr": []any{nil, "x", []any{int64(1)}, Dict{"k": "v"}}},
		{"deep": Dict{"a": Dict{"b": Dict{"c": []any{[]any{}}}}}},
		benchMessage(),
	}
}

// FuzzDecode: arbitrary bytes never panic Decode; whatever decodes
// re-encodes to bytes that decode to an equal value.
func FuzzDecode(f *testing.F) {
	for _, m := range fuzzSeedMessages() {
		b, err := Encode(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(rawMsg(rawDict(rawKey("f"), cat(le32(tagFD), le32(0)))))
	f.Add(nestedRaw(MaxDepth + 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			var de *DecodeError
			if !errors.Is(err, ErrMalformed) || !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError wrapping ErrMalformed", err)
			}
			if de.Offset < 0 || de.Offset > len(b) {
				t.Fatalf("offset %d outside the %d byte input", de.Offset, len(b))
			}
			return
		}
		if d == nil {
			t.Fatal("nil Dict without an error")
		}
		b2, err := Encode(d)
		if err != nil {
			t.Fatalf("decoded value does not re-encode: %v", err)
		}
		// Lengths and padding are checked exactly, so only padding bytes
		// and key order may differ, never the size.
		if len(b2) != len(b) {
			t.Fatalf("re-encoding has %d bytes, the input %d", len(b2), len(b))
		}
		d2, err := Decode(b2)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		if !equalValues(d, d2) {
			t.Fatalf("re-encoded value differs (-first +second):\n%s", cmp.Diff(d, d2, valueOpts))
		}
	})
}

// FuzzRoundTrip builds a message from fuzzer-chosen primitives and nesting
// and checks that encode→decode returns it.
func FuzzRoundTrip(f *testing.F) {
	f.Add("key", "value", int64(-1), uint64(1), []byte{1, 2, 3}, 1.5, int64(0), uint8(0), true)
	f.Add("", "", int64(0), uint64(0), []byte{}, math.NaN(), int64(-1e18), uint8(7), false)
	f.Add("k\x00", "v", int64(math.MaxInt64), uint64(math.MaxUint64), []byte(nil), math.Inf(1), int64(1e18), uint8(200), true)
	f.Add("ключ", "🚀\x00", int64(3), uint64(4), bytes.Repeat([]byte{0xff}, 33), -0.0, int64(42), uint8(63), false)
	f.Fuzz(func(t *testing.T, key, s string, i int64, u uint64, data []byte, fl float64, nsec int64, depth uint8, flag bool) {
		var id UUID
		copy(id[:], data)
		leaf := Dict{
			"k:" + key: s, // prefixed: must not collide with the fixed keys
			"i":        i,
			"u":        u,
			"data":     data,
			"f":        fl,
			"t":        time.Unix(0, nsec),
			"b":        flag,
			"n":        nil,
			"id":       id,
		}
		var root any = leaf
		// Nest alternately in arrays and dictionaries, up to the limit.
		levels := int(depth) % MaxDepth // the root dictionary is one more level
		for l := 0; l < levels; l++ {
			if l%2 == 0 {
				root = []any{root, s, i}
			} else {
				root = Dict{"k:" + key: root, "x": u}
			}
		}
		msg := Dict{"root": root}

		b, err := Encode(msg)
		hasNUL := strings.IndexByte(key, 0) >= 0 || strings.IndexByte(s, 0) >= 0
		tooDeep := levels+2 > MaxDepth // root, levels, leaf dictionary
		if hasNUL || tooDeep {
			// Either refusal may come first: map order decides.
			var ee *EncodeError
			if !errors.As(err, &ee) ||
				!(hasNUL && strings.Contains(ee.Reason, "NUL") || tooDeep && strings.Contains(ee.Reason, "nesting")) {
				t.Fatalf("NUL %v, too deep %v: got %v", hasNUL, tooDeep, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode of our own encoding: %v", err)
		}
		if data == nil {
			leaf["data"] = []byte{} // nil data decodes as empty data
		}
		if !equalValues(msg, got) {
			t.Fatalf("round trip (-want +got):\n%s", cmp.Diff(msg, got, valueOpts))
		}
	})
}

// FuzzFrame: the frame header and attachment table parsers never panic on
// arbitrary bytes, and what they accept re-encodes to an equivalent table.
func FuzzFrame(f *testing.F) {
	hdr := make([]byte, frameHeaderSize)
	putFrameHeader(hdr, frameHeader{flags: flagData | flagAttachments, bodyLen: 40, id: 9})
	msg, err := Encode(Dict{"k": "v"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(hdr, appendAttachmentTable(nil, 1, []string{"/tmp/a.sock"})...))
	f.Add(append(append([]byte(nil), hdr...), append(appendAttachmentTable(nil, 0, []string{"/x", "/yz"}), msg...)...))
	f.Add(hdr[:10])
	f.Add(appendAttachmentTable(nil, 300, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseFrameHeader(b, 1<<20)
		if err == nil {
			if h.bodyLen > 1<<20 || h.flags&^knownFlags != 0 {
				t.Fatalf("accepted header %+v", h)
			}
			out := make([]byte, frameHeaderSize)
			putFrameHeader(out, h)
			if h.flags&flagAlwaysSet != 0 && !bytes.Equal(out, b[:frameHeaderSize]) {
				t.Fatalf("header does not re-encode: %x vs %x", out, b[:frameHeaderSize])
			}
		} else if !errors.Is(err, ErrMalformed) {
			t.Fatalf("header error %v does not wrap ErrMalformed", err)
		}

		body := b
		if len(b) >= frameHeaderSize {
			body = b[frameHeaderSize:]
		}
		for _, in := range [][]byte{b, body} {
			nfds, paths, rest, err := parseAttachmentTable(in)
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("table error %v does not wrap ErrMalformed", err)
				}
				continue
			}
			if nfds < 0 || nfds+len(paths) > maxAttachments {
				t.Fatalf("accepted %d fds and %d endpoints", nfds, len(paths))
			}
			if len(rest) > len(in) || !bytes.Equal(rest, in[len(in)-len(rest):]) {
				t.Fatal("rest is not a suffix of the body")
			}
			again := appendAttachmentTable(nil, nfds, paths)
			n2, p2, r2, err := parseAttachmentTable(append(again, rest...))
			if err != nil || n2 != nfds || !cmp.Equal(p2, paths) || !bytes.Equal(r2, rest) {
				t.Fatalf("table does not re-encode: %v", err)
			}
		}
	})
}

// equalValues is deep equality for message values with NaN equal to NaN and
// dates compared with Equal. The fuzz targets use it instead of cmp.Equal,
// which diffs slices element by element and so takes time exponential in
// the nesting depth of arrays; cmp.Diff only explains a failure.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case Dict:
		b, ok := b.(Dict)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equalValues(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || math.IsNaN(a) && math.IsNaN(b))
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	// The remaining message types (nil, bool, int64, uint64, string, UUID,
	// *os.File, *Endpoint) are comparable.
	return a == b
}

func TestEqualValues(t *testing.T) {
	a := Dict{"f": math.NaN(), "t": time.Unix(1, 0), "a": []any{[]byte{1}, UUID{1}, nil}}
	b := Dict{"f": math.NaN(), "t": time.Unix(1, 0).UTC(), "a": []any{[]byte{1}, UUID{1}, nil}}
	if !equalValues(a, b) {
		t.Fatal("equal values reported different")
	}
	for _, c := range []Dict{
		{"f": 1.0, "t": time.Unix(1, 0), "a": []any{[]byte{1}, UUID{1}, nil}},
		{"f": math.NaN(), "t": time.Unix(2, 0), "a": []any{[]byte{1}, UUID{1}, nil}},
		{"f": math.NaN(), "t": time.Unix(1, 0), "a": []any{[]byte{2}, UUID{1}, nil}},
		{"f": math.NaN(), "t": time.Unix(1, 0), "a": []any{[]byte{1}, UUID{2}, nil}},
		{"f": math.NaN(), "t": time.Unix(1, 0), "a": []any{[]byte{1}, UUID{1}}},
		{"f": math.NaN(), "t": time.Unix(1, 0), "a": []any{[]byte{1}, UUID{1}, int64(0)}},
		{"f": math.NaN(), "t": time.Unix(1, 0), "b": []any{[]byte{1}, UUID{1}, nil}},
	} {
		if equalValues(a, c) {
			t.Errorf("different values reported equal: %v", c)
		}
	}
}
