package requirement

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// String returns the canonical text of the requirement: what Apple's
// decompiler prints (codesign -d -r-, csreq -t), with its parenthesisation
// and quoting choices — identifiers quoted, bare words for simple keys and
// values, H"…" hashes, " /* exists */" for existence tests, " absent "
// with its trailing space, 0x… for values that are not printable ASCII.
//
// It departs from Apple only where Apple's output would not compile back to
// the same program: right-nested and/or chains keep their parentheses,
// "certificate <slot> trusted" gets its missing space, dates print as
// timestamp "YYYYMMDDhhmmssZ", values containing a backslash print as 0x…
// where the grammar allows it, UTF-8 text in identifiers and keys stays
// quoted, and bare words that would not lex as one word are quoted.
// Requirements decoded from unusual blobs (unknown opcodes, hashes that are
// not 20 bytes, odd slots) may still give text that Parse rejects, as they
// do with Apple's tools.
func (r *Requirement) String() string {
	if r == nil || r.Expr == nil {
		return ""
	}
	var p printer
	p.expr(r.Expr, slTop)
	return strings.TrimPrefix(p.String(), " ")
}

// Syntax levels of Apple's Dumper.
const (
	slPrimary = iota
	slAnd
	slOr
	slTop
)

type printer struct{ strings.Builder }

func (p *printer) expr(e Expr, level int) {
	switch e := e.(type) {
	case Never:
		p.WriteString("never")
	case Always:
		p.WriteString("always")
	case Identifier:
		p.WriteString("identifier ")
		p.data(e.Value, false, false)
	case AppleAnchor:
		p.WriteString("anchor apple")
	case AppleGenericAnchor:
		p.WriteString("anchor apple generic")
	case CertHash:
		p.WriteString("certificate ")
		p.WriteString(e.Slot.String())
		p.WriteString(" = ")
		p.hash(e.Hash)
	case LegacyInfoKey:
		p.WriteString("info[")
		p.data(e.Key, true, false)
		p.WriteString("] = ")
		p.data(e.Value, false, false)
	case And:
		if level < slAnd {
			p.WriteString("(")
		}
		p.expr(e.Left, slAnd)
		p.WriteString(" and ")
		p.expr(e.Right, slPrimary) // Apple: slAnd; keeps a right-nested "and" in parentheses
		if level < slAnd {
			p.WriteString(")")
		}
	case Or:
		if level < slOr {
			p.WriteString("(")
		}
		p.expr(e.Left, slOr)
		p.WriteString(" or ")
		p.expr(e.Right, slAnd) // Apple: slOr; keeps a right-nested "or" in parentheses
		if level < slOr {
			p.WriteString(")")
		}
	case Not:
		p.WriteString("! ")
		p.expr(e.X, slPrimary)
	case CDHash:
		p.WriteString("cdhash ")
		p.hash(e.Hash)
	case InfoKey:
		p.WriteString("info[")
		p.data(e.Key, true, false)
		p.WriteString("]")
		p.match(e.Match)
	case Entitlement:
		p.WriteString("entitlement[")
		p.data(e.Key, true, false)
		p.WriteString("]")
		p.match(e.Match)
	case CertField:
		p.WriteString("certificate ")
		p.WriteString(e.Slot.String())
		p.WriteString("[")
		switch e.Kind {
		case FieldSubject:
			p.data(e.Key, true, false)
		case FieldOID:
			p.WriteString("field." + e.Key)
		case FieldPolicy:
			p.WriteString("policy." + e.Key)
		case FieldDate:
			p.WriteString("timestamp." + e.Key)
		default:
			fmt.Fprintf(p, "/* unknown field kind %d */ %s", e.Kind, e.Key)
		}
		p.WriteString("]")
		p.match(e.Match)
	case TrustedCert:
		p.WriteString("certificate ")
		p.WriteString(e.Slot.String())
		p.WriteString(" trusted")
	case TrustedAnchor:
		p.WriteString("anchor trusted")
	case NamedAnchor:
		p.WriteString("anchor apple ")
		p.data(e.Name, false, false)
	case NamedCode:
		p.WriteString("(")
		p.data(e.Name, false, false)
		p.WriteString(")")
	case Platform:
		fmt.Fprintf(p, "platform = %d", e.Value)
	case Notarized:
		p.WriteString("notarized")
	case Legacy:
		p.WriteString("legacy")
	case UnknownOp:
		if e.Then == nil {
			fmt.Fprintf(p, " false /* opcode %d */", uint32(e.Op&^OpFlagMask))
		} else {
			fmt.Fprintf(p, " /* opcode %d */ ", uint32(e.Op&^OpFlagMask))
			p.expr(e.Then, level)
		}
	default:
		fmt.Fprintf(p, "/* invalid expression %T */", e)
	}
}

func (p *printer) match(m Match) {
	switch m.Op {
	case MatchExists:
		p.WriteString(" /* exists */")
	case MatchAbsent:
		p.WriteString(" absent ")
	case MatchEqual:
		p.WriteString(" = ")
		p.data(m.Value, false, true)
	case MatchContains:
		p.WriteString(" ~ ")
		p.data(m.Value, false, true)
	case MatchBeginsWith:
		p.WriteString(" = ")
		p.data(m.Value, false, true)
		p.WriteString("*")
	case MatchEndsWith:
		p.WriteString(" = *")
		p.data(m.Value, false, true)
	case MatchLessThan:
		p.WriteString(" < ")
		p.data(m.Value, false, true)
	case MatchGreaterEqual:
		p.WriteString(" >= ")
		p.data(m.Value, false, true)
	case MatchLessEqual:
		p.WriteString(" <= ")
		p.data(m.Value, false, true)
	case MatchGreaterThan:
		p.WriteString(" > ")
		p.data(m.Value, false, true)
	case MatchOn:
		p.WriteString(" = ")
		p.timestamp(m.Seconds)
	case MatchBefore:
		p.WriteString(" < ")
		p.timestamp(m.Seconds)
	case MatchAfter:
		p.WriteString(" > ")
		p.timestamp(m.Seconds)
	case MatchOnOrBefore:
		p.WriteString(" <= ")
		p.timestamp(m.Seconds)
	case MatchOnOrAfter:
		p.WriteString(" >= ")
		p.timestamp(m.Seconds)
	default:
		fmt.Fprintf(p, "MATCH OPCODE %d NOT UNDERSTOOD", uint32(m.Op))
	}
}

func (p *printer) timestamp(secs int64) {
	if !printableTime(secs) {
		fmt.Fprintf(p, "<timestamp %d out of range>", secs)
		return
	}
	t := time.Unix(secs+appleEpoch, 0).UTC()
	fmt.Fprintf(p, "timestamp %q", t.Format("20060102150405Z"))
}

func (p *printer) hash(b []byte) {
	p.WriteString(`H"`)
	p.WriteString(hex.EncodeToString(b))
	p.WriteString(`"`)
}

func isAlnum(c byte) bool { return isLetter(c) || isDigit(c) }

// lexesAsWord reports whether s reads back as one non-keyword DOTKEY.
func lexesAsWord(s string) bool {
	if s == "" || keywords[s] {
		return false
	}
	for i, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		allDigits, allAlnum := true, true
		for j := 0; j < len(part); j++ {
			allDigits = allDigits && isDigit(part[j])
			allAlnum = allAlnum && isAlnum(part[j])
		}
		if !allAlnum {
			return false
		}
		if !isLetter(part[0]) && (i == 0 || !allDigits) {
			return false
		}
	}
	return true
}

// data prints a string operand the way Apple's Dumper::data does: bare when
// it is a simple word (dots allowed only for keys), quoted when it is
// printable ASCII, 0x-hex otherwise. hexOK says the grammar accepts a hex
// constant in this position (match values); elsewhere (identifiers, keys,
// names) text that Apple would print as hex, which its parser cannot read
// back, stays quoted if it is UTF-8 without backslashes or NULs.
func (p *printer) data(s string, dotOK, hexOK bool) {
	const (
		simple = iota
		printable
		binaryMode
	)
	mode := simple
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlnum(c) || (c == '.' && dotOK):
			if i == 0 && isDigit(c) {
				mode = max(mode, printable)
			}
		case c > 0x20 && c < 0x7f || c == ' ' || c >= '\t' && c <= '\r':
			mode = max(mode, printable)
		default:
			mode = binaryMode
		}
	}
	if mode == simple && !lexesAsWord(s) {
		mode = printable
	}
	if strings.Contains(s, `\`) && hexOK {
		mode = binaryMode // Apple prints "\\", which its own parser rejects
	}
	if mode == binaryMode && !hexOK && quotable(s) {
		mode = printable
	}
	switch mode {
	case simple:
		p.WriteString(s)
	case printable:
		p.WriteByte('"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				p.WriteByte('\\')
			}
			p.WriteByte(s[i])
		}
		p.WriteByte('"')
	default:
		p.WriteString("0x")
		p.WriteString(hex.EncodeToString([]byte(s)))
	}
}

// quotable reports whether s can be written as a quoted string that Parse
// reads back unchanged.
func quotable(s string) bool {
	return !strings.ContainsAny(s, "\\\x00") && isValidUTF8(s)
}

// Timestamps print as four-digit years, 0000 through 9999.
var (
	minTimeSecs = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - appleEpoch
	maxTimeSecs = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix() - appleEpoch
)

func printableTime(secs int64) bool { return secs >= minTimeSecs && secs <= maxTimeSecs }
