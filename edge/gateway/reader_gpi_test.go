package gateway

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// A reader's GPI change is its status on reader/{id}/status and a
// reader.gpi telemetry event.
func TestReaderGPIPublished(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := openGateway(t, cfg, Options{})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventGPI, Reader: "R1", Port: 1, High: true, Time: at})
	g.readerMu.Lock()
	st, _ := g.readerStatus["R1"].(map[string]any)
	g.readerMu.Unlock()
	if st["event"] != "gpi" || st["gpi"] != uint16(1) || st["state"] != "high" {
		t.Fatalf("reader status %v", st)
	}
	evs := takeEvents(t, g)["reader.gpi"]
	if len(evs) != 1 {
		t.Fatalf("%d reader.gpi events", len(evs))
	}
	ev := evs[0]
	if ev.Priority != outbox.PriorityTelemetry || ev.Source != "reader/R1" || !ev.Time.Equal(at) {
		t.Fatalf("event %+v", ev)
	}
	var body map[string]any
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["reader"] != "R1" || body["gpi"] != 1.0 || body["state"] != "high" || body["time"] != "2026-03-02T08:00:00Z" {
		t.Fatalf("body %s", ev.Body)
	}
}
