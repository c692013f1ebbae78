package codesign

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/goxpc/goxpc/internal/plistsafe"
)

// maxDERDepth bounds nesting in DER entitlements.
const maxDERDepth = 32

// DecodeEntitlements returns the signed entitlements: the XML plist when the
// signature has one, else the DER form. It returns (nil, nil) when the
// signature carries no entitlements.
func (s *Signature) DecodeEntitlements() (map[string]any, error) {
	switch {
	case len(s.Entitlements) > 0:
		return decodeEntitlementsXML(s.Entitlements)
	case len(s.EntitlementsDER) > 0:
		return DecodeDEREntitlements(s.EntitlementsDER)
	}
	return nil, nil
}

func decodeEntitlementsXML(b []byte) (m map[string]any, err error) {
	if _, err := plistsafe.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("entitlements plist: %w", err)
	}
	return m, nil
}

var errDER = errors.New("DER entitlements")

// DecodeDEREntitlements decodes Apple's DER entitlements (CoreEntitlements):
// [APPLICATION 16] { INTEGER version, [CONTEXT 16] dictionary }, where a
// dictionary holds SEQUENCE { UTF8String key, value } pairs and values are
// BOOLEAN, INTEGER, UTF8String, OCTET STRING, SEQUENCE (array) or a nested
// dictionary. Integers become int64, arrays []any, dictionaries map[string]any.
func DecodeDEREntitlements(der []byte) (map[string]any, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errDER, err)
	}
	if len(rest) != 0 || outer.Class != asn1.ClassApplication || outer.Tag != 16 || !outer.IsCompound {
		return nil, fmt.Errorf("%w: not an [APPLICATION 16] entitlements structure", errDER)
	}
	var version int
	body, err := asn1.Unmarshal(outer.Bytes, &version)
	if err != nil {
		return nil, fmt.Errorf("%w: version: %v", errDER, err)
	}
	if version != 1 {
		return nil, fmt.Errorf("%w: version %d", errDER, version)
	}
	var dict asn1.RawValue
	if rest, err = asn1.Unmarshal(body, &dict); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: dictionary: %v", errDER, err)
	}
	v, err := derValue(dict, 0)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is not a dictionary", errDER)
	}
	return m, nil
}

func derValue(v asn1.RawValue, depth int) (any, error) {
	if depth > maxDERDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errDER, maxDERDepth)
	}
	switch {
	case v.Class == asn1.ClassContextSpecific && v.Tag == 16 && v.IsCompound:
		m := make(map[string]any)
		for rest := v.Bytes; len(rest) > 0; {
			var pair asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &pair); err != nil {
				return nil, fmt.Errorf("%w: %v", errDER, err)
			}
			if pair.Class != asn1.ClassUniversal || pair.Tag != asn1.TagSequence {
				return nil, fmt.Errorf("%w: dictionary entry is not a SEQUENCE", errDER)
			}
			var key, val asn1.RawValue
			r2, err := asn1.Unmarshal(pair.Bytes, &key)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errDER, err)
			}
			if key.Class != asn1.ClassUniversal || key.Tag != asn1.TagUTF8String {
				return nil, fmt.Errorf("%w: dictionary key is not a UTF8String", errDER)
			}
			if r2, err = asn1.Unmarshal(r2, &val); err != nil || len(r2) != 0 {
				return nil, fmt.Errorf("%w: dictionary value of %q: %v", errDER, key.Bytes, err)
			}
			x, err := derValue(val, depth+1)
			if err != nil {
				return nil, err
			}
			if _, dup := m[string(key.Bytes)]; dup {
				return nil, fmt.Errorf("%w: key %q appears twice", errDER, key.Bytes)
			}
			m[string(key.Bytes)] = x
		}
		return m, nil
	case v.Class != asn1.ClassUniversal:
		return nil, fmt.Errorf("%w: unexpected tag class %d tag %d", errDER, v.Class, v.Tag)
	case v.Tag == asn1.TagSequence:
		arr := []any{}
		for rest := v.Bytes; len(rest) > 0; {
			var e asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &e); err != nil {
				return nil, fmt.Errorf("%w: %v", errDER, err)
			}
			x, err := derValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, x)
		}
		return arr, nil
	case v.Tag == asn1.TagBoolean:
		var b bool
		if _, err := asn1.Unmarshal(v.FullBytes, &b); err != nil {
			return nil, fmt.Errorf("%w: %v", errDER, err)
		}
		return b, nil
	case v.Tag == asn1.TagInteger:
		var n *big.Int
		if _, err := asn1.Unmarshal(v.FullBytes, &n); err != nil {
			return nil, fmt.Errorf("%w: %v", errDER, err)
		}
		if !n.IsInt64() {
			return nil, fmt.Errorf("%w: integer %s out of range", errDER, n)
		}
		return n.Int64(), nil
	case v.Tag == asn1.TagUTF8String:
		return string(v.Bytes), nil
	case v.Tag == asn1.TagOctetString:
		return append([]byte(nil), v.Bytes...), nil
	}
	return nil, fmt.Errorf("%w: unexpected tag %d", errDER, v.Tag)
}
