package sync

import (
	"fmt"
	"time"
)

// MaxPartCartons is the most cartons one receipt message lists: about
// 70 KB of JSON, well below an event's bound (outbox.max_event_bytes).
const MaxPartCartons = 1000

// ReceiptMessage is the retained payload of
// dockgate/v1/{site}/cartons/{gateway}/{receipt}/{part}: the cartons of one
// receipt (or of one part of a large one) and what they are.
type ReceiptMessage struct {
	Receipt string    `json:"receipt"`
	Gateway string    `json:"gateway"`
	Lot     string    `json:"lot"`
	GTIN    string    `json:"gtin,omitempty"`
	Expiry  string    `json:"expiry,omitempty"` // YYYY-MM-DD
	Time    time.Time `json:"time"`
	Part    int       `json:"part"`
	Parts   int       `json:"parts"`
	Cartons []Carton  `json:"cartons"`
}

// Carton is one carton of a receipt message: its SSCC and the EPC its tag
// carries, in hex, as readers report it (whole 16-bit words).
type Carton struct {
	SSCC string `json:"sscc,omitempty"`
	EPC  string `json:"epc"`
}

// Split cuts m's cartons into parts of at most size cartons (at most
// MaxPartCartons; 0 is MaxPartCartons), numbered from 1; a receipt without
// cartons is one part.
func (m ReceiptMessage) Split(size int) []ReceiptMessage {
	if size <= 0 || size > MaxPartCartons {
		size = MaxPartCartons
	}
	n := max(1, (len(m.Cartons)+size-1)/size)
	out := make([]ReceiptMessage, n)
	for i := range out {
		p := m
		p.Part, p.Parts = i+1, n
		p.Cartons = m.Cartons[i*size : min(len(m.Cartons), (i+1)*size)]
		out[i] = p
	}
	return out
}

// Check reports what keeps m from being indexed.
func (m *ReceiptMessage) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: receipt %q of gateway %q: "+format, append([]any{ErrInvalid, m.Receipt, m.Gateway}, a...)...)
	}
	switch {
	case m.Receipt == "" || m.Gateway == "":
		return bad("receipt and gateway are required")
	case len(m.Receipt) > 80 || len(m.Gateway) > maxText:
		return bad("receipt has at most 80 characters, gateway at most %d", maxText)
	case m.Lot == "" || len(m.Lot) > 20:
		return bad("lot must have 1 to 20 characters")
	case m.Part < 1 || m.Parts < m.Part:
		return bad("part %d of %d: parts are numbered from 1", m.Part, m.Parts)
	case len(m.Cartons) > MaxPartCartons:
		return bad("%d cartons in one part, at most %d", len(m.Cartons), MaxPartCartons)
	}
	if err := checkTime(m.Time); err != nil {
		return bad("%v", err)
	}
	if m.GTIN != "" && (len(m.GTIN) < 8 || len(m.GTIN) > 14 || !digits(m.GTIN)) {
		return bad("gtin %q: want 8 to 14 digits", m.GTIN)
	}
	if _, err := time.Parse(time.DateOnly, m.Expiry); m.Expiry != "" && err != nil {
		return bad("expiry %q: want a date YYYY-MM-DD", m.Expiry)
	}
	for _, c := range m.Cartons {
		if c.SSCC != "" && (len(c.SSCC) != 18 || !digits(c.SSCC)) {
			return bad("carton %q: an SSCC has 18 digits", c.SSCC)
		}
		if _, err := epcBytes(c.EPC, nil); err != nil {
			return bad("carton %s: %v", c.SSCC, err)
		}
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// maxEPCBytes is the largest EPC bank: 496 bits.
const maxEPCBytes = 62

// epcBytes decodes an EPC in hex into dst (a buffer of maxEPCBytes, or
// nil for a new one).
func epcBytes(h string, dst []byte) ([]byte, error) {
	if len(h) == 0 || len(h)%2 != 0 || len(h) > 2*maxEPCBytes {
		return nil, fmt.Errorf("EPC %q: want an even number of hex digits, at most %d", h, 2*maxEPCBytes)
	}
	if dst == nil {
		dst = make([]byte, maxEPCBytes)
	}
	n, ok := decodeHex(dst, h)
	if !ok {
		return nil, fmt.Errorf("EPC %q is not hex", h)
	}
	return dst[:n], nil
}

// decodeHex decodes h (upper or lower case) into dst without allocating.
func decodeHex(dst []byte, h string) (int, bool) {
	if len(h)%2 != 0 || len(h)/2 > len(dst) {
		return 0, false
	}
	for i := 0; i < len(h); i += 2 {
		a, b := unhex(h[i]), unhex(h[i+1])
		if a > 15 || b > 15 {
			return 0, false
		}
		dst[i/2] = a<<4 | b
	}
	return len(h) / 2, true
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}
