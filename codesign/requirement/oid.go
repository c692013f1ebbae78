package requirement

import (
	"errors"
	"strconv"
	"strings"
)

// encodeOID turns a dotted OID ("1.2.840.113635.100.6.2.6") into the DER
// contents octets Apple stores in OpCertGeneric, OpCertPolicy and
// OpCertFieldDate.
func encodeOID(dotted string) ([]byte, error) {
	parts := strings.Split(dotted, ".")
	if len(parts) < 2 {
		return nil, errors.New("OID needs at least two components")
	}
	arcs := make([]uint64, len(parts))
	for i, s := range parts {
		if s == "" || (len(s) > 1 && s[0] == '0') {
			return nil, errors.New("malformed OID component " + strconv.Quote(s))
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, errors.New("malformed OID component " + strconv.Quote(s))
		}
		arcs[i] = n
	}
	if arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40) || arcs[1] > (1<<63)/2 {
		return nil, errors.New("invalid OID: first component must be 0, 1 or 2 (and the second below 40 unless the first is 2)")
	}
	out := appendBase128(nil, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		out = appendBase128(out, a)
	}
	return out, nil
}

func appendBase128(b []byte, n uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(n & 0x7f)
	for n >>= 7; n > 0; n >>= 7 {
		i--
		tmp[i] = byte(n&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}

// decodeOID is the inverse of encodeOID; it accepts only minimal (DER)
// encodings so that decoding and re-encoding give the same bytes.
func decodeOID(b []byte) (string, error) {
	if len(b) == 0 {
		return "", errors.New("empty OID")
	}
	var sb strings.Builder
	first := true
	for i := 0; i < len(b); {
		if b[i] == 0x80 {
			return "", errors.New("non-minimal OID encoding")
		}
		var n uint64
		for {
			if i >= len(b) {
				return "", errors.New("truncated OID")
			}
			if n > (1<<64-1)>>7 {
				return "", errors.New("OID component too large")
			}
			c := b[i]
			i++
			n = n<<7 | uint64(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if first {
			first = false
			switch {
			case n < 40:
				sb.WriteString("0." + strconv.FormatUint(n, 10))
			case n < 80:
				sb.WriteString("1." + strconv.FormatUint(n-40, 10))
			default:
				sb.WriteString("2." + strconv.FormatUint(n-80, 10))
			}
			continue
		}
		sb.WriteByte('.')
		sb.WriteString(strconv.FormatUint(n, 10))
	}
	// Refuse anything encodeOID would not produce byte for byte.
	if again, err := encodeOID(sb.String()); err != nil || string(again) != string(b) {
		return "", errors.New("OID out of range")
	}
	return sb.String(), nil
}
