package lots

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/lot"
)

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	return d[int(float64(len(d)-1)*p)]
}

// BenchmarkIssue issues lots one after another on an on-disk, fsynced store
// and reports the latency percentiles.
func BenchmarkIssue(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	r, _ := newRegistry(b, s, Options{Config: lot.Config{Formats: map[string]lot.FormatConfig{
		"b": {Format: "{YYMMDD}-{PRODUCT}-{SEQ:6}"}}}})
	req := IssueRequest{Format: "b", Details: Details{Product: "WLD01", Supplier: "ACME", SupplierLot: "S1", Quantity: 10, Unit: "CS"}}
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := r.Issue(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "lots/s")
}

// BenchmarkIssueConcurrent1000 issues 1,000 lots from 1,000 goroutines at
// once per iteration, fsynced, and checks they are all distinct.
func BenchmarkIssueConcurrent1000(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	r, _ := newRegistry(b, s, Options{Config: lot.Config{Formats: map[string]lot.FormatConfig{
		"b": {Format: "{YY}-{PRODUCT}-{SEQ:9}", SeqPer: lot.PerGlobal}}}})
	seen := map[string]bool{}
	var lat []time.Duration
	var mu sync.Mutex
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range 1000 {
			wg.Go(func() {
				t0 := time.Now()
				l, err := r.Issue(context.Background(), IssueRequest{Format: "b", Details: Details{Product: fmt.Sprintf("P%d", i%10)}})
				d := time.Since(t0)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					b.Error(err)
					return
				}
				if seen[l.Code] {
					b.Errorf("code %s issued twice", l.Code)
				}
				seen[l.Code] = true
				lat = append(lat, d)
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(len(seen))/b.Elapsed().Seconds(), "lots/s")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// loadLots bulk-loads n lots of products products (no sync, big batches) with
// the registry's own key layout. A third have no expiry; 1 in 10 is on hold.
func loadLots(b *testing.B, s *store.Store, n, products int) {
	wb := s.DB().NewWriteBatch()
	base := date("2020-01-01")
	created := time.Date(2025, 5, 7, 10, 0, 0, 0, time.UTC)
	for i := range n {
		st := &stored{Lot: Lot{
			Code: fmt.Sprintf("L%09d", i), Source: SourceGenerated, Product: fmt.Sprintf("P%05d", i%products),
			Supplier: fmt.Sprintf("S%03d", i%97), SupplierLot: fmt.Sprintf("SL%07d", i), Quantity: 10, Unit: "CS",
			Production: base.AddDate(0, 0, i%2000).Format(time.DateOnly), Created: created.Add(time.Duration(i) * time.Second), Status: StatusActive,
		}}
		if i%3 != 0 {
			st.Expiry = base.AddDate(0, 0, i%2000+30+i%200).Format(time.DateOnly)
		}
		if (i/products)%10 == 0 {
			st.Status, st.HoldReason = StatusOnHold, "lab"
		}
		if err := writeNew(wb.Set, st, Event{At: st.Created, Action: "created", To: StatusActive}); err != nil {
			b.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListFEFO1M queries one product's available lots in FEFO order in a
// registry of 1,000,000 lots (1,000 products, ~900 available lots each).
func BenchmarkListFEFO1M(b *testing.B) {
	benchList(b, 1_000_000, 1000, Query{Order: OrderFEFO})
}

// BenchmarkListFEFO1MSmallProduct: the same registry with 20,000 products
// (~45 available lots each), closer to a real catalogue.
func BenchmarkListFEFO1MSmallProduct(b *testing.B) {
	benchList(b, 1_000_000, 20000, Query{Order: OrderFEFO})
}

func benchList(b *testing.B, n, products int, q Query) {
	s, err := store.Open(b.TempDir(), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r, c := newRegistry(b, s, Options{})
	c.Set("2020-01-01")
	t0 := time.Now()
	loadLots(b, s, n, products)
	// Let compaction finish, as it would on a gateway between bursts.
	if err := s.DB().Flatten(2); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d lots in %s", n, time.Since(t0).Round(time.Millisecond))
	var lat []time.Duration
	found := 0
	i := 0
	for b.Loop() {
		q.Product = fmt.Sprintf("P%05d", (i*7919)%products)
		i++
		t0 := time.Now()
		ls, err := r.List(context.Background(), q)
		lat = append(lat, time.Since(t0))
		if err != nil || len(ls) == 0 {
			b.Fatalf("List: %d lots, %v", len(ls), err)
		}
		found += len(ls)
	}
	b.ReportMetric(float64(found)/float64(len(lat)), "lots/query")
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}

// BenchmarkIsHeldLinked is the portal's per-carton check.
func BenchmarkIsHeldLinked(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	r, _ := newRegistry(b, s, Options{})
	ctx := context.Background()
	l := issue(b, r, IssueRequest{Details: Details{Product: "P"}})
	for i := range 1000 {
		if err := r.Link(ctx, l.Code, LinkEPC, fmt.Sprintf("urn:epc:id:sgtin:0952012.345678.%d", i)); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, _, err := r.IsHeldLinked(LinkEPC, fmt.Sprintf("urn:epc:id:sgtin:0952012.345678.%d", i%1000)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
