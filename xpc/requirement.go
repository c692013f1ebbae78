package xpc

import (
	"fmt"

	"github.com/goxpc/goxpc/codesign/requirement"
)

// validateRequirement parses requirement text with goxpc's pure-Go parser of
// Apple's requirement language, so a malformed string is an error at the
// call instead of an abort inside libxpc or Security.framework.
func validateRequirement(text string) error {
	if _, err := requirement.Parse(text); err != nil {
		return fmt.Errorf("xpc: invalid peer requirement: %w", err)
	}
	return nil
}
