// Package plistsafe puts limits in front of howett.net/plist, whose decoder
// trusts a binary plist's counts and copies shared objects out: a few
// hundred bytes of hostile bplist can expand to gigabytes, and deep nesting
// can exhaust the stack. Every plist goxpc reads from untrusted bytes
// (entitlements and Info.plist in code signatures, launchd jobs) goes
// through Unmarshal.
package plistsafe

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"howett.net/plist"
)

// Limits on what a plist may cost to decode.
const (
	// MaxSize is the largest plist accepted.
	MaxSize = 1 << 20
	// MaxDepth is the deepest nesting of arrays and dictionaries accepted.
	MaxDepth = 128
	// MaxExpanded is the most values a binary plist may expand to once
	// shared references are copied out.
	MaxExpanded = 1 << 18
)

// ErrUnsafe reports a plist that is malformed in a way the decoder would
// not survive cheaply, too large, or not XML or binary.
var ErrUnsafe = errors.New("plist: malformed, oversized or unsupported structure")

// Unmarshal decodes an XML or binary plist into v after Check, turning a
// decoder panic into an error. It returns the format decoded.
func Unmarshal(data []byte, v any) (format int, err error) {
	if err := Check(data); err != nil {
		return 0, err
	}
	defer func() {
		if r := recover(); r != nil {
			format, err = 0, fmt.Errorf("%w: decoder failed: %v", ErrUnsafe, r)
		}
	}()
	return plist.Unmarshal(data, v)
}

// Check rejects input that would cost the decoder far more than its size:
// anything over MaxSize, text (OpenStep) plists, deep nesting, and binary
// plists whose counts lie or whose shared objects expand beyond
// MaxExpanded. Syntax errors are left to the decoder.
func Check(data []byte) error {
	if len(data) > MaxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrUnsafe, len(data), MaxSize)
	}
	if bytes.HasPrefix(data, []byte("bplist")) {
		return checkBinary(data)
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if !bytes.HasPrefix(trimmed, []byte("<")) {
		return fmt.Errorf("%w: not an XML or binary plist", ErrUnsafe)
	}
	return checkXMLDepth(data)
}

func checkXMLDepth(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // the real decoder reports syntax errors
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth++; depth > MaxDepth+1 { // +1 for <plist>
				return fmt.Errorf("%w: nested deeper than %d", ErrUnsafe, MaxDepth)
			}
		case xml.EndElement:
			depth--
		}
	}
}

// bplist walks a binary plist's object graph without building it. The
// layout (Apple's CFBinaryPList.c): an 8-byte header, objects, an offset
// table, and a 32-byte trailer.
type bplist struct {
	data                []byte
	offsetSize, refSize int
	numObjects          uint64
	tableOffset         uint64
	expanded            []uint64 // per object: expanded size, 0 = not yet known
	visiting            []bool
}

func checkBinary(data []byte) error {
	if len(data) < 8+1+32 {
		return fmt.Errorf("%w: binary plist too short", ErrUnsafe)
	}
	tr := data[len(data)-32:]
	p := &bplist{
		data:        data,
		offsetSize:  int(tr[6]),
		refSize:     int(tr[7]),
		numObjects:  binary.BigEndian.Uint64(tr[8:]),
		tableOffset: binary.BigEndian.Uint64(tr[24:]),
	}
	top := binary.BigEndian.Uint64(tr[16:])
	body := uint64(len(data) - 32)
	switch {
	case !validIntSize(p.offsetSize) || !validIntSize(p.refSize):
		return fmt.Errorf("%w: bad offset or reference size", ErrUnsafe)
	case p.numObjects == 0 || p.numObjects > body || top >= p.numObjects:
		return fmt.Errorf("%w: bad object count", ErrUnsafe)
	case p.tableOffset < 8 || p.tableOffset > body:
		return fmt.Errorf("%w: bad offset table position", ErrUnsafe)
	}
	if hi, lo := bits.Mul64(p.numObjects, uint64(p.offsetSize)); hi != 0 || lo > body-p.tableOffset {
		return fmt.Errorf("%w: offset table does not fit", ErrUnsafe)
	}
	p.expanded = make([]uint64, p.numObjects)
	p.visiting = make([]bool, p.numObjects)
	_, err := p.walk(top, 0)
	return err
}

func validIntSize(n int) bool { return n == 1 || n == 2 || n == 4 || n == 8 }

func (p *bplist) uint(off uint64, size int) uint64 {
	var v uint64
	for _, b := range p.data[off : off+uint64(size)] {
		v = v<<8 | uint64(b)
	}
	return v
}

// walk returns how many values object idx expands to.
func (p *bplist) walk(idx uint64, depth int) (uint64, error) {
	if idx >= p.numObjects {
		return 0, fmt.Errorf("%w: reference to object %d of %d", ErrUnsafe, idx, p.numObjects)
	}
	if n := p.expanded[idx]; n != 0 {
		return n, nil
	}
	if p.visiting[idx] {
		return 0, fmt.Errorf("%w: object %d contains itself", ErrUnsafe, idx)
	}
	if depth > MaxDepth {
		return 0, fmt.Errorf("%w: nested deeper than %d", ErrUnsafe, MaxDepth)
	}
	off := p.uint(p.tableOffset+idx*uint64(p.offsetSize), p.offsetSize)
	if off < 8 || off >= p.tableOffset {
		return 0, fmt.Errorf("%w: object %d outside the object area", ErrUnsafe, idx)
	}
	marker := p.data[off]
	kind := marker >> 4
	count, start, err := p.count(off, marker)
	if err != nil {
		return 0, err
	}
	var refs uint64
	switch kind {
	case 0x4, 0x5: // data, ASCII string: count bytes
		return 1, p.fits(start, count, 1)
	case 0x6: // UTF-16 string: count units
		return 1, p.fits(start, count, 2)
	case 0xA, 0xC: // array, set
		refs = count
	case 0xD: // dictionary: count keys, then count values
		if count > p.numObjects*2 {
			return 0, fmt.Errorf("%w: dictionary too large", ErrUnsafe)
		}
		refs = 2 * count
	default: // scalars: the decoder checks their sizes against the buffer
		return 1, nil
	}
	if err := p.fits(start, refs, uint64(p.refSize)); err != nil {
		return 0, err
	}
	p.visiting[idx] = true
	total := uint64(1)
	for i := uint64(0); i < refs; i++ {
		child := p.uint(start+i*uint64(p.refSize), p.refSize)
		n, err := p.walk(child, depth+1)
		if err != nil {
			return 0, err
		}
		if total += n; total > MaxExpanded {
			return 0, fmt.Errorf("%w: expands to more than %d values", ErrUnsafe, MaxExpanded)
		}
	}
	p.visiting[idx] = false
	p.expanded[idx] = total
	return total, nil
}

// count decodes the element count of the object at off: the low nibble of
// the marker, or an integer object after it when the nibble is 0xF.
func (p *bplist) count(off uint64, marker byte) (count, start uint64, err error) {
	count, start = uint64(marker&0x0F), off+1
	if count != 0x0F {
		return count, start, nil
	}
	if start >= p.tableOffset {
		return 0, 0, fmt.Errorf("%w: truncated count", ErrUnsafe)
	}
	intMarker := p.data[start]
	if intMarker>>4 != 0x1 || intMarker&0x0F > 3 {
		return 0, 0, fmt.Errorf("%w: bad count marker", ErrUnsafe)
	}
	size := uint64(1) << (intMarker & 0x0F)
	if start+1+size > p.tableOffset {
		return 0, 0, fmt.Errorf("%w: truncated count", ErrUnsafe)
	}
	return p.uint(start+1, int(size)), start + 1 + size, nil
}

// fits checks that n items of size bytes starting at start end before the
// offset table, without overflowing.
func (p *bplist) fits(start, n, size uint64) error {
	hi, lo := bits.Mul64(n, size)
	if hi != 0 || start > p.tableOffset || lo > p.tableOffset-start {
		return fmt.Errorf("%w: object runs past the object area", ErrUnsafe)
	}
	return nil
}
