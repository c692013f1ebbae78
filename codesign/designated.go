package codesign

// designatedRequirement returns the designated requirement in canonical
// text, or "" while no decoder is available.
//
// TODO(lead): decode s.Requirements with package codesign/requirement once
// it can read the binary requirement set (explicit designated requirement,
// or the implied one built from identifier and chain).
func (s *Signature) designatedRequirement() string { return "" }
