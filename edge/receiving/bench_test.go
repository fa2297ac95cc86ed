package receiving

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
)

// BenchmarkTraceLotMillionCartons traces one lot of 100 cartons in a store
// holding 1,000,000 cartons of 10,000 lots. Building the store takes a while:
// it runs only when DOCKGATE_BENCH_BIG=1.
func BenchmarkTraceLotMillionCartons(b *testing.B) {
	total := 1_000_000
	if os.Getenv("DOCKGATE_BENCH_BIG") != "1" {
		total = 20_000
	}
	const perLot = 100
	st, err := store.Open(b.TempDir(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	wb := st.DB().NewWriteBatch()
	now := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < total; i++ {
		lot := fmt.Sprintf("2505-LWX-P%05d", i/perLot)
		sscc := makeSSCC(0, "0614141", uint64(i), 9)
		c := Carton{SSCC: sscc, EPC: fmt.Sprintf("3154257BF4%014X", i), EPCURI: "urn:epc:id:sscc:0614141.0" + strconv.Itoa(i),
			Receipt: "R" + lot, Lot: lot, GTIN: "09520123456788", Qty: 25, Door: "DOOR1", Printer: "P1", Job: "R" + lot + ":" + sscc, Time: now}
		v := mustJSON(b, c)
		if err := wb.Set(keyCarton(sscc), v); err != nil {
			b.Fatal(err)
		}
		if err := wb.Set(keyLotCarton(lot, sscc), nil); err != nil {
			b.Fatal(err)
		}
		if err := wb.Set(keyTag(c.EPC), []byte(sscc)); err != nil {
			b.Fatal(err)
		}
		if err := wb.Set(keyPass(sscc, now.Add(time.Hour)), mustJSON(b, Pass{Door: "DOOR1", Direction: "in", Time: now.Add(time.Hour)})); err != nil {
			b.Fatal(err)
		}
		if i%perLot == 0 {
			rc := Receipt{ID: "R" + lot, Door: "DOOR1", Lot: lot, Time: now, Status: "complete"}
			if err := wb.Set(keyReceipt(rc.ID), mustJSON(b, rc)); err != nil {
				b.Fatal(err)
			}
			if err := wb.Set(keyLotReceipt(lot, rc.ID), nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
	lots := &fakeLots{links: map[string]int{}}
	svc := New(Config{}, st, lots, map[string]Door{"DOOR1": &fakeDoor{}}, &recEmitter{}, nil, nil)
	target := fmt.Sprintf("2505-LWX-P%05d", total/perLot/2)
	lots.links[target] = perLot
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := svc.TraceLot(target)
		if err != nil {
			b.Fatal(err)
		}
		if len(t.Cartons) != perLot {
			b.Fatalf("%d cartons", len(t.Cartons))
		}
	}
	b.ReportMetric(float64(total), "cartons_in_store")
}

// BenchmarkReceive100Cartons is a receipt of 100 cartons with receiving's
// own work (SSCCs, EPCs, records, events) on a synced store; the gateway
// benchmark adds the real lot registry, labels and spooler.
func BenchmarkReceive100Cartons(b *testing.B) {
	r := newRig(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.svc.Receive(ctx, Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 100}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustJSON(b *testing.B, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return data
}
