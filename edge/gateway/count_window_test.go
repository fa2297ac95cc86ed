package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/rfid/portal"
)

// A cycle count of a window takes the tags the portal reported at a door
// in it: three of a lot's four cartons pass DOOR1 in the window, one more
// pass and an unknown tag fall outside it or at another door; the count
// finds the three (variance -1) and names the unknown tag only when it is
// in the window.
func TestCountOfAPassWindow(t *testing.T) {
	clock := &testClock{}
	clock.set(readsT0)
	g := openDockGateway(t, t.TempDir(), clock)
	defer g.Close()
	ctx := context.Background()
	rc, err := g.Receiving().Receive(ctx, receiving.Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 4})
	if err != nil {
		t.Fatal(err)
	}
	epcOf := func(sscc string) string {
		c, err := g.Receiving().Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		return c.EPC
	}
	const unknown = "3034257BF7194E4000001A85"
	// Each pass ends once its tag is gone (the presence timeout, 2 s).
	pass := func(epc, door string, at time.Duration) {
		out, in := uint16(1), uint16(3)
		if door == "DOOR2" {
			out, in = 5, 7
		}
		reads := sweepReads(epc, out, in, portal.DirectionIn, readsT0.Add(at))
		g.observeReads(reads)
		g.eng.Tick(readsT0.Add(at + 5*time.Second))
		drainPortal(t, g)
	}
	pass(epcOf(rc.Cartons[0]), "DOOR1", time.Minute)
	pass(epcOf(rc.Cartons[1]), "DOOR1", 2*time.Minute)
	pass(epcOf(rc.Cartons[1]), "DOOR1", 3*time.Minute) // again: counted once
	pass(unknown, "DOOR1", 4*time.Minute)
	pass(epcOf(rc.Cartons[2]), "DOOR1", 5*time.Minute)
	pass(epcOf(rc.Cartons[3]), "DOOR2", 6*time.Minute)  // another door
	pass(epcOf(rc.Cartons[3]), "DOOR1", 30*time.Minute) // after the window
	clock.set(readsT0.Add(time.Hour))

	from, to := readsT0.Format(time.RFC3339), readsT0.Add(20*time.Minute).Format(time.RFC3339)
	c, err := g.Shipping().Count(ctx, shipping.CountRequest{ID: "K-W", Door: "DOOR1", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Lots) != 1 || c.Lots[0].Lot != rc.Lot || *c.Lots[0].Counted != 3 || c.Lots[0].Expected != 4 || *c.Lots[0].Variance != -1 ||
		c.Variance != -1 || len(c.Unknown) != 1 || c.Unknown[0] != unknown || c.From == nil || !c.From.Equal(readsT0) {
		t.Fatalf("count %+v", c)
	}
	evs := takeEvents(t, g)
	if len(evs["count.recorded"]) != 1 {
		t.Fatalf("%d count.recorded events, want 1", len(evs["count.recorded"]))
	}
	// The same id again is the recorded count.
	if again, err := g.Shipping().Count(ctx, shipping.CountRequest{ID: "K-W", Door: "DOOR1", From: from, To: to}); err != nil || again.Counted != 3 {
		t.Fatalf("again: %+v %v", again, err)
	}
	// A window of the lot only, ending before the third carton.
	c, err = g.Shipping().Count(ctx, shipping.CountRequest{Door: "DOOR1", Lot: rc.Lot, From: from, To: readsT0.Add(4 * time.Minute).Format(time.RFC3339)})
	if err != nil || c.Counted != 2 || len(c.Unknown) != 0 {
		t.Fatalf("lot window: %+v %v", c, err)
	}

	for _, tc := range []struct {
		name  string
		req   shipping.CountRequest
		field string
	}{
		{"no door", shipping.CountRequest{From: from, To: to}, "door:"},
		{"no to", shipping.CountRequest{Door: "DOOR1", From: from}, "to:"},
		{"not RFC 3339", shipping.CountRequest{Door: "DOOR1", From: "2026-03-02 08:00", To: to}, "from:"},
		{"reversed", shipping.CountRequest{Door: "DOOR1", From: to, To: from}, "from, to:"},
		{"too long", shipping.CountRequest{Door: "DOOR1", From: readsT0.Add(-25 * time.Hour).Format(time.RFC3339), To: to}, "from, to:"},
		{"future", shipping.CountRequest{Door: "DOOR1", From: from, To: readsT0.Add(2 * time.Hour).Format(time.RFC3339)}, "to:"},
		{"with EPCs", shipping.CountRequest{Door: "DOOR1", From: from, To: to, EPCs: []string{unknown}}, "quantity, epcs, from/to:"},
		{"unknown door", shipping.CountRequest{Door: "DOOR9", From: from, To: to}, "DOOR9"},
	} {
		_, err := g.Shipping().Count(ctx, tc.req)
		if !errors.Is(err, shipping.ErrInvalid) && !errors.Is(err, shipping.ErrUnknownDoor) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v, want an invalid request naming %q", tc.name, err, tc.field)
		}
	}
}
