package requirement_test

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rq "github.com/goxpc/goxpc/codesign/requirement"
)

func mustParse(t *testing.T, text string) *rq.Requirement {
	t.Helper()
	r, err := rq.Parse(text)
	require.NoError(t, err, "parse %q", text)
	return r
}

func TestPrecedenceAndAST(t *testing.T) {
	a, b, c := rq.Identifier{Value: "a"}, rq.Identifier{Value: "b"}, rq.Identifier{Value: "c"}
	tests := []struct {
		text string
		want rq.Expr
	}{
		{"identifier a or identifier b and identifier c", rq.Or{a, rq.And{b, c}}},
		{"identifier a and identifier b or identifier c", rq.Or{rq.And{a, b}, c}},
		{"identifier a and identifier b and identifier c", rq.And{rq.And{a, b}, c}},
		{"identifier a and (identifier b and identifier c)", rq.And{a, rq.And{b, c}}},
		{"(identifier a or identifier b) and identifier c", rq.And{rq.Or{a, b}, c}},
		{"! identifier a and identifier b", rq.And{rq.Not{a}, b}},
		{"!(identifier a or identifier b)", rq.Not{rq.Or{a, b}}},
		{"true and false", rq.And{rq.Always{}, rq.Never{}}},
		{"anchor generic apple", rq.AppleGenericAnchor{}},
		{"anchor apple com.apple.foo", rq.NamedAnchor{Name: "com.apple.foo"}},
		{"(com.apple.sub)", rq.NamedCode{Name: "com.apple.sub"}},
		{`("named")`, rq.NamedCode{Name: "named"}},
		{"cert trusted", rq.TrustedAnchor{}},
		{"anchor trusted", rq.TrustedAnchor{}},
		{"certificate -3 trusted", rq.TrustedCert{Slot: -3}},
		{"certificate 2[subject.CN] = foo", rq.CertField{Slot: 2, Kind: rq.FieldSubject, Key: "subject.CN", Match: rq.Match{Op: rq.MatchEqual, Value: "foo"}}},
		{"anchor[subject.O] exists", rq.CertField{Slot: rq.SlotRoot, Kind: rq.FieldSubject, Key: "subject.O", Match: rq.Match{Op: rq.MatchExists}}},
		{"certificate leaf[extension.1.2.3]", rq.CertField{Slot: 0, Kind: rq.FieldOID, Key: "1.2.3", Match: rq.Match{Op: rq.MatchExists}}},
		{`certificate root["policy.1.2.840.113635.100.5.1"]`, rq.CertField{Slot: -1, Kind: rq.FieldPolicy, Key: "1.2.840.113635.100.5.1", Match: rq.Match{Op: rq.MatchExists}}},
		{"platform 2", rq.Platform{Value: 2}},
		{"identifier == foo", rq.Identifier{Value: "foo"}},
		{`info[k] = *"x"*`, rq.InfoKey{Key: "k", Match: rq.Match{Op: rq.MatchContains, Value: "x"}}},
		{`info[k] == 0x00ff`, rq.InfoKey{Key: "k", Match: rq.Match{Op: rq.MatchEqual, Value: "\x00\xff"}}},
		{`entitlement["a-b"] absent`, rq.Entitlement{Key: "a-b", Match: rq.Match{Op: rq.MatchAbsent}}},
		{`identifier "say \"hi\""`, rq.Identifier{Value: `say "hi"`}},
		{"identifier a; ;", a},
		{"# comment\nidentifier /* inline */ a // trailing", a},
		{"/**/identifier a", a},
		{`info[k] >= timestamp "20010101000100Z"`, rq.InfoKey{Key: "k", Match: rq.Match{Op: rq.MatchOnOrAfter, Seconds: 60}}},
		{`info[k] = timestamp "20010101010000+0100"`, rq.InfoKey{Key: "k", Match: rq.Match{Op: rq.MatchOn, Seconds: 0}}},
		{`info[k] < timestamp "20000101000000.5Z"`, rq.InfoKey{Key: "k", Match: rq.Match{Op: rq.MatchBefore, Seconds: -31622400}}},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.text)
		if diff := cmp.Diff(tt.want, r.Expr); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestCanonicalText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"identifier com.example.app", `identifier "com.example.app"`},
		{"identifier foo", "identifier foo"},
		{`identifier "and"`, `identifier "and"`},
		{`identifier "1abc"`, `identifier "1abc"`},
		{`identifier ""`, `identifier ""`},
		{"certificate leaf[subject.OU] = ABCDE12345", "certificate leaf[subject.OU] = ABCDE12345"},
		{`certificate leaf[subject.OU] = "9JA89QQLNQ"`, `certificate leaf[subject.OU] = "9JA89QQLNQ"`},
		{"cert 0 [subject.CN] = x", "certificate leaf[subject.CN] = x"},
		{"cert -1 [subject.CN] = x", "certificate root[subject.CN] = x"},
		{"certificate 1[field.1.2.840.113635.100.6.2.6] exists", "certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */"},
		{"info[a.b] = *x", "info[a.b] = *x"},
		{`info["a..b"] = x*`, `info["a..b"] = x*`},
		{`info["a.1b"] ~ x`, `info["a.1b"] ~ x`},
		{"info[a.1] = x", "info[a.1] = x"},
		{"info[k] = *x*", "info[k] ~ x"},
		{`info[k] = "caf` + "\u00e9" + `"`, "info[k] = 0x636166c3a9"},
		{`identifier "caf` + "\u00e9" + `"`, `identifier "caf` + "\u00e9" + `"`},
		{`info[k] = "a\"b"`, `info[k] = "a\"b"`},
		{"info[k] = 0x5c", "info[k] = 0x5c"}, // a backslash prints as hex: Apple's "\\" does not parse
		{"info[k] absent and info[j]", "info[k] absent  and info[j] /* exists */"},
		{"! (identifier a and identifier b)", "! (identifier a and identifier b)"},
		{"!!identifier a", "! ! identifier a"},
		{"identifier a and (identifier b and identifier c)", "identifier a and (identifier b and identifier c)"},
		{"identifier a or (identifier b or identifier c)", "identifier a or (identifier b or identifier c)"},
		{"identifier a or (identifier b and identifier c)", "identifier a or identifier b and identifier c"},
		{"(identifier a or identifier b) and identifier c", "(identifier a or identifier b) and identifier c"},
		{"certificate leaf trusted", "certificate leaf trusted"},
		{"anchor apple \"and\"", `anchor apple "and"`},
		{"platform == 7", "platform = 7"},
		{`info[k] <= timestamp "20190601123456Z"`, `info[k] <= timestamp "20190601123456Z"`},
		{"cdhash H\"ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEFABCD\"", `cdhash H"abcdefabcdefabcdefabcdefabcdefabcdefabcd"`},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.in)
		got := r.String()
		assert.Equal(t, tt.want, got, "String of %q", tt.in)
		// The canonical text compiles to the same program.
		again := mustParse(t, got)
		assert.Equal(t, r, again, "re-parse of %q", got)
		b1, err := r.MarshalBinary()
		require.NoError(t, err)
		b2, err := again.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, b1, b2)
		dec, err := rq.Decompile(b1)
		require.NoError(t, err)
		assert.Equal(t, r, dec, "binary round trip of %q", tt.in)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		text        string
		line, col   int
		token, frag string
	}{
		{"", 1, 1, "end of input", "expected a requirement term"},
		{"identifier", 1, 11, "end of input", "identifier value"},
		{"identifier and", 1, 12, `"and"`, "reserved word"},
		{"identifier a and", 1, 17, "end of input", "expected a requirement term"},
		{"identifier a b", 1, 14, `"b"`, `expected "and", "or"`},
		{"identifier com.my-app", 1, 18, `"-"`, `expected "and", "or"`},
		{"(identifier a", 1, 14, "end of input", `expected ")"`},
		{"identifier \"a\\b\"", 1, 14, `"\\b"`, `only \" is allowed`},
		{"identifier \"abc", 1, 12, `"\""`, "unterminated string"},
		{"identifier a\r\n", 1, 13, `"\r"`, "carriage return"},
		{"identifier a /* x **/", 1, 14, `"/*"`, "unterminated /* comment"},
		{"cdhash H\"abcd\"", 1, 8, `"H\"abcd\""`, "invalid hash length"},
		{"cdhash H\"xyz\"", 1, 8, `"H\"x"`, "malformed hash"},
		{"info[k] = 0xabc", 1, 11, `"0xabc"`, "odd number"},
		{"certificate leaf[email] = x", 1, 17, `"["`, "unrecognized certificate field"},
		{"certificate leaf[field.1] exists", 1, 17, `"["`, "at least two components"},
		{"certificate leaf[field.3.1] exists", 1, 17, `"["`, "invalid OID"},
		{"certificate leaf = /etc/cert", 1, 20, `"/etc/cert"`, "certificate files cannot be referenced"},
		{"certificate 99999999999[subject.CN]", 1, 13, `"99999999999"`, "out of range"},
		{"platform = -1", 1, 12, `"-"`, "expected a number"},
		{"info[k] = timestamp \"2019\"", 1, 21, `"\"2019\""`, "invalid timestamp"},
		{"anchor generic", 1, 15, "end of input", `"apple"`},
		{"identifier a,", 1, 13, `","`, `expected "and", "or"`},
		{"identifier a\n  and @", 2, 7, `"@"`, "unexpected character"},
		{"identifier \x00", 1, 12, `"\x00"`, "NUL"},
		{"identifier \xff", 1, 12, "byte 0xff", "UTF-8"},
		{"identifier a => b", 1, 14, `"=>"`, `expected "and"`},
		{"IDENTIFIER a", 1, 1, `"IDENTIFIER"`, "expected a requirement term"},
	}
	for _, tt := range tests {
		_, err := rq.Parse(tt.text)
		var se *rq.SyntaxError
		if !assert.ErrorAs(t, err, &se, "Parse(%q)", tt.text) {
			continue
		}
		assert.Equal(t, tt.line, se.Line, "line for %q: %v", tt.text, err)
		assert.Equal(t, tt.col, se.Column, "column for %q: %v", tt.text, err)
		assert.Equal(t, tt.token, se.Token, "token for %q", tt.text)
		assert.Contains(t, se.Error(), tt.frag, "message for %q", tt.text)
	}
}

func TestLimits(t *testing.T) {
	_, err := rq.Parse(strings.Repeat(" ", rq.MaxTextSize+1))
	assert.ErrorIs(t, err, rq.ErrTooLarge)

	deepParens := strings.Repeat("(", rq.MaxDepth+1) + "always" + strings.Repeat(")", rq.MaxDepth+1)
	_, err = rq.Parse(deepParens)
	assert.ErrorIs(t, err, rq.ErrTooDeep)

	longChain := "always" + strings.Repeat(" or always", rq.MaxDepth)
	_, err = rq.Parse(longChain)
	assert.ErrorIs(t, err, rq.ErrTooDeep)
	okChain := "always" + strings.Repeat(" or always", rq.MaxDepth-2)
	r := mustParse(t, okChain)
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	_, err = rq.Decompile(b)
	require.NoError(t, err)

	// A binary "not not not ... true" nested beyond MaxDepth.
	prog := make([]byte, 12)
	for i := 0; i < rq.MaxDepth; i++ {
		prog = binary.BigEndian.AppendUint32(prog, uint32(rq.OpNot))
	}
	prog = binary.BigEndian.AppendUint32(prog, uint32(rq.OpTrue))
	binary.BigEndian.PutUint32(prog, rq.MagicRequirement)
	binary.BigEndian.PutUint32(prog[4:], uint32(len(prog)))
	binary.BigEndian.PutUint32(prog[8:], rq.KindExpression)
	_, err = rq.Decompile(prog)
	assert.ErrorIs(t, err, rq.ErrTooDeep)

	big := make([]byte, rq.MaxBlobSize+1)
	_, err = rq.Decompile(big)
	assert.ErrorIs(t, err, rq.ErrTooLarge)
}

func blobOf(t testing.TB, words ...uint32) []byte {
	t.Helper()
	b := binary.BigEndian.AppendUint32(nil, rq.MagicRequirement)
	b = binary.BigEndian.AppendUint32(b, uint32(12+4*len(words)))
	b = binary.BigEndian.AppendUint32(b, rq.KindExpression)
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	return b
}

func TestDecompileUnknownAndMalformed(t *testing.T) {
	// and(skip-op{4 bytes}, identifier-less true) : skip evaluates the next expression.
	skip := blobOf(t, uint32(rq.OpAnd), uint32(rq.OpGenericSkip|99), 4, 0xdeadbeef, uint32(rq.OpTrue), uint32(rq.OpAppleAnchor))
	r, err := rq.Decompile(skip)
	require.NoError(t, err)
	assert.Equal(t, rq.And{rq.UnknownOp{Op: rq.OpGenericSkip | 99, Data: []byte{0xde, 0xad, 0xbe, 0xef}, Then: rq.Always{}}, rq.AppleAnchor{}}, r.Expr)
	assert.Equal(t, "/* opcode 99 */ always and anchor apple", r.String())
	again, err := r.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, skip, again)

	falseOp := blobOf(t, uint32(rq.OpGenericFalse|1000), 0)
	r, err = rq.Decompile(falseOp)
	require.NoError(t, err)
	assert.Equal(t, rq.UnknownOp{Op: rq.OpGenericFalse | 1000}, r.Expr)
	assert.Equal(t, "false /* opcode 1000 */", r.String())
	assert.Equal(t, rq.Never{}, mustParse(t, r.String()).Expr)

	// A known opcode with a flag bit is the known opcode, as in Apple's interpreter.
	r, err = rq.Decompile(blobOf(t, uint32(rq.OpGenericSkip|rq.OpTrue)))
	require.NoError(t, err)
	assert.Equal(t, rq.Always{}, r.Expr)

	bad := map[string][]byte{
		"unknown opcode":  blobOf(t, 200),
		"truncated":       blobOf(t, uint32(rq.OpAnd), uint32(rq.OpTrue)),
		"trailing bytes":  blobOf(t, uint32(rq.OpTrue), 0),
		"data past end":   blobOf(t, uint32(rq.OpIdent), 100),
		"bad magic":       append([]byte{0xfa, 0xde, 0x0c, 0x02}, blobOf(t, 1)[4:]...),
		"bad kind":        func() []byte { b := blobOf(t, 1); b[11] = 7; return b }(),
		"length mismatch": func() []byte { b := blobOf(t, 1); b[7]++; return b }(),
		"short":           {0xfa, 0xde},
		"bad OID":         blobOf(t, uint32(rq.OpCertGeneric), 0, 1, 0x80000000, 0),
		"missing padding": func() []byte {
			b := append(blobOf(t, uint32(rq.OpIdent), 1), 'a')
			binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
			return b
		}(),
		"skip size too big": blobOf(t, uint32(rq.OpGenericSkip|99), 400),
	}
	for name, b := range bad {
		_, err := rq.Decompile(b)
		assert.ErrorIs(t, err, rq.ErrInvalidBlob, name)
	}
	lw := blobOf(t, 0)
	lw[11] = rq.KindLightweight
	_, err = rq.Decompile(lw)
	assert.ErrorIs(t, err, errors.ErrUnsupported)

	// Non-zero padding is accepted and canonicalised away.
	padded, _ := hex.DecodeString("fade0c000000001800000001000000020000000161ffffff")
	r, err = rq.Decompile(padded)
	require.NoError(t, err)
	canon, err := r.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, "fade0c0000000018000000010000000200000001"+"61000000", hex.EncodeToString(canon))
}

func TestSets(t *testing.T) {
	text := "designated => identifier \"com.example.app\" and anchor apple generic;\nhost => anchor apple\n/* c */ 7 => never\n"
	s, err := rq.ParseSet(text)
	require.NoError(t, err)
	assert.Equal(t, []rq.Type{rq.Host, rq.Designated, 7}, s.Types())
	want := "host => anchor apple\ndesignated => identifier \"com.example.app\" and anchor apple generic\n/*unknown type*/ 7 => never\n"
	assert.Equal(t, want, s.String())
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var back rq.Set
	require.NoError(t, back.UnmarshalBinary(b))
	assert.Equal(t, s, back)
	again, err := rq.ParseSet(back.String())
	require.NoError(t, err)
	assert.Equal(t, s, again)

	for _, bad := range []string{"", "designated anchor apple", "designated => anchor apple designated => never", "weird => always", "designated => always and"} {
		_, err := rq.ParseSet(bad)
		var se *rq.SyntaxError
		assert.ErrorAs(t, err, &se, "%q", bad)
	}

	// Malformed set blobs.
	good, _ := hex.DecodeString("fade0c0100000024000000010000000100000014fade0c00000000100000000100000003")
	require.NoError(t, back.UnmarshalBinary(good))
	assert.Equal(t, "host => anchor apple\n", back.String())
	for name, mutate := range map[string]func([]byte){
		"offset into index": func(b []byte) { b[19] = 8 },
		"offset past end":   func(b []byte) { b[19] = 0x30 },
		"inner length":      func(b []byte) { b[27] = 0x40 },
		"count":             func(b []byte) { b[11] = 9 },
		"magic":             func(b []byte) { b[3] = 0 },
	} {
		b := append([]byte(nil), good...)
		mutate(b)
		assert.ErrorIs(t, back.UnmarshalBinary(b), rq.ErrInvalidBlob, name)
	}
	dup, _ := hex.DecodeString("fade0c010000003c00000002000000010000001c000000010000002cfade0c00000000100000000100000003fade0c00000000100000000100000003")
	assert.ErrorIs(t, back.UnmarshalBinary(dup), rq.ErrInvalidBlob)
}

func TestOIDs(t *testing.T) {
	for _, oid := range []string{"1.2.840.113635.100.6.2.6", "2.5.4.3", "0.39", "2.999.1", "1.2.18446744073709551615"} {
		r := mustParse(t, "certificate leaf[field."+oid+"]")
		b, err := r.MarshalBinary()
		require.NoError(t, err)
		back, err := rq.Decompile(b)
		require.NoError(t, err)
		assert.Equal(t, oid, back.Expr.(rq.CertField).Key)
	}
	// 1.2.840.113635.100.6.2.6 is 2a864886f76364060206 in DER.
	r := mustParse(t, "certificate 1[field.1.2.840.113635.100.6.2.6]")
	b, _ := r.MarshalBinary()
	assert.Contains(t, hex.EncodeToString(b), "0000000a2a864886f76364060206000000")
	for _, bad := range []string{"1.2.01", "1..2", "1.40", "3.1", "1.2.18446744073709551616", "x.y"} {
		_, err := rq.Parse("certificate leaf[field." + bad + "]")
		assert.Error(t, err, bad)
	}
}

func TestMatchTime(t *testing.T) {
	r := mustParse(t, `info[k] = timestamp "20240131120000Z"`)
	m := r.Expr.(rq.InfoKey).Match
	assert.Equal(t, "2024-01-31T12:00:00Z", m.Time().Format("2006-01-02T15:04:05Z07:00"))
	assert.True(t, m.Op.IsDate())
	assert.False(t, m.Op.HasValue())
}

func TestMarshalInvalidAST(t *testing.T) {
	for _, e := range []rq.Expr{nil, rq.And{Left: rq.Always{}}, rq.CertField{Kind: rq.FieldOID, Key: "bogus"}, rq.UnknownOp{Op: 5}, rq.UnknownOp{Op: rq.OpGenericSkip | 99}} {
		_, err := rq.New(e).MarshalBinary()
		assert.Error(t, err, "%#v", e)
	}
	var nilReq *rq.Requirement
	assert.Equal(t, "", nilReq.String())
}
