package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid/portal"
)

func openPortalGateway(t *testing.T, o outbox.Options) *Gateway {
	t.Helper()
	cfg := minimalConfig(t)
	cfg.Outbox = o
	return openGateway(t, cfg, Options{})
}

// minimalConfig is a gateway with one door, DOOR1, without printer or
// reader, on its own data dir.
func minimalConfig(t testing.TB) *config.Config {
	return &config.Config{Site: "t", Gateway: "gw", DataDir: t.TempDir(),
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}}}}
}

// openGateway completes cfg and opens a gateway on it without the HTTP API
// and with the embedded broker on a free port; it closes with the test.
func openGateway(t testing.TB, cfg *config.Config, o Options) *Gateway {
	t.Helper()
	c, err := config.Complete(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP.Listen, c.Broker.Listen = "", "127.0.0.1:0"
	g, err := Open(c, Info{}, slog.New(slog.DiscardHandler), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// pendingTypes counts the outbox's pending events by type.
func pendingTypes(t *testing.T, g *Gateway) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	evs, err := g.ob.Next(ctx, 100000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range evs {
		n[ev.Type]++
	}
	return n
}

// A tag burst that fills the pipeline drops arrivals only: every pass and
// every held-lot alert is published.
func TestPortalBurstDropsArrivalsNeverPassesOrAlerts(t *testing.T) {
	g := openPortalGateway(t, outbox.Options{})
	g.portalQ = make(chan portal.Event, 8) // a small pipeline fills sooner
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := 0; i < 200; i++ {
		g.onPortalEvent(&portal.ArrivalEvent{Door: "DOOR1", EPC: "3074257BF7194E4000001A85", Time: at})
		if i%4 == 0 {
			g.onPortalEvent(&portal.AlertEvent{Door: "DOOR1", Direction: portal.DirectionOut, EPC: "3074257BF7194E4000001A85", Lot: "L1", Reason: "test", Time: at})
		}
		if i%20 == 0 {
			g.onPortalEvent(&portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionOut, Start: at, End: at})
		}
	}
	if d := g.portalDropped.Load(); d != 192 {
		t.Fatalf("%d events dropped, want the 192 arrivals beyond the queue", d)
	}
	if q := g.portalQueued(); q != 8+50+10 {
		t.Fatalf("%d events queued, want 68", q)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the pipeline drains what was queued, then returns
	if err := g.runPortalPipeline(ctx); err != nil {
		t.Fatal(err)
	}
	n := pendingTypes(t, g)
	if n["lot.hold.alert"] != 50 || n["portal.pass"] != 10 || n["portal.arrival"] != 8 {
		t.Fatalf("published %v, want 50 alerts, 10 passes, 8 arrivals", n)
	}
	if q := g.portalQueued(); q != 0 {
		t.Fatalf("%d events left queued", q)
	}
}

// Arrivals queued together are appended together, in one outbox commit,
// in their order (each door's in the order its tags arrived).
func TestPortalArrivalsAppendedTogether(t *testing.T) {
	g := openPortalGateway(t, outbox.Options{})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range 100 {
		door := []string{"DOOR1", "DOOR2"}[i%2]
		g.onPortalEvent(&portal.ArrivalEvent{Door: door, EPC: fmt.Sprintf("3074257BF7194E40%08X", i), Antenna: 1, Time: at.Add(time.Duration(i) * time.Millisecond)})
	}
	before := g.ob.Stats().Commits
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the pipeline drains what was queued, then returns
	if err := g.runPortalPipeline(ctx); err != nil {
		t.Fatal(err)
	}
	if n := g.ob.Stats().Commits - before; n != 1 {
		t.Fatalf("100 queued arrivals took %d outbox commits, want 1", n)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	evs, err := g.ob.Next(wctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]time.Time{}
	n := 0
	for _, ev := range evs {
		if ev.Type != "portal.arrival" {
			continue
		}
		var a portal.ArrivalEvent
		if err := json.Unmarshal(ev.Body, &a); err != nil {
			t.Fatal(err)
		}
		if ev.Source != "portal/"+a.Door || ev.Priority != outbox.PriorityTelemetry {
			t.Fatalf("arrival at %s published from %q with priority %v", a.Door, ev.Source, ev.Priority)
		}
		if !a.Time.After(last[a.Door]) {
			t.Fatalf("arrivals at %s out of order: %s after %s", a.Door, a.Time, last[a.Door])
		}
		last[a.Door] = a.Time
		n++
	}
	if n != 100 {
		t.Fatalf("%d arrivals published, want 100", n)
	}
}

// The pipeline wakes for a pass queued while it waits.
func TestPortalPipelineWakesForAPass(t *testing.T) {
	g := openPortalGateway(t, outbox.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.runPortalPipeline(ctx) }()
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	g.onPortalEvent(&portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: at, End: at})
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	evs, err := g.ob.Next(wctx, 10)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil || len(evs) == 0 || evs[0].Type != "portal.pass" {
		t.Fatalf("published %v, %v; want the pass", evs, err)
	}
}

// A pass larger than an event may be is published in parts, every tag in
// one of them, all with the pass's id.
func TestLargePassIsPublishedInParts(t *testing.T) {
	g := openPortalGateway(t, outbox.Options{})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	p := &portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: at, End: at, Items: 2000}
	for i := 0; i < 2000; i++ {
		p.Tags = append(p.Tags, portal.PassTag{EPC: fmt.Sprintf("3074257BF7194E40%08X", i), URI: fmt.Sprintf("urn:epc:id:sgtin:0614141.812345.%d", i),
			Kind: portal.KindItem, GTIN: "00614141123452", Direction: portal.DirectionIn, PeakRSSI: -50, Reads: 9, First: at, Last: at})
	}
	g.onPortalEvent(p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.runPortalPipeline(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	evs, err := g.ob.Next(wctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	tags, parts, ids := 0, 0, map[string]bool{}
	docs, epcs, docIDs := 0, 0, map[string]bool{}
	for _, ev := range evs {
		if ev.Type == "epcis.pass" {
			var d struct {
				Body struct {
					EventList []struct {
						EventID string   `json:"eventID"`
						EPCList []string `json:"epcList"`
					} `json:"eventList"`
				} `json:"epcisBody"`
			}
			if err := json.Unmarshal(ev.Body, &d); err != nil {
				t.Fatal(err)
			}
			docs++
			epcs += len(d.Body.EventList[0].EPCList)
			docIDs[d.Body.EventList[0].EventID] = true
			continue
		}
		if ev.Type != "portal.pass" {
			continue
		}
		var part portal.PassEvent
		if err := json.Unmarshal(ev.Body, &part); err != nil {
			t.Fatal(err)
		}
		parts++
		tags += len(part.Tags)
		ids[part.ID] = true
		if part.Parts < 2 || part.Items != 2000 {
			t.Errorf("part %d/%d with %d items", part.Part, part.Parts, part.Items)
		}
	}
	if parts < 2 || tags != 2000 || len(ids) != 1 {
		t.Fatalf("%d parts, %d tags, pass ids %v", parts, tags, ids)
	}
	// An EPCIS document per part, each its own event, every EPC listed.
	if docs != parts || epcs != 2000 || len(docIDs) != parts {
		t.Fatalf("%d EPCIS documents (%d event ids) with %d EPCs for %d parts", docs, len(docIDs), epcs, parts)
	}
}
