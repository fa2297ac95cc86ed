package outbox

import (
	"context"
	"encoding/json"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/store"
)

// BenchmarkAppendDurable measures fsynced appends from many concurrent
// producers sharing group commits.
func BenchmarkAppendDurable(b *testing.B) {
	s, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ob, err := Open(s, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	body := json.RawMessage(`{"lot":"L2611260001","gtin":"09506000134352","qty":24,"door":"door-3"}`)
	b.SetParallelism(64)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ob.Append(context.Background(), Event{Type: "receiving.line", Priority: PriorityLot, Source: "bench", Body: body}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	st := ob.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(st.Appended)/float64(max(st.Commits, 1)), "events/commit")
}

// BenchmarkDrain measures Next+Ack of a queued backlog.
func BenchmarkDrain(b *testing.B) {
	s, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ob, err := Open(s, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ob.Close()
	ctx := context.Background()
	body := json.RawMessage(`{"epc":"urn:epc:id:sgtin:0614141.812345.6789","rssi":-51}`)
	var g errgroup.Group
	g.SetLimit(64)
	for i := 0; i < b.N; i++ {
		g.Go(func() error {
			_, err := ob.Append(ctx, Event{Type: "tag.read", Priority: PriorityTelemetry, Body: body})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	n := 0
	for n < b.N {
		evs, err := ob.Next(ctx, 256)
		if err != nil {
			b.Fatal(err)
		}
		if err := ob.Ack(ctx, evs...); err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
