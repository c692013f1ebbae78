package requirement

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parse compiles requirement text (Apple's Code Signing Requirement
// Language) into a Requirement. It accepts exactly what Apple's compiler
// accepts, except that certificates cannot be named by file path (Parse
// reads no files), integers must fit in 32 bits, timestamps must be valid,
// and duplicate or malformed inputs Apple silently truncates are errors.
// Syntax errors are *SyntaxError values; limits are ErrTooLarge and
// ErrTooDeep. Parse never panics.
func Parse(text string) (*Requirement, error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	e, err := p.element()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tEOF {
		return nil, p.errf("expected \"and\", \"or\" or end of requirement")
	}
	return &Requirement{Expr: e}, nil
}

// MustParse is Parse for constant text known to be valid; it panics on error.
func MustParse(text string) *Requirement {
	r, err := Parse(text)
	if err != nil {
		panic(err)
	}
	return r
}

// ParseSet compiles a requirement set such as
//
//	designated => identifier "com.example.app" and anchor apple generic
//	host => anchor apple
//
// Types are designated, host, guest, library, plugin or a number.
func ParseSet(text string) (Set, error) {
	p, err := newParser(text)
	if err != nil {
		return nil, err
	}
	set := Set{}
	for {
		t := p.peek()
		var typ Type
		switch {
		case t.kind == tKeyword && typeByName[t.val] != 0:
			typ = typeByName[t.val]
			p.next()
		case t.kind == tInt:
			n, err := p.int32Tok()
			if err != nil {
				return nil, err
			}
			typ = Type(n)
		default:
			if len(set) == 0 {
				return nil, p.errf("expected a requirement type (designated, host, guest, library, plugin or a number)")
			}
			return nil, p.errf("expected a requirement type or end of input")
		}
		if _, dup := set[typ]; dup {
			return nil, p.errAt(t, fmt.Sprintf("duplicate %s requirement", typ))
		}
		if len(set) >= MaxSetEntries {
			return nil, p.errAt(t, "too many requirements in set")
		}
		if _, err := p.expect(tArrow, `"=>"`); err != nil {
			return nil, err
		}
		e, err := p.element()
		if err != nil {
			return nil, err
		}
		set[typ] = &Requirement{Expr: e}
		if p.peek().kind == tEOF {
			return set, nil
		}
	}
}

type parser struct {
	src   string
	lex   *lexer
	toks  [2]token // current token and one of lookahead
	have  int      // how many of toks are filled
	depth int
}

func newParser(text string) (*parser, error) {
	l, err := newLexer(text)
	if err != nil {
		return nil, err
	}
	return &parser{src: text, lex: l}, nil
}

func (p *parser) fill(n int) {
	for p.have < n {
		p.toks[p.have] = p.lex.next()
		p.have++
	}
}

func (p *parser) peek() token { p.fill(1); return p.toks[0] }

func (p *parser) next() token {
	p.fill(1)
	t := p.toks[0]
	if t.kind != tEOF && t.kind != tErr {
		p.toks[0], p.toks[1] = p.toks[1], token{}
		p.have--
	}
	return t
}

func (p *parser) isKw(w string) bool { t := p.peek(); return t.kind == tKeyword && t.val == w }

func (p *parser) errAt(t token, msg string) error {
	if t.kind == tErr || p.lex.err != nil {
		return p.lex.err // the lexical error explains what went wrong
	}
	tok := "end of input"
	if t.kind != tEOF {
		tok = strconv.Quote(p.src[t.pos:t.end])
	}
	return newSyntaxError(p.src, t.pos, tok, msg)
}

func (p *parser) errf(format string, args ...any) error {
	return p.errAt(p.peek(), fmt.Sprintf(format, args...))
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	if p.peek().kind != k {
		return token{}, p.errf("expected %s", what)
	}
	return p.next(), nil
}

// element is requirementElement: expr followed by any number of ';'.
func (p *parser) element() (Expr, error) {
	e, _, err := p.expr()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tSemi {
		p.next()
	}
	return e, nil
}

func checkDepth(d int) error {
	if d > MaxDepth {
		return fmt.Errorf("%w: more than %d levels", ErrTooDeep, MaxDepth)
	}
	return nil
}

// expr is term ( "or" term )*, left-associative like Apple's maker.
func (p *parser) expr() (Expr, int, error) {
	left, ld, err := p.term()
	if err != nil {
		return nil, 0, err
	}
	for p.isKw("or") {
		p.next()
		right, rd, err := p.term()
		if err != nil {
			return nil, 0, err
		}
		left, ld = Or{left, right}, max(ld, rd)+1
		if err := checkDepth(ld); err != nil {
			return nil, 0, err
		}
	}
	return left, ld, nil
}

// term is primary ( "and" primary )*.
func (p *parser) term() (Expr, int, error) {
	left, ld, err := p.primary()
	if err != nil {
		return nil, 0, err
	}
	for p.isKw("and") {
		p.next()
		right, rd, err := p.primary()
		if err != nil {
			return nil, 0, err
		}
		left, ld = And{left, right}, max(ld, rd)+1
		if err := checkDepth(ld); err != nil {
			return nil, 0, err
		}
	}
	return left, ld, nil
}

func (p *parser) primary() (Expr, int, error) {
	p.depth++
	defer func() { p.depth-- }()
	if err := checkDepth(p.depth); err != nil {
		return nil, 0, err
	}
	t := p.peek()
	switch t.kind {
	case tLParen:
		p.next()
		if k := p.peek().kind; k == tWord || k == tString {
			name := p.next().val
			if _, err := p.expect(tRParen, `")" after named requirement`); err != nil {
				return nil, 0, err
			}
			return NamedCode{Name: name}, 1, nil
		}
		e, d, err := p.expr()
		if err != nil {
			return nil, 0, err
		}
		if _, err := p.expect(tRParen, `")"`); err != nil {
			return nil, 0, err
		}
		return e, d, nil
	case tNot:
		p.next()
		e, d, err := p.primary()
		if err != nil {
			return nil, 0, err
		}
		if err := checkDepth(d + 1); err != nil {
			return nil, 0, err
		}
		return Not{X: e}, d + 1, nil
	case tKeyword:
	default:
		return nil, 0, p.errf("expected a requirement term (identifier, anchor, certificate, info, entitlement, ...)")
	}
	e, err := p.keywordPrimary(t)
	return e, 1, err
}

func (p *parser) keywordPrimary(t token) (Expr, error) {
	switch t.val {
	case "always", "true":
		p.next()
		return Always{}, nil
	case "never", "false":
		p.next()
		return Never{}, nil
	case "identifier":
		p.next()
		p.eql()
		s, err := p.identString("identifier value")
		return Identifier{Value: s}, err
	case "cdhash":
		p.next()
		p.eql()
		h, err := p.hash()
		return CDHash{Hash: h}, err
	case "platform":
		p.next()
		p.eql()
		n, err := p.int32Tok()
		return Platform{Value: n}, err
	case "notarized":
		p.next()
		return Notarized{}, nil
	case "legacy":
		p.next()
		return Legacy{}, nil
	case "info", "entitlement":
		p.next()
		key, err := p.bracketKey()
		if err != nil {
			return nil, err
		}
		m, err := p.matchSuffix()
		if err != nil {
			return nil, err
		}
		if t.val == "info" {
			return InfoKey{Key: key, Match: m}, nil
		}
		return Entitlement{Key: key, Match: m}, nil
	case "anchor":
		p.next()
		switch {
		case p.isKw("apple"):
			p.next()
			if p.isKw("generic") {
				p.next()
				return AppleGenericAnchor{}, nil
			}
			if k := p.peek().kind; k == tWord || k == tString {
				return NamedAnchor{Name: p.next().val}, nil
			}
			return AppleAnchor{}, nil
		case p.isKw("generic"):
			p.next()
			if !p.isKw("apple") {
				return nil, p.errf(`expected "apple" after "anchor generic"`)
			}
			p.next()
			return AppleGenericAnchor{}, nil
		case p.isKw("trusted"):
			p.next()
			return TrustedAnchor{}, nil
		}
		return p.certSlotSpec(SlotRoot)
	case "certificate", "cert":
		p.next()
		if p.isKw("trusted") {
			p.next()
			return TrustedAnchor{}, nil
		}
		slot, err := p.certSlot()
		if err != nil {
			return nil, err
		}
		if p.isKw("trusted") {
			p.next()
			return TrustedCert{Slot: slot}, nil
		}
		return p.certSlotSpec(slot)
	}
	return nil, p.errf("unexpected keyword")
}

// eql is the optional "=" or "==" before identifier, cdhash and platform values.
func (p *parser) eql() {
	if k := p.peek().kind; k == tEq || k == tEqEq {
		p.next()
	}
}

func (p *parser) identString(what string) (string, error) {
	t := p.peek()
	if t.kind != tWord && t.kind != tString {
		if t.kind == tKeyword {
			return "", p.errf("expected %s; %q is a reserved word and must be quoted", what, t.val)
		}
		return "", p.errf("expected %s (a word or a quoted string)", what)
	}
	p.next()
	return t.val, nil
}

func (p *parser) hash() ([]byte, error) {
	t := p.peek()
	if t.kind != tHash {
		return nil, p.errf(`expected a hash H"<40 hex digits>"`)
	}
	if len(t.val) != 40 {
		return nil, p.errf("invalid hash length: want 40 hex digits (SHA-1), have %d", len(t.val))
	}
	p.next()
	return decodeHex(t.val), nil
}

// int32Tok reads a non-negative INTEGER that fits in an int32 (Apple
// truncates larger ones silently; we refuse them).
func (p *parser) int32Tok() (int32, error) {
	t := p.peek()
	if t.kind != tInt {
		return 0, p.errf("expected a number")
	}
	n, err := strconv.ParseUint(t.val, 10, 64)
	if err != nil || n > math.MaxInt32 {
		return 0, p.errf("number out of range")
	}
	p.next()
	return int32(n), nil
}

func (p *parser) certSlot() (Slot, error) {
	t := p.peek()
	switch {
	case t.kind == tInt:
		n, err := p.int32Tok()
		return Slot(n), err
	case t.kind == tNeg:
		p.next()
		nt := p.peek()
		if nt.kind != tInt {
			return 0, p.errf("expected a number after '-'")
		}
		n, err := strconv.ParseUint(nt.val, 10, 64)
		if err != nil || n > math.MaxInt32+1 {
			return 0, p.errf("number out of range")
		}
		p.next()
		return Slot(-int64(n)), nil
	case t.kind == tKeyword && t.val == "leaf":
		p.next()
		return SlotLeaf, nil
	case t.kind == tKeyword && t.val == "root":
		p.next()
		return SlotRoot, nil
	}
	return 0, p.errf("expected a certificate slot (leaf, root, N or -N)")
}

func (p *parser) certSlotSpec(slot Slot) (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tEq, tEqEq, tHash, tWord, tString, tPath:
		p.eql()
		t = p.peek()
		switch t.kind {
		case tHash:
			h, err := p.hash()
			return CertHash{Slot: slot, Hash: h}, err
		case tWord, tString, tPath:
			return nil, p.errAt(t, fmt.Sprintf("certificate files cannot be referenced (%v); use H\"<sha1 of the certificate>\"", ErrUnsupported))
		}
		return nil, p.errf(`expected a certificate hash H"…"`)
	case tLBrack:
		key, err := p.bracketKey()
		if err != nil {
			return nil, err
		}
		kind, k, ok := certKey(key)
		if !ok {
			return nil, p.errAt(t, fmt.Sprintf("%q: unrecognized certificate field (want subject.*, field.OID, extension.OID, policy.OID or timestamp.OID)", key))
		}
		if kind != FieldSubject {
			if _, err := encodeOID(k); err != nil {
				return nil, p.errAt(t, fmt.Sprintf("%q: %v", key, err))
			}
		}
		m, err := p.matchSuffix()
		if err != nil {
			return nil, err
		}
		return CertField{Slot: slot, Kind: kind, Key: k, Match: m}, nil
	}
	return nil, p.errf(`expected "[field]", "= H\"hash\"" or "trusted" after certificate slot`)
}

// certKey classifies a bracketed certificate key as Apple's
// certMatchOperation does.
func certKey(key string) (CertFieldKind, string, bool) {
	switch {
	case strings.HasPrefix(key, "timestamp."):
		return FieldDate, key[len("timestamp."):], true
	case strings.HasPrefix(key, "subject."):
		return FieldSubject, key, true
	case strings.HasPrefix(key, "field."):
		return FieldOID, key[len("field."):], true
	case strings.HasPrefix(key, "extension."):
		return FieldOID, key[len("extension."):], true
	case strings.HasPrefix(key, "policy."):
		return FieldPolicy, key[len("policy."):], true
	}
	return 0, "", false
}

func (p *parser) bracketKey() (string, error) {
	if _, err := p.expect(tLBrack, `"["`); err != nil {
		return "", err
	}
	key, err := p.identString("key")
	if err != nil {
		return "", err
	}
	if _, err := p.expect(tRBrack, `"]"`); err != nil {
		return "", err
	}
	return key, nil
}

func (p *parser) dataValue() (string, error) {
	t := p.peek()
	switch t.kind {
	case tWord, tString, tHex:
		p.next()
		return t.val, nil
	case tKeyword:
		return "", p.errf("expected a value; %q is a reserved word and must be quoted", t.val)
	}
	return "", p.errf("expected a value (word, quoted string or 0x hex)")
}

func (p *parser) timestamp() (int64, error) {
	p.next() // "timestamp"
	t := p.peek()
	if t.kind != tString {
		return 0, p.errf(`expected a quoted GeneralizedTime after "timestamp", e.g. "20240131120000Z"`)
	}
	secs, err := parseGeneralizedTime(t.val)
	if err != nil {
		return 0, p.errf("%v", err)
	}
	p.next()
	return secs, nil
}

func (p *parser) matchSuffix() (Match, error) {
	t := p.peek()
	switch t.kind {
	case tKeyword:
		switch t.val {
		case "exists":
			p.next()
			return Match{Op: MatchExists}, nil
		case "absent":
			p.next()
			return Match{Op: MatchAbsent}, nil
		}
		return Match{Op: MatchExists}, nil
	case tEq, tEqEq:
		p.next()
		if p.isKw("timestamp") {
			s, err := p.timestamp()
			return Match{Op: MatchOn, Seconds: s}, err
		}
		op := MatchEqual
		if p.peek().kind == tStar {
			p.next()
			op = MatchEndsWith
		}
		v, err := p.dataValue()
		if err != nil {
			return Match{}, err
		}
		if p.peek().kind == tStar {
			p.next()
			if op == MatchEndsWith {
				op = MatchContains
			} else {
				op = MatchBeginsWith
			}
		}
		return Match{Op: op, Value: v}, nil
	case tTilde:
		p.next()
		v, err := p.dataValue()
		return Match{Op: MatchContains, Value: v}, err
	case tLess, tGT, tLE, tGE:
		p.next()
		ops := map[tokKind][2]MatchOp{
			tLess: {MatchLessThan, MatchBefore}, tGT: {MatchGreaterThan, MatchAfter},
			tLE: {MatchLessEqual, MatchOnOrBefore}, tGE: {MatchGreaterEqual, MatchOnOrAfter},
		}[t.kind]
		if p.isKw("timestamp") {
			s, err := p.timestamp()
			return Match{Op: ops[1], Seconds: s}, err
		}
		v, err := p.dataValue()
		return Match{Op: ops[0], Value: v}, err
	}
	return Match{Op: MatchExists}, nil
}

// parseGeneralizedTime reads an ASN.1 GeneralizedTime as Apple's grammar
// takes it ("YYYYMMDDhhmmss[.fff](Z|±hhmm)") and returns whole seconds
// since 2001-01-01T00:00:00Z; fractions are dropped as Apple's int64 cast does.
func parseGeneralizedTime(s string) (int64, error) {
	bad := errors.New(`invalid timestamp; want GeneralizedTime "YYYYMMDDhhmmssZ" (optionally with .fraction or ±hhmm)`)
	if len(s) < 15 {
		return 0, bad
	}
	for i := 0; i < 14; i++ {
		if !isDigit(s[i]) {
			return 0, bad
		}
	}
	rest := s[14:]
	if rest[0] == '.' {
		j := 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		if j == 1 {
			return 0, bad
		}
		rest = rest[j:]
	}
	layout := "20060102150405"
	var t time.Time
	var err error
	switch {
	case rest == "Z":
		t, err = time.Parse(layout, s[:14])
	case len(rest) == 5 && (rest[0] == '+' || rest[0] == '-'):
		t, err = time.Parse(layout+"-0700", s[:14]+rest)
	default:
		return 0, bad
	}
	if err != nil {
		return 0, bad
	}
	secs := t.Unix() - appleEpoch
	if !printableTime(secs) {
		return 0, errors.New("timestamp outside years 0000-9999 (UTC)")
	}
	return secs, nil
}
