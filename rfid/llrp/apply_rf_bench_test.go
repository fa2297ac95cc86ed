package llrp_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// batchTimes records when each batch of reads arrived.
type batchTimes struct {
	mu   sync.Mutex
	at   []time.Time
	more chan struct{}
}

func newBatchTimes() *batchTimes { return &batchTimes{more: make(chan struct{}, 1)} }

func (b *batchTimes) onReads([]rfid.Read) {
	b.mu.Lock()
	b.at = append(b.at, time.Now())
	b.mu.Unlock()
	select {
	case b.more <- struct{}{}:
	default:
	}
}

// after waits (bounded) for a batch after t.
func (b *batchTimes) after(tb testing.TB, t time.Time) {
	deadline := time.After(20 * time.Second)
	for {
		b.mu.Lock()
		ok := len(b.at) > 0 && b.at[len(b.at)-1].After(t)
		b.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-b.more:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			tb.Fatalf("no reads after %v", t)
		}
	}
}

// gap is the longest interval between consecutive batches from the last
// one before from to the first one after to.
func (b *batchTimes) gap(from, to time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	lo := 0
	for i, t := range b.at {
		if !t.After(from) {
			lo = i
		}
	}
	var g time.Duration
	for i := lo + 1; i < len(b.at); i++ {
		g = max(g, b.at[i].Sub(b.at[i-1]))
		if b.at[i].After(to) {
			break
		}
	}
	return g
}

func (b *batchTimes) last() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.at[len(b.at)-1]
}

func reportGaps(b *testing.B, gaps []time.Duration) {
	slices.Sort(gaps)
	q := func(p float64) float64 {
		return float64(gaps[min(len(gaps)-1, int(p*float64(len(gaps))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), "gap-ms-p50")
	b.ReportMetric(q(0.99), "gap-ms-p99")
}

// BenchmarkApplyRFGap measures the longest pause in the reads while the
// transmit power changes: "apply" with ApplyRF (one ROSpec restart on the
// same connection), "reconnect" by ending the session and setting a new one
// up with the new power. The simulator runs a 10 ms inventory cycle; the
// session reads at most every 40 ms (DefaultReadInterval), so the pause
// between two batches is about 40 ms without any change.
func BenchmarkApplyRFGap(b *testing.B) {
	sim := func(b *testing.B) string {
		sc, err := readersim.Load("door-tune")
		if err != nil {
			b.Fatal(err)
		}
		sc.AllowSecondClient = true // the reconnect does not wait for the old connection's end
		s := readersim.New(sc)
		s.TimeScale = 5
		return serveSim(b, s)
	}
	power := func(i int) llrp.RFSettings { return llrp.RFSettings{TxPowerDBm: ptr([]float64{26, 30}[i%2])} }
	start := func(b *testing.B, addr string, rf llrp.RFSettings, bt *batchTimes) (*llrp.Session, func()) {
		s, err := llrp.NewSession(llrp.Config{ReaderID: "door-3", Address: addr, RF: rf, OnReads: bt.onReads})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = s.Run(ctx); close(done) }()
		return s, func() { cancel(); <-done }
	}
	b.Run("apply", func(b *testing.B) {
		addr := sim(b)
		bt := newBatchTimes()
		s, stop := start(b, addr, power(1), bt)
		defer stop()
		bt.after(b, time.Time{})
		gaps := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			bt.after(b, time.Now()) // reads flowing
			t0 := time.Now()
			if _, err := s.ApplyRF(context.Background(), power(i), nil); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			bt.after(b, t1)
			gaps = append(gaps, bt.gap(t0, t1))
		}
		reportGaps(b, gaps)
	})
	b.Run("reconnect", func(b *testing.B) {
		addr := sim(b)
		bt := newBatchTimes()
		_, stop := start(b, addr, power(1), bt)
		bt.after(b, time.Time{})
		gaps := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			bt.after(b, time.Now())
			stop()
			t0 := bt.last()
			_, stop = start(b, addr, power(i), bt)
			bt.after(b, t0)
			gaps = append(gaps, bt.gap(t0, t0))
		}
		stop()
		reportGaps(b, gaps)
	})
}
