package signals

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid/portal"
)

// BenchmarkQueuedPass is the engine's share of the outbox writer's time
// for a pass of 200 cartons at a door with rules: its body is read for the
// door, the pass's start and its part (the writes happen elsewhere).
func BenchmarkQueuedPass(b *testing.B) {
	clock := newFakeClock()
	eng, err := New(Config{Doors: []Door{lightStack()}, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	end := clock.Now()
	p := portal.PassEvent{Door: "D1", Role: portal.RoleReceiving, Direction: portal.DirectionIn, Start: end.Add(-3 * time.Second), End: end}
	for i := range 200 {
		p.Tags = append(p.Tags, portal.PassTag{EPC: fmt.Sprintf("3074257BF7194E40000%05X", i), URI: "urn:epc:id:sgtin:0614141.812345.6789",
			GTIN: "00614141123452", Direction: portal.DirectionIn, PeakRSSI: -50, Reads: 12, First: p.Start, Last: end, Lot: "2612-LWX-WLD01-001"})
	}
	body, err := json.Marshal(&p)
	if err != nil {
		b.Fatal(err)
	}
	evs := []outbox.Event{{Type: "portal.pass", Source: "portal/D1", Time: end, Body: body}}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		eng.Queued(evs)
	}
}
