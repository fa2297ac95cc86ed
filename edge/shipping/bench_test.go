package shipping

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/rfid/portal"
)

// The recall report and the FSMA 204 export of a lot received in 100
// receipts of 1,000 cartons and shipped in 100,000 cartons to 5,000 orders
// (20 cartons each, 1,000 customers), every step through the real path:
// receipts, shipments, out passes at the door, close. Goal: ≤ 1 s each.
//
//	go test -run x -bench RecallAndFSMA204 -benchtime 10x ./edge/shipping
func BenchmarkRecallAndFSMA204(b *testing.B) {
	r := bigLot(b)
	b.Run("recall-report", func(b *testing.B) {
		for b.Loop() {
			rep, err := r.ship.RecallReport("BIG-LOT")
			if err != nil || rep.Orders != 5000 || rep.Shipped.Cartons != 100000 || len(rep.Customers) != 1000 {
				b.Fatalf("report: %d orders, %d cartons, %d customers, %v", rep.Orders, rep.Shipped.Cartons, len(rep.Customers), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/report")
	})
	for _, format := range []string{"csv", "xlsx"} {
		b.Run("fsma204-"+format, func(b *testing.B) {
			var size int
			for b.Loop() {
				rows, err := r.ship.FSMA204(FSMAQuery{From: "2026-01-01", To: "2026-12-31", Lot: "BIG-LOT"})
				if err != nil || len(rows) != 5100 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
				var buf bytes.Buffer
				if err := WriteFSMA(&buf, format, rows); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/export")
			b.ReportMetric(float64(size), "bytes/export")
		})
	}
}

// bigLot is the rig of the recall benchmarks (made once per benchmark).
func bigLot(b *testing.B) *rig {
	b.Helper()
	r := newRig(b)
	ctx := context.Background()
	start := time.Now()
	var ssccs []string
	for i := range 100 {
		rc := r.receive(fmt.Sprintf("R%03d", i), gtinA, "BIG-LOT", "2026-12-31", 1000, 12)
		ssccs = append(ssccs, rc.Cartons...)
	}
	epcs := make([]string, len(ssccs))
	for i, s := range ssccs {
		epcs[i] = r.epc(s)
	}
	b.Logf("100,000 cartons received in %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	for i := range 5000 {
		req := shipReq(fmt.Sprintf("S%05d", i))
		req.Customer = Party{ID: fmt.Sprintf("C%04d", i%1000), Name: fmt.Sprintf("Customer %d", i%1000)}
		req.Lines = []LineRequest{{Lot: "BIG-LOT", Cartons: 20}}
		if _, err := r.ship.Create(ctx, req); err != nil {
			b.Fatal(err)
		}
		if res := r.pass("DOOR2", portal.DirectionOut, epcs[i*20:(i+1)*20]...); len(res.Loaded) != 20 {
			b.Fatalf("shipment %d: %+v", i, res)
		}
		if _, err := r.ship.Close(ctx, req.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("5,000 shipments announced, loaded and closed in %s", time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	return r
}

// trace customer over 1,000,000 shipped cartons: 50,000 shipments of 20
// cartons, each of 2 of 100 lots, to 1,000 customers; customer C0000 got
// 5,000 of the shipments (100,000 cartons), the others 45 each. The
// shipments are written as Close writes them (putShipped), with their
// cartons (loaded and carton records), in bulk. Goal: ≤ 50 ms.
//
//	go test -run x -bench TraceCustomer -benchtime 20x ./edge/shipping
func BenchmarkTraceCustomer(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	for l := range 100 {
		if _, err := r.lots.Register(ctx, fmt.Sprintf("L%03d", l), lots.Details{Product: "P", GTIN: gtinA, Supplier: "Acme"}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	wb := r.st.DB().NewWriteBatch()
	set := func(k, v []byte) error { return wb.Set(k, v) }
	at := t0
	n := 0
	for i := range 50000 {
		cust := 0
		if i%10 != 0 {
			cust = 1 + i%999
		}
		sh := &Shipment{ID: fmt.Sprintf("S%06d", i), Door: "DOOR2", Order: fmt.Sprintf("O%06d", i), Status: StatusShipped,
			Customer: Party{ID: fmt.Sprintf("C%04d", cust), Name: "Customer"}, ShipTo: Place{GLN: "4012345000023"},
			Created: at, ShippedAt: at, Expected: 20, Loaded: 20, SSCCs: []string{}, Lines: []Line{}, SSCCLots: []SSCCLot{}}
		for half := range 2 {
			lot := fmt.Sprintf("L%03d", (i+half*37)%100)
			sh.Lines = append(sh.Lines, Line{Lot: lot, GTIN: gtinA, Cartons: 10, Loaded: 10})
			sh.Shipped = append(sh.Shipped, LotQuantity{Lot: lot, GTIN: gtinA, Cartons: 10, Quantity: 120, Unit: "EA"})
			for c := range 10 {
				sscc := fmt.Sprintf("%018d", n)
				n++
				lc, _ := json.Marshal(LoadedCarton{SSCC: sscc, EPC: fmt.Sprintf("%024X", n), Lot: lot, GTIN: gtinA, Qty: 12, Time: at, Line: half})
				st, _ := json.Marshal(cartonState{Shipment: sh.ID})
				if err := wb.Set(kLoaded(sh.ID, sscc), lc); err != nil {
					b.Fatal(err)
				}
				if err := wb.Set(kCarton(sscc), st); err != nil {
					b.Fatal(err)
				}
				_ = c
			}
		}
		if err := putShipped(set, sh); err != nil {
			b.Fatal(err)
		}
		at = at.Add(10 * time.Second)
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := r.st.DB().Flatten(2); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d shipped cartons in 50,000 shipments written in %s", n, time.Since(start).Round(time.Millisecond))
	for _, c := range []struct {
		name, id  string
		shipments int
	}{{"45-shipments", "C0001", 45}, {"5000-shipments", "C0000", 5000}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				t, err := r.ship.TraceCustomer(c.id)
				if err != nil || len(t.Shipments) < c.shipments || len(t.Lots) == 0 || t.Lots[0].Supplier != "Acme" {
					b.Fatalf("trace: %d shipments, %v", len(t.Shipments), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/trace")
		})
	}
	var keys int
	r.st.DB().View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(pCarton)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys++
		}
		return nil
	})
	if keys != 1000000 {
		b.Fatalf("%d carton records", keys)
	}
}
