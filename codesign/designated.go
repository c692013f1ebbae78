package codesign

import (
	"fmt"
	"strings"

	"github.com/goxpc/goxpc/codesign/requirement"
)

// designatedRequirement returns the designated requirement in canonical
// text: the explicit one from the internal requirement set, else for ad-hoc
// code the implied one Security.framework uses, `cdhash H"…"` (ORed over
// this architecture's CodeDirectories; on darwin a universal file's implied
// requirement also names the other architectures' cdhashes). For signed
// code without an explicit one it returns "": the implied requirement of
// signed code depends on the certificate chain's trust, which this reader
// does not judge.
func (s *Signature) designatedRequirement() string {
	if len(s.Requirements) > 0 {
		var set requirement.Set
		if err := set.UnmarshalBinary(s.Requirements); err == nil {
			if r := set[requirement.Designated]; r != nil {
				return r.String()
			}
		}
	}
	if !s.Adhoc() {
		return ""
	}
	parts := make([]string, len(s.CodeDirectories))
	for i, cd := range s.CodeDirectories {
		parts[i] = fmt.Sprintf("cdhash H\"%x\"", cd.CDHash())
	}
	text := strings.Join(parts, " or ")
	if r, err := requirement.Parse(text); err == nil {
		return r.String()
	}
	return text
}
