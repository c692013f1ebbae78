package requirement

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The lexer follows the RequirementLexer in Apple's requirements.grammar
// (Security, OSX/libsecurity_codesigning): whitespace is space, tab and
// newline only; comments are "#…", "//…" and "/* … */"; bare words
// (DOTKEYs) are letters and digits starting with a letter, joined by dots
// whose parts may also be numbers; strings only know the escape \";
// H"hex" is a hash and 0xhex a data constant. Anything Apple's lexer
// rejects is rejected here too, so text that passes Parse never makes
// Security.framework throw.

type tokKind int

const (
	tEOF tokKind = iota
	tErr         // lexical error; see lexer.err
	tWord
	tKeyword
	tString
	tHash
	tHex
	tInt
	tPath
	tArrow
	tSemi
	tLParen
	tRParen
	tLBrack
	tRBrack
	tLess
	tGT
	tLE
	tGE
	tComma
	tEq
	tEqEq
	tTilde
	tNeg
	tNot
	tStar
)

type token struct {
	kind     tokKind
	val      string // decoded value (word, keyword, string contents, hex bytes, digits)
	pos, end int
}

// keywords are the literals of Apple's grammar (RequirementKeywords.h); a
// bare word equal to one of them is the keyword, never a value.
var keywords = map[string]bool{
	"guest": true, "host": true, "designated": true, "library": true, "plugin": true,
	"or": true, "and": true, "always": true, "true": true, "never": true, "false": true,
	"identifier": true, "cdhash": true, "platform": true, "notarized": true, "legacy": true,
	"anchor": true, "apple": true, "generic": true, "certificate": true, "cert": true,
	"trusted": true, "info": true, "entitlement": true, "exists": true, "absent": true,
	"leaf": true, "root": true, "timestamp": true,
}

var punct = map[byte]tokKind{';': tSemi, '(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack,
	'<': tLess, '>': tGT, ',': tComma, '=': tEq, '~': tTilde, '-': tNeg, '!': tNot, '*': tStar}

type lexer struct {
	src string
	pos int   // next byte to scan
	err error // first lexical error; sticky
}

func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHex(c byte) bool    { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func newSyntaxError(src string, off int, tok, msg string) *SyntaxError {
	if off > len(src) {
		off = len(src)
	}
	line, col := 1, 1
	for i := 0; i < off; {
		r, n := utf8.DecodeRuneInString(src[i:])
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i += n
	}
	return &SyntaxError{Offset: off, Line: line, Column: col, Token: tok, Msg: msg}
}

func (l *lexer) errAt(off, end int, msg string) error {
	if end > len(l.src) {
		end = len(l.src)
	}
	tok := "end of input"
	if off < len(l.src) {
		if end <= off {
			_, n := utf8.DecodeRuneInString(l.src[off:])
			end = off + n
		}
		tok = strconv.Quote(l.src[off:end])
	}
	return newSyntaxError(l.src, off, tok, msg)
}

// newLexer checks the input as a whole (size, UTF-8) and returns a lexer
// that scans tokens on demand, so that input rejected early (too deep,
// a bad first token) is never scanned to its end.
func newLexer(src string) (*lexer, error) {
	l := &lexer{src: src}
	if len(src) > MaxTextSize {
		return nil, fmt.Errorf("%w: text is %d bytes, limit %d", ErrTooLarge, len(src), MaxTextSize)
	}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, newSyntaxError(src, i, fmt.Sprintf("byte 0x%02x", src[i]), "text is not valid UTF-8")
	}
	return l, nil
}

// next returns the next token: tEOF at the end, tErr (with l.err set) on
// a lexical error.
func (l *lexer) next() token {
	if l.err != nil {
		return token{kind: tErr, pos: l.pos, end: l.pos}
	}
	tok, err := l.scan()
	if err != nil {
		l.err = err
		return token{kind: tErr, pos: l.pos, end: l.pos}
	}
	return tok
}

func (l *lexer) scan() (token, error) {
	src := l.src
	for i := l.pos; i < len(src); {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '\r':
			return token{}, l.errAt(i, i+1, "carriage return is not whitespace in requirement text (use \\n line ends)")
		case c == 0:
			return token{}, l.errAt(i, i+1, "NUL character in requirement text")
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			// Apple's C_COMMENT: "/*" ( ~'*' | '*' ~'/' )* "*/". A '*'
			// always eats the next character, so "**/" does not close.
			i += 2
			closed := false
			for i < len(src) {
				if src[i] != '*' {
					i++
					continue
				}
				if i+1 < len(src) && src[i+1] == '/' {
					i += 2
					closed = true
					break
				}
				i += 2
			}
			if !closed {
				return token{}, l.errAt(start, start+2, "unterminated /* comment (note: \"**/\" does not close a comment in Apple's grammar)")
			}
		case c == '/':
			// PATHNAME: "/" IDENT ( "/" IDENT )+
			j := i
			parts := 0
			for j < len(src) && src[j] == '/' && j+1 < len(src) && isLetter(src[j+1]) {
				j++
				for j < len(src) && (isLetter(src[j]) || isDigit(src[j])) {
					j++
				}
				parts++
			}
			if parts < 2 {
				return token{}, l.errAt(i, j+1, "unexpected '/'")
			}
			return l.emit(tPath, src[i:j], i, j), nil
		case c == 'H' && i+1 < len(src) && src[i+1] == '"':
			j := i + 2
			for j < len(src) && isHex(src[j]) {
				j++
			}
			if j == i+2 || j >= len(src) || src[j] != '"' {
				return token{}, l.errAt(i, j+1, `malformed hash constant; expected H"hexdigits"`)
			}
			return l.emit(tHash, src[i+2:j], i, j+1), nil
		case isLetter(c):
			j := i + 1
			for j < len(src) && (isLetter(src[j]) || isDigit(src[j])) {
				j++
			}
			for j+1 < len(src) && src[j] == '.' && (isLetter(src[j+1]) || isDigit(src[j+1])) {
				j++
				if isLetter(src[j]) {
					for j < len(src) && (isLetter(src[j]) || isDigit(src[j])) {
						j++
					}
				} else {
					for j < len(src) && isDigit(src[j]) {
						j++
					}
				}
			}
			w := src[i:j]
			if keywords[w] {
				return l.emit(tKeyword, w, i, j), nil
			}
			return l.emit(tWord, w, i, j), nil
		case c == '0' && i+1 < len(src) && src[i+1] == 'x':
			j := i + 2
			for j < len(src) && isHex(src[j]) {
				j++
			}
			if j == i+2 {
				return token{}, l.errAt(i, j, "hex constant 0x needs digits")
			}
			if (j-i-2)%2 != 0 {
				return token{}, l.errAt(i, j, "odd number of digits in hex constant")
			}
			b, _ := hex.DecodeString(src[i+2 : j])
			return l.emit(tHex, string(b), i, j), nil
		case isDigit(c):
			j := i
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			return l.emit(tInt, src[i:j], i, j), nil
		case c == '"':
			j := i + 1
			var val []byte
			for {
				if j >= len(src) {
					return token{}, l.errAt(i, i+1, "unterminated string")
				}
				if src[j] == '"' {
					break
				}
				if src[j] == '\\' {
					if j+1 < len(src) && src[j+1] == '"' {
						val = append(val, '"')
						j += 2
						continue
					}
					return token{}, l.errAt(j, j+2, `invalid escape in string; only \" is allowed`)
				}
				if src[j] == 0 {
					return token{}, l.errAt(j, j+1, "NUL character in string")
				}
				val = append(val, src[j])
				j++
			}
			return l.emit(tString, string(val), i, j+1), nil
		default:
			two := ""
			if i+1 < len(src) {
				two = src[i : i+2]
			}
			switch two {
			case "=>":
				return l.emit(tArrow, two, i, i+2), nil
			case "<=":
				return l.emit(tLE, two, i, i+2), nil
			case ">=":
				return l.emit(tGE, two, i, i+2), nil
			case "==":
				return l.emit(tEqEq, two, i, i+2), nil
			}
			k, ok := punct[c]
			if !ok {
				return token{}, l.errAt(i, i, "unexpected character")
			}
			return l.emit(k, src[i:i+1], i, i+1), nil
		}
	}
	l.pos = len(src)
	return token{kind: tEOF, pos: len(src), end: len(src)}, nil
}

func (l *lexer) emit(k tokKind, val string, pos, end int) token {
	l.pos = end
	return token{kind: k, val: val, pos: pos, end: end}
}

func isValidUTF8(s string) bool { return utf8.ValidString(s) }
