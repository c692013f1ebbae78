package requirement

import (
	"errors"
	"fmt"
)

// Limits on untrusted input. Real requirements are a few hundred bytes.
const (
	// MaxTextSize is the longest requirement text Parse and ParseSet accept.
	MaxTextSize = 128 << 10
	// MaxBlobSize is the largest binary requirement or requirement set the
	// decoders accept.
	MaxBlobSize = 128 << 10
	// MaxDepth is the deepest expression nesting accepted, counted in nodes
	// from the root to a leaf. Apple's interpreter refuses programs nested
	// 1000 deep, so 999 is the most that can ever be evaluated.
	MaxDepth = 999
	// MaxSetEntries is the most requirements a Set may hold.
	MaxSetEntries = 64
)

// Sentinel errors; test with errors.Is.
var (
	// ErrTooLarge reports input beyond MaxTextSize or MaxBlobSize.
	ErrTooLarge = errors.New("requirement: input too large")
	// ErrTooDeep reports expressions nested deeper than MaxDepth.
	ErrTooDeep = errors.New("requirement: expression nested too deeply")
	// ErrInvalidBlob reports a malformed binary requirement or set.
	ErrInvalidBlob = errors.New("requirement: invalid binary requirement")
	// ErrUnsupported reports valid input this package cannot handle (for
	// example the DER "lightweight code requirement" kind, or certificate
	// files named in text). It wraps errors.ErrUnsupported.
	ErrUnsupported = fmt.Errorf("requirement: %w", errors.ErrUnsupported)
)

// SyntaxError describes invalid requirement text. Use errors.As to get it.
type SyntaxError struct {
	Offset int    // byte offset of the offending token in the input
	Line   int    // 1-based line
	Column int    // 1-based column, in characters
	Token  string // the offending token as written, or "end of input"
	Msg    string // what was wrong
}

// Error formats the error with its position and the offending token.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("requirement: syntax error at line %d, column %d near %s: %s", e.Line, e.Column, e.Token, e.Msg)
}

func blobErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidBlob, fmt.Sprintf(format, args...))
}
