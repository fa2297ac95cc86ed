package epcis

import (
	"errors"
	"strings"
	"testing"
)

func shipment(t *testing.T) Shipment {
	return Shipment{
		ShipmentID:  "SHP-2026-000042",
		Time:        when,
		ReadPoint:   "urn:epc:id:sgln:4012345.00001.door7",
		BizLocation: site,
		EPCs:        []string{"urn:epc:id:sscc:4012345.0000000001", "urn:epc:id:sscc:4012345.0000000002"},
		Quantities: []Quantity{
			{EPCClass: lgtin(t, "04012345123456", 7, "L2611260001"), Quantity: 48},
			{EPCClass: lgtin(t, "04012345999990", 7, "SUP-B/9"), Quantity: 12.5, UOM: "KGM"},
		},
		BizTransactions: []BizTransaction{
			{Type: "po", BizTransaction: "urn:epcglobal:cbv:bt:0614141000005:PO-8812"},
			{Type: "desadv", BizTransaction: "urn:epcglobal:cbv:bt:4012345000009:DESADV-17"},
		},
		Sources: []Source{{Type: "owning_party", Source: "urn:epc:id:pgln:4012345.00001"},
			{Type: "location", Source: site}},
		Destinations: []Destination{{Type: "owning_party", Destination: "urn:epc:id:pgln:0614141.00000"},
			{Type: "location", Destination: "urn:epc:id:sgln:0614141.00005.0"}},
		Order:   "8812",
		Carrier: "DHL Freight",
	}
}

// A shipment is an OBSERVE of its cartons and of its lots by class, with
// bizStep shipping, disposition in_transit, the parties and locations on
// both sides and the reference documents.
func TestShipping(t *testing.T) {
	e, err := Shipping(shipment(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != ActionObserve || e.BizStep != BizStepShipping || e.Disposition != DispositionInTransit ||
		len(e.EPCList) != 2 || len(e.QuantityList) != 2 || len(e.DestinationList) != 2 || e.Extensions["dockgate:order"] != "8812" {
		t.Fatalf("shipping: %+v", e)
	}
	validate(t, "shipping event", e.Standalone())
	golden(t, "shipping", validate(t, "shipping document", NewDocument(when, e)))
	// Lots alone (a shipment too large to list its cartons).
	s := shipment(t)
	s.EPCs = nil
	e, err = Shipping(s)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "shipping document by lot", NewDocument(when, e))
	a, _ := Shipping(shipment(t))
	if a.EventID != e.EventID || EventID("shipping", "x") == EventID("return", "x") {
		t.Fatal("a shipment's event ID is not stable, or kinds share one")
	}
}

// A return is an OBSERVE with bizStep receiving whose disposition is the
// returned goods' condition.
func TestReturning(t *testing.T) {
	for cond, disp := range map[string]string{ConditionResaleable: "sellable_accessible", ConditionDamaged: "damaged", ConditionQuarantine: "non_sellable_other"} {
		r := Return{ReturnID: "RET-1-" + cond, Time: when, ReadPoint: door3, BizLocation: site, Condition: cond,
			EPCs:            []string{"urn:epc:id:sscc:4012345.0000000001"},
			BizTransactions: []BizTransaction{{Type: "rma", BizTransaction: "urn:epcglobal:cbv:bt:0614141000005:RMA-3"}},
			Sources:         []Source{{Type: "owning_party", Source: "urn:epc:id:pgln:0614141.00000"}},
			Reason:          "crushed corner"}
		e, err := Returning(r)
		if err != nil {
			t.Fatal(err)
		}
		if e.BizStep != BizStepReceiving || e.Disposition != disp {
			t.Fatalf("%s: %+v", cond, e)
		}
		b := validate(t, "return document "+cond, NewDocument(when, e))
		if cond == ConditionDamaged {
			golden(t, "return_damaged", b)
		}
	}
	// Units of a lot, by class.
	e, err := Returning(Return{ReturnID: "RET-2", Time: when, BizLocation: site, Condition: ConditionQuarantine,
		Quantities: []Quantity{{EPCClass: lgtin(t, "04012345123456", 7, "L2611260001"), Quantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "return of units", NewDocument(when, e))
}

func TestShippingAndReturnInvalid(t *testing.T) {
	cases := map[string]func(s *Shipment){
		"ShipmentID":           func(s *Shipment) { s.ShipmentID = "" },
		"neither":              func(s *Shipment) { s.EPCs, s.Quantities = nil, nil },
		"BizLocation":          func(s *Shipment) { s.BizLocation = "" },
		"Destinations: name":   func(s *Shipment) { s.Destinations = nil },
		"Destinations[0].Type": func(s *Shipment) { s.Destinations = []Destination{{Destination: "urn:x:y"}} },
		"Destinations[0]":      func(s *Shipment) { s.Destinations = []Destination{{Type: "location", Destination: "Rue de la Paix 1"}} },
		"Sources[0].Type":      func(s *Shipment) { s.Sources = []Source{{Source: "urn:x:y"}} },
		"BizTransactions[0]":   func(s *Shipment) { s.BizTransactions = []BizTransaction{{Type: "po", BizTransaction: "PO 1"}} },
	}
	for want, mutate := range cases {
		s := shipment(t)
		mutate(&s)
		if _, err := Shipping(s); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if _, err := Returning(Return{ReturnID: "r", Time: when, BizLocation: site, Condition: "used", EPCs: []string{"urn:epc:id:sscc:4012345.0000000001"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown condition: %v", err)
	}
	if _, err := Returning(Return{ReturnID: "r", Time: when, BizLocation: site, Condition: ConditionDamaged}); !errors.Is(err, ErrInvalid) {
		t.Errorf("return of nothing: %v", err)
	}
}
