package gateway

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/rfid/portal"
)

// Closing a shipment that left through DOOR2 gives it a pallet SSCC and
// prints its pallet-ship label on the door's printer through the spooler
// (the printer simulator receives it once, with (00), (410) and (401));
// its job events and label audit record follow; closing it again prints
// nothing more.
func TestShipmentClosePrintsPalletLabel(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	defer g.Close()
	ctx := context.Background()
	rc, sh := shipAndClose(t, g, clock, 2, shipping.Request{ID: "SHP-P", Door: "DOOR2", Order: "8812",
		Customer: shipping.Party{ID: "C-ACME", Name: "Acme Retail"}, ShipTo: shipping.Place{GLN: "4012345000023"}})
	if sh.Status != shipping.StatusShipped || len(sh.Shipped) != 1 || sh.Shipped[0].Cartons != 2 || len(sh.PalletSSCC) != 18 {
		t.Fatalf("closed shipment %+v", sh)
	}
	j, err := g.Spooler().Get("pallet-SHP-P")
	if err != nil {
		t.Fatal(err)
	}
	if j.Printer != "P1" || j.Template != "pallet-ship" || j.Carton != sh.PalletSSCC || j.Lot != rc.Lot {
		t.Fatalf("pallet job %+v", j)
	}

	// The spooler sends it to the printer simulator.
	rctx, cancel := context.WithCancel(ctx)
	var eg errgroup.Group
	g.printing.run(rctx, &eg, func(_ string, f func() error) func() error { return f })
	defer func() { cancel(); _ = eg.Wait() }()
	sim := g.PrinterSim("P1")
	pallets := func() int {
		n := 0
		for _, f := range sim.Formats() {
			if bytes.Contains(f.ZPL, []byte(sh.PalletSSCC)) {
				n++
				for _, ai := range []string{"(410)4012345000023(401)" + g.cfg.GS1.CompanyPrefix + "SHP-P", "(00)" + sh.PalletSSCC} {
					if !bytes.Contains(f.ZPL, []byte(ai)) {
						t.Errorf("pallet label lacks %s:\n%s", ai, f.ZPL)
					}
				}
			}
		}
		return n
	}
	eventually(t, 20*time.Second, "the pallet label printed", func() bool {
		return pallets() == 1
	})

	// A retried close is the same shipment and prints nothing again.
	again, err := g.Shipping().Close(ctx, "SHP-P")
	if err != nil || again.PalletSSCC != sh.PalletSSCC {
		t.Fatalf("closed again: %+v %v", again, err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := pallets(); n != 1 {
		t.Fatalf("%d pallet labels printed, want 1", n)
	}
	recs, err := g.LabelTrail().Job("pallet-SHP-P")
	if err != nil || len(recs) == 0 {
		t.Fatalf("label audit records of the pallet job: %v %v", recs, err)
	}
	evs := takeEvents(t, g)
	var jobEvents int
	for typ, es := range evs {
		if len(typ) > 4 && typ[:4] == "job." {
			jobEvents += len(es)
		}
	}
	if jobEvents == 0 || len(evs["shipment.shipped"]) != 1 {
		t.Fatalf("events %v", sortedKeys(evs))
	}
}

// A shipment's pallet label prints whatever the shipment took: an order
// and a PO written with spaces and '#', a customer, ship-to and carrier
// longer than the label prints (shortened, ending in "...").
func TestPalletLabelOfLongAndFreeText(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	defer g.Close()
	long := strings.Repeat("Acme Retail Europe ", 6)[:110]
	_, sh := shipAndClose(t, g, clock, 1, shipping.Request{ID: "SHP-L", Door: "DOOR2", Order: "SO 2026/77 #3", PO: "PO #4711 rev. 2",
		Carrier: strings.Repeat("Freight ", 9), Customer: shipping.Party{ID: "C-ACME", Name: long},
		ShipTo: shipping.Place{Address: strings.Repeat("12 rue Merciere, 69002 Lyon, ", 6)}})
	if sh.PalletSSCC == "" {
		t.Fatalf("closed: %+v", sh)
	}
	j, err := g.Spooler().Get("pallet-SHP-L")
	if err != nil {
		t.Fatalf("the pallet label was not spooled: %v", err)
	}
	for _, want := range []string{"ORDER SO 2026/77 #3", "PO #4711 rev. 2", long[:77] + "..."} {
		if !strings.Contains(j.ZPL, want) {
			t.Errorf("pallet label lacks %q:\n%s", want, j.ZPL)
		}
	}
}

// shipAndClose receives n cartons at DOOR1, ships them as req at DOOR2,
// has each pass DOOR2's portal going out and closes the shipment ten
// minutes after readsT0, on clock.
func shipAndClose(t *testing.T, g *Gateway, clock *testClock, n int, req shipping.Request) (*receiving.Receipt, *shipping.Shipment) {
	t.Helper()
	ctx := context.Background()
	rc, err := g.Receiving().Receive(ctx, receiving.Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: n})
	if err != nil {
		t.Fatal(err)
	}
	req.SSCCs = rc.Cartons
	if _, err := g.Shipping().Create(ctx, req); err != nil {
		t.Fatal(err)
	}
	for i, sscc := range rc.Cartons {
		c, err := g.Receiving().Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		at := time.Duration(i+1) * time.Minute
		g.observeReads(sweepReads(c.EPC, 5, 7, portal.DirectionOut, readsT0.Add(at)))
		g.eng.Tick(readsT0.Add(at + 5*time.Second))
		drainPortal(t, g)
	}
	clock.set(readsT0.Add(10 * time.Minute))
	sh, err := g.Shipping().Close(ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rc, sh
}
