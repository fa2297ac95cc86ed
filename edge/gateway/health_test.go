package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid"
)

// /healthz fails while lot events are refused, naming why and what to do;
// a broker that is away is a warning (events wait in the outbox).
func TestHealthFailsWhileEventsAreRefused(t *testing.T) {
	cfg := minimalConfig(t)
	cfg.Outbox = outbox.Options{MaxBytes: 4 << 10}
	g := openGateway(t, cfg, Options{})
	type report struct {
		Problems []string `json:"problems"`
		Warnings []string `json:"warnings"`
	}
	check := func() (bool, report) {
		ok, detail := g.health()
		b, err := json.Marshal(detail)
		if err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return ok, r
	}
	ok, r := check()
	if !ok || len(r.Problems) != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "not connected to the broker") {
		t.Fatalf("fresh gateway, not running: ok %v %+v", ok, r)
	}
	if _, err := g.lots.Register(context.Background(), "LOT-1", lots.Details{Product: "P", Supplier: "Acme"}); err != nil {
		t.Fatal(err)
	}
	body := json.RawMessage(`{"lot":"` + strings.Repeat("x", 500) + `"}`)
	for i := 0; ; i++ {
		_, err := g.ob.Append(context.Background(), outbox.Event{Type: "lot.created", Priority: outbox.PriorityLot, Body: body})
		if errors.Is(err, outbox.ErrStoreFull) {
			break
		}
		if err != nil || i > 100 {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	ok, r = check()
	if ok || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "outbox full") || !strings.Contains(r.Problems[0], "outbox.max_bytes") {
		t.Fatalf("full outbox: ok %v %+v", ok, r)
	}
	// A lot change whose event the outbox would refuse is refused itself:
	// nothing changes that central would never hear of.
	if _, err := g.lots.Hold(context.Background(), "LOT-1", "lab", "qa"); !errors.Is(err, lots.ErrStoreFull) || !strings.Contains(err.Error(), "outbox.max_bytes") {
		t.Fatalf("hold with a full outbox: %v", err)
	}
	if l, err := g.lots.Get("LOT-1"); err != nil || l.Status != lots.StatusActive {
		t.Fatalf("lot after a refused hold: %+v, %v", l, err)
	}
	if _, err := g.lots.Register(context.Background(), "LOT-2", lots.Details{Product: "P", Supplier: "Acme"}); !errors.Is(err, lots.ErrStoreFull) {
		t.Fatalf("register with a full outbox: %v", err)
	}
}

// A reader that is not connected, an antenna reported down and a printer
// holding its jobs are warnings in /healthz, each saying which and why;
// they clear when the device is back.
func TestHealthWarnsOfDevices(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := openGateway(t, cfg, Options{})
	warnings := func() []string {
		_, detail := g.health()
		return detail.(*healthDetail).Warnings
	}
	has := func(frag string) bool {
		for _, w := range warnings() {
			if strings.Contains(w, frag) {
				return true
			}
		}
		return false
	}
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnectFailed, Reader: "R1", Err: errors.New("dial tcp: connection refused")})
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventAntennaDisconnected, Reader: "R1", Antenna: 2})
	if !has("reader R1 is not connected: dial tcp: connection refused") || !has("reader R1 antenna 2 is disconnected") {
		t.Fatalf("warnings %q", warnings())
	}
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnected, Reader: "R1"})
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventAntennaConnected, Reader: "R1", Antenna: 2})
	if has("reader R1") {
		t.Fatalf("warnings after the reader came back %q", warnings())
	}
	g.printing.mu.Lock()
	g.printing.status["P1"] = &printers.Status{Known: true, PaperOut: true}
	g.printing.mu.Unlock()
	if !has("printer P1 holds its jobs") {
		t.Fatalf("warnings %q", warnings())
	}
}
