package spool

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

func benchSpooler(b *testing.B, so printersim.Options, sto store.Options, batch int) (*Spooler, *store.Store) {
	b.Helper()
	_, addr := startSim(b, so)
	dir := ""
	if !sto.InMemory {
		dir = b.TempDir()
	}
	st, err := store.Open(dir, sto)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg := testConfig(addr)
	cfg.BatchJobs = batch
	cfg.Timeouts.Idle = time.Minute
	sp, err := New(st, Options{Printers: []printers.Config{cfg}})
	if err != nil {
		b.Fatal(err)
	}
	return sp, st
}

func runSpooler(b *testing.B, sp *Spooler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
}

// BenchmarkQueueToFirstByte measures, at an idle printer (connection open,
// queue empty), the time from Submit to the printer having received the
// whole format, Submit's synced commit included.
// The nosync variant leaves out the disk's fsync latency (two synced
// commits per job: Submit and the sending mark) to show the software path.
func BenchmarkQueueToFirstByte(b *testing.B) {
	b.Run("sync", func(b *testing.B) { benchQueueToFirstByte(b, store.Options{}) })
	b.Run("nosync", func(b *testing.B) { benchQueueToFirstByte(b, store.Options{NoSync: true}) })
}

func benchQueueToFirstByte(b *testing.B, sto store.Options) {
	got := make(chan time.Time, 1)
	sp, _ := benchSpooler(b, printersim.Options{OnFormat: func(printersim.Format) { got <- time.Now() }}, sto, 16)
	runSpooler(b, sp)
	var lat []time.Duration
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("B%08d", i)
		t0 := time.Now()
		if err := sp.Submit(ctx, Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, (<-got).Sub(t0))
		for j := 0; j < 1000; j++ { // let the printer go idle again
			if n, _ := sp.QueueLen("p1"); n == 0 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*90/100].Microseconds())/1000, "p90-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkThroughput queues b.N jobs and measures how fast they are
// printed and confirmed by a simulator that prints instantly, with every
// state change synced to disk.
func BenchmarkThroughput(b *testing.B) {
	sp, _ := benchSpooler(b, printersim.Options{}, store.Options{}, 16)
	ctx := context.Background()
	n := b.N
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				id := fmt.Sprintf("T%08d", i)
				if err := sp.Submit(ctx, Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	submitted := time.Since(t0)
	b.ResetTimer()
	t1 := time.Now()
	runSpooler(b, sp)
	for {
		if q, _ := sp.QueueLen("p1"); q == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(t1)
	b.StopTimer()
	b.ReportMetric(float64(n)/el.Seconds(), "jobs/s")
	b.ReportMetric(float64(n)/submitted.Seconds(), "submits/s")
}

func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkQueue100k queues 100,000 jobs and reports the heap before, after
// queuing, and while the spooler works through the queue (the loop reads the
// head of the queue from Badger; job bodies are not held in memory). Sync is
// off: this measures memory, not the disk.
func BenchmarkQueue100k(b *testing.B) {
	for _, jobs := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(jobs), func(b *testing.B) { benchQueue(b, jobs) })
	}
}

func benchQueue(b *testing.B, jobs int) {
	for b.Loop() {
		func() {
			_, addr := startSim(b, printersim.Options{})
			st, err := store.Open(b.TempDir(), store.Options{NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			sp, err := New(st, Options{Printers: []printers.Config{testConfig(addr)}})
			if err != nil {
				b.Fatal(err)
			}
			before := heap()
			ctx := context.Background()
			var wg sync.WaitGroup
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < jobs; i += 8 {
						id := fmt.Sprintf("M%08d", i)
						if err := sp.Submit(ctx, Job{ID: id, Printer: "p1", ZPL: label(id) + "^XA^FO10,10^GB700,2,2^FS^FO10,60^A0N,30,30^FDpadding to a realistic label size^FS^XZ"}); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			queued := heap()
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- sp.Run(rctx) }()
			var peak uint64
			for i := 0; i < 20; i++ {
				time.Sleep(50 * time.Millisecond)
				peak = max(peak, heap())
			}
			cancel()
			<-done
			left, _ := sp.QueueLen("p1")
			b.ReportMetric(float64(before)/1e6, "heap-before-MB")
			b.ReportMetric(float64(queued)/1e6, "heap-queued-MB")
			b.ReportMetric(float64(peak)/1e6, "heap-running-MB")
			b.ReportMetric(float64(jobs-left), "printed-in-1s")
		}()
	}
}

// BenchmarkSubmit measures one synced Submit.
func BenchmarkSubmit(b *testing.B) {
	sp, _ := benchSpooler(b, printersim.Options{}, store.Options{}, 16)
	ctx := context.Background()
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("S%08d", i)
		t0 := time.Now()
		if err := sp.Submit(ctx, Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkVerifiedLabels queues b.N RFID carton labels and measures how
// fast they are printed, verified (~RV report and ^RFR + ^HV read-back of
// every tag) and settled by a simulated RFID printer that prints
// instantly, with its label counter read before each batch and every state
// change synced to disk. The plain variant is the same printer and jobs
// with verification and the counter off.
func BenchmarkVerifiedLabels(b *testing.B) {
	b.Run("verified", func(b *testing.B) { benchVerified(b, nil) })
	b.Run("plain", func(b *testing.B) {
		benchVerified(b, func(c *printers.Config) {
			c.VerifyEncode, c.LabelCounter = printers.VerifyNone, printers.CounterNone
		})
	})
}

func benchVerified(b *testing.B, mod func(*printers.Config)) {
	_, addr := startSim(b, printersim.Options{Profile: counterProfile, BootedAgo: time.Hour})
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	cfg := testConfig(addr)
	withCounter(&cfg)
	cfg.Timeouts.Idle = time.Minute
	if mod != nil {
		mod(&cfg)
	}
	sp, err := New(st, Options{Printers: []printers.Config{cfg}})
	if err != nil {
		b.Fatal(err)
	}
	n := b.N
	jobs := make([]Job, n)
	for i := range jobs {
		id := fmt.Sprintf("V%08d", i)
		jobs[i] = Job{ID: id, Printer: "p1", ZPL: rfidZPL(id, epcN(i), 0)}
	}
	if err := sp.SubmitAll(context.Background(), jobs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	t0 := time.Now()
	runSpooler(b, sp)
	for {
		if q, _ := sp.QueueLen("p1"); q == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	el := time.Since(t0)
	b.StopTimer()
	last, err := sp.Get(jobs[n-1].ID)
	if err != nil || last.State != Confirmed {
		b.Fatalf("last job %s %v", last.State, err)
	}
	if mod == nil && (last.Encode == nil || last.Encode.Outcome != printers.EncodeEncoded) {
		b.Fatalf("last job not verified: %+v", last.Encode)
	}
	b.ReportMetric(float64(n)/el.Seconds(), "labels/s")
}
