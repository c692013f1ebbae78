package xpc

import (
	"fmt"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Marshaler is implemented by types that encode themselves as an XPC value
// (one of the types in the package documentation).
type Marshaler interface {
	MarshalXPC() (any, error)
}

// Unmarshaler is implemented by types that decode themselves from an XPC
// value.
type Unmarshaler interface {
	UnmarshalXPC(v any) error
}

// Marshal encodes v, a struct, a pointer to one, or a map with string keys,
// as a Dict, in the manner of encoding/json:
//
//   - struct fields become keys, named by the field or by an `xpc:"name"`
//     tag; `xpc:"-"` skips a field and `xpc:",omitempty"` skips a zero one;
//     fields of embedded structs are promoted;
//   - bool, string, float64 map to themselves; signed integers to int64,
//     unsigned ones to uint64; []byte to data; time.Time to date; UUID,
//     *os.File and *Endpoint to themselves; slices and arrays to arrays;
//     maps with string keys and structs to dictionaries; nil pointers,
//     slices, maps and interfaces, and the zero time.Time, to null.
func Marshal(v any) (Dict, error) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, &EncodeError{Reason: "Marshal of a nil pointer"}
		}
		rv = rv.Elem()
	}
	if !rv.IsValid() {
		return nil, &EncodeError{Reason: "Marshal of nil"}
	}
	if k := rv.Kind(); k != reflect.Struct && !(k == reflect.Map && rv.Type().Key().Kind() == reflect.String) {
		return nil, &EncodeError{Reason: fmt.Sprintf("Marshal needs a struct or a map with string keys, not %s", rv.Type())}
	}
	out, err := marshalValue(rv, nil)
	if err != nil {
		return nil, err
	}
	d, _ := out.(Dict)
	if d == nil {
		d = Dict{}
	}
	return d, nil
}

var (
	timeType        = reflect.TypeFor[time.Time]()
	uuidType        = reflect.TypeFor[UUID]()
	fileType        = reflect.TypeFor[*os.File]()
	endpointType    = reflect.TypeFor[*Endpoint]()
	dictType        = reflect.TypeFor[Dict]()
	bytesType       = reflect.TypeFor[[]byte]()
	marshalerType   = reflect.TypeFor[Marshaler]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
)

func pathString(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if b.Len() > 0 && (p == "" || p[0] != '[') {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func marshalValue(rv reflect.Value, path []string) (any, error) {
	if len(path) > MaxDepth {
		return nil, &EncodeError{Path: pathString(path), Reason: fmt.Sprintf("nesting deeper than %d (a cycle?)", MaxDepth)}
	}
	if !rv.IsValid() {
		return nil, nil
	}
	t := rv.Type()
	// A Marshaler with a pointer receiver is used when the value is
	// addressable (a field reached through a pointer), as encoding/json does.
	if rv.Kind() != reflect.Pointer && rv.CanAddr() && !t.Implements(marshalerType) && reflect.PointerTo(t).Implements(marshalerType) {
		rv = rv.Addr()
		t = rv.Type()
	}
	if t.Implements(marshalerType) && !(rv.Kind() == reflect.Pointer && rv.IsNil()) {
		v, err := rv.Interface().(Marshaler).MarshalXPC()
		if err != nil {
			return nil, &EncodeError{Path: pathString(path), Reason: err.Error()}
		}
		return v, nil
	}
	switch t {
	case timeType, uuidType, fileType, endpointType:
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil
		}
		if t == timeType && rv.Interface().(time.Time).IsZero() {
			return nil, nil // outside XPC's date range; Unmarshal turns null back into the zero time
		}
		return rv.Interface(), nil
	}
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return marshalValue(rv.Elem(), path)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.String:
		return rv.String(), nil
	case reflect.Slice:
		if rv.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return append([]byte(nil), rv.Bytes()...), nil
		}
		fallthrough
	case reflect.Array:
		a := make([]any, rv.Len())
		for i := range a {
			v, err := marshalValue(rv.Index(i), append(path, "["+strconv.Itoa(i)+"]"))
			if err != nil {
				return nil, err
			}
			a[i] = v
		}
		return a, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, &EncodeError{Path: pathString(path), Reason: fmt.Sprintf("map key type %s is not a string", t.Key())}
		}
		if rv.IsNil() {
			return nil, nil
		}
		d := make(Dict, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			v, err := marshalValue(it.Value(), append(path, k))
			if err != nil {
				return nil, err
			}
			d[k] = v
		}
		return d, nil
	case reflect.Struct:
		fields := cachedFields(t)
		d := make(Dict, len(fields))
		for _, f := range fields {
			fv, ok := fieldByIndex(rv, f.index)
			if !ok {
				continue // nil embedded pointer
			}
			if f.omitEmpty && isEmpty(fv) {
				continue
			}
			v, err := marshalValue(fv, append(path, f.name))
			if err != nil {
				return nil, err
			}
			d[f.name] = v
		}
		return d, nil
	}
	return nil, &EncodeError{Path: pathString(path), Reason: fmt.Sprintf("unsupported type %s", t)}
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	}
	return v.IsZero()
}

// fieldByIndex follows index through embedded pointers; ok is false when one
// of them is nil.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// fieldByIndexAlloc is fieldByIndex for decoding: nil embedded pointers are
// allocated. ok is false when one of them is nil and unexported, so cannot
// be set (reflect would panic).
func fieldByIndexAlloc(v reflect.Value, index []int) (_ reflect.Value, ok bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, false
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

type field struct {
	name      string
	index     []int
	omitEmpty bool
	depth     int // embedding depth; the shallowest field of a name wins
}

var fieldCache sync.Map // reflect.Type → []field

func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]field)
}

// typeFields lists the keys of struct type t. A field of the outer struct
// hides a promoted field with the same name, as in encoding/json.
func typeFields(t reflect.Type) []field {
	var out []field
	seen := map[string]int{} // name → depth
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		var embedded []reflect.StructField
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("xpc")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					embedded = append(embedded, sf)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if d, ok := seen[name]; ok && d <= depth {
				continue
			}
			seen[name] = depth
			idx := append(append([]int(nil), index...), i)
			out = append(out, field{name: name, index: idx, omitEmpty: strings.Contains(","+opts+",", ",omitempty,"), depth: depth})
		}
		for _, sf := range embedded {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			walk(ft, append(append([]int(nil), index...), sf.Index[0]), depth+1)
		}
	}
	walk(t, nil, 0)
	// The walk is depth-first, so a deeper field may have been listed
	// before a shallower one of the same name: keep only the first of the
	// shallowest.
	kept := out[:0]
	for _, f := range out {
		if seen[f.name] == f.depth {
			kept = append(kept, f)
			seen[f.name] = -1
		}
	}
	return kept
}

// UnmarshalTypeError reports a value that cannot be stored in a Go value,
// naming the key path (like encoding/json's UnmarshalTypeError).
type UnmarshalTypeError struct {
	Value string       // the XPC type, e.g. "string", or "int64 300" for an overflow
	Type  reflect.Type // the Go type it could not be stored in
	Path  string       // e.g. "items[2].count"
}

// Error implements the error interface.
func (e *UnmarshalTypeError) Error() string {
	return fmt.Sprintf("xpc: cannot unmarshal %s into %s of Go type %s", e.Value, e.Path, e.Type)
}

// Unmarshal decodes d into v, which must be a non-nil pointer to a struct,
// a map with string keys or an interface. Keys without a matching field are
// ignored, fields without a key keep their value, and null sets the zero
// value. Integers convert between int64, uint64 and every Go integer type
// when the value fits; a type mismatch is an *UnmarshalTypeError naming the
// key path.
func Unmarshal(d Dict, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("xpc: Unmarshal needs a non-nil pointer, not %T", v)
	}
	return unmarshalValue(d, rv.Elem(), nil)
}

func unmarshalValue(val any, rv reflect.Value, path []string) error {
	mismatch := func() error {
		return &UnmarshalTypeError{Value: typeName(val), Type: rv.Type(), Path: rootPath(path)}
	}
	if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
		if rv.Kind() == reflect.Pointer && rv.IsNil() && val != nil {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		if err := rv.Addr().Interface().(Unmarshaler).UnmarshalXPC(val); err != nil {
			return fmt.Errorf("xpc: %s: %w", rootPath(path), err)
		}
		return nil
	}
	if val == nil {
		rv.SetZero()
		return nil
	}
	t := rv.Type()
	switch t {
	case timeType, uuidType, fileType, endpointType:
		vv := reflect.ValueOf(val)
		if vv.Type() != t {
			return mismatch()
		}
		rv.Set(vv)
		return nil
	}
	switch rv.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			vv := reflect.ValueOf(val)
			if !vv.Type().Implements(t) {
				return mismatch()
			}
		}
		rv.Set(reflect.ValueOf(val))
		return nil
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(t.Elem()))
		}
		return unmarshalValue(val, rv.Elem(), path)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return mismatch()
		}
		rv.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var n int64
		switch x := val.(type) {
		case int64:
			n = x
		case uint64:
			if x > math.MaxInt64 {
				return &UnmarshalTypeError{Value: "uint64 " + strconv.FormatUint(x, 10), Type: t, Path: rootPath(path)}
			}
			n = int64(x)
		default:
			return mismatch()
		}
		if rv.OverflowInt(n) {
			return &UnmarshalTypeError{Value: fmt.Sprintf("%s %v", typeName(val), val), Type: t, Path: rootPath(path)}
		}
		rv.SetInt(n)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		var n uint64
		switch x := val.(type) {
		case uint64:
			n = x
		case int64:
			if x < 0 {
				return &UnmarshalTypeError{Value: "int64 " + strconv.FormatInt(x, 10), Type: t, Path: rootPath(path)}
			}
			n = uint64(x)
		default:
			return mismatch()
		}
		if rv.OverflowUint(n) {
			return &UnmarshalTypeError{Value: fmt.Sprintf("%s %v", typeName(val), val), Type: t, Path: rootPath(path)}
		}
		rv.SetUint(n)
		return nil
	case reflect.Float32, reflect.Float64:
		f, ok := val.(float64)
		if !ok {
			return mismatch()
		}
		if rv.OverflowFloat(f) {
			return &UnmarshalTypeError{Value: fmt.Sprintf("double %v", f), Type: t, Path: rootPath(path)}
		}
		rv.SetFloat(f)
		return nil
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return mismatch()
		}
		rv.SetString(s)
		return nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			b, ok := val.([]byte)
			if !ok {
				return mismatch()
			}
			rv.SetBytes(append([]byte(nil), b...))
			return nil
		}
		a, ok := val.([]any)
		if !ok {
			return mismatch()
		}
		s := reflect.MakeSlice(t, len(a), len(a))
		for i, e := range a {
			if err := unmarshalValue(e, s.Index(i), append(path, "["+strconv.Itoa(i)+"]")); err != nil {
				return err
			}
		}
		rv.Set(s)
		return nil
	case reflect.Array:
		a, ok := val.([]any)
		if !ok || len(a) > rv.Len() {
			if ok {
				return &UnmarshalTypeError{Value: fmt.Sprintf("array of %d", len(a)), Type: t, Path: rootPath(path)}
			}
			return mismatch()
		}
		for i := 0; i < rv.Len(); i++ {
			if i >= len(a) {
				rv.Index(i).SetZero()
				continue
			}
			if err := unmarshalValue(a[i], rv.Index(i), append(path, "["+strconv.Itoa(i)+"]")); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		d, ok := val.(Dict)
		if !ok || t.Key().Kind() != reflect.String {
			return mismatch()
		}
		if t == dictType {
			rv.Set(reflect.ValueOf(d))
			return nil
		}
		if rv.IsNil() {
			rv.Set(reflect.MakeMapWithSize(t, len(d)))
		}
		for k, e := range d {
			ev := reflect.New(t.Elem()).Elem()
			if err := unmarshalValue(e, ev, append(path, k)); err != nil {
				return err
			}
			rv.SetMapIndex(reflect.ValueOf(k).Convert(t.Key()), ev)
		}
		return nil
	case reflect.Struct:
		d, ok := val.(Dict)
		if !ok {
			return mismatch()
		}
		for _, f := range cachedFields(t) {
			e, ok := d[f.name]
			if !ok {
				continue
			}
			fv, ok := fieldByIndexAlloc(rv, f.index)
			if !ok {
				return fmt.Errorf("xpc: cannot unmarshal into %s: it is promoted through a nil pointer to an unexported embedded struct", pathString(append(path, f.name)))
			}
			if err := unmarshalValue(e, fv, append(path, f.name)); err != nil {
				return err
			}
		}
		return nil
	}
	return mismatch()
}

func rootPath(path []string) string {
	if len(path) == 0 {
		return "(message)"
	}
	return pathString(path)
}
