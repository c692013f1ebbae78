package launchd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"howett.net/plist"
)

// MaxPlistSize is the largest plist, in bytes, this package decodes. Job
// plists and Info.plist files are a few kilobytes; the limit keeps a hostile
// file from costing much memory.
const MaxPlistSize = 1 << 20

// ErrTooLarge is returned for input longer than [MaxPlistSize].
var ErrTooLarge = errors.New("launchd: plist larger than MaxPlistSize")

// ErrFormat is returned for a plist in a format launchd does not read
// (OpenStep or GNUstep text), for bytes that are no plist at all, and for
// plists nested too deeply or whose shared objects would expand too far.
var ErrFormat = errors.New("launchd: not an XML or binary property list")

// Marshal encodes v (a *Job, *BundleInfo or any value howett.net/plist
// accepts) as an XML property list, indented with tabs like Apple's tools.
func Marshal(v any) ([]byte, error) {
	return encode(v, plist.XMLFormat)
}

// MarshalBinary encodes v as a binary property list (bplist00).
func MarshalBinary(v any) ([]byte, error) {
	return encode(v, plist.BinaryFormat)
}

func encode(v any, format int) (_ []byte, err error) {
	var buf bytes.Buffer
	enc := plist.NewEncoderForFormat(&buf, format)
	if format == plist.XMLFormat {
		enc.Indent("\t")
	}
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("launchd: encode plist: %w", err)
	}
	if format == plist.XMLFormat {
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// Unmarshal decodes an XML or binary property list into v. It rejects input
// larger than [MaxPlistSize] and text plists, and returns an error, never a
// panic, for malformed input.
func Unmarshal(data []byte, v any) (err error) {
	if len(data) > MaxPlistSize {
		return fmt.Errorf("%w (%d bytes, limit %d)", ErrTooLarge, len(data), MaxPlistSize)
	}
	// howett.net/plist turns its own failures into errors but re-panics
	// runtime errors (index out of range on a truncated file, say); a
	// malformed file must not take the caller down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: decoder failed: %v", ErrFormat, r)
		}
	}()
	if !looksLikeXMLOrBinary(data) {
		return ErrFormat
	}
	if err := checkStructure(data); err != nil {
		return err
	}
	format, err := plist.Unmarshal(data, v)
	if err != nil {
		return fmt.Errorf("launchd: decode plist: %w", err)
	}
	if format != plist.XMLFormat && format != plist.BinaryFormat {
		return fmt.Errorf("%w (got %s)", ErrFormat, plist.FormatNames[format])
	}
	return nil
}

// looksLikeXMLOrBinary rejects text plists before decoding: launchd reads
// only XML and binary, and the OpenStep parser would accept almost anything.
func looksLikeXMLOrBinary(data []byte) bool {
	if bytes.HasPrefix(data, []byte("bplist")) {
		return true
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	return bytes.HasPrefix(data, []byte("<"))
}

// ParseJob decodes a launchd.plist(5) document, XML or binary.
func ParseJob(data []byte) (*Job, error) {
	var j Job
	if err := Unmarshal(data, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// ReadJob reads and decodes the job plist at path.
func ReadJob(path string) (*Job, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	j, err := ParseJob(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return j, nil
}

// Encode returns the job as an XML plist, the form launchd's own
// directories use.
func (j *Job) Encode() ([]byte, error) { return Marshal(j) }

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxPlistSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPlistSize {
		return nil, fmt.Errorf("%s: %w", path, ErrTooLarge)
	}
	return data, nil
}
