package xpc

import (
	"encoding/binary"
	"fmt"
)

// The portable backend frames each message with the RemoteXPC wrapper
// header, so a capture of its socket reads like RemoteXPC traffic:
//
//	uint32 magic 0x29b00b92
//	uint32 flags
//	uint64 body length
//	uint64 message id (a reply carries its request's id)
//
// all little-endian, followed by the body: the encoded message. goxpc adds
// flags of its own above RemoteXPC's, for connection control and for
// attachments. With flagAttachments the body starts with an attachment
// table before the message:
//
//	uint32 number of file descriptors (sent as SCM_RIGHTS with the frame)
//	uint32 number of endpoints
//	per endpoint: uint32 length, socket path bytes, padding to 4
const (
	wrapperMagic    = 0x29b00b92
	frameHeaderSize = 24

	flagAlwaysSet  = 0x00000001 // RemoteXPC: set on every frame
	flagData       = 0x00000100 // RemoteXPC: the frame has a body
	flagWantsReply = 0x00010000 // RemoteXPC: the sender waits for a reply
	flagReply      = 0x00020000 // RemoteXPC: this is a reply
	flagHello      = 0x00400000 // RemoteXPC's init handshake: the listener accepted us

	flagAttachments = 0x01000000 // goxpc: body starts with an attachment table
	flagTermination = 0x02000000 // goxpc: the peer's process is about to stop serving
	flagRejected    = 0x04000000 // goxpc: the listener rejected us; body is the reason text

	knownFlags = flagAlwaysSet | flagData | flagWantsReply | flagReply | flagHello |
		flagAttachments | flagTermination | flagRejected
)

// Table limits: a frame carries at most maxAttachments attachments, and an
// endpoint path is at most maxEndpointPath bytes.
const maxEndpointPath = 4096

type frameHeader struct {
	flags   uint32
	bodyLen uint64
	id      uint64
}

func putFrameHeader(b []byte, h frameHeader) {
	binary.LittleEndian.PutUint32(b[0:], wrapperMagic)
	binary.LittleEndian.PutUint32(b[4:], h.flags|flagAlwaysSet)
	binary.LittleEndian.PutUint64(b[8:], h.bodyLen)
	binary.LittleEndian.PutUint64(b[16:], h.id)
}

// parseFrameHeader checks a header against the receiver's limit.
func parseFrameHeader(b []byte, maxBody int) (frameHeader, error) {
	if len(b) < frameHeaderSize {
		return frameHeader{}, &DecodeError{Offset: len(b), Reason: "truncated frame header"}
	}
	if m := binary.LittleEndian.Uint32(b[0:]); m != wrapperMagic {
		return frameHeader{}, &DecodeError{Reason: fmt.Sprintf("bad frame magic %#x", m)}
	}
	h := frameHeader{
		flags:   binary.LittleEndian.Uint32(b[4:]),
		bodyLen: binary.LittleEndian.Uint64(b[8:]),
		id:      binary.LittleEndian.Uint64(b[16:]),
	}
	if h.flags&^knownFlags != 0 {
		return frameHeader{}, &DecodeError{Offset: 4, Reason: fmt.Sprintf("unknown frame flags %#x", h.flags&^knownFlags)}
	}
	if h.bodyLen > uint64(maxBody) {
		// Both kinds hold: errors.Is(err, ErrMalformed) and ErrTooLarge.
		return frameHeader{}, fmt.Errorf("%w (%w)", &DecodeError{Offset: 8, Reason: fmt.Sprintf("frame body of %d bytes exceeds the %d byte limit", h.bodyLen, maxBody)}, ErrTooLarge)
	}
	return h, nil
}

// appendAttachmentTable writes the table for nfds descriptors and the given
// endpoint paths.
func appendAttachmentTable(b []byte, nfds int, paths []string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(nfds))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(paths)))
	for _, p := range paths {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

// parseAttachmentTable splits a body into its table and the message.
func parseAttachmentTable(body []byte) (nfds int, paths []string, rest []byte, err error) {
	bad := func(off int, why string) error { return &DecodeError{Offset: frameHeaderSize + off, Reason: why} }
	if len(body) < 8 {
		return 0, nil, nil, bad(0, "truncated attachment table")
	}
	nf := binary.LittleEndian.Uint32(body[0:])
	ne := binary.LittleEndian.Uint32(body[4:])
	if uint64(nf)+uint64(ne) > maxAttachments {
		return 0, nil, nil, bad(0, fmt.Sprintf("%d attachments exceed the limit of %d", uint64(nf)+uint64(ne), maxAttachments))
	}
	off := 8
	for i := uint32(0); i < ne; i++ {
		if len(body)-off < 4 {
			return 0, nil, nil, bad(off, "truncated endpoint")
		}
		n := binary.LittleEndian.Uint32(body[off:])
		off += 4
		if n == 0 || n > maxEndpointPath || uint64(n) > uint64(len(body)-off) {
			return 0, nil, nil, bad(off, fmt.Sprintf("endpoint path length %d invalid", n))
		}
		paths = append(paths, string(body[off:off+int(n)]))
		off += int(n)
		off += (4 - off%4) % 4
		if off > len(body) {
			return 0, nil, nil, bad(off, "truncated endpoint padding")
		}
	}
	return int(nf), paths, body[off:], nil
}
