package requirement_test

import (
	"bufio"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/codesign/requirement"
)

type vector struct {
	name, source, kind, text, hex string
	inputs                        []string
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("../../testdata/requirement/vectors.txt")
	require.NoError(t, err)
	defer f.Close()
	var out []vector
	var cur *vector
	var textLines []string
	flush := func() {
		if cur != nil {
			cur.text = strings.Join(textLines, "\n")
			out = append(out, *cur)
		}
		cur, textLines = nil, nil
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			flush()
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok && strings.HasSuffix(line, ":") {
			key, val, ok = strings.TrimSuffix(line, ":"), "", true
		}
		require.True(t, ok, "bad vector line %q", line)
		if cur == nil {
			cur = &vector{}
		}
		switch key {
		case "name":
			cur.name = val
		case "source":
			cur.source = val
		case "kind":
			cur.kind = val
		case "text":
			textLines = append(textLines, val)
		case "input":
			cur.inputs = append(cur.inputs, val)
		case "hex":
			cur.hex = val
		default:
			t.Fatalf("unknown key %q", key)
		}
	}
	require.NoError(t, sc.Err())
	flush()
	return out
}

func TestGoldenVectors(t *testing.T) {
	vs := loadVectors(t)
	require.GreaterOrEqual(t, len(vs), 40)
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			require.NotEmpty(t, v.source)
			blob, err := hex.DecodeString(v.hex)
			require.NoError(t, err)
			switch v.kind {
			case "requirement":
				// binary -> text
				r, err := requirement.Decompile(blob)
				require.NoError(t, err)
				assert.Equal(t, v.text, r.String())
				// binary -> AST -> binary
				again, err := r.MarshalBinary()
				require.NoError(t, err)
				assert.Equal(t, v.hex, hex.EncodeToString(again))
				// text -> binary, for the canonical text and every variant
				for _, in := range append([]string{v.text}, v.inputs...) {
					p, err := requirement.Parse(in)
					require.NoError(t, err, "parse %q", in)
					b, err := p.MarshalBinary()
					require.NoError(t, err)
					assert.Equal(t, v.hex, hex.EncodeToString(b), "compile %q", in)
					assert.Equal(t, r, p, "AST of %q", in)
				}
			case "set":
				var s requirement.Set
				require.NoError(t, s.UnmarshalBinary(blob))
				assert.Equal(t, v.text, s.String())
				again, err := s.MarshalBinary()
				require.NoError(t, err)
				assert.Equal(t, v.hex, hex.EncodeToString(again))
				if v.text != "" {
					p, err := requirement.ParseSet(v.text)
					require.NoError(t, err)
					b, err := p.MarshalBinary()
					require.NoError(t, err)
					assert.Equal(t, v.hex, hex.EncodeToString(b))
				}
			default:
				t.Fatalf("unknown kind %q", v.kind)
			}
		})
	}
}
