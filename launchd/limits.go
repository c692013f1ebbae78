package launchd

import (
	"fmt"

	"github.com/goxpc/goxpc/internal/plistsafe"
)

// The structural limits applied before a plist reaches howett.net/plist
// live in internal/plistsafe, shared with codesign.
const maxDepth = plistsafe.MaxDepth

// errStructure wraps ErrFormat, so callers see one sentinel for input the
// package will not decode.
var errStructure = fmt.Errorf("%w: malformed or oversized structure", ErrFormat)

// checkStructure rejects input that would cost the decoder far more than
// its size (see plistsafe.Check).
func checkStructure(data []byte) error {
	if err := plistsafe.Check(data); err != nil {
		return fmt.Errorf("%w: %w", errStructure, err)
	}
	return nil
}

// checkBinary is checkStructure for a binary plist.
func checkBinary(data []byte) error { return checkStructure(data) }
