package serials

import (
	"testing"

	"github.com/dockgate/dockgate/edge/store"
)

func benchAllocate(b *testing.B, o store.Options, dir string, batch int) {
	st, err := store.Open(dir, o)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a, _ := New(st, Options{})
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.NextSGTIN96s(1, 7, gtinA, batch); err != nil {
			b.Fatal(err)
		}
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N*batch)/s, "serials/s")
	}
}

// BenchmarkNextSynced is one label's EPC at a time on a store that syncs
// every allocation to disk: the rate is the disk's sync rate.
func BenchmarkNextSynced(b *testing.B) { benchAllocate(b, store.Options{}, b.TempDir(), 1) }

// BenchmarkNextSynced100 allocates a batch of 100 EPCs with one sync.
func BenchmarkNextSynced100(b *testing.B) { benchAllocate(b, store.Options{}, b.TempDir(), 100) }

// BenchmarkNextInMemory is the allocator's own cost.
func BenchmarkNextInMemory(b *testing.B) {
	benchAllocate(b, store.Options{InMemory: true}, "", 1)
}
