package portal_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/portal"
)

var benchDoor = []portal.DoorConfig{{ID: "d1", Reader: "r1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}}}

// trackedBytesPerEPC measures the heap an engine holds per tracked EPC.
func trackedBytesPerEPC(t testing.TB, n int) float64 {
	e, err := portal.New(portal.Config{Doors: benchDoor, Sink: func(portal.Event) {}})
	if err != nil {
		t.Fatal(err)
	}
	reads := make([]rfid.Read, 0, 1000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; {
		reads = reads[:0]
		for j := 0; j < 1000 && i < n; j, i = j+1, i+1 {
			r := rfid.Read{EPC: epcN(i), Reader: "r1", Antenna: uint16(1 + i%2), RSSI: -50, HasRSSI: true, Time: t0}
			reads = append(reads, r, r)
		}
		e.Observe(reads)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if st := e.Stats(); st.Tracked != n {
		t.Fatalf("tracked %d, want %d", st.Tracked, n)
	}
	runtime.KeepAlive(e)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

func BenchmarkTrackedMemory(b *testing.B) {
	var per float64
	for b.Loop() {
		per = trackedBytesPerEPC(b, 100_000)
	}
	b.ReportMetric(per, "bytes/EPC")
	b.ReportMetric(per*100_000/(1<<20), "MB/100k-EPCs")
}

// benchReports builds reports of 200 reads each over a population of
// distinct EPCs, each EPC read readsPerEPC times across the stream.
func benchReports(distinct, readsPerEPC int) [][]byte {
	var all []rfid.Read
	for k := range readsPerEPC {
		for i := range distinct {
			all = append(all, rfid.Read{EPC: epcN(i), Antenna: uint16(1 + (i+k)%2), RSSI: int8(-60 + k), HasRSSI: true,
				ReaderTime: t0, SeenCount: 1})
		}
	}
	var out [][]byte
	for c := range slices.Chunk(all, 200) {
		out = append(out, llrp.AppendROAccessReport(nil, 1, c))
	}
	return out
}

// BenchmarkDecodeDedupClassify is the hot path: LLRP report decode, portal
// dedup and presence, EPC decode at arrival and departure.
func BenchmarkDecodeDedupClassify(b *testing.B) {
	for _, tc := range []struct {
		name        string
		readsPerEPC int
	}{{"5-reads-per-EPC", 5}, {"50-reads-per-EPC", 50}} {
		b.Run(tc.name, func(b *testing.B) {
			reports := benchReports(2000, tc.readsPerEPC)
			e, err := portal.New(portal.Config{Doors: benchDoor, Sink: func(portal.Event) {}})
			if err != nil {
				b.Fatal(err)
			}
			dec := llrp.ReportDecoder{Reader: "r1"}
			now := t0
			reads := 0
			b.ReportAllocs()
			for b.Loop() {
				for _, rep := range reports {
					if err := dec.Decode(rep[llrp.HeaderLen:]); err != nil {
						b.Fatal(err)
					}
					for i := range dec.Reads {
						dec.Reads[i].Time = now
					}
					e.Observe(dec.Reads)
					reads += len(dec.Reads)
				}
				now = now.Add(10 * time.Second) // every tag departs: a pass per round
				e.Tick(now)
			}
			b.ReportMetric(float64(reads)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// BenchmarkReadToEventLatency measures the time from a report's bytes to
// the arrival event its reads cause.
func BenchmarkReadToEventLatency(b *testing.B) {
	reports := benchReports(100, 2)
	var lat []time.Duration
	var start time.Time
	e, err := portal.New(portal.Config{Doors: benchDoor, Sink: func(ev portal.Event) {
		if _, ok := ev.(*portal.ArrivalEvent); ok {
			lat = append(lat, time.Since(start))
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	dec := llrp.ReportDecoder{Reader: "r1"}
	now := t0
	for b.Loop() {
		for _, rep := range reports {
			start = time.Now()
			if err := dec.Decode(rep[llrp.HeaderLen:]); err != nil {
				b.Fatal(err)
			}
			for i := range dec.Reads {
				dec.Reads[i].Time = now
			}
			e.Observe(dec.Reads)
		}
		now = now.Add(10 * time.Second)
		e.Tick(now)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	}
}
