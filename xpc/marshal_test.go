package xpc

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type mItem struct {
	Name  string `xpc:"name"`
	Count uint8  `xpc:"count"`
}

type mOrder struct {
	ID       int64            `xpc:"id"`
	Items    []mItem          `xpc:"items"`
	Pair     [2]string        `xpc:"pair"`
	Attrs    map[string]int32 `xpc:"attrs"`
	Note     *string          `xpc:"note,omitempty"`
	Parent   *mOrder          `xpc:"parent"`
	Skipped  string           `xpc:"-"`
	Untagged bool
	Ratio    float64 `xpc:",omitempty"`
	hidden   int
}

func TestMarshalNested(t *testing.T) {
	note := "fragile"
	o := mOrder{
		ID:       42,
		Items:    []mItem{{"a", 1}, {"b", 2}},
		Pair:     [2]string{"x", "y"},
		Attrs:    map[string]int32{"w": -3},
		Note:     &note,
		Parent:   &mOrder{ID: 1},
		Skipped:  "never sent",
		Untagged: true,
		hidden:   9,
	}
	d, err := Marshal(&o)
	require.NoError(t, err)
	want := Dict{
		"id": int64(42),
		"items": []any{
			Dict{"name": "a", "count": uint64(1)},
			Dict{"name": "b", "count": uint64(2)},
		},
		"pair":  []any{"x", "y"},
		"attrs": Dict{"w": int64(-3)},
		"note":  "fragile",
		"parent": Dict{
			"id": int64(1), "items": nil, "pair": []any{"", ""}, "attrs": nil,
			"parent": nil, "Untagged": false,
		},
		"Untagged": true,
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatalf("Marshal (-want +got):\n%s", diff)
	}

	// Through the wire and back.
	b, err := Encode(d)
	require.NoError(t, err)
	d2, err := Decode(b)
	require.NoError(t, err)
	var back mOrder
	require.NoError(t, Unmarshal(d2, &back))
	o.Skipped, o.hidden = "", 0
	if diff := cmp.Diff(o, back, cmpopts.IgnoreUnexported(mOrder{})); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestMarshalValueAndPointerAgree(t *testing.T) {
	o := mOrder{ID: 7}
	a, err := Marshal(o)
	require.NoError(t, err)
	b, err := Marshal(&o)
	require.NoError(t, err)
	var iface any = &o
	c, err := Marshal(&iface)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.Equal(t, a, c)
}

func TestMarshalRejects(t *testing.T) {
	var nilOrder *mOrder
	for name, v := range map[string]any{
		"nil pointer": nilOrder,
		"nil":         nil,
		"int":         7,
		"slice":       []int{1},
		"int map":     map[int]string{1: "a"},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := Marshal(v)
			assert.Nil(t, d)
			var ee *EncodeError
			require.ErrorAs(t, err, &ee, "%v", err)
		})
	}

	type bad struct {
		Inner struct {
			Fn func() `xpc:"fn"`
		} `xpc:"inner"`
	}
	_, err := Marshal(bad{})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "inner.fn", ee.Path)
	assert.Contains(t, ee.Reason, "unsupported type func()")

	type badMap struct {
		M map[int]string
	}
	_, err = Marshal(badMap{M: map[int]string{}})
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "M", ee.Path)
	assert.Contains(t, ee.Reason, "not a string")
}

type mNode struct {
	Name string
	Next *mNode
}

func TestMarshalCycle(t *testing.T) {
	n := &mNode{Name: "loop"}
	n.Next = n
	_, err := Marshal(n)
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Contains(t, ee.Reason, "a cycle?")
	assert.True(t, strings.HasPrefix(ee.Path, "Next.Next.Next"), ee.Path)
}

func TestMarshalMapOfStructs(t *testing.T) {
	type key string
	in := map[key]mItem{"one": {"x", 1}}
	d, err := Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, Dict{"one": Dict{"name": "x", "count": uint64(1)}}, d)

	var out map[key]mItem
	require.NoError(t, Unmarshal(d, &out))
	assert.Equal(t, in, out)

	// An empty map marshals to an empty (non-nil) Dict.
	d, err = Marshal(map[string]int{})
	require.NoError(t, err)
	assert.NotNil(t, d)
	assert.Empty(t, d)
}

// Embedding: value and pointer embeds, promotion, and shadowing.

type mBase struct {
	ID     string `xpc:"id"`
	Shared string
}

type mExtra struct {
	Level int
}

type mWrapper struct {
	mBase
	*mExtra
	Shared int // hides mBase.Shared
}

type MPublicExtra struct {
	Level int
}

type mWrapperPublic struct {
	mBase
	*MPublicExtra
}

type mTaggedEmbed struct {
	mBase `xpc:"base"` // a named embed is an ordinary field
}

func TestMarshalEmbedded(t *testing.T) {
	w := mWrapper{mBase: mBase{ID: "x", Shared: "hidden"}, Shared: 7}
	d, err := Marshal(w)
	require.NoError(t, err)
	assert.Equal(t, Dict{"id": "x", "Shared": int64(7)}, d, "a nil embedded pointer contributes no keys")

	p := mWrapperPublic{mBase: mBase{ID: "y"}, MPublicExtra: &MPublicExtra{Level: 3}}
	d, err = Marshal(p)
	require.NoError(t, err)
	assert.Equal(t, Dict{"id": "y", "Shared": "", "Level": int64(3)}, d)

	var back mWrapperPublic
	require.NoError(t, Unmarshal(d, &back))
	require.NotNil(t, back.MPublicExtra, "Unmarshal allocates embedded pointers")
	assert.Equal(t, p, back)

	var ws mWrapper
	require.NoError(t, Unmarshal(Dict{"id": "z", "Shared": int64(5)}, &ws))
	assert.Equal(t, mWrapper{mBase: mBase{ID: "z"}, Shared: 5}, ws, "the outer field wins; the inner one is untouched")

	d, err = Marshal(mTaggedEmbed{mBase{ID: "t"}})
	require.NoError(t, err)
	assert.Equal(t, Dict{}, d, "a tagged but unexported embedded struct is skipped like any unexported field")
}

// Unmarshal cannot allocate through an unexported embedded pointer (reflect
// forbids setting it); it must report that, not panic.
func TestUnmarshalUnexportedEmbeddedPointer(t *testing.T) {
	var w mWrapper
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return Unmarshal(Dict{"Level": int64(3)}, &w)
	}()
	require.Error(t, err, "the key cannot be stored, so this must fail")
	assert.NotContains(t, err.Error(), "panic", "Unmarshal panicked")
	assert.Contains(t, err.Error(), "Level")

	// With the pointer already set, the promoted field is reachable.
	w = mWrapper{mExtra: &mExtra{}}
	require.NoError(t, Unmarshal(Dict{"Level": int64(3)}, &w))
	assert.Equal(t, 3, w.Level)
}

// Integer conversions.

func TestUnmarshalIntegerKinds(t *testing.T) {
	type ints struct {
		I   int
		I8  int8
		I16 int16
		I32 int32
		I64 int64
		U   uint
		U8  uint8
		U16 uint16
		U32 uint32
		U64 uint64
		UP  uintptr
	}
	maxes := Dict{
		"I": int64(math.MaxInt), "I8": int64(math.MaxInt8), "I16": int64(math.MaxInt16),
		"I32": int64(math.MaxInt32), "I64": uint64(math.MaxInt64),
		"U": uint64(math.MaxUint), "U8": int64(math.MaxUint8), "U16": uint64(math.MaxUint16),
		"U32": uint64(math.MaxUint32), "U64": uint64(math.MaxUint64), "UP": int64(1),
	}
	var got ints
	require.NoError(t, Unmarshal(maxes, &got))
	assert.Equal(t, ints{math.MaxInt, math.MaxInt8, math.MaxInt16, math.MaxInt32, math.MaxInt64,
		math.MaxUint, math.MaxUint8, math.MaxUint16, math.MaxUint32, math.MaxUint64, 1}, got)

	mins := Dict{"I8": int64(math.MinInt8), "I16": int64(math.MinInt16), "I32": int64(math.MinInt32), "I64": int64(math.MinInt64)}
	require.NoError(t, Unmarshal(mins, &got))
	assert.Equal(t, int8(math.MinInt8), got.I8)
	assert.Equal(t, int64(math.MinInt64), got.I64)

	// Marshal maps signed kinds to int64 and unsigned kinds to uint64.
	d, err := Marshal(got)
	require.NoError(t, err)
	for k, v := range d {
		if strings.HasPrefix(k, "I") {
			assert.IsType(t, int64(0), v, k)
		} else {
			assert.IsType(t, uint64(0), v, k)
		}
	}

	overflow := []struct {
		key   string
		val   any
		value string
		typ   string
	}{
		{"I8", int64(128), "int64 128", "int8"},
		{"I8", int64(-129), "int64 -129", "int8"},
		{"I16", uint64(40000), "uint64 40000", "int16"},
		{"I32", int64(math.MaxInt32 + 1), "int64 2147483648", "int32"},
		{"I64", uint64(math.MaxInt64 + 1), "uint64 9223372036854775808", "int64"},
		{"I", uint64(math.MaxUint64), "uint64 18446744073709551615", "int"},
		{"U8", int64(256), "int64 256", "uint8"},
		{"U8", int64(-1), "int64 -1", "uint8"},
		{"U16", uint64(65536), "uint64 65536", "uint16"},
		{"U32", uint64(math.MaxUint32 + 1), "uint64 4294967296", "uint32"},
		{"U64", int64(math.MinInt64), "int64 -9223372036854775808", "uint64"},
		{"U", int64(-5), "int64 -5", "uint"},
	}
	for _, tc := range overflow {
		t.Run(tc.key+"="+fmt.Sprint(tc.val), func(t *testing.T) {
			var v ints
			err := Unmarshal(Dict{tc.key: tc.val}, &v)
			var ute *UnmarshalTypeError
			require.ErrorAs(t, err, &ute)
			assert.Equal(t, tc.key, ute.Path)
			assert.Equal(t, tc.value, ute.Value)
			assert.Equal(t, tc.typ, ute.Type.String())
			assert.Equal(t, ints{}, v, "a failed field is left alone")
		})
	}
}

func TestUnmarshalTypeErrorPath(t *testing.T) {
	type holder struct {
		Items []mItem `xpc:"items"`
	}
	d := Dict{"items": []any{
		Dict{"name": "a", "count": int64(1)},
		Dict{"name": "b", "count": uint64(2)},
		Dict{"name": "c", "count": int64(300)},
	}}
	var h holder
	err := Unmarshal(d, &h)
	var ute *UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "items[2].count", ute.Path)
	assert.Equal(t, reflect.TypeFor[uint8](), ute.Type)
	assert.Equal(t, "xpc: cannot unmarshal int64 300 into items[2].count of Go type uint8", err.Error())

	// A plain type mismatch names the XPC type.
	err = Unmarshal(Dict{"items": []any{Dict{"name": int64(1)}}}, &h)
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "items[0].name", ute.Path)
	assert.Equal(t, "int64", ute.Value)
	assert.Equal(t, "xpc: cannot unmarshal int64 into items[0].name of Go type string", err.Error())

	// Map keys and nested arrays appear in the path too.
	var m map[string][][]int8
	err = Unmarshal(Dict{"k": []any{[]any{int64(1), int64(999)}}}, &m)
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "k[0][1]", ute.Path)

	// An empty key in a peer's message must not crash the path builder.
	var s struct{ A map[string]int }
	err = Unmarshal(Dict{"A": Dict{"": "not an int"}}, &s)
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "A.", ute.Path)

	// A mismatch at the top names the message.
	var i int
	err = Unmarshal(Dict{}, &i)
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "(message)", ute.Path)
	assert.Equal(t, "dictionary", ute.Value)
}

func TestUnmarshalMismatches(t *testing.T) {
	type all struct {
		B   bool
		S   string
		F   float64
		Bs  []byte
		T   time.Time
		U   UUID
		A   [1]int
		L   []int
		M   map[string]int
		St  struct{ X int }
		Fi  *os.File
		E   *Endpoint
		Str fmt.Stringer
	}
	for _, tc := range []struct {
		key string
		val any
	}{
		{"B", int64(1)}, {"S", []byte("s")}, {"F", int64(1)}, {"Bs", "s"},
		{"T", int64(0)}, {"U", []byte{1}}, {"A", int64(1)}, {"L", Dict{}},
		{"M", []any{}}, {"St", "x"}, {"Fi", int64(3)}, {"E", "unix:/x"},
		{"Str", int64(1)}, {"A", []any{int64(1), int64(2)}},
	} {
		var v all
		err := Unmarshal(Dict{tc.key: tc.val}, &v)
		var ute *UnmarshalTypeError
		require.ErrorAs(t, err, &ute, "%s=%#v", tc.key, tc.val)
		assert.Equal(t, tc.key, ute.Path)
	}
}

func TestUnmarshalNullIsZero(t *testing.T) {
	note := "x"
	o := mOrder{ID: 5, Items: []mItem{{"a", 1}}, Note: &note, Attrs: map[string]int32{"a": 1}, Untagged: true, Pair: [2]string{"p", "q"}}
	require.NoError(t, Unmarshal(Dict{"id": nil, "items": nil, "note": nil, "attrs": nil, "Untagged": nil, "pair": nil}, &o))
	assert.Equal(t, mOrder{}, o)
}

func TestUnmarshalKeepsAbsentFieldsAndIgnoresUnknownKeys(t *testing.T) {
	o := mOrder{ID: 5, Untagged: true}
	require.NoError(t, Unmarshal(Dict{"unknown": "x", "Skipped": "no", "hidden": int64(3), "items": []any{}}, &o))
	assert.Equal(t, int64(5), o.ID)
	assert.True(t, o.Untagged)
	assert.Empty(t, o.Skipped, `xpc:"-" fields are never set`)
	assert.Zero(t, o.hidden, "unexported fields are never set")
	assert.NotNil(t, o.Items)
	assert.Empty(t, o.Items)
}

func TestUnmarshalArrays(t *testing.T) {
	var a struct{ A [3]int }
	a.A = [3]int{9, 9, 9}
	require.NoError(t, Unmarshal(Dict{"A": []any{int64(1)}}, &a))
	assert.Equal(t, [3]int{1, 0, 0}, a.A, "a short array zero-fills the rest")

	err := Unmarshal(Dict{"A": []any{int64(1), int64(2), int64(3), int64(4)}}, &a)
	var ute *UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "array of 4", ute.Value)
}

func TestUnmarshalRejectsNonPointer(t *testing.T) {
	var o mOrder
	assert.Error(t, Unmarshal(Dict{}, o))
	assert.Error(t, Unmarshal(Dict{}, (*mOrder)(nil)))
	assert.Error(t, Unmarshal(Dict{}, nil))
}

func TestUnmarshalIntoDictAndAny(t *testing.T) {
	src := Dict{"a": int64(1), "b": Dict{"c": "d"}}
	var d Dict
	require.NoError(t, Unmarshal(src, &d))
	assert.Equal(t, src, d)

	var a any
	require.NoError(t, Unmarshal(src, &a))
	assert.Equal(t, src, a)

	var m map[string]any
	require.NoError(t, Unmarshal(src, &m))
	assert.Equal(t, map[string]any{"a": int64(1), "b": Dict{"c": "d"}}, m)
}

// Special types.

type mSpecial struct {
	When    time.Time      `xpc:"when"`
	WhenPtr *time.Time     `xpc:"when_ptr"`
	ID      UUID           `xpc:"id"`
	Blob    []byte         `xpc:"blob"`
	Raw     mRaw           `xpc:"raw"`
	File    *os.File       `xpc:"file"`
	EP      *Endpoint      `xpc:"ep"`
	Any     any            `xpc:"any"`
	Str     fmt.Stringer   `xpc:"str"`
	Extra   Dict           `xpc:"extra"`
	List    []any          `xpc:"list"`
	Ptrs    []*int         `xpc:"ptrs"`
	Floats  map[string]any `xpc:"floats"`
	F32     float32        `xpc:"f32"`
}

type mRaw []byte

func TestMarshalSpecialTypes(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	ep := &Endpoint{impl: fakeEndpoint("svc")}
	when := time.Date(1965, 3, 4, 5, 6, 7, 8, time.UTC)
	one := 1
	in := mSpecial{
		When: when, WhenPtr: &when, ID: UUID{1, 2, 3}, Blob: []byte{0, 1}, Raw: mRaw("raw"),
		File: w, EP: ep, Any: "anything", Str: ep, Extra: Dict{"x": true},
		List: []any{int64(1), "a"}, Ptrs: []*int{&one, nil}, Floats: map[string]any{"f": 1.5},
		F32: 0.25,
	}
	d, err := Marshal(in)
	require.NoError(t, err)
	want := Dict{
		"when": when, "when_ptr": when, "id": UUID{1, 2, 3}, "blob": []byte{0, 1}, "raw": []byte("raw"),
		"file": w, "ep": ep, "any": "anything", "str": ep, "extra": Dict{"x": true},
		"list": []any{int64(1), "a"}, "ptrs": []any{int64(1), nil}, "floats": Dict{"f": 1.5},
		"f32": 0.25,
	}
	if diff := cmp.Diff(want, d, cmp.Comparer(func(a, b *os.File) bool { return a == b }),
		cmp.Comparer(func(a, b *Endpoint) bool { return a == b })); diff != "" {
		t.Fatalf("Marshal (-want +got):\n%s", diff)
	}

	// Through the wire (with attachments) and back.
	var att attachments
	b, err := encodeMessage(nil, d, &att)
	require.NoError(t, err)
	d2, err := decodeMessage(b, &att)
	require.NoError(t, err)
	var out mSpecial
	require.NoError(t, Unmarshal(d2, &out))
	assert.Same(t, w, out.File)
	assert.Same(t, ep, out.EP)
	assert.Same(t, ep, out.Str)
	assert.True(t, when.Equal(out.When))
	require.NotNil(t, out.WhenPtr)
	assert.True(t, when.Equal(*out.WhenPtr))
	assert.Equal(t, in.ID, out.ID)
	assert.Equal(t, in.Blob, out.Blob)
	assert.Equal(t, in.Raw, out.Raw)
	assert.Equal(t, "anything", out.Any)
	assert.Equal(t, in.Extra, out.Extra)
	assert.Equal(t, in.List, out.List)
	require.Len(t, out.Ptrs, 2)
	assert.Equal(t, 1, *out.Ptrs[0])
	assert.Nil(t, out.Ptrs[1])
	assert.Equal(t, map[string]any{"f": 1.5}, out.Floats)
	assert.Equal(t, float32(0.25), out.F32)

	// The unmarshaled []byte is a copy.
	d2["blob"].([]byte)[0] = 99
	assert.Equal(t, byte(0), out.Blob[0])
}

func TestMarshalNilSpecialTypes(t *testing.T) {
	d, err := Marshal(mSpecial{})
	require.NoError(t, err)
	for _, k := range []string{"when_ptr", "blob", "raw", "file", "ep", "any", "str", "extra", "list", "ptrs", "floats"} {
		assert.Contains(t, d, k)
		assert.Nil(t, d[k], k)
	}
	assert.Contains(t, d, "when")
	assert.Nil(t, d["when"], "the zero time is null: XPC dates cannot hold year 1")
	b, err := Encode(d)
	require.NoError(t, err, "nil special values encode as null")
	d2, err := Decode(b)
	require.NoError(t, err)
	out := mSpecial{When: time.Now()}
	require.NoError(t, Unmarshal(d2, &out))
	assert.True(t, out.When.IsZero(), "null comes back as the zero time")
}

// omitempty.

func TestOmitEmpty(t *testing.T) {
	type opt struct {
		S  string            `xpc:"s,omitempty"`
		I  int               `xpc:"i,omitempty"`
		U  uint              `xpc:"u,omitempty"`
		B  bool              `xpc:"b,omitempty"`
		F  float64           `xpc:"f,omitempty"`
		P  *int              `xpc:"p,omitempty"`
		L  []int             `xpc:"l,omitempty"`
		M  map[string]string `xpc:"m,omitempty"`
		A  [0]int            `xpc:"a,omitempty"`
		T  time.Time         `xpc:"t,omitempty"`
		ID UUID              `xpc:"id,omitempty"`
		Ar [2]string         `xpc:"ar,omitempty"`
		X  any               `xpc:"x,omitempty"`
		St struct{ A int }   `xpc:"st,omitempty"`
		K  string            `xpc:"k"`
	}
	d, err := Marshal(opt{L: []int{}, M: map[string]string{}})
	require.NoError(t, err)
	assert.Equal(t, Dict{"k": ""}, d, "zero values (including a zero UUID, array and time) and empty slices/maps are omitted")

	zero := 0
	d, err = Marshal(opt{I: 1, P: &zero, L: []int{0}, B: true, T: time.Unix(0, 1), ID: UUID{1}, St: struct{ A int }{1}, Ar: [2]string{"", "b"}})
	require.NoError(t, err)
	assert.Equal(t, Dict{
		"i": int64(1), "p": int64(0), "l": []any{int64(0)}, "b": true,
		"t": time.Unix(0, 1), "id": UUID{1}, "ar": []any{"", "b"}, "st": Dict{"A": int64(1)}, "k": "",
	}, d, "a pointer to a zero value is not empty")
}

// Marshaler and Unmarshaler.

type mCelsius float64

func (c mCelsius) MarshalXPC() (any, error) {
	if math.IsNaN(float64(c)) {
		return nil, errors.New("not a temperature")
	}
	return strconv.FormatFloat(float64(c), 'f', 1, 64) + "C", nil
}

func (c *mCelsius) UnmarshalXPC(v any) error {
	s, ok := v.(string)
	if !ok || !strings.HasSuffix(s, "C") {
		return fmt.Errorf("want a string like 21.5C, got %#v", v)
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "C"), 64)
	*c = mCelsius(f)
	return err
}

type mReading struct {
	Temp    mCelsius   `xpc:"temp"`
	Peak    *mCelsius  `xpc:"peak"`
	History []mCelsius `xpc:"history"`
}

func TestMarshalerAndUnmarshaler(t *testing.T) {
	peak := mCelsius(30)
	in := mReading{Temp: 21.5, Peak: &peak, History: []mCelsius{1, 2}}
	d, err := Marshal(in)
	require.NoError(t, err)
	assert.Equal(t, Dict{"temp": "21.5C", "peak": "30.0C", "history": []any{"1.0C", "2.0C"}}, d)

	var out mReading
	require.NoError(t, Unmarshal(d, &out))
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}

	// A nil pointer Marshaler is null; a null into a pointer stays nil.
	d, err = Marshal(mReading{})
	require.NoError(t, err)
	assert.Nil(t, d["peak"])
	out = mReading{}
	require.NoError(t, Unmarshal(Dict{"peak": nil}, &out))
	assert.Nil(t, out.Peak)

	// Errors carry the key path.
	_, err = Marshal(mReading{History: []mCelsius{1, mCelsius(math.NaN())}})
	var ee *EncodeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "history[1]", ee.Path)
	assert.Equal(t, "not a temperature", ee.Reason)

	err = Unmarshal(Dict{"history": []any{"1C", int64(2)}}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "history[1]")
	assert.Contains(t, err.Error(), "want a string like 21.5C")
}

// An Unmarshaler at the top level receives the whole message.
type mWhole struct{ keys int }

func (w *mWhole) UnmarshalXPC(v any) error {
	d, ok := v.(Dict)
	if !ok {
		return errors.New("not a dict")
	}
	w.keys = len(d)
	return nil
}

func TestUnmarshalerAtTopLevel(t *testing.T) {
	var w mWhole
	require.NoError(t, Unmarshal(Dict{"a": nil, "b": nil}, &w))
	assert.Equal(t, 2, w.keys)
}

func TestMarshalDictField(t *testing.T) {
	type env struct {
		Kind string `xpc:"kind"`
		Body Dict   `xpc:"body"`
	}
	in := env{Kind: "k", Body: Dict{"nested": []any{Dict{"x": uint64(1)}}}}
	d, err := Marshal(in)
	require.NoError(t, err)
	b, err := Encode(d)
	require.NoError(t, err)
	d2, err := Decode(b)
	require.NoError(t, err)
	var out env
	require.NoError(t, Unmarshal(d2, &out))
	if diff := cmp.Diff(in, out); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}

func TestTypeFieldsCached(t *testing.T) {
	a := cachedFields(reflect.TypeFor[mOrder]())
	b := cachedFields(reflect.TypeFor[mOrder]())
	require.NotEmpty(t, a)
	assert.Equal(t, &a[0], &b[0], "the second lookup comes from the cache")
	names := make([]string, len(a))
	for i, f := range a {
		names[i] = f.name
	}
	assert.Equal(t, []string{"id", "items", "pair", "attrs", "note", "parent", "Untagged", "Ratio"}, names)
}

// mPtrTemp marshals through a pointer receiver.
type mPtrTemp struct{ C float64 }

func (p *mPtrTemp) MarshalXPC() (any, error) { return fmt.Sprintf("%gC", p.C), nil }

func TestMarshalerWithPointerReceiver(t *testing.T) {
	type holder struct {
		T mPtrTemp `xpc:"t"`
	}
	d, err := Marshal(&holder{T: mPtrTemp{C: 20}})
	require.NoError(t, err)
	assert.Equal(t, Dict{"t": "20C"}, d, "an addressable field uses the pointer-receiver MarshalXPC")
}

func TestUnmarshalFloat32Overflow(t *testing.T) {
	var v struct{ F float32 }
	err := Unmarshal(Dict{"F": 1e300}, &v)
	var ute *UnmarshalTypeError
	require.ErrorAs(t, err, &ute)
	assert.Equal(t, "F", ute.Path)
	assert.Equal(t, "double 1e+300", ute.Value)
	require.NoError(t, Unmarshal(Dict{"F": math.Inf(-1)}, &v), "infinities fit a float32")
	assert.True(t, math.IsInf(float64(v.F), -1))
}

type MDeep struct{ X string }
type MViaDeep struct{ MDeep }
type MShallow struct{ X int }

// X is promoted from MViaDeep.MDeep (depth 2) and from MShallow (depth 1):
// only the shallower one is a key, whichever embed comes first.
type mShadowOrder struct {
	MViaDeep
	MShallow
}

func TestShallowestPromotedFieldWins(t *testing.T) {
	fields := typeFields(reflect.TypeFor[mShadowOrder]())
	require.Len(t, fields, 1)
	assert.Equal(t, []int{1, 0}, fields[0].index)

	var v mShadowOrder
	require.NoError(t, Unmarshal(Dict{"X": int64(4)}, &v))
	assert.Equal(t, 4, v.MShallow.X)
	assert.Empty(t, v.MDeep.X, "the hidden deeper field is not set")

	d, err := Marshal(mShadowOrder{MViaDeep{MDeep{"deep"}}, MShallow{5}})
	require.NoError(t, err)
	assert.Equal(t, Dict{"X": int64(5)}, d)
}
