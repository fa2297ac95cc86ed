//go:build interop

package gateway

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// TestInteropLargestReceiptAndPallet takes the largest receipt the gateway accepts
// (1,000 cartons) and moves all its cartons through a door as one pallet,
// in and then out while the lot is held: every transaction these make (the
// receipt, its links and jobs, one pass of 1,000 tags with its EPCIS
// document, 1,000 hold alerts) fits Badger's limit for one transaction. It
// runs with the interop tests: under the race detector its 1,000 labels
// take minutes.
func TestInteropLargestReceiptAndPallet(t *testing.T) {
	const n = 1000
	ln1, ln2 := listen(t), listen(t)
	cfg := testConfig(t, ln1.Addr().String(), ln2.Addr().String())
	g, err := Open(cfg, Info{Version: "test"}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	}()
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	base := "http://" + g.API().Addr()

	var rc receiving.Receipt
	if code := post(t, base+"/receipts", receiving.Request{ID: "ASN-BIG", Door: "DOOR1", GTIN: "09520123456788",
		Product: "WLD01", Description: "Linen dress", Cartons: n, QtyPerCarton: 25, Expiry: "2027-05-31"}, &rc); code != http.StatusCreated {
		t.Fatalf("POST /receipts: %d", code)
	}
	if len(rc.Cartons) != n {
		t.Fatalf("%d cartons", len(rc.Cartons))
	}
	epcs := make([]string, 0, n)
	for _, sscc := range rc.Cartons {
		c, err := g.Receiving().Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		epcs = append(epcs, c.EPC)
	}
	pallet := func(door, dir string) *readersim.Scenario {
		sc := &readersim.Scenario{Name: "pallet-" + door, Cycle: 20 * time.Millisecond,
			Doors: []readersim.Door{{ID: door, Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}},
			Cartons: []readersim.Carton{{Name: "pallet", Door: door, Direction: dir, At: 300 * time.Millisecond,
				Dwell: 2 * time.Second, EPCs: epcs, ReadRate: 1}}}
		if err := sc.Prepare(); err != nil {
			t.Fatal(err)
		}
		return sc
	}
	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	go readersim.New(pallet("DOOR1", "in")).Serve(rctx, ln1)
	eventually(t, 60*time.Second, "receipt complete", func() bool {
		var got receiving.Receipt
		get(t, base+"/receipts/ASN-BIG", &got)
		return got.Status == "complete"
	})
	if _, err := g.Lots().Hold(ctx, rc.Lot, "QA", "test"); err != nil {
		t.Fatal(err)
	}
	go readersim.New(pallet("DOOR2", "out")).Serve(rctx, ln2)
	eventually(t, 60*time.Second, "every carton's hold alert", func() bool { return len(sub.events("lot.hold.alert")) >= n })
	eventually(t, 120*time.Second, "every label confirmed", func() bool { return len(sub.events("job.confirmed")) >= n })
}
