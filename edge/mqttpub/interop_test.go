//go:build interop

package mqttpub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

// mosquitto is a broker process started by a test on its own port.
type mosquitto struct {
	port int
	conf string
	cmd  *exec.Cmd
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startMosquitto runs mosquitto on a free loopback port with a generated
// config; the test's cleanup kills it.
func startMosquitto(t testing.TB) *mosquitto {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Fatalf("mosquitto not installed (apt-get install -y mosquitto): %v", err)
	}
	m := &mosquitto{port: freePort(t)}
	m.conf = filepath.Join(t.TempDir(), "mosquitto.conf")
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n", m.port)
	if err := os.WriteFile(m.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m.start(t)
	t.Cleanup(m.kill)
	return m
}

func (m *mosquitto) url() string { return "tcp://127.0.0.1:" + strconv.Itoa(m.port) }

func (m *mosquitto) start(t testing.TB) {
	t.Helper()
	m.cmd = exec.Command("mosquitto", "-c", m.conf)
	var out bytes.Buffer
	m.cmd.Stdout, m.cmd.Stderr = &out, &out
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(m.port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	m.kill()
	t.Fatalf("mosquitto did not listen on %d: %s", m.port, out.String())
}

// kill stops the broker with SIGKILL.
func (m *mosquitto) kill() {
	if m.cmd != nil && m.cmd.Process != nil {
		_ = m.cmd.Process.Kill()
		_ = m.cmd.Wait()
		m.cmd = nil
	}
}

// subscribe connects an independent paho subscriber feeding s.
func subscribe(t testing.TB, url, filter string, s *sink) mqtt.Client {
	t.Helper()
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("sub-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetAutoReconnect(false).SetOrderMatters(true)
	c := mqtt.NewClient(opts)
	if err := waitToken(context.Background(), c.Connect(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	h := func(_ mqtt.Client, m mqtt.Message) { s.add(m.Topic(), m.Payload(), m.Retained()) }
	if err := waitToken(context.Background(), c.Subscribe(filter, 1, h), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func TestInteropMosquittoOutage(t *testing.T) {
	m := startMosquitto(t)
	s := newSink()
	sub := subscribe(t, m.url(), prefix+"/events/#", s)
	ob := memOutbox(t)
	// The reconnect waits at a gate the test opens once the subscriber is
	// back, so that no event is published to a broker nobody listens on.
	gate := make(chan struct{})
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	t.Cleanup(openGate)
	cfg := testConfig(m.url())
	cfg.Backoff = func(int) time.Duration { <-gate; return 10 * time.Millisecond }
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	appendN(t, ob, 500, 0)
	s.waitFor(t, "500 events", 30*time.Second, func() bool { return len(s.ids) == 500 })

	m.kill()
	sub.Disconnect(0)
	appendN(t, ob, 1000, 500)
	time.Sleep(200 * time.Millisecond) // the publisher notices the loss
	m.start(t)
	subscribe(t, m.url(), prefix+"/events/#", s)
	openGate()
	s.waitFor(t, "all 1500 events after the broker came back", 60*time.Second, func() bool { return len(s.ids) == 1500 })
	checkOrder(t, s)
}

func TestInteropSIGKILLStorm(t *testing.T) {
	m := startMosquitto(t)
	s := newSink()
	subscribe(t, m.url(), prefix+"/events/#", s)
	crashStorm(t, m.url(), s)
}

func TestInteropStatusAndWill(t *testing.T) {
	m := startMosquitto(t)
	s := newSink()
	subscribe(t, m.url(), prefix+"/status", s)
	ob := memOutbox(t)
	cfg := testConfig(m.url())
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := runPublisher(t, p)
	s.waitFor(t, "online", 10*time.Second, func() bool { return len(s.msgs) >= 1 })
	stop()
	s.waitFor(t, "offline on clean shutdown", 10*time.Second, func() bool { return len(s.msgs) >= 2 })
	s.mu.Lock()
	defer s.mu.Unlock()
	var st Status
	if json.Unmarshal(s.msgs[0].payload, &st) != nil || st.State != "online" || string(s.msgs[1].payload) != OfflinePayload {
		t.Fatalf("status sequence %s, %s", s.msgs[0].payload, s.msgs[1].payload)
	}
}

const benchPayload = `{"eventID":"urn:uuid:00000000-0000-4000-8000-000000000000","seq":1,"type":"receiving.line","time":"2026-11-26T09:30:12Z","body":{"lot":"L2611260001","gtin":"09506000134352","qty":24}}`

var benchBody = json.RawMessage(`{"lot":"L2611260001","gtin":"09506000134352","qty":24}`)

// barePaho publishes n messages at QoS 1 with a window of 20 awaiting
// PUBACKs, as a plain paho client would, and returns messages/s.
func barePaho(b *testing.B, url string, n int) float64 {
	opts := mqtt.NewClientOptions().AddBroker(url).SetClientID("bare").SetCleanSession(true).SetAutoReconnect(false)
	c := mqtt.NewClient(opts)
	if err := waitToken(context.Background(), c.Connect(), 5*time.Second); err != nil {
		b.Fatal(err)
	}
	defer c.Disconnect(0)
	start := time.Now()
	window := make(chan mqtt.Token, 19) // + the one being awaited = 20
	done := make(chan error, 1)
	go func() {
		for tok := range window {
			if err := waitToken(context.Background(), tok, 10*time.Second); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := 0; i < n; i++ {
		window <- c.Publish("bench/bare", 1, false, []byte(benchPayload))
	}
	close(window)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

// durableOutbox opens a file-backed outbox in a fresh data directory.
func durableOutbox(b *testing.B) *outbox.Outbox {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	ob, err := outbox.Open(st, outbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ob.Close() })
	return ob
}

// appendBench appends n events from producers goroutines, each appending
// one event after the other as a gateway's producers do (a door's portal,
// a receipt's handler), until n are in.
func appendBench(b *testing.B, ob *outbox.Outbox, n, producers int) {
	var g errgroup.Group
	var left atomic.Int64
	left.Store(int64(n))
	for range producers {
		g.Go(func() error {
			for left.Add(-1) >= 0 {
				if _, err := ob.Append(context.Background(), outbox.Event{Type: "receiving.line", Priority: outbox.PriorityLot, Body: benchBody}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// drain runs an unpaced publisher until n events are acknowledged and
// removed; it returns when they are.
func drain(b *testing.B, ob *outbox.Outbox, url string, n int, during func()) {
	cfg := testConfig(url) // Rate -1: unpaced, window 20
	p, err := New(cfg, ob, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan struct{})
	go func() { _ = p.Run(ctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()
	if during != nil {
		during()
	}
	deadline := time.Now().Add(5 * time.Minute)
	for ob.Stats().Acked < uint64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d events acknowledged in 5 minutes (is mosquitto still running?)", ob.Stats().Acked, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkInteropDurablePublish compares a bare paho QoS 1 publisher (window
// 20) with the gateway's durable path end to end (64 or 128 producers doing
// fsynced Appends while the publisher sends, awaits PUBACKs and removes the
// events with fsynced commits) against the same Mosquitto in the same run.
//
// The two take turns, in publishRounds rounds of b.N/publishRounds events
// each, and each rate is its events over its own time in all rounds: on a
// machine whose load changes while the benchmark runs (other test suites,
// a compile), both are measured under the same mix of loads, where one run
// of each, one after the other, compares a busy moment with a quiet one.
// round_ratio_min is the lowest ratio of a single round; the CPU time of
// the process per event (bare_cpu_µs/msg, dockgate_cpu_µs/msg) is what
// decides the ratio on a machine whose cores are all busy.
func BenchmarkInteropDurablePublish(b *testing.B) {
	for _, producers := range []int{64, 128} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			m := startMosquitto(b)
			ob := durableOutbox(b)
			var bareTime, gwTime, bareCPU, gwCPU time.Duration
			minRatio := math.Inf(1)
			b.ResetTimer()
			done := 0
			for r := range publishRounds {
				n := b.N / publishRounds
				if r == publishRounds-1 {
					n = b.N - done
				}
				cpu0 := processCPU()
				bare := barePaho(b, m.url(), n)
				cpu1 := processCPU()
				start := time.Now()
				drain(b, ob, m.url(), done+n, func() { appendBench(b, ob, n, producers) })
				gw := time.Since(start)
				bareCPU += cpu1 - cpu0
				gwCPU += processCPU() - cpu1
				done += n
				bareTime += time.Duration(float64(n) / bare * float64(time.Second))
				gwTime += gw
				minRatio = min(minRatio, float64(n)/gw.Seconds()/bare)
			}
			b.StopTimer()
			bare := float64(b.N) / bareTime.Seconds()
			gw := float64(b.N) / gwTime.Seconds()
			b.ReportMetric(bare, "bare_msgs/s")
			b.ReportMetric(gw, "dockgate_msgs/s")
			b.ReportMetric(gw/bare, "ratio")
			b.ReportMetric(minRatio, "round_ratio_min")
			b.ReportMetric(float64(bareCPU.Microseconds())/float64(b.N), "bare_cpu_µs/msg")
			b.ReportMetric(float64(gwCPU.Microseconds())/float64(b.N), "dockgate_cpu_µs/msg")
		})
	}
}

// processCPU is the CPU time the test process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// publishRounds is how many turns BenchmarkInteropDurablePublish gives each
// publisher.
const publishRounds = 5

// BenchmarkInteropReplay compares the bare publisher with the replay of a
// durable backlog (the outage case): publish, PUBACK, fsynced removal.
func BenchmarkInteropReplay(b *testing.B) {
	m := startMosquitto(b)
	ob := durableOutbox(b)
	appendBench(b, ob, b.N, 64)
	bare1 := barePaho(b, m.url(), b.N)
	b.ResetTimer()
	start := time.Now()
	drain(b, ob, m.url(), b.N, nil)
	gw := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	bare := (bare1 + barePaho(b, m.url(), b.N)) / 2
	b.ReportMetric(bare, "bare_msgs/s")
	b.ReportMetric(gw, "dockgate_msgs/s")
	b.ReportMetric(gw/bare, "ratio")
}

// TestInteropRSS measures the gateway's resident memory in a child process:
// idle with the publisher running, and with 1,000,000 events queued while
// the broker is away, at rest and at the peak of the burst of appends
// (VmHWM). The peak is held under the budget by the memory limit, which
// caps the Go heap, and Badger's options, which keep the heap a burst needs
// under that limit; the rest of the resident set is Badger's mapped files
// (tables, memtable logs) and the binary.
//
// DOCKGATE_RSS_PEAKPROFILE and DOCKGATE_RSS_HEAPPROFILE name files for a
// heap profile of the child at its highest RSS and at the end.
func TestInteropRSS(t *testing.T) {
	r := measureRSS(t)
	t.Logf("RSS idle %.1f MB (anon %.1f); with %d events queued %.1f MB = anon %.1f + mapped files %.1f (peak %.1f, Go heap %.1f); append %.0f events/s",
		r.IdleMB, r.IdleAnonMB, r.Queued, r.QueuedMB, r.QueuedAnonMB, r.QueuedFileMB, r.PeakMB, r.GoHeapMB, r.AppendRate)
	t.Logf("sampled peak RSS %.1f MB = anon %.1f + files %.1f %v (Go heap %.1f, live %.1f, Go runtime total %.1f); highest anon %.1f, files %.1f, Go heap %.1f, live %.1f, Go total %.1f; files at rest %v; GC %.0f%% of the CPU time",
		r.AtPeak.RSSMB, r.AtPeak.AnonMB, r.AtPeak.FileMB, mbs(r.AtPeak.Files), r.AtPeak.HeapMB, r.AtPeak.LiveMB, r.AtPeak.GoMB,
		r.Highest.AnonMB, r.Highest.FileMB, r.Highest.HeapMB, r.Highest.LiveMB, r.Highest.GoMB, mbs(r.RestFiles), r.GCPercent)
	if r.IdleMB > 64 || r.QueuedMB > 128 || r.PeakMB > 128 {
		t.Fatalf("RSS over budget (idle 64 MB, queued and peak 128 MB): %+v", r)
	}
}

// BenchmarkInteropRSS reports TestInteropRSS's measurements as metrics
// (one child per iteration: run it with -benchtime 1x).
func BenchmarkInteropRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r := measureRSS(b)
		b.ReportMetric(r.IdleMB, "idle_MB")
		b.ReportMetric(r.QueuedMB, "queued_MB")
		b.ReportMetric(r.PeakMB, "peak_MB")
		b.ReportMetric(r.AtPeak.AnonMB, "peak_anon_MB")
		b.ReportMetric(r.AtPeak.FileMB, "peak_file_MB")
		b.ReportMetric(r.AppendRate, "append_events/s")
	}
}

// measureRSS runs the child that measures the resident memory.
func measureRSS(tb testing.TB) rssReport {
	tb.Helper()
	if raceEnabled {
		tb.Skip("RSS is measured without -race: the race detector multiplies memory use")
	}
	dir := tb.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), envRSS+"="+dir, envURL+"=tcp://127.0.0.1:"+strconv.Itoa(freePort(tb)))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("rss child: %v", err)
	}
	var r rssReport
	if err := json.Unmarshal(out, &r); err != nil {
		tb.Fatalf("rss child output %q: %v", out, err)
	}
	return r
}

const envRSS = "DOCKGATE_RSS_CHILD"

// rssMemoryLimit is the ceiling of the soft memory limit dockgate run sets
// (it follows the live heap, which a million queued events take to the
// ceiling; cmd/dockgate memlimit.go).
const rssMemoryLimit = 64 << 20

// rssSettle is how long the child idles after the burst before measuring.
var rssSettle = 10 * time.Second

// rssScavenge is how long the child waits after a collection.
var rssScavenge = 5 * time.Second

type rssReport struct {
	IdleMB, QueuedMB, PeakMB float64
	// The queued RSS split into anonymous memory (heap, Badger's caches and
	// arenas) and file pages of Badger's memory-mapped tables and logs
	// (page cache the kernel reclaims under pressure).
	QueuedAnonMB, QueuedFileMB float64
	IdleAnonMB                 float64
	GoHeapMB                   float64
	Queued                     uint64
	AppendRate                 float64
	// Sampled every 100 ms from the start of the appends to the
	// measurement: the sample of the highest RSS (with its file pages by
	// kind), the highest of each part, and the file pages at rest.
	AtPeak, Highest memSample
	RestFiles       map[string]float64
	// GCPercent is the garbage collector's share of the CPU time from the
	// start of the appends to the measurement.
	GCPercent float64
}

func init() {
	if dir := os.Getenv(envRSS); dir != "" {
		os.Exit(rssChild(dir, os.Getenv(envURL)))
	}
}

func rssChild(dir, url string) int {
	// The soft memory limit the gateway runs with (GOMEMLIMIT): the Go
	// runtime returns freed memory to the OS instead of keeping it.
	debug.SetMemoryLimit(rssMemoryLimit)
	s, err := store.Open(dir, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	ob, err := outbox.Open(s, outbox.Options{MaxBytes: 2 << 30})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer ob.Close()
	p, err := New(testConfig(url), ob, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Run(ctx) }()
	go func() { _ = ob.Run(ctx) }()
	time.Sleep(2 * time.Second)
	var r rssReport
	r.IdleMB, _ = procStatusMB("VmRSS")
	r.IdleAnonMB, _ = procStatusMB("RssAnon")
	const n = 1_000_000
	body := json.RawMessage(`{"epc":"urn:epc:id:sgtin:4012345.012345.1001","door":"door-3","rssi":-51,"antenna":2}`)
	sampler := startMemSampler(100*time.Millisecond, os.Getenv("DOCKGATE_RSS_PEAKPROFILE"))
	start := time.Now()
	var g errgroup.Group
	g.SetLimit(128)
	for i := 0; i < n; i++ {
		g.Go(func() error {
			_, err := ob.Append(context.Background(), outbox.Event{Type: "tag.read", Priority: outbox.PriorityLot, Body: body})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r.AppendRate = n / time.Since(start).Seconds()
	// Let Badger finish the flushes and compactions of the burst and release
	// their table-building buffers (pooled for a few idle seconds).
	time.Sleep(rssSettle)
	// The collection an idle gateway's runtime makes (at the latest every
	// two minutes), then the background scavenger's time to hand the freed
	// pages back to the kernel.
	runtime.GC()
	time.Sleep(rssScavenge)
	if hp := os.Getenv("DOCKGATE_RSS_HEAPPROFILE"); hp != "" {
		f, _ := os.Create(hp)
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
	r.AtPeak, r.Highest, r.GCPercent = sampler.Stop()
	r.RestFiles = smapsFiles()
	r.Queued = ob.Stats().Pending()
	r.QueuedMB, _ = procStatusMB("VmRSS")
	r.PeakMB, _ = procStatusMB("VmHWM")
	r.QueuedAnonMB, _ = procStatusMB("RssAnon")
	r.QueuedFileMB, _ = procStatusMB("RssFile")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.GoHeapMB = float64(ms.HeapInuse) / (1 << 20)
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
	return 0
}

func procStatusMB(field string) (float64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	var kb float64
	for _, line := range strings.Split(string(b), "\n") {
		if n, _ := fmt.Sscanf(line, field+": %f kB", &kb); n == 1 {
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("%s not in /proc/self/status", field)
}
