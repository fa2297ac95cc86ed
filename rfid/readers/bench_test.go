package readers_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// BenchmarkEndToEndLatency plays dock-in through the LLRP simulator over
// loopback TCP into a session and the portal engine, and measures the time
// from the reader's timestamp of a read (the simulator stamps the cycle's
// wall time when it sends) to the end of the engine's processing of it.
func BenchmarkEndToEndLatency(b *testing.B) {
	var mu sync.Mutex
	var lat []time.Duration
	arrivals := 0
	for b.Loop() {
		e, err := portal.New(portal.Config{
			Doors: []portal.DoorConfig{{ID: "dock-1", Reader: "R1", AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}}},
			Sink: func(ev portal.Event) {
				if _, ok := ev.(*portal.ArrivalEvent); ok {
					arrivals++
				}
			}})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		r, err := readers.New(readers.Config{ID: "R1", Type: readers.TypeSim, Scenario: "dock-in", TimeScale: 1, KeepAlive: time.Second},
			readers.Handlers{OnReads: func(batch []rfid.Read) {
				e.Observe(batch)
				now := time.Now()
				mu.Lock()
				for i := range batch {
					lat = append(lat, now.Sub(batch[i].ReaderTime))
				}
				mu.Unlock()
			}})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Run(ctx); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 || arrivals == 0 {
		b.Fatal("no reads")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat))/float64(b.N), "reads/run")
}
