package xpc

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"strconv"
	"testing"
)

// benchMessage is a representative request: a few scalars, 256 bytes of
// data, a nested dictionary and an array of eight small dictionaries.
func benchMessage() Dict {
	payload := make([]byte, 256)
	for i := range payload {
		payload[i] = byte(i)
	}
	items := make([]any, 8)
	for i := range items {
		items[i] = Dict{
			"name": "item-" + strconv.Itoa(i),
			"size": int64(1000 + i),
			"ok":   i%2 == 0,
		}
	}
	return Dict{
		"method":  "com.example.sync.push",
		"id":      int64(123456789),
		"seq":     uint64(42),
		"urgent":  true,
		"payload": payload,
		"meta":    Dict{"user": "alice", "host": "build-01.example.com", "pid": int64(4242)},
		"items":   items,
	}
}

// countValues counts the Go values a decoded message holds: containers and
// leaves, and separately the dictionary keys.
func countValues(v any) (values, keys int) {
	values = 1
	switch v := v.(type) {
	case Dict:
		for _, e := range v {
			n, k := countValues(e)
			values += n
			keys += k + 1
		}
	case map[string]any:
		for _, e := range v {
			n, k := countValues(e)
			values += n
			keys += k + 1
		}
	case []any:
		for _, e := range v {
			n, k := countValues(e)
			values += n
			keys += k
		}
	}
	return values, keys
}

// BenchmarkCodec encodes and decodes benchMessage with the XPC wire codec
// (as a connection does: encodeMessage into a reused buffer, then
// decodeMessage), with encoding/json (map[string]any both ways), and with
// encoding/gob. For gob the message stays a map[string]any: gob can carry
// it once Dict and []any are registered (the scalar types and []byte are
// pre-registered), and it uses one long-lived Encoder/Decoder pair over a
// buffer, so type descriptors are sent once, as on a stream — gob's best
// case.
func BenchmarkCodec(b *testing.B) {
	msg := benchMessage()
	values, keys := countValues(msg)

	b.Run("xpc", func(b *testing.B) {
		var att attachments
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		var n int
		for b.Loop() {
			var err error
			att.files, att.endpoints = att.files[:0], att.endpoints[:0]
			buf, err = encodeMessage(buf[:0], msg, &att)
			if err != nil {
				b.Fatal(err)
			}
			out, err := decodeMessage(buf, nil)
			if err != nil || len(out) != len(msg) {
				b.Fatal(err)
			}
			n = len(buf)
		}
		b.ReportMetric(float64(n), "wire-B/op")
		b.ReportMetric(float64(values), "values/op")
		b.ReportMetric(float64(keys), "keys/op")
	})

	b.Run("json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		b.ReportAllocs()
		var n int
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(msg); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
			var out map[string]any
			if err := json.Unmarshal(buf.Bytes(), &out); err != nil || len(out) != len(msg) {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "wire-B/op")
	})

	b.Run("gob", func(b *testing.B) {
		gob.Register(Dict{})
		gob.Register([]any{})
		var buf bytes.Buffer
		enc := gob.NewEncoder(&buf)
		dec := gob.NewDecoder(&buf)
		// Prime the stream so type descriptors are not counted.
		var in map[string]any = msg
		if err := enc.Encode(in); err != nil {
			b.Fatal(err)
		}
		var first map[string]any
		if err := dec.Decode(&first); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := enc.Encode(in); err != nil {
				b.Fatal(err)
			}
			n = buf.Len()
			var out map[string]any
			if err := dec.Decode(&out); err != nil || len(out) != len(msg) {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n), "wire-B/op")
	})
}

// BenchmarkDecode isolates decoding, for profiling.
func BenchmarkDecode(b *testing.B) {
	enc, err := Encode(benchMessage())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := decodeMessage(enc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode isolates encoding into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	msg := benchMessage()
	var att attachments
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = encodeMessage(buf[:0], msg, &att); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// TestBenchMessageRoundTrips keeps the benchmark honest: its message is
// valid and survives the codec.
func TestBenchMessageRoundTrips(t *testing.T) {
	msg := benchMessage()
	got := roundTrip(t, msg)
	if v, k := countValues(got); v != 43 || k != 34 {
		t.Fatalf("decoded message has %d values and %d keys, want 43 and 34", v, k)
	}
}
