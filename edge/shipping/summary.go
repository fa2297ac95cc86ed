package shipping

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// The customer and order indexes hold a ShipmentSummary per shipment in a
// compact binary form: trace customer decodes one per shipment the
// customer ever received (thousands for a large one), and JSON took four
// fifths of its time. Layout: version byte 1, then the strings as uvarint
// length + bytes, the time as varint Unix nanoseconds, the lots as a
// uvarint count of (lot, gtin, cartons uvarint, quantity float64 bits,
// unit).

const summaryVersion = 1

var errSummary = errors.New("shipping: corrupt shipment summary")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendSummary encodes s after b.
func appendSummary(b []byte, s *ShipmentSummary) []byte {
	b = append(b, summaryVersion)
	for _, f := range []string{s.Shipment, s.Order, s.Customer.ID, s.Customer.Name, s.Customer.GLN,
		s.ShipTo.GLN, s.ShipTo.Address, s.Door, s.Carrier} {
		b = appendString(b, f)
	}
	b = binary.AppendVarint(b, s.Time.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(s.Lots)))
	for _, q := range s.Lots {
		b = appendString(b, q.Lot)
		b = appendString(b, q.GTIN)
		b = binary.AppendUvarint(b, uint64(q.Cartons))
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(q.Quantity))
		b = appendString(b, q.Unit)
	}
	return b
}

// summaryReader reads the fields of an encoded summary in order; the
// first error sticks.
type summaryReader struct {
	b   []byte
	err error
}

func (r *summaryReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errSummary
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *summaryReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errSummary
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// decodeSummary decodes what appendSummary encoded.
func decodeSummary(b []byte) (ShipmentSummary, error) {
	var s ShipmentSummary
	if len(b) == 0 || b[0] != summaryVersion {
		return s, errSummary
	}
	r := &summaryReader{b: b[1:]}
	for _, f := range []*string{&s.Shipment, &s.Order, &s.Customer.ID, &s.Customer.Name, &s.Customer.GLN,
		&s.ShipTo.GLN, &s.ShipTo.Address, &s.Door, &s.Carrier} {
		*f = r.string()
	}
	if r.err == nil {
		ns, n := binary.Varint(r.b)
		if n <= 0 {
			return s, errSummary
		}
		r.b = r.b[n:]
		s.Time = time.Unix(0, ns).UTC()
	}
	count := r.uvarint()
	if r.err != nil || count > uint64(len(r.b)) { // a lot takes bytes
		return s, errSummary
	}
	s.Lots = make([]LotQuantity, 0, count)
	for range count {
		var q LotQuantity
		q.Lot, q.GTIN = r.string(), r.string()
		q.Cartons = int(r.uvarint())
		if r.err != nil || len(r.b) < 8 {
			return s, errSummary
		}
		q.Quantity = math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		q.Unit = r.string()
		s.Lots = append(s.Lots, q)
	}
	if r.err != nil || len(r.b) != 0 {
		return s, errSummary
	}
	return s, nil
}
