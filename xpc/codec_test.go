package xpc

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valueOpts compares decoded messages: NaN equals NaN (time.Time is compared
// with its Equal method by go-cmp itself).
var valueOpts = cmp.Options{cmpopts.EquateNaNs()}

// fakeEndpoint is an endpointImpl for codec tests; backends have their own.
type fakeEndpoint string

func (f fakeEndpoint) String() string { return "fake:" + string(f) }

// roundTrip encodes and decodes d through the exported helpers.
func roundTrip(t *testing.T, d Dict) Dict {
	t.Helper()
	b, err := Encode(d)
	require.NoError(t, err)
	require.Zero(t, len(b)%4, "encoding is not 4-byte aligned")
	got, err := Decode(b)
	require.NoError(t, err, "decoding %x", b)
	return got
}

func TestRoundTripEveryType(t *testing.T) {
	nsec := time.Date(2024, 2, 29, 12, 34, 56, 123456789, time.UTC)
	pre1970 := time.Date(1903, 7, 1, 0, 0, 0, 987, time.UTC)
	cases := map[string]any{
		"null":        nil,
		"true":        true,
		"false":       false,
		"int0":        int64(0),
		"intMin":      int64(math.MinInt64),
		"intMax":      int64(math.MaxInt64),
		"intNeg":      int64(-1),
		"uint0":       uint64(0),
		"uintMax":     uint64(math.MaxUint64),
		"double":      1.5,
		"doubleTiny":  math.SmallestNonzeroFloat64,
		"doubleInf":   math.Inf(1),
		"doubleNInf":  math.Inf(-1),
		"doubleNaN":   math.NaN(),
		"dateNano":    nsec,
		"datePre1970": pre1970,
		"dateEpoch":   time.Unix(0, 0),
		"dateMin":     time.Unix(0, math.MinInt64),
		"dateMax":     time.Unix(0, math.MaxInt64),
		"dataEmpty":   []byte{},
		"data1":       []byte{0xff},
		"data3":       []byte{1, 2, 3},
		"data5":       []byte{1, 2, 3, 4, 5},
		"data256":     []byte(strings.Repeat("\x00\x01\xfe\xff", 64)),
		"stringEmpty": "",
		"unicode":     "héllo, 世界 🚀",
		"uuid":        UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 1, 2, 3, 4, 5, 6, 7, 8},
		"array":       []any{int64(1), "two", []any{}, Dict{}, nil, []any{[]any{true}}},
		"dict":        Dict{"a": Dict{"b": Dict{"c": "deep"}}, "": "empty key"},
		"emptyArray":  []any{},
		"emptyDict":   Dict{},
	}
	// Strings and keys of every length 0–8 exercise each padding case.
	for n := 0; n <= 8; n++ {
		s := strings.Repeat("x", n)
		cases["str"+s] = s
		cases[s] = int64(n) // the key itself is n bytes long
	}
	got := roundTrip(t, cases)
	if diff := cmp.Diff(Dict(cases), got, valueOpts); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}

	// Beyond cmp's equality: types and exact bits.
	assert.IsType(t, Dict{}, got["dict"], "nested dictionaries decode as Dict")
	assert.IsType(t, []byte{}, got["dataEmpty"])
	assert.NotNil(t, got["dataEmpty"], "empty data decodes as empty, not nil")
	assert.True(t, math.IsNaN(got["doubleNaN"].(float64)))
	assert.Equal(t, nsec.UnixNano(), got["dateNano"].(time.Time).UnixNano())
	assert.Equal(t, pre1970.UnixNano(), got["datePre1970"].(time.Time).UnixNano())
}

func TestRoundTripDoubleBits(t *testing.T) {
	for _, bits := range []uint64{
		0x8000000000000000, // -0
		0x7ff8000000000001, // a NaN with payload
		0xfff0000000000000, // -Inf
		0x7ff0000000000000, // +Inf
		0x0000000000000001, // smallest subnormal
	} {
		got := roundTrip(t, Dict{"f": math.Float64frombits(bits)})
		assert.Equal(t, bits, math.Float64bits(got["f"].(float64)), "bits %#x", bits)
	}
}

func TestDecodedDataDoesNotAliasInput(t *testing.T) {
	b, err := Encode(Dict{"d": []byte("abcd")})
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = 0
	}
	assert.Equal(t, []byte("abcd"), got["d"])
}

func TestMapStringAnyEncodesAsDict(t *testing.T) {
	got := roundTrip(t, Dict{"m": map[string]any{"k": "v"}})
	assert.Equal(t, Dict{"m": Dict{"k": "v"}}, got)
}

// Golden encodings written out by hand from the format description in
// codec.go, and checked against two independent descriptions of the same
// format (facts only, no code copied):
//
//   - pymobiledevice3, pymobiledevice3/remote/xpc_message.py: XpcPayload is
//     magic 0x42133742 + version 5; XpcDictionary and XpcArray are
//     Prefixed(Int32ul, Struct(count, entries)), so a container's length
//     counts the count word; keys are Aligned(4, CString); XpcString is
//     Aligned(4, Prefixed(Int32ul, CString)) (length includes the NUL);
//     XpcData is Aligned(4, Prefixed(Int32ul, bytes)); XpcBool is Int32ul;
//     XpcDate is Int64ul nanoseconds; XpcUuid is 16 bytes.
//   - go-ios, ios/xpc/encoding.go: the same type tags and padding. Its
//     encoder writes a container length that excludes the count word, but
//     its decoder ignores the length; libxpc and pymobiledevice3 include it,
//     as we do. The empty dictionary below also matches the bytes quoted
//     for the Rust "idevice" crate (423713420500000000f000000400000000000000).
func TestGoldenEncodings(t *testing.T) {
	uuid := UUID{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	cases := []struct {
		name string
		msg  Dict
		hex  string
	}{
		{"empty", Dict{},
			"42371342 05000000 00f00000 04000000 00000000"},
		{"int64", Dict{"a": int64(1)},
			"42371342 05000000 00f00000 14000000 01000000" +
				"61000000 00300000 0100000000000000"},
		{"negative int64", Dict{"n": int64(-2)},
			"42371342 05000000 00f00000 14000000 01000000" +
				"6e000000 00300000 feffffffffffffff"},
		{"uint64", Dict{"u": uint64(0x0102030405060708)},
			"42371342 05000000 00f00000 14000000 01000000" +
				"75000000 00400000 0807060504030201"},
		{"string", Dict{"str": "hello"},
			"42371342 05000000 00f00000 18000000 01000000" +
				"73747200 00900000 06000000 68656c6c 6f000000"},
		{"empty string, 4-byte key", Dict{"abcd": ""},
			// "abcd" + NUL needs 8 bytes with padding; "" is length 1 (its NUL) padded to 4.
			"42371342 05000000 00f00000 18000000 01000000" +
				"61626364 00000000 00900000 01000000 00000000"},
		{"data", Dict{"d": []byte{1, 2, 3}},
			"42371342 05000000 00f00000 14000000 01000000" +
				"64000000 00800000 03000000 01020300"},
		{"bool and null in array", Dict{"arr": []any{true, nil, uint64(2)}},
			"42371342 05000000 00f00000 2c000000 01000000" +
				"61727200 00e00000 1c000000 03000000" +
				"00200000 01000000" +
				"00100000" +
				"00400000 0200000000000000"},
		{"double", Dict{"f": 1.5},
			"42371342 05000000 00f00000 14000000 01000000" +
				"66000000 00500000 000000000000f83f"},
		{"date", Dict{"t": time.Unix(1, 2)},
			// 1_000_000_002 ns = 0x3b9aca02
			"42371342 05000000 00f00000 14000000 01000000" +
				"74000000 00700000 02ca9a3b00000000"},
		{"uuid", Dict{"id": uuid},
			"42371342 05000000 00f00000 1c000000 01000000" +
				"69640000 00a00000 00112233445566778899aabbccddeeff"},
		{"nested dict", Dict{"k": Dict{"b": false}},
			"42371342 05000000 00f00000 20000000 01000000" +
				"6b000000 00f00000 10000000 01000000" +
				"62000000 00200000 00000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want, err := hex.DecodeString(strings.ReplaceAll(tc.hex, " ", ""))
			require.NoError(t, err)
			got, err := Encode(tc.msg)
			require.NoError(t, err)
			assert.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))
			dec, err := Decode(want)
			require.NoError(t, err)
			if diff := cmp.Diff(tc.msg, dec, valueOpts); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
}

// Raw builders for hand-made (often invalid) encodings.

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// rawKey is s, a NUL and padding.
func rawKey(s string) []byte {
	b := append([]byte(s), 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rawContainer is a container with a correct length word.
func rawContainer(tag uint32, count int, body ...[]byte) []byte {
	inner := cat(le32(uint32(count)), cat(body...))
	return cat(le32(tag), le32(uint32(len(inner))), inner)
}

// rawDict takes alternating keys and encoded objects.
func rawDict(kv ...[]byte) []byte { return rawContainer(tagDictionary, len(kv)/2, kv...) }

func rawMsg(root []byte) []byte { return cat(le32(objectMagic), le32(objectVersion), root) }

func rawInt(v int64) []byte { return cat(le32(tagInt64), le64(uint64(v))) }

// nestedRaw is n dictionaries, each holding the next under "a".
func nestedRaw(n int) []byte {
	obj := rawDict()
	for i := 1; i < n; i++ {
		obj = rawDict(rawKey("a"), obj)
	}
	return rawMsg(obj)
}

// requireMalformed checks the error contract of every decode rejection.
func requireMalformed(t *testing.T, b []byte, err error, reason string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrMalformed)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.GreaterOrEqual(t, de.Offset, 0)
	assert.LessOrEqual(t, de.Offset, len(b))
	if reason != "" {
		assert.Contains(t, de.Reason, reason)
	}
	assert.Contains(t, err.Error(), "malformed message at byte")
}

func TestDecodeRejects(t *testing.T) {
	valid := rawMsg(rawDict(rawKey("k"), rawInt(7)))
	_, err := Decode(valid)
	require.NoError(t, err, "the base message must be valid")

	patch := func(b []byte, off int, v uint32) []byte {
		c := append([]byte(nil), b...)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	str := func(n uint32, body string) []byte { return cat(le32(tagString), le32(n), []byte(body)) }

	cases := []struct {
		name   string
		b      []byte
		reason string
	}{
		{"empty", nil, "truncated"},
		{"bad magic", patch(valid, 0, 0x42133743), "bad magic"},
		{"bad version", patch(valid, 4, 4), "unsupported version 4"},
		{"root is an array", rawMsg(rawContainer(tagArray, 0)), "want a dictionary"},
		{"root is a string", rawMsg(cat(str(2, "a\x00\x00\x00"))), "want a dictionary"},
		{"dict length too long", patch(valid, 12, 0x100), "does not fit"},
		{"dict length too short", patch(valid, 12, 8), "disagrees"},
		{"dict length below count word", patch(valid, 12, 0), "does not fit"},
		{"count too large", patch(valid, 16, 0xffffffff), "does not fit"},
		{"count larger than entries", patch(valid, 16, 2), ""},
		{"count smaller than entries", patch(valid, 16, 0), "disagrees"},
		{"array length lies", rawMsg(rawDict(rawKey("a"), cat(le32(tagArray), le32(12), le32(1), rawInt(1)))), ""},
		{"array count too large", rawMsg(rawDict(rawKey("a"), cat(le32(tagArray), le32(4), le32(1000)))), "does not fit"},
		{"depth over MaxDepth", nestedRaw(MaxDepth + 1), "nesting deeper than 64"},
		{"string without NUL", rawMsg(rawDict(rawKey("s"), str(4, "abcd"))), "not NUL-terminated"},
		{"string with interior NUL", rawMsg(rawDict(rawKey("s"), str(4, "a\x00b\x00"))), "contains a NUL"},
		{"string length 0", rawMsg(rawDict(rawKey("s"), str(0, ""))), "length 0"},
		{"string length past end", rawMsg(rawDict(rawKey("s"), str(100, "ab\x00\x00"))), ""},
		{"unterminated key", rawMsg(rawContainer(tagDictionary, 1, []byte("abcd"))), "unterminated key"},
		{"bool 2", rawMsg(rawDict(rawKey("b"), cat(le32(tagBool), le32(2)))), "bool value 2"},
		{"bool 0x100", rawMsg(rawDict(rawKey("b"), cat(le32(tagBool), le32(0x100)))), "bool value"},
		{"duplicate keys", rawMsg(rawDict(rawKey("a"), rawInt(1), rawKey("a"), rawInt(2))), `duplicate key "a"`},
		{"trailing bytes", cat(valid, le32(0)), "4 trailing bytes"},
		{"unknown type", rawMsg(rawDict(rawKey("p"), le32(0x6000))), "unsupported type 0x6000"},
		{"fd without attachments", rawMsg(rawDict(rawKey("f"), cat(le32(tagFD), le32(0)))), "file descriptor 0 was not attached"},
		{"endpoint without attachments", rawMsg(rawDict(rawKey("e"), cat(le32(tagEndpoint), le32(0)))), "endpoint 0 was not attached"},
		{"truncated uuid", rawMsg(rawContainer(tagDictionary, 1, rawKey("u"), le32(tagUUID), make([]byte, 8))), ""},
		{"truncated padding", rawMsg(rawContainer(tagDictionary, 1, rawKey("d"), le32(tagData), le32(1), []byte{9})), "truncated padding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.b)
			assert.Nil(t, got)
			requireMalformed(t, tc.b, err, tc.reason)
		})
	}
}

func TestDecodeErrorOffsets(t *testing.T) {
	valid, err := Encode(Dict{"k": "v"})
	require.NoError(t, err)
	patch := func(off int, v uint32) []byte {
		c := append([]byte(nil), valid...)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	// Offsets of the first entry's value in a one-key root dictionary:
	// 8 header + 12 dictionary header + 4 key.
	const first = 24
	cases := []struct {
		name   string
		b      []byte
		offset int
	}{
		{"bad magic", patch(0, 1), 0},
		{"bad version", patch(4, 1), 4},
		{"root not a dictionary", patch(8, tagArray), 8},
		{"container length", patch(12, 0xffff), 12},
		{"count", patch(16, 0xffff), 16},
		{"trailing bytes", append(append([]byte(nil), valid...), 0, 0, 0, 0), len(valid)},
		{"unknown type", rawMsg(rawDict(rawKey("p"), le32(0x6000))), first},
		{"bool", rawMsg(rawDict(rawKey("b"), cat(le32(tagBool), le32(2)))), first},
		{"string without NUL", rawMsg(rawDict(rawKey("s"), cat(le32(tagString), le32(4), []byte("abcd")))), first},
		{"NUL inside a string", rawMsg(rawDict(rawKey("s"), cat(le32(tagString), le32(4), []byte("ab\x00\x00")))), first + 8 + 2},
		{"data length", rawMsg(rawDict(rawKey("d"), cat(le32(tagData), le32(99)))), first + 4},
		{"fd", rawMsg(rawDict(rawKey("f"), cat(le32(tagFD), le32(0)))), first},
		{"duplicate key", rawMsg(rawDict(rawKey("a"), rawInt(1), rawKey("a"), rawInt(2))), first + 12},
		{"nesting", nestedRaw(MaxDepth + 1), 8 + (MaxDepth)*16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.b)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.offset, de.Offset, "%v", err)
		})
	}
}

func TestDecodeDepthLimitIsExact(t *testing.T) {
	_, err := Decode(nestedRaw(MaxDepth))
	require.NoError(t, err, "MaxDepth levels including the root are allowed")
	_, err = Decode(nestedRaw(MaxDepth + 1))
	require.ErrorIs(t, err, ErrMalformed)

	// The same limit holds through arrays.
	obj := rawDict()
	for i := 1; i < MaxDepth+1; i++ {
		obj = rawContainer(tagArray, 1, obj)
	}
	_, err = Decode(rawMsg(rawDict(rawKey("a"), obj)))
	require.ErrorIs(t, err, ErrMalformed)
}

func TestDecodeTruncatedAtEveryOffset(t *testing.T) {
	msg := Dict{
		"s":    "hello",
		"n":    int64(-5),
		"u":    uint64(5),
		"d":    []byte{1, 2, 3, 4, 5},
		"f":    2.5,
		"b":    true,
		"z":    nil,
		"t":    time.Unix(5, 0),
		"id":   UUID{1},
		"arr":  []any{"x", Dict{"y": int64(1)}},
		"dict": Dict{"k": "v"},
	}
	b, err := Encode(msg)
	require.NoError(t, err)
	for i := 0; i < len(b); i++ {
		got, err := Decode(b[:i])
		if err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded to %v", i, len(b), got)
		}
		requireMalformed(t, b[:i], err, "")
	}
}

func TestDecodeRejectsOversizedInput(t *testing.T) {
	_, err := Decode(make([]byte, DefaultMaxMessageSize+1))
	require.ErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "exceeds")
}

func TestEncodeRejects(t *testing.T) {
	deep := Dict{}
	for i := 0; i < MaxDepth; i++ {
		deep = Dict{"a": deep}
	}
	var deepArray any = []any{}
	for i := 0; i < MaxDepth-1; i++ {
		deepArray = []any{deepArray}
	}
	cases := []struct {
		name   string
		msg    Dict
		path   string
		reason string
	}{
		{"NUL in string", Dict{"k": "a\x00b"}, "k", "NUL"},
		{"NUL in key", Dict{"a\x00b": int64(1)}, `"a\x00b"`, "NUL"},
		{"NUL in nested array", Dict{"outer": Dict{"items": []any{"ok", "bad\x00"}}}, "outer.items[1]", "NUL"},
		{"struct", Dict{"s": struct{ A int }{}}, "s", "use Marshal"},
		{"typed map", Dict{"m": map[string]string{}}, "m", "unsupported type"},
		{"typed slice", Dict{"list": []any{[]string{"a"}}}, "list[0]", "unsupported type []string"},
		{"nil file", Dict{"f": (*os.File)(nil)}, "f", "nil *os.File"},
		{"nil endpoint", Dict{"e": (*Endpoint)(nil)}, "e", "nil *Endpoint"},
		{"empty endpoint", Dict{"e": &Endpoint{}}, "e", "nil *Endpoint"},
		{"zero time", Dict{"t": time.Time{}}, "t", "outside the years 1678-2262"},
		{"date before 1678", Dict{"t": time.Date(1677, 9, 21, 0, 0, 0, 0, time.UTC)}, "t", "1677-09-21T00:00:00Z is outside"},
		{"date after 2262", Dict{"t": time.Date(2262, 4, 12, 0, 0, 0, 0, time.UTC)}, "t", "outside"},
		{"arrays too deep", Dict{"a": deepArray}, "a" + strings.Repeat("[0]", MaxDepth-1), "nesting deeper than 64"},
		{"too deep", deep, strings.Repeat("a.", MaxDepth-1) + "a", "nesting deeper than 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.msg)
			assert.Nil(t, b)
			var ee *EncodeError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tc.path, ee.Path)
			assert.Contains(t, ee.Reason, tc.reason)
			assert.Contains(t, err.Error(), "cannot encode "+tc.path+": ")
		})
	}

	// One level less than the limit is fine.
	_, err := Encode(deep["a"].(Dict))
	require.NoError(t, err)
}

// An error under an empty key must not crash the path builder.
func TestEncodeErrorUnderEmptyKey(t *testing.T) {
	_, err := Encode(Dict{"a": Dict{"": "x\x00"}})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Reason, "NUL")
	assert.Equal(t, "a.", ee.Path, "an empty key shows as an empty path element")
}

func TestEncodeRefusesAttachmentsStandalone(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	_, err = Encode(Dict{"f": r})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Reason, "only travel inside a connection")

	_, err = Encode(Dict{"e": &Endpoint{impl: fakeEndpoint("x")}})
	require.ErrorAs(t, err, &ee)
}

func TestEncodeAttachmentLimit(t *testing.T) {
	ep := &Endpoint{impl: fakeEndpoint("x")}
	list := make([]any, maxAttachments+1)
	for i := range list {
		list[i] = ep
	}
	var att attachments
	_, err := encodeMessage(nil, Dict{"eps": list}, &att)
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "eps[256]", ee.Path)
}

func TestEncodeMessageAppends(t *testing.T) {
	prefix := []byte("HDR!")
	var att attachments
	b, err := encodeMessage(append([]byte(nil), prefix...), Dict{"k": "v"}, &att)
	require.NoError(t, err)
	want, err := Encode(Dict{"k": "v"})
	require.NoError(t, err)
	assert.Equal(t, prefix, b[:4])
	assert.Equal(t, want, b[4:])
}

// pipeClosed reports whether w, the write end of a pipe, has been closed:
// both the *os.File says so and the read end sees EOF.
func pipeClosed(t *testing.T, r, w *os.File) bool {
	t.Helper()
	_, werr := w.Write([]byte{1})
	if !errors.Is(werr, os.ErrClosed) {
		return false
	}
	require.NoError(t, r.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, rerr := r.Read(make([]byte, 1))
	return rerr == io.EOF
}

func TestFileDescriptorAttachments(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()

	var att attachments
	b, err := encodeMessage(nil, Dict{"log": w, "list": []any{w}}, &att)
	require.NoError(t, err)
	require.Len(t, att.files, 2, "each occurrence is its own attachment")
	assert.Empty(t, att.endpoints)

	got, err := decodeMessage(b, &att)
	require.NoError(t, err)
	assert.Same(t, w, got["log"])
	assert.Same(t, w, got["list"].([]any)[0])
	f, ok := got.File("log")
	require.True(t, ok)
	_, err = f.Write([]byte("x"))
	require.NoError(t, err, "a descriptor handed out stays open")
	require.NoError(t, w.Close())
}

func TestEndpointAttachments(t *testing.T) {
	ep1 := &Endpoint{impl: fakeEndpoint("one")}
	ep2 := &Endpoint{impl: fakeEndpoint("two")}
	var att attachments
	b, err := encodeMessage(nil, Dict{"a": ep1, "b": []any{ep2, ep1}}, &att)
	require.NoError(t, err)
	require.Len(t, att.endpoints, 3)

	got, err := decodeMessage(b, &att)
	require.NoError(t, err)
	e, ok := got.Endpoint("a")
	require.True(t, ok)
	assert.Same(t, ep1, e)
	assert.Equal(t, "fake:one", e.String())
	assert.Same(t, ep2, got["b"].([]any)[0])
	assert.Same(t, ep1, got["b"].([]any)[1])
}

func TestDecodeClosesUnusedDescriptors(t *testing.T) {
	r1, w1, err := os.Pipe()
	require.NoError(t, err)
	defer r1.Close()
	r2, w2, err := os.Pipe()
	require.NoError(t, err)
	defer r2.Close()

	// The message references only attachment 0; attachment 1 was sent
	// but is not part of any value, so the decoder must close it.
	b := rawMsg(rawDict(rawKey("f"), cat(le32(tagFD), le32(0))))
	att := attachments{files: []*os.File{w1, w2}}
	got, err := decodeMessage(b, &att)
	require.NoError(t, err)
	assert.Same(t, w1, got["f"])
	assert.False(t, pipeClosed(t, r1, w1), "the descriptor handed out must stay open")
	assert.True(t, pipeClosed(t, r2, w2), "the unused descriptor must be closed")
	require.NoError(t, w1.Close())
}

func TestDecodeFailureClosesAllDescriptors(t *testing.T) {
	for name, b := range map[string][]byte{
		"fd used twice": rawMsg(rawDict(
			rawKey("a"), cat(le32(tagFD), le32(0)),
			rawKey("b"), cat(le32(tagFD), le32(0)))),
		"fd index out of range": rawMsg(rawDict(
			rawKey("a"), cat(le32(tagFD), le32(0)),
			rawKey("b"), cat(le32(tagFD), le32(1)))),
		"later error": rawMsg(rawDict(
			rawKey("a"), cat(le32(tagFD), le32(0)),
			rawKey("b"), cat(le32(tagBool), le32(7)))),
	} {
		t.Run(name, func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			defer r.Close()
			got, err := decodeMessage(b, &attachments{files: []*os.File{w}})
			assert.Nil(t, got)
			requireMalformed(t, b, err, "")
			assert.True(t, pipeClosed(t, r, w), "a failed decode must close every received descriptor")
		})
	}
}

func TestDecodeRejectsEndpointOutOfRange(t *testing.T) {
	b := rawMsg(rawDict(rawKey("e"), cat(le32(tagEndpoint), le32(1))))
	_, err := decodeMessage(b, &attachments{endpoints: []*Endpoint{{impl: fakeEndpoint("x")}}})
	requireMalformed(t, b, err, "endpoint 1 was not attached")
}

func TestAttachmentsCloseFiles(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	att := attachments{files: []*os.File{nil, w}}
	assert.Equal(t, 2, att.count())
	att.closeFiles()
	assert.True(t, pipeClosed(t, r, w))
}

func TestDictGetters(t *testing.T) {
	now := time.Unix(100, 0)
	ep := &Endpoint{impl: fakeEndpoint("e")}
	d := Dict{
		"s": "str", "i": int64(-1), "u": uint64(1), "b": true, "f": 0.5,
		"d": []byte{1}, "t": now, "m": Dict{"x": nil}, "a": []any{int64(1)}, "e": ep,
	}
	s, ok := d.String("s")
	assert.True(t, ok)
	assert.Equal(t, "str", s)
	i, ok := d.Int64("i")
	assert.True(t, ok)
	assert.Equal(t, int64(-1), i)
	u, ok := d.Uint64("u")
	assert.True(t, ok)
	assert.Equal(t, uint64(1), u)
	b, ok := d.Bool("b")
	assert.True(t, ok && b)
	f, ok := d.Float64("f")
	assert.True(t, ok)
	assert.Equal(t, 0.5, f)
	by, ok := d.Bytes("d")
	assert.True(t, ok)
	assert.Equal(t, []byte{1}, by)
	tm, ok := d.Time("t")
	assert.True(t, ok)
	assert.True(t, now.Equal(tm))
	m, ok := d.Dict("m")
	assert.True(t, ok)
	assert.Equal(t, Dict{"x": nil}, m)
	a, ok := d.Array("a")
	assert.True(t, ok)
	assert.Equal(t, []any{int64(1)}, a)
	e, ok := d.Endpoint("e")
	assert.True(t, ok)
	assert.Same(t, ep, e)

	// Wrong type and missing key: zero value and false.
	_, ok = d.String("i")
	assert.False(t, ok)
	_, ok = d.Int64("u")
	assert.False(t, ok, "uint64 is not int64")
	n, ok := d.Int64("missing")
	assert.False(t, ok)
	assert.Zero(t, n)
	_, ok = d.File("s")
	assert.False(t, ok)
}

func TestUUIDAndEndpointString(t *testing.T) {
	u := UUID{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	assert.Equal(t, "12345678-9abc-def0-0123-456789abcdef", u.String())
	assert.Equal(t, "00000000-0000-0000-0000-000000000000", UUID{}.String())
	var nilEP *Endpoint
	assert.Equal(t, "<nil endpoint>", nilEP.String())
	assert.Equal(t, "<nil endpoint>", (&Endpoint{}).String())
}

func TestTypeName(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	for v, want := range map[any]string{
		"s": "string", int64(1): "int64", uint64(1): "uint64", true: "bool", 1.0: "double",
		UUID{}: "uuid", time.Time{}: "date", w: "fd", &Endpoint{}: "endpoint", int(1): "unsupported Go type int",
	} {
		assert.Equal(t, want, typeName(v))
	}
	assert.Equal(t, "null", typeName(nil))
	assert.Equal(t, "data", typeName([]byte{}))
	assert.Equal(t, "array", typeName([]any{}))
	assert.Equal(t, "dictionary", typeName(Dict{}))
}

// Frame header and attachment table (frame.go).

func TestFrameHeaderRoundTrip(t *testing.T) {
	b := make([]byte, frameHeaderSize)
	h := frameHeader{flags: flagData | flagWantsReply | flagAttachments, bodyLen: 1234, id: 0xdeadbeefcafe}
	putFrameHeader(b, h)
	assert.Equal(t, "920bb029", hex.EncodeToString(b[:4]), "RemoteXPC wrapper magic, little-endian")
	got, err := parseFrameHeader(b, 1234)
	require.NoError(t, err)
	h.flags |= flagAlwaysSet
	assert.Equal(t, h, got)
}

func TestFrameHeaderRejects(t *testing.T) {
	good := make([]byte, frameHeaderSize)
	putFrameHeader(good, frameHeader{flags: flagData, bodyLen: 100, id: 1})
	mod := func(off int, v uint32) []byte {
		b := append([]byte(nil), good...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := []struct {
		name   string
		b      []byte
		max    int
		offset int
		reason string
	}{
		{"bad magic", mod(0, 0x29b00b93), 1000, 0, "bad frame magic"},
		{"unknown flag", mod(4, flagAlwaysSet|0x80000000), 1000, 4, "unknown frame flags 0x80000000"},
		{"over limit", good, 99, 8, "exceeds the 99 byte limit"},
		{"huge length", mod(12, 0xffffffff), 1 << 30, 8, "exceeds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseFrameHeader(tc.b, tc.max)
			require.ErrorIs(t, err, ErrMalformed)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tc.offset, de.Offset)
			assert.Contains(t, de.Reason, tc.reason)
		})
	}
	_, err := parseFrameHeader(good, 100)
	require.NoError(t, err, "a body exactly at the limit is fine")
}

func TestFrameHeaderShortInput(t *testing.T) {
	good := make([]byte, frameHeaderSize)
	putFrameHeader(good, frameHeader{})
	for n := 0; n < frameHeaderSize; n++ {
		_, err := parseFrameHeader(good[:n], 100)
		require.ErrorIs(t, err, ErrMalformed, "%d bytes", n)
	}
}

func TestAttachmentTableRoundTrip(t *testing.T) {
	msg, err := Encode(Dict{"k": "v"})
	require.NoError(t, err)
	for _, paths := range [][]string{nil, {"/a"}, {"/tmp/x.sock", "/run/abcd", "/p/12345"}} {
		body := appendAttachmentTable(nil, 3, paths)
		require.Zero(t, len(body)%4, "the table keeps the message aligned")
		body = append(body, msg...)
		nfds, gotPaths, rest, err := parseAttachmentTable(body)
		require.NoError(t, err)
		assert.Equal(t, 3, nfds)
		assert.Equal(t, paths, gotPaths)
		assert.Equal(t, msg, rest)
	}
}

func TestAttachmentTableRejects(t *testing.T) {
	cases := []struct {
		name   string
		body   []byte
		reason string
	}{
		{"empty", nil, "truncated attachment table"},
		{"short", le32(0), "truncated attachment table"},
		{"too many fds", cat(le32(maxAttachments+1), le32(0)), "exceed the limit"},
		{"too many in total", cat(le32(200), le32(57)), "257 attachments"},
		{"counts overflow uint32", cat(le32(0xffffffff), le32(2)), "exceed the limit"},
		{"endpoint missing", cat(le32(0), le32(1)), "truncated endpoint"},
		{"second endpoint missing", cat(le32(0), le32(2), le32(2), []byte("/a\x00\x00")), "truncated endpoint"},
		{"empty path", cat(le32(0), le32(1), le32(0)), "length 0 invalid"},
		{"path too long", cat(le32(0), le32(1), le32(maxEndpointPath+1), make([]byte, maxEndpointPath+4)), "invalid"},
		{"path runs past end", cat(le32(0), le32(1), le32(8), []byte("/abc")), "length 8 invalid"},
		{"padding missing", cat(le32(0), le32(1), le32(3), []byte("/ab")), "truncated endpoint padding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := parseAttachmentTable(tc.body)
			require.ErrorIs(t, err, ErrMalformed)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.GreaterOrEqual(t, de.Offset, frameHeaderSize, "offsets count from the frame start")
			assert.Contains(t, de.Reason, tc.reason)
		})
	}
}

// Keys and strings are carved from shared chunks (decoder.str); check chunk
// boundaries, long strings that bypass the arena, and independence from the
// input buffer.
func TestDecodeStringsAcrossArenaChunks(t *testing.T) {
	msg := Dict{}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("key-%03d-%s", i, strings.Repeat("k", i%40))
		msg[k] = strings.Repeat(string(rune('a'+i%26)), i%70)
	}
	msg["long"] = strings.Repeat("L", arenaMaxString+1)
	msg["exact"] = strings.Repeat("E", arenaMaxString)
	b, err := Encode(msg)
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	clear(b) // decoded strings must not alias the input
	if diff := cmp.Diff(msg, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

// Containers that claim as many elements as would fit, nested MaxDepth
// deep, must not make the decoder preallocate for every level: memory must
// stay proportional to the input, not to input × depth.
func TestDecodeLyingCountsDoNotAmplifyMemory(t *testing.T) {
	const fill = 256 << 10
	obj := make([]byte, fill) // zeros: an invalid type tag, found only after the claims
	for i := 0; i < MaxDepth-1; i++ {
		obj = cat(le32(tagArray), le32(uint32(4+len(obj))), le32(uint32(len(obj)/4)), obj)
	}
	msg := rawMsg(rawContainer(tagDictionary, 1, rawKey("a"), obj))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(msg)
	runtime.ReadMemStats(&after)
	requireMalformed(t, msg, err, "unsupported type 0x0")
	allocated := after.TotalAlloc - before.TotalAlloc
	// Unbounded preallocation costs 64 levels × 64K slots × 16 bytes = 64 MiB.
	assert.Less(t, allocated, uint64(8<<20), "decoding %d bytes allocated %d bytes", len(msg), allocated)
}

func TestEncodeWidensGoNumericKinds(t *testing.T) {
	in := Dict{"int": 5, "i8": int8(-8), "i16": int16(-16), "i32": int32(-32),
		"uint": uint(7), "u8": uint8(8), "u16": uint16(16), "u32": uint32(32), "f32": float32(1.5)}
	b, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Dict{"int": int64(5), "i8": int64(-8), "i16": int64(-16), "i32": int64(-32),
		"uint": uint64(7), "u8": uint64(8), "u16": uint64(16), "u32": uint64(32), "f32": float64(1.5)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decoded differently (-want +got):\n%s", diff)
	}
}
