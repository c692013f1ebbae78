package plistsafe

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"
)

// laughs builds a binary plist of levels arrays, each holding 14 references
// to the next: a few hundred bytes that expand to 14^levels values.
func laughs(levels int) []byte {
	b := []byte("bplist00")
	var offsets []int
	for i := 0; i < levels; i++ {
		offsets = append(offsets, len(b))
		b = append(b, 0xAE) // array of 14
		for j := 0; j < 14; j++ {
			b = append(b, byte(i+1))
		}
	}
	offsets = append(offsets, len(b))
	b = append(b, 0x51, 'x') // ASCII string "x"
	table := len(b)
	for _, o := range offsets {
		b = append(b, byte(o))
	}
	trailer := make([]byte, 32)
	trailer[6], trailer[7] = 1, 1 // offset and reference sizes
	binary.BigEndian.PutUint64(trailer[8:], uint64(len(offsets)))
	binary.BigEndian.PutUint64(trailer[16:], 0)
	binary.BigEndian.PutUint64(trailer[24:], uint64(table))
	return append(b, trailer...)
}

func TestBillionLaughsRejected(t *testing.T) {
	small := laughs(2) // 14*14 strings: fine
	var v any
	_, err := Unmarshal(small, &v)
	require.NoError(t, err)
	require.Len(t, v, 14)

	hostile := laughs(10) // 14^10 values from ~170 bytes
	require.Less(t, len(hostile), 400)
	_, err = Unmarshal(hostile, &v)
	require.ErrorIs(t, err, ErrUnsafe)
	assert.Contains(t, err.Error(), "expands")
}

func TestDeepXMLRejected(t *testing.T) {
	var v any
	ok := "<plist>" + strings.Repeat("<array>", MaxDepth) + strings.Repeat("</array>", MaxDepth) + "</plist>"
	_, err := Unmarshal([]byte(ok), &v)
	require.NoError(t, err)
	deep := "<plist>" + strings.Repeat("<array>", MaxDepth+1) + strings.Repeat("</array>", MaxDepth+1) + "</plist>"
	_, err = Unmarshal([]byte(deep), &v)
	require.ErrorIs(t, err, ErrUnsafe)
}

func TestOnlyXMLAndBinary(t *testing.T) {
	var v any
	_, err := Unmarshal([]byte(`{ a = (b, c); }`), &v) // OpenStep text
	require.ErrorIs(t, err, ErrUnsafe)
	_, err = Unmarshal([]byte(strings.Repeat("(", 100000)), &v)
	require.ErrorIs(t, err, ErrUnsafe)
	_, err = Unmarshal(make([]byte, MaxSize+1), &v)
	require.ErrorIs(t, err, ErrUnsafe)
}

func TestRoundTripsRealPlists(t *testing.T) {
	in := map[string]any{"com.apple.security.app-sandbox": true, "list": []any{"a", "b"}, "n": uint64(3)}
	for _, format := range []int{plist.XMLFormat, plist.BinaryFormat} {
		b, err := plist.Marshal(in, format)
		require.NoError(t, err)
		var out map[string]any
		got, err := Unmarshal(b, &out)
		require.NoError(t, err)
		assert.Equal(t, format, got)
		assert.Equal(t, in, out)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(laughs(2))
	f.Add([]byte(`<?xml version="1.0"?><plist><dict><key>a</key><array><true/></array></dict></plist>`))
	b, _ := plist.Marshal(map[string]any{"k": []any{"v", int64(1)}}, plist.BinaryFormat)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		Unmarshal(data, &v) // must not panic, hang or exhaust memory
	})
}
