package launchd

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBplist lays out objects (already encoded) into a binary plist with
// 1-byte references and 2-byte offsets, top object 0.
func buildBplist(objects [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteString("bplist00")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = buf.Len()
		buf.Write(o)
	}
	table := buf.Len()
	for _, off := range offsets {
		binary.Write(&buf, binary.BigEndian, uint16(off))
	}
	trailer := make([]byte, 32)
	trailer[6], trailer[7] = 2, 1
	binary.BigEndian.PutUint64(trailer[8:], uint64(len(objects)))
	binary.BigEndian.PutUint64(trailer[16:], 0)
	binary.BigEndian.PutUint64(trailer[24:], uint64(table))
	buf.Write(trailer)
	return buf.Bytes()
}

func TestBinaryExpansionBomb(t *testing.T) {
	// Object i is an array holding object i+1 twice: 40 levels would
	// expand to 2^40 values in a decoder that copies shared references.
	const levels = 40
	var objects [][]byte
	for i := 0; i < levels; i++ {
		objects = append(objects, []byte{0xA2, byte(i + 1), byte(i + 1)})
	}
	objects = append(objects, []byte{0x51, 'x'})
	data := buildBplist(objects)

	var v any
	err := Unmarshal(data, &v)
	require.ErrorIs(t, err, errStructure)
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "expands to more than")

	// Shared references that expand a little are fine and decode normally.
	objects = [][]byte{{0xA2, 1, 1}, {0xA2, 2, 2}, {0x51, 'x'}}
	require.NoError(t, Unmarshal(buildBplist(objects), &v))
	assert.Equal(t, []any{[]any{"x", "x"}, []any{"x", "x"}}, v)
}

func TestBinaryCycle(t *testing.T) {
	data := buildBplist([][]byte{{0xA1, 1}, {0xA1, 0}})
	var v any
	err := Unmarshal(data, &v)
	require.ErrorIs(t, err, errStructure)
	assert.Contains(t, err.Error(), "contains itself")
}

func TestBinaryLyingCounts(t *testing.T) {
	tests := map[string][]byte{
		// array claiming 2^62 elements through an 8-byte count
		"huge array":  {0xAF, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 0, 1},
		"huge string": {0x5F, 0x13, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"huge utf16":  {0x6F, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 1},
		"huge dict":   {0xDF, 0x13, 0x40, 0, 0, 0, 0, 0, 0, 1},
		"bad count":   {0xAF, 0x55},
		"ref range":   {0xA1, 9},
	}
	for name, obj := range tests {
		t.Run(name, func(t *testing.T) {
			var v any
			err := Unmarshal(buildBplist([][]byte{obj}), &v)
			assert.ErrorIs(t, err, errStructure)
		})
	}
}

func TestBinaryTrailerChecks(t *testing.T) {
	good := buildBplist([][]byte{{0x51, 'x'}})
	mutate := func(f func(tr []byte)) []byte {
		d := bytes.Clone(good)
		f(d[len(d)-32:])
		return d
	}
	for name, data := range map[string][]byte{
		"ref size 3":       mutate(func(tr []byte) { tr[7] = 3 }),
		"offset size 0":    mutate(func(tr []byte) { tr[6] = 0 }),
		"too many objects": mutate(func(tr []byte) { binary.BigEndian.PutUint64(tr[8:], 1<<40) }),
		"top out of range": mutate(func(tr []byte) { binary.BigEndian.PutUint64(tr[16:], 1) }),
		"table past end":   mutate(func(tr []byte) { binary.BigEndian.PutUint64(tr[24:], 1<<20) }),
		"table in header":  mutate(func(tr []byte) { binary.BigEndian.PutUint64(tr[24:], 2) }),
		"short":            []byte("bplist00"),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, checkBinary(data), errStructure)
		})
	}
	assert.NoError(t, checkBinary(good))
}

func TestXMLDepthLimit(t *testing.T) {
	deep := "<plist>" + strings.Repeat("<array>", maxDepth+1) + strings.Repeat("</array>", maxDepth+1) + "</plist>"
	var v any
	err := Unmarshal([]byte(deep), &v)
	require.ErrorIs(t, err, errStructure)

	ok := "<plist>" + strings.Repeat("<array>", maxDepth) + strings.Repeat("</array>", maxDepth) + "</plist>"
	require.NoError(t, Unmarshal([]byte(ok), &v))
}
