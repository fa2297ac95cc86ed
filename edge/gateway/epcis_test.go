package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A hold and its release each publish an EPCIS document, and a lot's class
// is split at its own company prefix: a supplier's from the prefix table,
// and a Digital Link where the table has no entry.
func TestLotHoldAndReleaseDocuments(t *testing.T) {
	cfg := minimalConfig(t)
	cfg.GS1 = config.GS1{CompanyPrefix: "061414112",
		CompanyPrefixes: []epc.CompanyPrefixEntry{{Prefix: "9520123", Length: 7}}}
	g := openGateway(t, cfg, Options{})
	ctx := context.Background()
	for _, l := range []struct{ code, gtin string }{
		{"LG-1", "09520123456788"}, // supplier's, 7-digit prefix in the table
		{"LG-2", "00614141123452"}, // the gateway's own, 9 digits
		{"LG-3", "04012345000009"}, // no entry
	} {
		if _, err := g.lots.Register(ctx, l.code, lots.Details{Product: "P", GTIN: l.gtin, Supplier: "Acme"}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.lots.Hold(ctx, l.code, "lab", "qa"); err != nil {
			t.Fatal(err)
		}
		if _, err := g.lots.Release(ctx, l.code, "qa"); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := g.ob.Next(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	type doc struct {
		Body struct {
			EventList []struct {
				BizStep      string `json:"bizStep"`
				Disposition  string `json:"disposition"`
				QuantityList []struct {
					EPCClass string `json:"epcClass"`
				} `json:"quantityList"`
			} `json:"eventList"`
		} `json:"epcisBody"`
	}
	var got [][3]string
	for _, ev := range evs {
		if ev.Topic != "epcis" {
			continue
		}
		var d doc
		if err := json.Unmarshal(ev.Body, &d); err != nil {
			t.Fatal(err)
		}
		for _, e := range d.Body.EventList {
			got = append(got, [3]string{e.BizStep, e.Disposition, e.QuantityList[0].EPCClass})
		}
	}
	want := [][3]string{
		{"holding", "non_sellable_other", "urn:epc:class:lgtin:9520123.045678.LG-1"},
		{"storing", "sellable_not_accessible", "urn:epc:class:lgtin:9520123.045678.LG-1"},
		{"holding", "non_sellable_other", "urn:epc:class:lgtin:061414112.0345.LG-2"},
		{"storing", "sellable_not_accessible", "urn:epc:class:lgtin:061414112.0345.LG-2"},
		{"holding", "non_sellable_other", "https://id.gs1.org/01/04012345000009/10/LG-3"},
		{"storing", "sellable_not_accessible", "https://id.gs1.org/01/04012345000009/10/LG-3"},
	}
	if len(got) != len(want) {
		t.Fatalf("EPCIS events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// A supplier lot code already registered for another product (date codes
// are common) does not refuse the goods: they get a lot of the gateway's
// own with the supplier's lot linked, which later receipts of the same
// supplier lot and product join.
func TestSupplierLotCodeTakenGetsALotOfItsOwn(t *testing.T) {
	cfg := minimalConfig(t)
	g := openGateway(t, cfg, Options{})
	ctx := context.Background()
	receive := func(id, scan string) *receiving.Receipt {
		t.Helper()
		rc, err := g.recv.Receive(ctx, receiving.Request{ID: id, Door: "DOOR1", Scan: scan, Supplier: "Acme", Product: "P" + scan[13:17], Cartons: 1})
		if err != nil {
			t.Fatalf("receipt %s: %v", id, err)
		}
		return rc
	}
	a := receive("a", "(01)09520123456788(10)250501(17)270531")
	b := receive("b", "(01)09520123456795(10)250501(17)270531")
	c := receive("c", "(01)09520123456795(10)250501(17)270531")
	if a.Lot != "250501" || a.LotAssigned {
		t.Fatalf("first receipt did not keep the supplier's lot: %+v", a)
	}
	if b.Lot == "250501" || !b.LotAssigned || b.SupplierLot != "250501" {
		t.Fatalf("second product's receipt: %+v", b)
	}
	if c.Lot != b.Lot {
		t.Fatalf("the same supplier lot and product got another lot: %s, then %s", b.Lot, c.Lot)
	}
	// Another expiry is another lot of the gateway's own (one lot, one
	// expiry: FEFO sees both).
	if d := receive("d", "(01)09520123456795(10)250501(17)280531"); d.Lot == b.Lot || !d.LotAssigned {
		t.Fatalf("the same supplier lot with another expiry joined %s: %+v", b.Lot, d)
	}
	own, err := g.lots.Get(b.Lot)
	if err != nil || own.SupplierLot != "250501" || own.Supplier != "Acme" || own.GTIN != "09520123456795" {
		t.Fatalf("lot of its own %+v, %v", own, err)
	}
	codes, err := g.lots.SupplierLots("Acme", "250501")
	if err != nil || len(codes) != 3 {
		t.Fatalf("lots of supplier lot 250501: %v, %v", codes, err)
	}
	// FSMA 204: the receipt documents name the previous source, and who
	// assigned the lot code: the supplier for a kept lot, the site for
	// one of the gateway's own.
	evs, err := g.ob.Next(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var tlc []string
	for _, ev := range evs {
		if ev.Type != "epcis.receiving" {
			continue
		}
		var d struct {
			Body struct {
				EventList []struct {
					SourceList []struct{ Type, Source string } `json:"sourceList"`
					TLCSource  string                          `json:"dockgate:tlcSource"`
				} `json:"eventList"`
			} `json:"epcisBody"`
		}
		if err := json.Unmarshal(ev.Body, &d); err != nil {
			t.Fatal(err)
		}
		e := d.Body.EventList[0]
		if len(e.SourceList) != 1 || e.SourceList[0].Type != "owning_party" || e.SourceList[0].Source != "urn:dockgate:party:Acme" {
			t.Fatalf("sourceList %+v", e.SourceList)
		}
		tlc = append(tlc, e.TLCSource)
	}
	if len(tlc) != 4 || tlc[0] != "urn:dockgate:party:Acme" || !strings.HasPrefix(tlc[1], "urn:epc:id:sgln:") || tlc[2] != tlc[1] {
		t.Fatalf("tlcSource of the receipts: %v", tlc)
	}
}

// A pass lists every tag: a GS1 key by its URI, anything the portal could
// not take for one as a raw EPC, never dropped.
func TestPassURIsListRawEPCs(t *testing.T) {
	p := &portal.PassEvent{Tags: []portal.PassTag{
		{EPC: "3074257BF7194E4000001A85", URI: "urn:epc:id:sgtin:0614141.812345.6789", Kind: portal.KindItem},
		{EPC: "E2801160600002A1B2C3D4", Kind: portal.KindOther},
	}}
	got := passURIs(p)
	if len(got) != 2 || got[0] != "urn:epc:id:sgtin:0614141.812345.6789" || !strings.HasPrefix(got[1], "urn:epc:raw:88.") {
		t.Fatalf("pass URIs %v", got)
	}
}

// A receipt's quantityList carries FSMA 204's quantity and unit: items
// times cartons with a measure's uom, or the cartons counted.
func TestReceiptQuantityAndUnit(t *testing.T) {
	cfg := minimalConfig(t)
	g := openGateway(t, cfg, Options{})
	ctx := context.Background()
	for _, r := range []receiving.Request{
		{ID: "kg", Door: "DOOR1", GTIN: "09520123456788", Cartons: 3, QtyPerCarton: 12, Unit: "KGM"},
		{ID: "cs", Door: "DOOR1", GTIN: "09520123456788", Cartons: 2},
		{ID: "ea", Door: "DOOR1", GTIN: "09520123456788", Cartons: 2, QtyPerCarton: 6},
	} {
		if _, err := g.recv.Receive(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := g.ob.Next(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		if ev.Type != "epcis.receiving" {
			continue
		}
		var d struct {
			Body struct {
				EventList []struct {
					QuantityList []struct {
						Quantity float64 `json:"quantity"`
						UOM      string  `json:"uom"`
					} `json:"quantityList"`
				} `json:"eventList"`
			} `json:"epcisBody"`
		}
		if err := json.Unmarshal(ev.Body, &d); err != nil {
			t.Fatal(err)
		}
		q := d.Body.EventList[0].QuantityList[0]
		got = append(got, fmt.Sprintf("%g %s", q.Quantity, q.UOM))
	}
	if want := "36 KGM|2 |12 "; strings.Join(got, "|") != want {
		t.Fatalf("quantities %q, want %q", strings.Join(got, "|"), want)
	}
}
