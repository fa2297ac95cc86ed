package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
)

// BenchmarkReceipt100Cartons is a whole receipt of 100 cartons on a synced
// store: the lot issued in the registry, 100 SSCCs and EPCs allocated, 100
// RFID carton labels rendered for the ZT411R, 100 jobs queued in the
// spooler, the records and events durable in the outbox.
func BenchmarkReceipt100Cartons(b *testing.B) {
	cfg, err := config.Complete(&config.Config{Site: "b", Gateway: "gw", DataDir: b.TempDir(),
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		rc, err := g.Receiving().Receive(ctx, receiving.Request{ID: fmt.Sprintf("B%d", i), Door: "DOOR1", GTIN: "09520123456788",
			Product: "WLD01", Description: "Linen dress", Cartons: 100, QtyPerCarton: 5, Expiry: "2027-05-31"})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		if len(rc.Cartons) != 100 {
			b.Fatal(len(rc.Cartons))
		}
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	if n, _ := g.Spooler().QueueLen("P1"); n != 100*b.N {
		b.Fatalf("%d jobs queued", n)
	}
}

// BenchmarkLotIssueHold is a lot issued and then held through the
// gateway's registry on a synced store, each change durable with its event
// (lot.created; lot.hold and its EPCIS document) before it returns.
func BenchmarkLotIssueHold(b *testing.B) {
	cfg, err := config.Complete(&config.Config{Site: "b", Gateway: "gw", DataDir: b.TempDir()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.NewTextHandler(io.Discard, nil)), Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	var issue, hold []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		l, err := g.Lots().Issue(ctx, lots.IssueRequest{Details: lots.Details{Product: fmt.Sprintf("W%04d", i/900), GTIN: "09520123456788"}})
		if err != nil {
			b.Fatal(err)
		}
		issue = append(issue, time.Since(start))
		start = time.Now()
		if _, err := g.Lots().Hold(ctx, l.Code, "bench", "bench"); err != nil {
			b.Fatal(err)
		}
		hold = append(hold, time.Since(start))
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		lat  []time.Duration
	}{{"issue", issue}, {"hold", hold}} {
		sort.Slice(m.lat, func(i, j int) bool { return m.lat[i] < m.lat[j] })
		b.ReportMetric(float64(m.lat[len(m.lat)/2].Microseconds()), m.name+"_p50_µs")
		b.ReportMetric(float64(m.lat[len(m.lat)*99/100].Microseconds()), m.name+"_p99_µs")
	}
}
