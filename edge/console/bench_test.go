package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/receiving"
)

// BenchmarkReceiptWithConsoles measures a receipt's latency (Receive, one
// carton) with 0 and 50 door boards open on the event stream, and how long
// the receipt's board takes to reach a browser after Receive returns
// (event-ms, the median). With 50 it reports what the open consoles cost:
// the process's RSS and Go memory (heap and stacks) grown by opening them,
// server and test clients both. Compare with benchstat:
//
//	go test ./edge/console -run '^$' -bench ReceiptWithConsoles -count 6
func BenchmarkReceiptWithConsoles(b *testing.B) {
	for _, n := range []int{0, 50} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			r := newRig(b)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rss0, mem0 := rssBytes(), goBytes()
			seen := make(chan string, 1024)
			var wg sync.WaitGroup
			for i := range n {
				req, _ := http.NewRequestWithContext(ctx, "GET", r.base+"/events?topic=door/DOOR1", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer resp.Body.Close()
					rd := bufio.NewReaderSize(resp.Body, 64<<10)
					for {
						line, err := rd.ReadString('\n')
						if err != nil {
							return
						}
						if t := strings.TrimSpace(strings.TrimPrefix(line, "data:")); i == 0 && strings.HasPrefix(t, "<h2>Receipt ") {
							select {
							case seen <- strings.Fields(t)[1]:
							default:
							}
						}
					}
				}()
			}
			if n > 0 {
				eventually(b, 10*time.Second, "the consoles open", func() bool { return r.g.Console().Clients() == n })
			}
			runtime.GC()
			rss, mem := rssBytes()-rss0, goBytes()-mem0
			var lat []time.Duration
			i := 0
			for b.Loop() {
				i++
				id := "B" + strconv.Itoa(i)
				start := time.Now()
				if _, err := r.g.Receiving().Receive(context.Background(), receiving.Request{ID: id, Door: "DOOR1",
					GTIN: "09520123456788", SupplierLot: "L" + id, Supplier: "Acme", Cartons: 1}); err != nil {
					b.Fatal(err)
				}
				if n == 0 {
					continue
				}
				b.StopTimer()
				deadline := time.After(10 * time.Second)
			wait:
				for {
					select {
					case got := <-seen:
						if got == id {
							lat = append(lat, time.Since(start))
							break wait
						}
					case <-deadline:
						b.Fatalf("receipt %s never reached the board", id)
					}
				}
				b.StartTimer()
			}
			if len(lat) > 0 {
				// After the loop: b.Loop's start resets the metrics.
				b.ReportMetric(float64(median(lat))/float64(time.Millisecond), "event-ms")
				b.ReportMetric(float64(rss)/(1<<20), "MB-RSS-consoles")
				b.ReportMetric(float64(mem)/(1<<20), "MB-Go-consoles")
			}
			cancel()
			wg.Wait()
		})
	}
}

// BenchmarkDoorBoardPage is the door board's first answer: the whole page,
// server-rendered, with a receipt of 20 cartons on it.
func BenchmarkDoorBoardPage(b *testing.B) {
	r := newRig(b)
	r.receive("ASN-BENCH", 20)
	for b.Loop() {
		req, _ := http.NewRequest("GET", r.base+"/doors/DOOR1", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(resp.StatusCode, err)
		}
		buf := make([]byte, 32<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[len(s)/2]
}

// rssBytes is the process's resident set (Linux), 0 elsewhere.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// goBytes is the Go memory in use: heap and goroutine stacks.
func goBytes() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}
