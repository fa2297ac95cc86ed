package shipping

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/dockgate/dockgate/rfid/portal"
)

var bistro = Party{ID: "C-BISTRO", Name: "Bistro Lyon", GLN: "4012345000023"}

// shipAll announces a shipment of SSCCs, passes them out at DOOR2 and
// closes it.
func (r *rig) shipAll(id string, to Party, ssccs ...string) *Shipment {
	r.t.Helper()
	req := shipReq(id)
	req.Customer, req.SSCCs = to, ssccs
	if _, err := r.ship.Create(context.Background(), req); err != nil {
		r.t.Fatal(err)
	}
	var epcs []string
	for _, s := range ssccs {
		epcs = append(epcs, r.epc(s))
	}
	if res := r.pass("DOOR2", portal.DirectionOut, epcs...); len(res.Loaded) != len(ssccs) {
		r.t.Fatalf("shipment %s: %+v", id, res)
	}
	r.clock.add(time.Hour)
	sh, err := r.ship.Close(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return sh
}

// A returned carton goes back under its lot with its condition: resaleable
// into stock, damaged out of it; one of a recalled lot goes to quarantine
// whatever was asked; units come back by their (01)+(10).
func TestReturns(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 4, 12)
	r.shipAll("S1", acme, a.Cartons[:3]...)
	if _, err := r.ship.Return(ReturnRequest{SSCC: a.Cartons[3], Condition: ConditionResaleable}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "never left") {
		t.Fatalf("return of a carton in stock: %v", err)
	}
	ret, err := r.ship.Return(ReturnRequest{ID: "RT1", EPC: r.epc(a.Cartons[0]), Condition: ConditionResaleable, RMA: "RMA-1", Door: "DOOR1"})
	if err != nil {
		t.Fatal(err)
	}
	if ret.Lot != "LOT-A" || ret.Shipment != "S1" || ret.Order != "ORD-S1" || ret.Customer.ID != "C-ACME" || ret.Quantity != 12 || ret.Unit != "EA" || ret.Cartons != 1 {
		t.Fatalf("return %+v", ret)
	}
	if again, err := r.ship.Return(ReturnRequest{ID: "RT1", EPC: r.epc(a.Cartons[0]), Condition: ConditionResaleable, RMA: "RMA-1", Door: "DOOR1"}); err != nil || again.Time != ret.Time {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	if _, err := r.ship.Return(ReturnRequest{ID: "RT1", SSCC: a.Cartons[1], Condition: ConditionDamaged}); !errors.Is(err, ErrConflict) {
		t.Fatalf("id reused: %v", err)
	}
	if _, err := r.ship.Return(ReturnRequest{SSCC: a.Cartons[0], Condition: ConditionDamaged}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "came back already") {
		t.Fatalf("second return: %v", err)
	}
	if _, err := r.ship.Return(ReturnRequest{ID: "RT2", Scan: "(00)" + a.Cartons[1], Condition: ConditionDamaged}); err != nil {
		t.Fatal(err)
	}
	st, _ := r.ship.StockOf("LOT-A")
	if st.InStock != 2 || st.Shipped != 1 || st.Returned != 2 || st.Damaged != 1 {
		t.Fatalf("stock %+v", st)
	}
	// The resaleable carton may leave again.
	req := shipReq("S2")
	req.SSCCs = []string{a.Cartons[0]}
	if _, err := r.ship.Create(ctx, req); err != nil {
		t.Fatalf("shipment of a resaleable return: %v", err)
	}
	// The damaged one may not.
	req = shipReq("S3")
	req.SSCCs = []string{a.Cartons[1]}
	if _, err := r.ship.Create(ctx, req); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "returned damaged") {
		t.Fatalf("shipment of a damaged return: %v", err)
	}
	// A recalled lot's return goes to quarantine.
	if _, err := r.lots.Recall(ctx, "LOT-A", "listeria", "qa"); err != nil {
		t.Fatal(err)
	}
	ret, err = r.ship.Return(ReturnRequest{ID: "RT3", SSCC: a.Cartons[2], Condition: ConditionResaleable})
	if err != nil {
		t.Fatal(err)
	}
	if ret.Condition != ConditionQuarantine || ret.Requested != ConditionResaleable || !strings.Contains(ret.Routed, "recalled") {
		t.Fatalf("return of a recalled lot %+v", ret)
	}
	// Units by their (01)+(10).
	ret, err = r.ship.Return(ReturnRequest{ID: "RT4", Scan: "(01)" + gtinA + "(10)LOT-A", Quantity: 3, Condition: ConditionDamaged, Shipment: "S1"})
	if err != nil {
		t.Fatal(err)
	}
	if ret.Cartons != 0 || ret.Quantity != 3 || ret.Unit != "EA" || ret.Condition != ConditionQuarantine || ret.Customer.ID != "C-ACME" {
		t.Fatalf("unit return %+v", ret)
	}
	if ev := r.events("carton.returned"); len(ev) != 4 || ev[3].Return.ID != "RT4" {
		t.Fatalf("carton.returned events: %+v", ev)
	}
	for want, q := range map[string]ReturnRequest{
		"exactly one":     {SSCC: a.Cartons[0], EPC: "x", Condition: ConditionDamaged},
		"condition: req":  {SSCC: a.Cartons[0]},
		"is not resale":   {SSCC: a.Cartons[0], Condition: "used"},
		"neither":         {Scan: "(01)" + gtinA, Condition: ConditionDamaged},
		"quantity":        {SSCC: a.Cartons[0], Quantity: 2, Condition: ConditionDamaged},
		"not in the lot":  {Scan: "(01)" + gtinA + "(10)NOPE", Condition: ConditionDamaged},
		"the scan says":   {Scan: "(01)" + gtinB + "(10)LOT-A", Condition: ConditionDamaged},
		"no carton with ": {EPC: "3034257BF40C0E40000007D1", Condition: ConditionDamaged},
		"at most 1e+09":   {Scan: "(01)" + gtinA + "(10)LOT-A", Quantity: 1e308, Condition: ConditionDamaged},
	} {
		if _, err := r.ship.Return(q); err == nil || !strings.Contains(err.Error(), strings.TrimSpace(want)) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// A count compares what was counted with the stock per lot: a quantity of
// a lot or of a GTIN, or the cartons of an RFID sweep.
func TestCounts(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 4, 12)
	b := r.receive("RB", gtinA, "LOT-B", "2026-10-31", 3, 12)
	r.shipAll("S1", acme, a.Cartons[0])
	q := 2.0
	c, err := r.ship.Count(ctx, CountRequest{ID: "K1", Lot: "LOT-A", Quantity: &q, Location: "A-01-02"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Expected != 3 || c.Counted != 2 || c.Variance != -1 || len(c.Lots) != 1 || *c.Lots[0].Variance != -1 {
		t.Fatalf("count %+v", c)
	}
	items := 40.0
	c, err = r.ship.Count(ctx, CountRequest{ID: "K2", Lot: "LOT-A", Quantity: &items, Unit: "EA"})
	if err != nil || c.Expected != 36 || c.Variance != 4 {
		t.Fatalf("count in items %+v %v", c, err)
	}
	sweep := []string{r.epc(a.Cartons[1]), r.epc(a.Cartons[1]), r.epc(b.Cartons[0]), r.epc(a.Cartons[0]), "3034257BF40C0E40000007D1"}
	c, err = r.ship.Count(ctx, CountRequest{ID: "K3", GTIN: gtinA, EPCs: sweep, Door: "DOOR1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]float64{}
	for _, l := range c.Lots {
		got[l.Lot] = [2]float64{l.Expected, *l.Counted}
	}
	// The shipped carton found counts: the variance shows it is back.
	if got["LOT-A"] != [2]float64{3, 2} || got["LOT-B"] != [2]float64{3, 1} || c.Variance != -3 || len(c.Unknown) != 1 {
		t.Fatalf("sweep %+v (%v)", c, got)
	}
	c, err = r.ship.Count(ctx, CountRequest{ID: "K4", GTIN: gtinA, Quantity: &q})
	if err != nil || c.Expected != 6 || c.Counted != 2 || c.Lots[0].Counted != nil {
		t.Fatalf("GTIN count %+v %v", c, err)
	}
	if ev := r.events("count.recorded"); len(ev) != 4 || !slices.Contains(ev[2].Lots, "LOT-B") {
		t.Fatalf("count events %+v", ev)
	}
	for want, q := range map[string]CountRequest{
		"not both":         {Lot: "LOT-A", Quantity: &q, EPCs: sweep},
		"of a lot or a":    {Quantity: &q},
		"a sweep counts":   {EPCs: sweep, Unit: "EA"},
		"unit: \"kg\"":     {Lot: "LOT-A", Quantity: &q, Unit: "kg"},
		"not in the lot r": {Lot: "NOPE", Quantity: &q},
		"at most 1e+09":    {Lot: "LOT-A", Quantity: ptr(1e300)},
		"whole cartons":    {Lot: "LOT-A", Quantity: ptr(2.5)},
	} {
		if _, err := r.ship.Count(ctx, q); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// The recall report names every customer and order that received the lot
// with quantities, what is in stock, what came back and the supplier's
// lot; trace customer and trace order reach the supplier's lot; a lot's
// trace lists its shipments.
func TestRecallReportAndTraces(t *testing.T) {
	r := newRig(t)
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 6, 12)
	r.receive("RA2", gtinA, "LOT-A", "2026-09-30", 2, 12)
	b := r.receive("RB", gtinB, "LOT-B", "2026-10-31", 2, 0)
	r.shipAll("S1", acme, a.Cartons[0], a.Cartons[1], b.Cartons[0])
	r.shipAll("S2", bistro, a.Cartons[2])
	r.shipAll("S3", acme, a.Cartons[3])
	if _, err := r.ship.Return(ReturnRequest{ID: "RT1", SSCC: a.Cartons[3], Condition: ConditionDamaged}); err != nil {
		t.Fatal(err)
	}
	rep, err := r.ship.RecallReport("LOT-A")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Supplier != "Acme" || rep.SupplierLot != "LOT-A" || rep.Received != (Amount{8, 96, "EA"}) || len(rep.Receipts) != 2 {
		t.Fatalf("report head %+v", rep)
	}
	if rep.Shipped != (Amount{4, 48, "EA"}) || rep.Orders != 3 || len(rep.Customers) != 2 {
		t.Fatalf("shipped %+v orders %d customers %+v", rep.Shipped, rep.Orders, rep.Customers)
	}
	c0, c1 := rep.Customers[0], rep.Customers[1]
	if c0.Customer.ID != "C-ACME" || c0.Amount != (Amount{3, 36, "EA"}) || len(c0.Orders) != 2 || c0.Orders[0].Order != "ORD-S1" || c0.Orders[0].Cartons != 2 ||
		c1.Customer.ID != "C-BISTRO" || c1.Amount != (Amount{1, 12, "EA"}) || c1.Orders[0].ShipTo.GLN != "4012345000023" {
		t.Fatalf("customers %+v", rep.Customers)
	}
	if rep.InStock != (Amount{4, 48, "EA"}) || rep.Returned != (Amount{1, 12, "EA"}) || len(rep.Returns) != 1 || rep.Returns[0].Customer.ID != "C-ACME" {
		t.Fatalf("stock %+v returned %+v", rep.InStock, rep.Returned)
	}
	tc, err := r.ship.TraceCustomer("C-ACME")
	if err != nil {
		t.Fatal(err)
	}
	if len(tc.Shipments) != 2 || len(tc.Lots) != 2 || tc.Lots[0].Lot != "LOT-A" || tc.Lots[0].Cartons != 3 || tc.Lots[0].Supplier != "Acme" ||
		tc.Lots[0].SupplierLot != "LOT-A" || tc.Lots[1].Lot != "LOT-B" || tc.Lots[1].Unit != "CS" {
		t.Fatalf("trace customer %+v", tc)
	}
	if byGLN, err := r.ship.TraceCustomer(acme.GLN); err != nil || len(byGLN.Shipments) != 2 {
		t.Fatalf("trace customer by GLN %+v %v", byGLN, err)
	}
	to, err := r.ship.TraceOrder("ORD-S2")
	if err != nil || len(to.Shipments) != 1 || to.Lots[0].Lot != "LOT-A" || to.Shipments[0].Customer.ID != "C-BISTRO" {
		t.Fatalf("trace order %+v %v", to, err)
	}
	if _, err := r.ship.TraceCustomer("NOBODY"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown customer: %v", err)
	}
	if _, err := r.ship.RecallReport("NOPE"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown lot: %v", err)
	}
	ls, err := r.ship.LotShipments("LOT-A")
	if err != nil || len(ls) != 3 || ls[0].Shipment != "S1" || ls[0].Cartons != 2 || ls[0].Customer.Name != "Acme Retail" {
		t.Fatalf("lot shipments %+v %v", ls, err)
	}
}

// The FSMA 204 export has one row per receiving and shipping event with
// the key data elements, as CSV and as XLSX (reopened here).
func TestFSMA204Export(t *testing.T) {
	r := newRig(t)
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 3, 12) // 2026-03-02 08:00 UTC
	r.clock.add(24 * time.Hour)
	b := r.receive("RB", gtinB, "LOT-B", "2026-10-31", 2, 0)
	r.shipAll("S1", acme, a.Cartons[0], a.Cartons[1], b.Cartons[0])
	rows, err := r.ship.FSMA204(FSMAQuery{From: "2026-03-01", To: "2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}
	const site = "lyon, GLN 0614141000012"
	want := [][]string{
		{"Receiving", "2026-03-02", "2026-03-02T08:00:00Z", "LOT-A", "Acme", "Linen dress (P345678)", gtinA, "36", "EA", "Acme", site, "Acme", "", "Purchase Order; Receipt", "PO-RA; RA", "RA", "DOOR1"},
		{"Receiving", "2026-03-03", "2026-03-03T08:00:00Z", "LOT-B", "Acme", "Linen dress (P345679)", gtinB, "2", "CS", "Acme", site, "Acme", "", "Purchase Order; Receipt", "PO-RB; RB", "RB", "DOOR1"},
		{"Shipping", "2026-03-03", "2026-03-03T09:01:00Z", "LOT-A", "Acme", "Linen dress (P345678)", gtinA, "24", "EA", site, "GLN 4012345000023", "", "Acme Retail (GLN 4012345000016)",
			"Purchase Order; Despatch Advice; Order; Shipment", "PO-C-S1; DA-S1; ORD-S1; S1", "S1", "DOOR2"},
		{"Shipping", "2026-03-03", "2026-03-03T09:01:00Z", "LOT-B", "Acme", "Linen dress (P345679)", gtinB, "1", "CS", site, "GLN 4012345000023", "", "Acme Retail (GLN 4012345000016)",
			"Purchase Order; Despatch Advice; Order; Shipment", "PO-C-S1; DA-S1; ORD-S1; S1", "S1", "DOOR2"},
	}
	var buf bytes.Buffer
	if err := WriteFSMACSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(recs[0], FSMAColumns) || len(recs) != len(want)+1 {
		t.Fatalf("CSV:\n%v", recs)
	}
	for i, w := range want {
		for j, cell := range w {
			if recs[i+1][j] != cell {
				t.Errorf("CSV row %d, %s: %q, want %q", i+1, FSMAColumns[j], recs[i+1][j], cell)
			}
		}
	}
	buf.Reset()
	if err := WriteFSMAXLSX(&buf, rows); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows(FSMASheet)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(xrows[0], FSMAColumns) || len(xrows) != len(want)+1 {
		t.Fatalf("XLSX:\n%v", xrows)
	}
	for i, w := range want {
		if !slices.Equal(xrows[i+1], w) {
			t.Errorf("XLSX row %d:\n%q\nwant\n%q", i+1, xrows[i+1], w)
		}
	}
	qty, _ := excelize.CoordinatesToCellName(slices.Index(FSMAColumns, "Quantity")+1, 2)
	// A number: no type, or the number type (a string would be t="s" or
	// "inlineStr").
	if typ, err := f.GetCellType(FSMASheet, qty); err != nil || typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
		t.Fatalf("quantity cell type %v %v", typ, err)
	}
	if typ, _ := f.GetCellType(FSMASheet, "A2"); typ == excelize.CellTypeNumber || typ == excelize.CellTypeUnset {
		t.Fatalf("text cell type %v", typ)
	}
	// No event: the heading alone.
	buf.Reset()
	if err := WriteFSMAXLSX(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if f, err := excelize.OpenReader(&buf); err != nil {
		t.Fatal(err)
	} else if rows, _ := f.GetRows(FSMASheet); len(rows) != 1 || !slices.Equal(rows[0], FSMAColumns) {
		t.Fatalf("empty export %q", rows)
	}
	// One lot; a day range; dates where the site is.
	rows, err = r.ship.FSMA204(FSMAQuery{From: "2026-03-03", To: "2026-03-03", Lot: "LOT-A"})
	if err != nil || len(rows) != 1 || rows[0].CTE != CTEShipping || rows[0].Quantity != 24 {
		t.Fatalf("one lot, one day: %+v %v", rows, err)
	}
	r.ship.cfg.Location = time.FixedZone("UTC-9", -9*3600)
	rows, _ = r.ship.FSMA204(FSMAQuery{From: "2026-03-01", To: "2026-03-02", Lot: "LOT-B"})
	if len(rows) != 1 || rows[0].Date != "2026-03-02" || !strings.HasSuffix(rows[0].cells()[2], "-09:00") {
		t.Fatalf("site zone: %+v", rows)
	}
	for want, q := range map[string]FSMAQuery{
		"from:":        {From: "03/01/2026", To: "2026-03-31"},
		"is before":    {From: "2026-03-31", To: "2026-03-01"},
		"at most 3660": {From: "2000-01-01", To: "2026-03-01"},
	} {
		if _, err := r.ship.FSMA204(q); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	if _, err := r.ship.FSMA204(FSMAQuery{From: "2026-03-01", To: "2026-03-02", Lot: "NOPE"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown lot: %v", err)
	}
}

// A carton that left with a shipment and comes back in through a returns
// door is a return in the door's condition; one of a recalled lot goes to
// quarantine; a carton in stock passing in is none.
func TestReturnsDoor(t *testing.T) {
	r := newRig(t)
	r.ship.cfg.ReturnsDoors = map[string]string{"DOOR1": ConditionResaleable}
	a := r.receive("RA", gtinA, "LOT-A", "2026-09-30", 3, 12)
	b := r.receive("RB", gtinB, "LOT-B", "2026-09-30", 1, 0)
	r.shipAll("S1", acme, a.Cartons[0], b.Cartons[0])
	if _, err := r.lots.Recall(context.Background(), "LOT-B", "supplier recall", "qa"); err != nil {
		t.Fatal(err)
	}
	res := r.pass("DOOR1", portal.DirectionIn, r.epc(a.Cartons[0]), r.epc(b.Cartons[0]), r.epc(a.Cartons[1]))
	if len(res.Returned) != 2 {
		t.Fatalf("pass at the returns door: %+v", res)
	}
	ev := r.events("carton.returned")
	if len(ev) != 2 || ev[0].Return.Condition != ConditionResaleable || ev[0].Return.Customer.ID != "C-ACME" || ev[0].Return.Source != "portal" ||
		ev[1].Return.Condition != ConditionQuarantine || ev[1].Return.Requested != ConditionResaleable {
		t.Fatalf("returns %+v", ev)
	}
	if st, _ := r.ship.StockOf("LOT-A"); st.InStock != 3 || st.Returned != 1 {
		t.Fatalf("stock %+v", st)
	}
	// Read again at the door: back already, nothing more.
	if res := r.pass("DOOR1", portal.DirectionIn, r.epc(a.Cartons[0])); len(res.Returned) != 0 {
		t.Fatalf("second pass: %+v", res)
	}
	// Going out at the returns door (a receiving door) is nothing.
	if res := r.pass("DOOR1", portal.DirectionOut, r.epc(a.Cartons[2])); len(res.Returned)+len(res.Mismatches)+len(res.Loaded) != 0 {
		t.Fatalf("out pass at a receiving door: %+v", res)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFSMACSVDefusesFormulas(t *testing.T) {
	rows := []FSMARow{{CTE: CTEShipping, Date: "2026-03-03", Time: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), TLC: "LOT-A",
		Product: "=HYPERLINK(\"http://x\")", Recipient: "+Acme", ShipTo: "@SUM(A1)", RefNumber: "-1", Quantity: 2, Unit: "EA"}}
	var buf bytes.Buffer
	if err := WriteFSMACSV(&buf, rows); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{"Product Description": "'=HYPERLINK(\"http://x\")", "Immediate Subsequent Recipient": "'+Acme",
		"Ship-To Location": "'@SUM(A1)", "Reference Document Number": "'-1", "Traceability Lot Code": "LOT-A", "Quantity": "2"} {
		if got := recs[1][slices.Index(FSMAColumns, col)]; got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
}
