package shipping

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/rfid/portal"
)

const (
	gtinA = "09520123456788"
	gtinB = "09520123456795"
)

var acme = Party{ID: "C-ACME", Name: "Acme Retail", GLN: "4012345000016"}

func shipReq(id string) Request {
	return Request{ID: id, Door: "DOOR2", Order: "ORD-" + id, Customer: acme, ShipTo: Place{GLN: "4012345000023"},
		Carrier: "DHL", PO: "PO-C-" + id, DespatchAdvice: "DA-" + id}
}

// "Pick N cartons of GTIN G" takes lots first expiry first, never one on
// hold, recalled or expired, and says which it took and which it skipped.
func TestShipmentPicksFEFO(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.receive("R1", gtinA, "LATE", "2026-09-30", 4, 10)
	r.receive("R2", gtinA, "EARLY", "2026-05-31", 2, 10)
	r.receive("R3", gtinA, "MID", "2026-07-31", 3, 10)
	r.receive("R4", gtinA, "HELD", "2026-04-30", 5, 10)
	r.receive("R5", gtinA, "OLD", "2026-03-01", 5, 10) // expires before today (2026-03-02)
	r.receive("R6", gtinB, "OTHER", "2026-04-01", 5, 10)
	if _, err := r.lots.Hold(ctx, "HELD", "lab sample", "qa"); err != nil {
		t.Fatal(err)
	}
	req := shipReq("S1")
	req.Lines = []LineRequest{{GTIN: gtinA, Cartons: 6}}
	sh, err := r.ship.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, l := range sh.Lines {
		got = append(got, l.Lot+":"+itoa(l.Cartons))
	}
	if want := []string{"EARLY:2", "MID:3", "LATE:1"}; !slices.Equal(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
	p := sh.Picks[0]
	if len(p.Lots) != 3 || len(p.Skipped) != 2 || p.Skipped[0].Lot != "OLD" || p.Skipped[0].Reason != ReasonExpired ||
		p.Skipped[1].Lot != "HELD" || p.Skipped[1].Reason != ReasonHeld || p.Skipped[1].InStock != 5 {
		t.Fatalf("pick %+v", p)
	}
	if sh.Expected != 6 || sh.Status != StatusOpen {
		t.Fatalf("shipment %+v", sh)
	}
	// The same id again is the same shipment; another request with it
	// is refused.
	again, err := r.ship.Create(ctx, req)
	if err != nil || again.Lines[0].Lot != "EARLY" || len(r.events("shipment.created")) != 1 {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	req2 := req
	req2.Order = "ORD-other"
	if _, err := r.ship.Create(ctx, req2); !errors.Is(err, ErrConflict) {
		t.Fatalf("id reused: %v", err)
	}
	// What S1 promised is not offered again: 3 of LATE are left.
	req3 := shipReq("S2")
	req3.Lines = []LineRequest{{GTIN: gtinA, Cartons: 4}}
	_, err = r.ship.Create(ctx, req3)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "3 in stock") || !strings.Contains(err.Error(), "HELD (held, 5 in stock)") {
		t.Fatalf("pick beyond stock: %v", err)
	}
	// A lot line of a held lot, and of more than there is, are refused.
	req4 := shipReq("S4")
	req4.Lines = []LineRequest{{Lot: "HELD", Cartons: 1}}
	if _, err := r.ship.Create(ctx, req4); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "on_hold") {
		t.Fatalf("held lot line: %v", err)
	}
	req4.Lines = []LineRequest{{Lot: "OTHER", Cartons: 6}}
	if _, err := r.ship.Create(ctx, req4); !errors.Is(err, ErrConflict) {
		t.Fatalf("lot line beyond stock: %v", err)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestShipmentRequestErrors(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	rc := r.receive("R1", gtinA, "L1", "2026-09-30", 2, 0)
	cases := map[string]func(q *Request){
		"door: required":       func(q *Request) { q.Door = "" },
		"unknown door":         func(q *Request) { q.Door = "DOOR9" },
		"receiving door":       func(q *Request) { q.Door = "DOOR1" },
		"order: required":      func(q *Request) { q.Order = "" },
		"customer: give":       func(q *Request) { q.Customer = Party{Name: "X"} },
		"customer.gln":         func(q *Request) { q.Customer.GLN = "4012345000017" },
		"ship_to: give":        func(q *Request) { q.ShipTo = Place{} },
		"say what should":      func(q *Request) { q.SSCCs, q.Lines = nil, nil },
		"ssccs[0]":             func(q *Request) { q.SSCCs = []string{"123"} },
		"given twice":          func(q *Request) { q.SSCCs = []string{rc.Cartons[0], "(00)" + rc.Cartons[0]} },
		"lines[0].cartons":     func(q *Request) { q.Lines = []LineRequest{{Lot: "L1"}} },
		"lines[0]: give a lot": func(q *Request) { q.Lines = []LineRequest{{Cartons: 1}} },
		"lines[0].gtin":        func(q *Request) { q.Lines = []LineRequest{{GTIN: "09520123456789", Cartons: 1}} },
		"at most 2000":         func(q *Request) { q.Lines = []LineRequest{{Lot: "L1", Cartons: 2001}} },
		"id:":                  func(q *Request) { q.ID = "a b" },
		"control character":    func(q *Request) { q.Carrier = "a\nb" },
		"no carton":            func(q *Request) { q.SSCCs = []string{"006141410000000098"} },
		"not in the lot":       func(q *Request) { q.Lines = []LineRequest{{Lot: "NOPE", Cartons: 1}} },
	}
	for want, mutate := range cases {
		q := shipReq("E1")
		q.SSCCs = []string{rc.Cartons[0]}
		mutate(&q)
		_, err := r.ship.Create(ctx, q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	q := shipReq("E1")
	q.Door = "DOOR1"
	if _, err := r.ship.Create(ctx, q); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "unknown door") {
		t.Errorf("a receiving door, which is configured: %v; want an invalid request, not an unknown door", err)
	}
	if n := len(r.events("shipment.created")); n != 0 {
		t.Fatalf("%d shipments recorded from bad requests", n)
	}
}

// Out passes at the shipping door load what the open shipment asks for;
// everything else is a mismatch naming the carton and why, and a carton of
// ours that leaves anyway stays on the shipment as unplanned until an in
// pass takes it back. Close says what left by lot and what is missing.
func TestLoadingMismatchesAndClose(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 5, 12)
	b := r.receive("RB", gtinB, "LOT-B", "2026-09-30", 3, 0)
	h := r.receive("RH", gtinA, "LOT-H", "2026-09-30", 2, 12)
	if _, err := r.lots.Hold(ctx, "LOT-H", "lab", "qa"); err != nil {
		t.Fatal(err)
	}
	req := shipReq("S1")
	req.SSCCs = []string{b.Cartons[0], b.Cartons[1]}
	req.Lines = []LineRequest{{Lot: "LOT-A", Cartons: 3}}
	sh, err := r.ship.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Expected != 5 || len(sh.SSCCLots) != 1 || sh.SSCCLots[0].Cartons != 2 {
		t.Fatalf("shipment %+v", sh)
	}
	// A second shipment at another door asks for B's third carton.
	other := shipReq("S2")
	other.Door = "DOOR3"
	other.SSCCs = []string{b.Cartons[2]}
	if _, err := r.ship.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	unknown := "3034257BF40C0E40000007D1"
	res := r.pass("DOOR2", portal.DirectionOut, r.epc(a.Cartons[0]), r.epc(a.Cartons[1]), r.epc(b.Cartons[0]),
		r.epc(h.Cartons[0]), r.epc(b.Cartons[2]), unknown)
	if len(res.Loaded) != 3 || len(res.Mismatches) != 3 {
		t.Fatalf("pass: %+v", res)
	}
	reasons := map[string]string{}
	for _, m := range res.Mismatches {
		reasons[m.EPC] = m.Reason + "/" + m.Shipment
	}
	if reasons[r.epc(h.Cartons[0])] != "held/" || reasons[r.epc(b.Cartons[2])] != "other_shipment/S2" || reasons[unknown] != "unknown/" {
		t.Fatalf("mismatches %v", reasons)
	}
	mm := r.events("shipment.mismatch")
	if len(mm) != 1 || !strings.Contains(string(mm[0].Body), `"reason":"held"`) || !slices.Contains(mm[0].Lots, "LOT-H") {
		t.Fatalf("mismatch events %+v", mm)
	}
	// The same cartons read again change nothing.
	if res := r.pass("DOOR2", portal.DirectionOut, r.epc(a.Cartons[0])); len(res.Loaded)+len(res.Mismatches) != 0 {
		t.Fatalf("second read: %+v", res)
	}
	// The held carton and the other shipment's one are taken back in.
	if res := r.pass("DOOR2", portal.DirectionIn, r.epc(h.Cartons[0]), r.epc(b.Cartons[2])); len(res.Unloaded) != 2 {
		t.Fatalf("in pass: %+v", res)
	}
	// The fourth carton of lot A is one too many: not ordered, unplanned.
	res = r.pass("DOOR2", portal.DirectionOut, r.epc(a.Cartons[2]), r.epc(a.Cartons[3]), r.epc(b.Cartons[1]))
	if len(res.Loaded) != 2 || len(res.Mismatches) != 1 || res.Mismatches[0].Reason != ReasonNotOrdered || len(res.Complete) != 1 {
		t.Fatalf("pass 3: %+v", res)
	}
	sh, _ = r.ship.Get("S1")
	if sh.Status != StatusLoaded || sh.Loaded != 5 || sh.Unplanned != 1 || sh.Mismatches != 4 {
		t.Fatalf("loaded shipment %+v", sh)
	}
	if ev := r.events("shipment.loaded"); len(ev) != 1 {
		t.Fatalf("shipment.loaded events: %d", len(ev))
	}
	// Out of stock while loaded: the stock sees it.
	if st, _ := r.ship.StockOf("LOT-A"); st.Loaded != 4 || st.InStock != 1 {
		t.Fatalf("stock of LOT-A %+v", st)
	}
	// The unplanned carton taken back; one of B's missing at close.
	r.pass("DOOR2", portal.DirectionIn, r.epc(a.Cartons[3]), r.epc(b.Cartons[1]))
	sh, err = r.ship.Close(ctx, "S1")
	if err != nil {
		t.Fatal(err)
	}
	if sh.Status != StatusShipped || len(sh.Missing.SSCCs) != 1 || sh.Missing.SSCCs[0] != b.Cartons[1] || len(sh.Missing.Lines) != 0 {
		t.Fatalf("closed %+v missing %+v", sh, sh.Missing)
	}
	want := []LotQuantity{{Lot: "LOT-A", GTIN: gtinA, Cartons: 3, Quantity: 36, Unit: "EA"}, {Lot: "LOT-B", GTIN: gtinB, Cartons: 1, Quantity: 1, Unit: "CS"}}
	if !slices.Equal(sh.Shipped, want) {
		t.Fatalf("shipped %+v, want %+v", sh.Shipped, want)
	}
	ev := r.events("shipment.shipped")
	if len(ev) != 1 || len(ev[0].Cartons) != 4 || ev[0].Shipment.ID != "S1" {
		t.Fatalf("shipped events %+v", ev)
	}
	var body struct {
		SSCCs   []string `json:"ssccs"`
		Missing Missing  `json:"missing"`
	}
	json.Unmarshal(ev[0].Body, &body)
	if len(body.SSCCs) != 4 || body.Missing.SSCCs[0] != b.Cartons[1] {
		t.Fatalf("shipped body %s", ev[0].Body)
	}
	// Closing again changes nothing; the stock counts what left.
	if again, err := r.ship.Close(ctx, "S1"); err != nil || !again.ShippedAt.Equal(sh.ShippedAt) || len(r.events("shipment.shipped")) != 1 {
		t.Fatalf("second close %+v %v", again, err)
	}
	if st, _ := r.ship.StockOf("LOT-A"); st.Loaded != 0 || st.Shipped != 3 || st.InStock != 2 {
		t.Fatalf("stock of LOT-A after close %+v", st)
	}
	// A carton shipped is not loaded again: it left with S1.
	res = r.pass("DOOR2", portal.DirectionOut, r.epc(a.Cartons[0]))
	if len(res.Mismatches) != 1 || res.Mismatches[0].Reason != ReasonOtherShipment || res.Mismatches[0].Shipment != "S1" {
		t.Fatalf("pass after close: %+v", res)
	}
	// A receiving door's passes are not shipping's.
	if res := r.pass("DOOR1", portal.DirectionOut, r.epc(a.Cartons[4])); len(res.Loaded)+len(res.Mismatches) != 0 {
		t.Fatalf("receiving door: %+v", res)
	}
}

// A shipment whose lot is put on hold after it was announced does not
// load the lot's cartons.
func TestHoldAfterAnnounceStopsLoading(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 2, 0)
	req := shipReq("S1")
	req.SSCCs = a.Cartons
	if _, err := r.ship.Create(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := r.lots.Recall(ctx, "LOT-A", "supplier recall", "qa"); err != nil {
		t.Fatal(err)
	}
	res := r.pass("DOOR2", portal.DirectionUnknown, r.epc(a.Cartons[0]))
	if len(res.Loaded) != 0 || len(res.Mismatches) != 1 || res.Mismatches[0].Reason != ReasonRecalled {
		t.Fatalf("pass of a recalled carton: %+v", res)
	}
	sh, _ := r.ship.Get("S1")
	if sh.Unplanned != 1 || sh.Loaded != 0 {
		t.Fatalf("shipment %+v", sh)
	}
}

// A pass committed in chunks (one OnPass per chunk, at the same time) has
// a mismatch event per chunk, each with an id of its own.
func TestChunkedPassMismatchIDs(t *testing.T) {
	r := newRig(t)
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 2, 0)
	at := r.clock.add(time.Minute)
	for _, sscc := range a.Cartons {
		unlock := r.ship.LockPass()
		err := r.st.Update(func(txn *badger.Txn) error {
			_, err := r.ship.OnPass(txn, "DOOR2", portal.DirectionOut, at, []string{r.epc(sscc)})
			return err
		})
		unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	ev := r.events("shipment.mismatch")
	if len(ev) != 2 || ev[0].ID == ev[1].ID {
		t.Fatalf("mismatch events %+v", ev)
	}
}
