package shipping

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestSummaryEncoding(t *testing.T) {
	s := ShipmentSummary{Shipment: "S1", Order: "8812", Customer: Party{ID: "C-1", Name: "Acme Rétail", GLN: "4012345000016"},
		ShipTo: Place{Address: "12 rue Mercière"}, Door: "DOOR2", Time: time.Date(2026, 3, 2, 8, 0, 0, 123, time.UTC), Carrier: "DHL",
		Lots: []LotQuantity{{Lot: "L1", GTIN: "09520123456788", Cartons: 3, Quantity: 36, Unit: "EA"}, {Lot: "L2", Cartons: 1, Quantity: 12.5, Unit: "KGM"}}}
	b := appendSummary(nil, &s)
	got, err := decodeSummary(b)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("decode = %+v, %v; want %+v", got, err, s)
	}
	empty := ShipmentSummary{Time: time.Unix(0, 0).UTC(), Lots: []LotQuantity{}}
	if got, err := decodeSummary(appendSummary(nil, &empty)); err != nil || !reflect.DeepEqual(got, empty) {
		t.Fatalf("empty: %+v, %v", got, err)
	}
	// Every truncation, and trailing bytes, are errors, never a panic.
	for i := range len(b) {
		if _, err := decodeSummary(b[:i]); !errors.Is(err, errSummary) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	if _, err := decodeSummary(append(b, 0)); !errors.Is(err, errSummary) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func FuzzDecodeSummary(f *testing.F) {
	s := ShipmentSummary{Shipment: "S1", Lots: []LotQuantity{{Lot: "L1", Cartons: 2}}}
	f.Add(appendSummary(nil, &s))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeSummary(b)
		if err != nil {
			return
		}
		// Bytes, not values: a quantity may be NaN.
		enc := appendSummary(nil, &got)
		again, err := decodeSummary(enc)
		if err != nil || !bytes.Equal(appendSummary(nil, &again), enc) {
			t.Fatalf("round trip of a decoded summary: %+v, %v", again, err)
		}
	})
}
