package printersim

import (
	"context"
	"testing"
	"time"

	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/zebra"
)

// BenchmarkStatusRoundTrip measures one ~HQES+~HS query answered by the
// simulator over loopback TCP.
func BenchmarkStatusRoundTrip(b *testing.B) {
	_, addr := startB(b)
	c := dialB(b, addr)
	q := zebra.NewQuerier(c, printers.StatusBoth, nil)
	ctx := context.Background()
	t0 := time.Now()
	for b.Loop() {
		if _, err := q.Status(ctx, 5*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "queries/s")
}

// BenchmarkFormats measures how fast the simulator takes formats.
func BenchmarkFormats(b *testing.B) {
	s, addr := startB(b)
	c := dialB(b, addr)
	f := []byte("^XA^FO50,50^A0N,40,40^FDLOT 24A017 carton 000123^FS^BY2^BCN,80,N,N^FD>:ABC123^FS^XZ")
	b.SetBytes(int64(len(f)))
	t0 := time.Now()
	for b.Loop() {
		if _, err := c.Write(f); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 10000; i++ {
		if n, _ := s.Count(); n == b.N {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if n, _ := s.Count(); n != b.N {
		b.Fatalf("got %d formats of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "formats/s")
}
