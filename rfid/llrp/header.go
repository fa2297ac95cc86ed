package llrp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dockgate/dockgate/rfid"
)

// Message types (LLRP 1.0.1 §17.1).
const (
	MsgGetReaderCapabilities         uint16 = 1
	MsgGetReaderConfig               uint16 = 2
	MsgSetReaderConfig               uint16 = 3
	MsgCloseConnectionResponse       uint16 = 4
	MsgGetReaderCapabilitiesResponse uint16 = 11
	MsgGetReaderConfigResponse       uint16 = 12
	MsgSetReaderConfigResponse       uint16 = 13
	MsgCloseConnection               uint16 = 14
	MsgAddROSpec                     uint16 = 20
	MsgDeleteROSpec                  uint16 = 21
	MsgStartROSpec                   uint16 = 22
	MsgStopROSpec                    uint16 = 23
	MsgEnableROSpec                  uint16 = 24
	MsgDisableROSpec                 uint16 = 25
	MsgAddROSpecResponse             uint16 = 30
	MsgDeleteROSpecResponse          uint16 = 31
	MsgStartROSpecResponse           uint16 = 32
	MsgStopROSpecResponse            uint16 = 33
	MsgEnableROSpecResponse          uint16 = 34
	MsgDisableROSpecResponse         uint16 = 35
	MsgAddAccessSpec                 uint16 = 40
	MsgDeleteAccessSpec              uint16 = 41
	MsgEnableAccessSpec              uint16 = 42
	MsgAddAccessSpecResponse         uint16 = 50
	MsgDeleteAccessSpecResponse      uint16 = 51
	MsgEnableAccessSpecResponse      uint16 = 52
	MsgGetSupportedVersion           uint16 = 46
	MsgSetProtocolVersion            uint16 = 47
	MsgGetSupportedVersionResponse   uint16 = 56
	MsgSetProtocolVersionResponse    uint16 = 57
	MsgGetReport                     uint16 = 60
	MsgROAccessReport                uint16 = 61
	MsgKeepalive                     uint16 = 62
	MsgReaderEventNotification       uint16 = 63
	MsgEnableEventsAndReports        uint16 = 64
	MsgKeepaliveAck                  uint16 = 72
	MsgErrorMessage                  uint16 = 100
	MsgCustom                        uint16 = 1023
)

// ResponseType returns the response message type for a request type, and
// false for messages that have no response.
func ResponseType(req uint16) (uint16, bool) {
	switch req {
	case MsgGetReaderCapabilities, MsgGetReaderConfig, MsgSetReaderConfig,
		MsgAddROSpec, MsgDeleteROSpec, MsgStartROSpec, MsgStopROSpec, MsgEnableROSpec, MsgDisableROSpec,
		MsgAddAccessSpec, MsgDeleteAccessSpec, MsgEnableAccessSpec,
		MsgGetSupportedVersion, MsgSetProtocolVersion:
		return req + 10, true
	case MsgCloseConnection:
		return MsgCloseConnectionResponse, true
	}
	return 0, false
}

// HeaderLen is the size of a message header.
const HeaderLen = 10

// DefaultMaxMessage is the default cap on a message's length. Readers have
// been seen closing connections above about 500 KiB, so anything larger is
// treated as a framing error.
const DefaultMaxMessage = 1 << 20

// Version is the protocol version this package speaks (LLRP 1.0.1).
const Version = 1

// Header is a message header.
type Header struct {
	Version uint8
	Type    uint16
	Length  uint32 // whole message, header included
	ID      uint32
}

// ErrMalformed marks a message whose body does not parse; the message is
// rejected, the connection kept.
var ErrMalformed = errors.New("llrp: malformed message")

// ParseHeader decodes the first 10 bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("%w: header needs %d bytes, have %d", rfid.ErrFraming, HeaderLen, len(b))
	}
	v := binary.BigEndian.Uint16(b)
	h := Header{
		Version: uint8(v>>10) & 7,
		Type:    v & 0x3FF,
		Length:  binary.BigEndian.Uint32(b[2:]),
		ID:      binary.BigEndian.Uint32(b[6:]),
	}
	if h.Version != 1 && h.Version != 2 {
		return h, fmt.Errorf("%w: protocol version %d in message header (expected 1 for LLRP 1.0.1); is this port an LLRP reader?", rfid.ErrFraming, h.Version)
	}
	if h.Length < HeaderLen {
		return h, fmt.Errorf("%w: message length %d is shorter than the header", rfid.ErrFraming, h.Length)
	}
	return h, nil
}

// AppendHeader appends a message header with the given total length.
func AppendHeader(dst []byte, typ uint16, length, id uint32) []byte {
	dst = binary.BigEndian.AppendUint16(dst, Version<<10|typ&0x3FF)
	dst = binary.BigEndian.AppendUint32(dst, length)
	return binary.BigEndian.AppendUint32(dst, id)
}

// Message is one framed message; Body aliases the decoder's buffer and is
// valid until the next call to Next.
type Message struct {
	Header
	Body []byte
}

// Decoder frames LLRP messages from a byte stream.
type Decoder struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewDecoder returns a decoder reading from r that rejects messages longer
// than maxLen bytes (DefaultMaxMessage if maxLen <= 0).
func NewDecoder(r io.Reader, maxLen int) *Decoder {
	if maxLen <= 0 {
		maxLen = DefaultMaxMessage
	}
	return &Decoder{r: bufio.NewReaderSize(r, 32<<10), max: maxLen, buf: make([]byte, 4096)}
}

// Next reads one message. A framing error (bad version, length below 10 or
// above the cap) means the stream cannot be trusted any more: close it.
// io.EOF is returned only at a message boundary; a stream that ends inside
// a message gives io.ErrUnexpectedEOF.
func (d *Decoder) Next() (Message, error) {
	if _, err := io.ReadFull(d.r, d.buf[:HeaderLen]); err != nil {
		return Message{}, err
	}
	h, err := ParseHeader(d.buf[:HeaderLen])
	if err != nil {
		return Message{}, err
	}
	if h.Length > uint32(d.max) {
		return Message{}, fmt.Errorf("%w: %d-byte message (type %d) exceeds the %d-byte cap", rfid.ErrTooLarge, h.Length, h.Type, d.max)
	}
	n := int(h.Length)
	if cap(d.buf) < n {
		d.buf = make([]byte, n, max(n, 2*cap(d.buf)))
	}
	d.buf = d.buf[:cap(d.buf)]
	if _, err := io.ReadFull(d.r, d.buf[HeaderLen:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Message{}, err
	}
	return Message{Header: h, Body: d.buf[HeaderLen:n]}, nil
}
