package epcis

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dockgate/dockgate/edge/epcis/epcistest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func epcisSchema(t *testing.T) *jsonschema.Schema { return epcistest.Schema(t) }

func validate(t *testing.T, name string, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	epcistest.Validate(t, name, b)
	return b
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

var (
	cet   = time.FixedZone("CET", 3600)
	when  = time.Date(2026, 11, 26, 9, 30, 12, 345e6, cet)
	site  = "urn:epc:id:sgln:4012345.00001.0"
	door3 = "urn:epc:id:sgln:4012345.00001.door3"
)

func lgtin(t *testing.T, gtin string, cp int, lot string) string {
	t.Helper()
	s, err := LGTIN(gtin, cp, lot)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func receipt(t *testing.T) Receipt {
	return Receipt{
		ReceiptID:   "RCV-2026-000123",
		Time:        when,
		ReadPoint:   door3,
		BizLocation: site,
		EPCs:        []string{"urn:epc:id:sscc:4012345.0000000001", "urn:epc:id:sscc:4012345.0000000002"},
		Quantities: []Quantity{
			{EPCClass: lgtin(t, "04012345123456", 7, "SUP-LOT-77"), Quantity: 24},
			{EPCClass: lgtin(t, "04012345999990", 7, "SUP-B/9"), Quantity: 12.5, UOM: "KGM"},
		},
		BizTransactions: []BizTransaction{
			{Type: "po", BizTransaction: "urn:epcglobal:cbv:bt:4012345000009:PO-4711"},
			{Type: "desadv", BizTransaction: "urn:epcglobal:cbv:bt:0614141000005:ASN-88"},
		},
		Sources:   []Source{{Type: "possessing_party", Source: "urn:epc:id:pgln:0614141.00000"}},
		TLCSource: "urn:epc:id:sgln:0614141.00002.0",
	}
}

func TestReceivingSupplierLotKept(t *testing.T) {
	e, err := Receiving(receipt(t))
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != ActionObserve || e.ILMD != nil {
		t.Fatalf("supplier lot kept: action %s ilmd %v, want OBSERVE without ilmd", e.Action, e.ILMD)
	}
	validate(t, "receiving event", e.Standalone())
	golden(t, "receiving_observe", validate(t, "receiving document", NewDocument(when, e)))
}

func TestReceivingAssignedLot(t *testing.T) {
	r := receipt(t)
	r.Quantities = []Quantity{{EPCClass: lgtin(t, "04012345123456", 7, "L2611260001"), Quantity: 24}}
	r.AssignedLot, r.SupplierLot, r.ExpirationDate = "L2611260001", "SUP-LOT-77", "2027-05-31"
	e, err := Receiving(r)
	if err != nil {
		t.Fatal(err)
	}
	if e.Action != ActionAdd || e.ILMD["cbvmda:lotNumber"] != "L2611260001" || e.ILMD["dockgate:supplierLot"] != "SUP-LOT-77" {
		t.Fatalf("assigned lot: %+v", e)
	}
	validate(t, "receiving event", e.Standalone())
	golden(t, "receiving_add", validate(t, "receiving document", NewDocument(when, e)))
}

func TestPortalPass(t *testing.T) {
	p := Pass{PassID: "door3-2026-11-26T09:30:12Z-17", Time: when, Door: door3, BizLocation: site, Direction: Inbound,
		EPCs: []string{"urn:epc:id:sgtin:4012345.012345.1001", "urn:epc:id:sgtin:4012345.012345.1002", "urn:epc:id:sgtin:4012345.012345.1001"}}
	e, err := PortalPass(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.EPCList) != 2 || e.BizStep != BizStepReceiving || e.ReadPoint.ID != door3 {
		t.Fatalf("pass: %+v", e)
	}
	validate(t, "pass event", e.Standalone())
	golden(t, "pass_in", validate(t, "pass document", NewDocument(when, e)))
	p.Direction = Outbound
	e, err = PortalPass(p)
	if err != nil || e.BizStep != BizStepShipping {
		t.Fatalf("outbound: %+v %v", e, err)
	}
	validate(t, "outbound pass", e.Standalone())
	p.Direction = Unknown
	e, err = PortalPass(p)
	if err != nil || e.BizStep != "" || e.Disposition != "" {
		t.Fatalf("direction unknown: %+v %v", e, err)
	}
	validate(t, "pass of unknown direction", e.Standalone())
}

func TestLotHoldAndRelease(t *testing.T) {
	class := lgtin(t, "04012345123456", 7, "L2611260001")
	e, err := LotHold(Hold{HoldID: "cmd-hold-1", Time: when, Lot: Quantity{EPCClass: class}, BizLocation: site, Reason: "supplier recall notice 2026-44"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Disposition != DispositionNonSellableOther || e.BizStep != BizStepHolding || e.QuantityList[0].Quantity != nil {
		t.Fatalf("hold: %+v", e)
	}
	validate(t, "hold event", e.Standalone())
	golden(t, "lot_hold", validate(t, "hold document", NewDocument(when, e)))
	r, err := LotHold(Hold{HoldID: "cmd-release-1", Time: when.Add(time.Hour), Lot: Quantity{EPCClass: class, Quantity: 24}, BizLocation: site, Release: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Disposition != DispositionSellableNotAccessible || r.EventID == e.EventID {
		t.Fatalf("release: %+v", r)
	}
	validate(t, "release document", NewDocument(when, e, r))
	// A lot whose company prefix length is not known is named by its
	// Digital Link.
	dl, err := LotHold(Hold{HoldID: "cmd-hold-2", Time: when, Lot: Quantity{EPCClass: "https://id.gs1.org/01/04012345000009/10/LG-3"}, BizLocation: site})
	if err != nil {
		t.Fatal(err)
	}
	validate(t, "hold document, Digital Link class", NewDocument(when, dl))
	rc, err := LotHold(Hold{HoldID: "cmd-recall-1", Time: when, Lot: Quantity{EPCClass: class}, BizLocation: site, Recall: true, Reason: "supplier recall"})
	if err != nil || rc.Disposition != DispositionRecalled {
		t.Fatalf("recall: %+v %v", rc, err)
	}
	validate(t, "recall document", NewDocument(when, rc))
	if _, err := LotHold(Hold{HoldID: "x", Time: when, Lot: Quantity{EPCClass: class}, Recall: true, Release: true}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("release of a recall: %v", err)
	}
}

func TestEventIDStableAcrossRetries(t *testing.T) {
	a, _ := Receiving(receipt(t))
	b, _ := Receiving(receipt(t))
	if a.EventID != b.EventID || !strings.HasPrefix(a.EventID, "urn:uuid:") {
		t.Fatalf("event IDs %s and %s", a.EventID, b.EventID)
	}
	r := receipt(t)
	r.ReceiptID = "RCV-2026-000124"
	c, _ := Receiving(r)
	if c.EventID == a.EventID {
		t.Fatal("different receipts share an event ID")
	}
	if EventID("hold", "x") == EventID("release", "x") {
		t.Fatal("kinds share an event ID")
	}
	r.EventID = "urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca427"
	d, _ := Receiving(r)
	if d.EventID != r.EventID {
		t.Fatal("given event ID not kept")
	}
}

func TestInvalidInputs(t *testing.T) {
	good := receipt(t)
	cases := map[string]func(r *Receipt){
		"ReceiptID":       func(r *Receipt) { r.ReceiptID = "" },
		"time is zero":    func(r *Receipt) { r.Time = time.Time{} },
		"neither":         func(r *Receipt) { r.EPCs, r.Quantities = nil, nil },
		"BizLocation":     func(r *Receipt) { r.BizLocation = "" },
		"absolute URI":    func(r *Receipt) { r.ReadPoint = "door 3" },
		"UN/CEFACT":       func(r *Receipt) { r.Quantities[1].UOM = "kg" },
		"ilmd only":       func(r *Receipt) { r.ExpirationDate = "2027-01-01" },
		"YYYY-MM-DD":      func(r *Receipt) { r.AssignedLot, r.ExpirationDate = "L1", "31.05.2027" },
		"Sources[0].Type": func(r *Receipt) { r.Sources[0].Type = "" },
	}
	for want, mutate := range cases {
		r := good
		r.Quantities = append([]Quantity(nil), good.Quantities...)
		r.Sources = append([]Source(nil), good.Sources...)
		mutate(&r)
		if _, err := Receiving(r); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if _, err := PortalPass(Pass{PassID: "p", Time: when, Door: door3, Direction: "sideways", EPCs: []string{"urn:epc:id:sgtin:1.2.3"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad direction: %v", err)
	}
	if _, err := PortalPass(Pass{PassID: "p", Time: when, Door: door3, Direction: Inbound}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no EPCs: %v", err)
	}
	if _, err := LotHold(Hold{HoldID: "h", Time: when, Lot: Quantity{EPCClass: "urn:epc:id:sgtin:1.2.3"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("hold of a non-LGTIN: %v", err)
	}
}

func TestLGTIN(t *testing.T) {
	got, err := LGTIN("09506000134352", 8, `A/B%1`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "urn:epc:class:lgtin:95060001.03435.A%2FB%251"; got != want {
		t.Fatalf("LGTIN = %s, want %s", got, want)
	}
	for _, c := range []struct {
		gtin string
		cp   int
		lot  string
	}{
		{"09506000134353", 8, "A"},  // check digit
		{"0950600013435", 8, "A"},   // length
		{"09506000134352", 13, "A"}, // prefix length
		{"09506000134352", 8, ""},   // empty lot
		{"09506000134352", 8, "A B"},
		{"09506000134352", 8, "A#B"},
	} {
		if _, err := LGTIN(c.gtin, c.cp, c.lot); !errors.Is(err, ErrInvalid) {
			t.Errorf("LGTIN(%s, %d, %q) = %v, want ErrInvalid", c.gtin, c.cp, c.lot, err)
		}
	}
}

func TestSchemaRejectsWhatItShould(t *testing.T) {
	// The validator is live: ilmd with OBSERVE and a bad uom are refused.
	e, _ := Receiving(receipt(t))
	e.ILMD = map[string]any{"cbvmda:lotNumber": "X"}
	b, _ := json.Marshal(e.Standalone())
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if epcisSchema(t).Validate(inst) == nil {
		t.Fatal("schema accepted ilmd with OBSERVE")
	}
	e, _ = Receiving(receipt(t))
	e.QuantityList[1].UOM = "kg"
	b, _ = json.Marshal(e.Standalone())
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if epcisSchema(t).Validate(inst) == nil {
		t.Fatal("schema accepted uom kg")
	}
	e, _ = Receiving(receipt(t))
	e.Disposition = "urn:epcglobal:cbv:disp:hold"
	b, _ = json.Marshal(e.Standalone())
	inst, _ = jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if epcisSchema(t).Validate(inst) == nil {
		t.Fatal("schema accepted a made-up CBV disposition URI")
	}
}

func BenchmarkReceivingDocument(b *testing.B) {
	r := Receipt{ReceiptID: "R1", Time: when, BizLocation: site, ReadPoint: door3,
		Quantities:  []Quantity{{EPCClass: "urn:epc:class:lgtin:4012345.012345.L1", Quantity: 24}},
		AssignedLot: "L1", SupplierLot: "S1"}
	b.ReportAllocs()
	var n int
	for i := 0; i < b.N; i++ {
		e, err := Receiving(r)
		if err != nil {
			b.Fatal(err)
		}
		out, err := json.Marshal(NewDocument(when, e))
		if err != nil {
			b.Fatal(err)
		}
		n += len(out)
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/doc")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}
