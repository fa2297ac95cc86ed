package rfid

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxEPCBits is the largest EPC a tag can hold: the Gen2 EPC bank has room
// for 31 words of EPC after the CRC and PC words.
const MaxEPCBits = 496

// EPC is the EPC memory content of one tag, kept in a fixed array so that it
// is comparable (usable as a map key) and copies without allocating. The
// zero value is an empty EPC.
type EPC struct {
	bits uint16
	b    [MaxEPCBits / 8]byte
}

// NewEPC returns the EPC of bitLen bits held in b (big-endian, as on the tag).
// Bits past bitLen in the last byte are cleared.
func NewEPC(b []byte, bitLen int) (EPC, error) {
	var e EPC
	if err := e.Set(b, bitLen); err != nil {
		return EPC{}, err
	}
	return e, nil
}

// Set overwrites e with bitLen bits from b without allocating.
func (e *EPC) Set(b []byte, bitLen int) error {
	if bitLen < 0 || bitLen > MaxEPCBits {
		return fmt.Errorf("%w: %d bits, a tag holds at most %d", ErrEPCLength, bitLen, MaxEPCBits)
	}
	n := (bitLen + 7) / 8
	if len(b) < n {
		return fmt.Errorf("%w: %d bits need %d bytes, got %d", ErrEPCLength, bitLen, n, len(b))
	}
	e.bits = uint16(bitLen)
	copy(e.b[:n], b[:n])
	clear(e.b[n:])
	if r := bitLen % 8; r != 0 {
		e.b[n-1] &= byte(0xFF << (8 - r))
	}
	return nil
}

// SetEPC96 overwrites e with a 96-bit EPC.
func (e *EPC) SetEPC96(b *[12]byte) {
	e.bits = 96
	copy(e.b[:12], b[:])
	clear(e.b[12:])
}

// ParseEPC reads an EPC written as hexadecimal digits (upper or lower case,
// an optional "0x" prefix); its length is 4 bits per digit.
func ParseEPC(s string) (EPC, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if s == "" {
		return EPC{}, fmt.Errorf("%w: empty EPC; write the EPC as hex digits, e.g. 3074257BF7194E4000001A85", ErrEPCLength)
	}
	if len(s)%2 == 1 {
		s += "0"
		b, err := hex.DecodeString(s)
		if err != nil {
			return EPC{}, fmt.Errorf("rfid: EPC %q is not hexadecimal: %w", s[:len(s)-1], err)
		}
		return NewEPC(b, len(b)*8-4)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return EPC{}, fmt.Errorf("rfid: EPC %q is not hexadecimal: %w", s, err)
	}
	return NewEPC(b, len(b)*8)
}

// MustParseEPC is ParseEPC for constants in tests and tables; it panics on a
// malformed EPC.
func MustParseEPC(s string) EPC {
	e, err := ParseEPC(s)
	if err != nil {
		panic(err)
	}
	return e
}

// BitLen is the EPC's length in bits.
func (e *EPC) BitLen() int { return int(e.bits) }

// Bytes returns the EPC's bytes; the slice aliases e.
func (e *EPC) Bytes() []byte { return e.b[:(int(e.bits)+7)/8] }

// IsZero reports whether e holds no EPC.
func (e EPC) IsZero() bool { return e.bits == 0 }

// String is the EPC in upper-case hex, the form readers and labels print.
func (e EPC) String() string {
	var buf [2 * MaxEPCBits / 8]byte
	return string(e.AppendHex(buf[:0]))
}

// AppendHex appends the upper-case hex form of e to dst.
func (e *EPC) AppendHex(dst []byte) []byte {
	const digits = "0123456789ABCDEF"
	for _, c := range e.Bytes() {
		dst = append(dst, digits[c>>4], digits[c&0x0F])
	}
	return dst
}

// Read is one tag read: a tag seen by one antenna of one reader. Readers
// that report a tag several times in one cycle give SeenCount > 1.
type Read struct {
	EPC     EPC
	Reader  string // reader id from configuration
	Antenna uint16 // 1-based antenna port; 0 if the reader did not say
	// RSSI is the peak received signal strength in dBm; HasRSSI tells a
	// reported 0 dBm from an absent value.
	RSSI    int8
	HasRSSI bool
	// Time is when the tag was seen, on the gateway's clock: the reader's
	// timestamp rebased on arrival times (reader clocks drift), or the
	// arrival time when the reader gave none.
	Time time.Time
	// ReaderTime is the reader's own first-seen timestamp, zero if absent.
	ReaderTime time.Time
	SeenCount  uint16
	PC         uint16 // Gen2 protocol control word, 0 if not reported
	Channel    uint16 // channel index, 0 if not reported
}

// EventKind says what happened to a reader.
type EventKind uint8

// Reader health events.
const (
	EventConnected           EventKind = iota + 1 // session set up, reading
	EventDisconnected                             // session ended; Err says why
	EventAntennaConnected                         // antenna reported connected
	EventAntennaDisconnected                      // antenna reported disconnected
	EventBufferWarning                            // report buffer filling (Level percent)
	EventBufferOverflow                           // reports were lost
	EventReaderException                          // reader reported an exception (Message)
	EventConnectFailed                            // connection attempt refused or failed; Err says why
	EventGPI                                      // a general purpose input changed (Port, High), or its state at connect (Initial)
)

var eventNames = [...]string{"", "connected", "disconnected", "antenna_connected", "antenna_disconnected",
	"buffer_warning", "buffer_overflow", "reader_exception", "connect_failed", "gpi"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) && k != 0 {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// ReaderEvent is a health event of one reader.
type ReaderEvent struct {
	Kind    EventKind
	Reader  string
	Time    time.Time
	Antenna uint16 // for antenna events
	Port    uint16 // GPI port (from 1) for EventGPI
	High    bool   // GPI state for EventGPI
	// Initial marks an EventGPI that is the input's state read when the
	// reader connected, not a change.
	Initial bool
	Level   int    // buffer fill percent for EventBufferWarning
	Message string // reader-supplied text, if any; for EventConnected, RF settings the reader could not take
	Err     error  // reason for EventDisconnected / EventConnectFailed
}

// Sentinel errors wrapped by the drivers.
var (
	// ErrEPCLength: an EPC longer than a tag can hold or shorter than its
	// declared length.
	ErrEPCLength = errors.New("rfid: bad EPC length")
	// ErrFraming: bytes from a reader that do not form a valid frame or
	// message; the connection is dropped and re-established.
	ErrFraming = errors.New("rfid: framing error")
	// ErrTooLarge: a frame or message whose length exceeds the configured cap.
	ErrTooLarge = errors.New("rfid: message too large")
	// ErrKeepaliveTimeout: nothing arrived from the reader within the
	// keepalive deadline (half-open connection).
	ErrKeepaliveTimeout = errors.New("rfid: keepalive deadline passed")
	// ErrConnectionRefused: the reader refused the session, typically
	// because another client already controls it.
	ErrConnectionRefused = errors.New("rfid: reader refused the connection")
	// ErrReaderStatus: the reader answered a request with an error status.
	ErrReaderStatus = errors.New("rfid: reader returned an error status")
)

// Reader is a running reader driver: Run reads, delivers reads and events
// through the callbacks it was built with, reconnects after failures and
// returns nil when ctx ends.
type Reader interface {
	Run(ctx context.Context) error
}

// GPOSetter is a reader with general purpose outputs (a light stack, a
// buzzer at a door). SetGPO sets output port (numbered from 1) high or low;
// it fails while the reader is not connected.
type GPOSetter interface {
	SetGPO(ctx context.Context, port uint16, high bool) error
}
