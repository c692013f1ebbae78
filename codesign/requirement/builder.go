package requirement

import (
	"errors"
	"fmt"
)

// OIDs of Apple's certificate markers, as used in designated requirements.
const (
	// OIDDeveloperIDIntermediate marks the Developer ID Certification
	// Authority (certificate 1 in a Developer ID chain).
	OIDDeveloperIDIntermediate = "1.2.840.113635.100.6.2.6"
	// OIDDeveloperIDApplication marks a Developer ID Application leaf.
	OIDDeveloperIDApplication = "1.2.840.113635.100.6.1.13"
	// OIDDeveloperIDInstaller marks a Developer ID Installer leaf.
	OIDDeveloperIDInstaller = "1.2.840.113635.100.6.1.14"
	// OIDMacAppStoreApplication marks a Mac App Store application leaf.
	OIDMacAppStoreApplication = "1.2.840.113635.100.6.1.9"
	// OIDAppleDevelopment marks an Apple Development (iPhone Developer) leaf.
	OIDAppleDevelopment = "1.2.840.113635.100.6.1.2"
	// OIDAppleDevelopmentMac marks a Mac Development leaf.
	OIDAppleDevelopmentMac = "1.2.840.113635.100.6.1.12"
)

// ErrBuilder reports invalid input to a Builder.
var ErrBuilder = errors.New("requirement: invalid builder input")

// Builder assembles the common requirement shapes. Each call adds one
// clause; Build joins them with "and" in the order they were added. The
// zero value is ready to use.
//
//	r, err := new(requirement.Builder).
//		Identifier("com.example.app").
//		DeveloperID("ABCDE12345").
//		Build()
type Builder struct {
	terms []Expr
	err   error
}

func (b *Builder) add(e Expr) *Builder {
	b.terms = append(b.terms, e)
	return b
}

func (b *Builder) fail(format string, args ...any) *Builder {
	if b.err == nil {
		b.err = fmt.Errorf("%w: %s", ErrBuilder, fmt.Sprintf(format, args...))
	}
	return b
}

// Identifier requires one of the given signing identifiers (OR'ed when
// there are several).
func (b *Builder) Identifier(ids ...string) *Builder {
	if len(ids) == 0 {
		return b.fail("Identifier needs at least one identifier")
	}
	var e Expr
	for _, id := range ids {
		if err := checkText(id); err != nil {
			return b.fail("identifier %q: %v", id, err)
		}
		if e == nil {
			e = Identifier{Value: id}
		} else {
			e = Or{e, Identifier{Value: id}}
		}
	}
	return b.add(e)
}

// TeamID requires the leaf certificate's organizational unit to be the
// given Apple team ID (certificate leaf[subject.OU] = TEAM). A team ID alone
// is not enough: pair it with AppleGenericAnchor (DeveloperID does both),
// or anyone can mint a self-signed certificate with that OU.
func (b *Builder) TeamID(team string) *Builder {
	if !validTeamID(team) {
		return b.fail("team ID %q: want 10 characters A-Z, 0-9", team)
	}
	return b.add(CertField{Slot: SlotLeaf, Kind: FieldSubject, Key: "subject.OU", Match: Match{Op: MatchEqual, Value: team}})
}

func validTeamID(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'A' && s[i] <= 'Z' || isDigit(s[i])) {
			return false
		}
	}
	return true
}

// AppleGenericAnchor requires a chain anchored at an Apple root CA
// ("anchor apple generic"): App Store, Developer ID and development
// signatures all qualify.
func (b *Builder) AppleGenericAnchor() *Builder { return b.add(AppleGenericAnchor{}) }

// AppleAnchor requires code signed by Apple itself ("anchor apple").
func (b *Builder) AppleAnchor() *Builder { return b.add(AppleAnchor{}) }

// DeveloperID requires a Developer ID Application signature from the given
// team: anchor apple generic, the Developer ID intermediate marker on
// certificate 1, the Developer ID Application marker on the leaf, and the
// team ID — the clauses Xcode writes into a Developer ID designated
// requirement.
func (b *Builder) DeveloperID(team string) *Builder {
	b.AppleGenericAnchor()
	b.add(CertField{Slot: 1, Kind: FieldOID, Key: OIDDeveloperIDIntermediate, Match: Match{Op: MatchExists}})
	b.add(CertField{Slot: SlotLeaf, Kind: FieldOID, Key: OIDDeveloperIDApplication, Match: Match{Op: MatchExists}})
	return b.TeamID(team)
}

// CertificateExtension requires the certificate in slot to carry the
// extension oid (certificate <slot>[field.OID] exists).
func (b *Builder) CertificateExtension(slot Slot, oid string) *Builder {
	if _, err := encodeOID(oid); err != nil {
		return b.fail("OID %q: %v", oid, err)
	}
	return b.add(CertField{Slot: slot, Kind: FieldOID, Key: oid, Match: Match{Op: MatchExists}})
}

// MinimumVersion requires CFBundleShortVersionString >= version, compared
// numerically component by component as Apple does ("1.10" > "1.9").
func (b *Builder) MinimumVersion(version string) *Builder {
	return b.InfoCompare("CFBundleShortVersionString", MatchGreaterEqual, version)
}

// InfoCompare adds info[key] <op> value; op must be one of MatchEqual ...
// MatchGreaterEqual.
func (b *Builder) InfoCompare(key string, op MatchOp, value string) *Builder {
	if err := checkText(key); err != nil {
		return b.fail("info key %q: %v", key, err)
	}
	if !op.HasValue() {
		return b.fail("InfoCompare needs a value operation, not %d", op)
	}
	return b.add(InfoKey{Key: key, Match: Match{Op: op, Value: value}})
}

// Entitlement requires the entitlement key to exist and not be false.
func (b *Builder) Entitlement(key string) *Builder {
	if err := checkText(key); err != nil {
		return b.fail("entitlement %q: %v", key, err)
	}
	return b.add(Entitlement{Key: key, Match: Match{Op: MatchExists}})
}

// EntitlementEquals requires the entitlement key to equal value (a string
// entitlement, or any element of an array entitlement).
func (b *Builder) EntitlementEquals(key, value string) *Builder {
	if err := checkText(key); err != nil {
		return b.fail("entitlement %q: %v", key, err)
	}
	return b.add(Entitlement{Key: key, Match: Match{Op: MatchEqual, Value: value}})
}

// Expr adds an arbitrary clause, for shapes the other methods do not cover.
func (b *Builder) Expr(e Expr) *Builder {
	if e == nil {
		return b.fail("nil expression")
	}
	return b.add(e)
}

// Build joins the clauses with "and". It fails if any call had invalid
// input or no clause was added, and checks that the result compiles.
func (b *Builder) Build() (*Requirement, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.terms) == 0 {
		return nil, fmt.Errorf("%w: no clauses", ErrBuilder)
	}
	e := b.terms[0]
	for _, t := range b.terms[1:] {
		e = And{e, t}
	}
	r := &Requirement{Expr: e}
	if _, err := r.MarshalBinary(); err != nil {
		return nil, err
	}
	return r, nil
}

// String returns the canonical text of what Build would return, or "" if
// the builder holds an error.
func (b *Builder) String() string {
	r, err := b.Build()
	if err != nil {
		return ""
	}
	return r.String()
}

// DeveloperIDApp returns the requirement recommended for an XPC service or
// daemon that must only talk to one Developer ID–signed app:
//
//	identifier "<id>" and anchor apple generic and
//	certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and
//	certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and
//	certificate leaf[subject.OU] = <team>
func DeveloperIDApp(identifier, team string) (*Requirement, error) {
	return new(Builder).Identifier(identifier).DeveloperID(team).Build()
}

// checkText rejects strings that requirement text cannot carry in
// identifier and key positions.
func checkText(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	if !quotable(s) {
		return errors.New("contains a backslash, NUL or invalid UTF-8")
	}
	return nil
}
