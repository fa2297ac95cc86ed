package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/rfid/portal"
)

// With an outbox that cannot take their events, a receipt and a pass
// change nothing: the receipt is refused (503), the pass leaves its cartons
// unseen and its receipt open (its saved reads replay it at the next
// start). A hold alert still goes out, from the lifecycle reserve.
func TestChangesRefusedWhenTheirEventsCannotBeStored(t *testing.T) {
	ctx := context.Background()
	cfg := minimalConfig(t)
	cfg.Outbox = outbox.Options{MaxBytes: 16 << 10}
	g := openGateway(t, cfg, Options{Offline: true})
	rc, err := g.recv.Receive(ctx, receiving.Request{ID: "R-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1})
	if err != nil {
		t.Fatal(err)
	}
	carton, err := g.recv.Carton(rc.Cartons[0])
	if err != nil {
		t.Fatal(err)
	}
	// Filled with large events, then small ones, so that the room left is
	// smaller than any event a receipt or a pass makes.
	for _, pad := range []int{900, 100, 0} {
		body := json.RawMessage(`{"pad":"` + strings.Repeat("x", pad) + `"}`)
		for i := 0; ; i++ {
			_, err := g.ob.Append(ctx, outbox.Event{Type: "lot.created", Priority: outbox.PriorityLot, Body: body})
			if errors.Is(err, outbox.ErrStoreFull) {
				break
			}
			if err != nil || i > 200 {
				t.Fatalf("append %d: %v", i, err)
			}
		}
	}

	if _, err := g.recv.Receive(ctx, receiving.Request{ID: "R-2", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 2}); !errors.Is(err, receiving.ErrUnavailable) {
		t.Fatalf("receipt with a full outbox: %v, want ErrUnavailable", err)
	}
	if _, err := g.recv.Receipt("R-2"); !errors.Is(err, receiving.ErrNotFound) {
		t.Fatalf("a refused receipt was recorded: %v", err)
	}

	at := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	g.handlePortalEvent(ctx, &portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: at, End: at,
		Cases: 1, Lots: map[string]int{rc.Lot: 1}, Tags: []portal.PassTag{{EPC: carton.EPC, Kind: portal.KindCase, Direction: portal.DirectionIn, First: at, Last: at}}})
	if c, err := g.recv.Carton(carton.SSCC); err != nil || !c.SeenAt.IsZero() {
		t.Fatalf("a refused pass marked its carton seen: %+v, %v", c, err)
	}
	if got, err := g.recv.Receipt("R-1"); err != nil || got.Seen != 0 || got.Status != "open" {
		t.Fatalf("a refused pass changed its receipt: %+v, %v", got, err)
	}

	// A hold alert is a lifecycle event: it still goes out, from the
	// reserve, with its trace entry in the same commit.
	g.handlePortalEvent(ctx, &portal.AlertEvent{Door: "DOOR1", Direction: portal.DirectionIn, EPC: carton.EPC, Lot: rc.Lot, Reason: "on hold", Time: at, PassStart: at})
	tr, err := g.recv.TraceLot(rc.Lot)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, ev := range tr.Events {
		if ev.Type == "portal.pass" {
			t.Fatalf("the trace names a pass that was never stored: %+v", ev)
		}
		if ev.Type == "lot.hold.alert" {
			alerts++
		}
	}
	n := pendingTypes(t, g)
	if alerts != 1 || n["lot.hold.alert"] != 1 || n["portal.pass"] != 0 || n["epcis.pass"] != 0 || n["receipt.created"] != 1 {
		t.Fatalf("%d alerts in the trace; events queued %v: want R-1's receipt.created and the alert only", alerts, n)
	}
}
