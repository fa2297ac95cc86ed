package sync

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bulkIndex indexes n cartons of SSCC-96 EPCs in receipt parts of 1,000
// (lots of 10 parts) into a store in dir.
func bulkIndex(tb testing.TB, dir string, n int) (*Index, func()) {
	tb.Helper()
	s := openStore(tb, dir)
	x, err := OpenIndex(s.DB())
	if err != nil {
		tb.Fatal(err)
	}
	for first := 0; first < n; first += MaxPartCartons {
		r := first / MaxPartCartons
		m := receipt("gw-a", "R"+strconv.Itoa(r), fmt.Sprintf("LOT-%d", r/10), first, min(MaxPartCartons, n-first)).Split(0)[0]
		for i := range m.Cartons {
			m.Cartons[i].EPC = epcOf(first + i)
		}
		if _, err := x.Ingest(m); err != nil {
			tb.Fatal(err)
		}
	}
	return x, func() { s.Close() }
}

// epcOf is carton i's SSCC-96 EPC: its 56 low bits scrambled (a bijection),
// so that the keys do not compress as a run of serial numbers would.
func epcOf(i int) string {
	return fmt.Sprintf("3114257BF4%014X", (uint64(i)*0x9E3779B97F4A7C15)&(1<<56-1))
}

// BenchmarkIndexLot is the portal's lookup of a carton among 100,000:
// a known EPC and an unknown one.
func BenchmarkIndexLot(b *testing.B) {
	const n = 100_000
	x, done := bulkIndex(b, b.TempDir(), n)
	defer done()
	for _, c := range []struct {
		name  string
		epc   func(i int) string
		found bool
	}{{"known", func(i int) string { return epcOf(i % n) }, true}, {"unknown", func(i int) string { return epcOf(n + i%n) }, false}} {
		epcs := make([]string, 4096)
		for i := range epcs {
			epcs[i] = c.epc(i * 7919)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, ok := x.Lot(epcs[i&4095]); ok != c.found {
					b.Fatal(epcs[i&4095], ok)
				}
			}
		})
	}
}

// BenchmarkIndexMillion indexes 1,000,000 cartons and reports the bytes a
// carton takes on disk (the store closed: its memtables flushed), in
// memory (the lookup table), the Go heap and the process's RSS with the
// index loaded (Badger's caches and memtables are bounded: the rest grows
// by the table's bytes a carton), the time to load the index at start,
// and the lookup time.
func BenchmarkIndexMillion(b *testing.B) {
	const n = 1_000_000
	for b.Loop() {
		dir := b.TempDir()
		start := time.Now()
		x, done := bulkIndex(b, dir, n)
		ingest := time.Since(start)
		mem := x.Stats().MemoryBytes
		done()
		disk := dirBytes(b, dir)
		runtime.GC()
		rssAfterIngest := rssBytes()

		s := openStore(b, dir)
		start = time.Now()
		x, err := OpenIndex(s.DB())
		if err != nil {
			b.Fatal(err)
		}
		load := time.Since(start)
		if st := x.Stats(); st.Cartons != n {
			b.Fatalf("%d cartons loaded", st.Cartons)
		}
		sample := make([]string, 1<<16)
		for i := range sample {
			sample[i] = epcOf((i * 7919) % n)
		}
		const lookups = 1_000_000
		start = time.Now()
		for i := 0; i < lookups; i++ {
			if _, ok := x.Lot(sample[i&(1<<16-1)]); !ok {
				b.Fatal("not found")
			}
		}
		perLookup := time.Since(start) / lookups
		runtime.GC()
		rss := rssBytes()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		runtime.KeepAlive(x)
		s.Close()
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(disk)/n, "disk-B/carton")
		b.ReportMetric(float64(mem)/n, "mem-B/carton")
		b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
		b.ReportMetric(float64(rssAfterIngest)/(1<<20), "rss-ingest-MB")
		b.ReportMetric(ingest.Seconds(), "ingest-s")
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(float64(perLookup.Nanoseconds()), "lookup-ns")
	}
}

// dirBytes is the size of the files under dir.
func dirBytes(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// rssBytes is the process's resident set (Linux), 0 elsewhere.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
