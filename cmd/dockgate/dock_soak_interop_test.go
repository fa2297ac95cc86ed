//go:build interop

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/printers/printersim"
)

// The whole dock for a while, measured: the gateway binary as a child
// process with four doors, each watched by its own simulated LLRP reader
// (a `dockgate sim reader` process on loopback TCP) and served by its own
// simulated label printer (printers/printersim in this process, on raw TCP),
// publishing to a Mosquitto of the test's own. A receipt of 20 cartons is
// posted every 10 s, rotating over the doors.
//
// The readers' scenario (soakScenario): every 7.5 s a pallet of 55 tags (a
// unit-load SSCC, 14 case and 40 item SGTINs, all distinct) goes in through
// the door with a dwell of 4 s, on 4 antennas (1, 2 outside, 3, 4 inside),
// inventory cycles of 10 ms, a read chance of 0.16 per antenna and cycle:
// about 51 reads per tag and second while it is in the field, 1,500 reads/s
// per reader on average (bursts of ~2,800 reads/s while a pallet passes).
// The four readers are staggered by a quarter period. Reports carry one
// read each (report_every_n 1, the default).
//
// Measured and reported (t.Logf), the machine being shared:
//   - CPU of the gateway process, % of one core, over the steady period
//     (after soakWarmUp), from /proc/PID/stat utime+stime every 5 s, and
//     its read and write system calls (/proc/PID/io syscr+syscw) per
//     second: much of its CPU is the kernel's, reading sockets, waking it
//     up and syncing; and the outbox's commits per second (GET /outbox),
//     each of them a sync;
//   - its RSS (/proc/PID/status VmRSS, RssAnon) every 5 s: min, max, last
//     and the slope after warm-up; and its parts (/proc/PID/smaps:
//     anonymous memory, the binary, Badger's memtable logs, value log and
//     tables, other files) in the sample of the highest RSS and as ranges;
//   - read-to-event latency: an independent paho subscriber's arrival time
//     of each portal.arrival event minus its body's time, which is the time
//     of the read that made the tag arrive as the gateway dates it (the
//     reader's timestamp rebased by the smallest reader→gateway transit,
//     llrp/clock.go); the simulator's wait between a read's inventory cycle
//     and its report (under one 10 ms cycle) is therefore not included.
//     Likewise last-read-to-portal.pass (which includes the door's 3 s
//     presence timeout);
//   - scan-to-first-label-byte: from just before POST /receipts to the
//     moment the first byte (the ^XA) of the receipt's first label to
//     arrive was read from the socket at the simulated printer;
//   - reads/s taken by the portal and events/s at the subscriber.
//
// Asserted: the gateway stayed up and stops cleanly on SIGTERM, every
// receipt was created and all its labels arrived, arrivals, passes and
// receipt.created events arrived, every reader stayed connected, RSS did
// not grow by more than 30 % after warm-up (the median of the last third
// of the samples against the peak of the first third: RSS swings by 10–20
// MB as Badger flushes its memtable), and, unless GOMEMLIMIT is set,
// that median stayed under soakMaxRSS. CPU is not asserted: it depends on
// the machine and on what else runs on it.
//
// The goal (issue 17: ≤ 5 % of one core, ≤ 64 MB RSS steady on a 2-core
// machine) is printed as GOAL MET or GOAL MISSED.
//
// 45 s by default; DOCKGATE_SOAK_DURATION=10m for the real soak.
// DOCKGATE_SOAK_BIN runs a dockgate binary built beforehand (gateway and
// reader simulators) instead of building this tree's, so that two builds
// can be measured in turns on the same machine.
func TestInteropDockSoak(t *testing.T) {
	duration := 45 * time.Second
	if v := os.Getenv("DOCKGATE_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 30*time.Second {
			t.Fatalf("DOCKGATE_SOAK_DURATION=%q: give a duration of at least 30s, e.g. 10m", v)
		}
		duration = d
	}
	brokerURL := startCrashMosquitto(t)
	bin := os.Getenv("DOCKGATE_SOAK_BIN")
	if bin == "" {
		bin = buildCrashGateway(t)
	}
	dir := t.TempDir()

	// The readers, started first: their scenario clocks run from here.
	var readers []*soakReader
	for i := range soakDoors {
		readers = append(readers, startSoakReader(t, bin, dir, i, duration+2*time.Minute))
	}
	var prs []*soakPrinter
	for range soakDoors {
		prs = append(prs, startSoakPrinter(t))
	}
	const prefix = "dockgate/v1/soak/gw1"
	obs := observeSoakEvents(t, brokerURL, prefix+"/events/#")

	g := startSoakGateway(t, bin, dir, brokerURL, readers, prs)
	hc := &http.Client{Timeout: 10 * time.Second}
	waitSoakReaders(t, g, hc)

	// The soak: a sample every 5 s, a receipt every 10 s.
	began := time.Now()
	steadyFrom := began.Add(soakWarmUp)
	obs.setSteadyFrom(steadyFrom)
	samples := []soakSample{g.sample(t, hc, began)}
	var receipts []*soakReceipt
	sampleTick := time.NewTicker(5 * time.Second)
	defer sampleTick.Stop()
	receiptTick := time.NewTicker(10 * time.Second)
	defer receiptTick.Stop()
	end := time.After(duration)
	receipts = append(receipts, postSoakReceipt(t, hc, g.base, len(receipts)))
soak:
	for {
		select {
		case <-g.exited:
			t.Fatalf("the gateway exited during the soak (%v)\nlast gateway log lines:\n%s", g.cmd.ProcessState, tailFile(g.logPath, 40))
		case now := <-sampleTick.C:
			samples = append(samples, g.sample(t, hc, now))
		case <-receiptTick.C:
			receipts = append(receipts, postSoakReceipt(t, hc, g.base, len(receipts)))
		case <-end:
			samples = append(samples, g.sample(t, hc, time.Now()))
			break soak
		}
	}
	soakEnd := time.Now()

	// Every receipt's labels at its printer, every receipt.created at the
	// subscriber (bounded).
	wait := time.Now().Add(30 * time.Second)
	for time.Now().Before(wait) && (!labelsArrived(receipts, prs) || obs.receiptsCreated(receipts) < len(receipts)) {
		time.Sleep(100 * time.Millisecond)
	}
	var health map[string]any
	if err := crashGetJSON(hc, g.base+"/healthz", &health); err != nil {
		t.Errorf("GET /healthz at the end: %v", err)
	}
	var rs soakReaderStats
	if err := crashGetJSON(hc, g.base+"/readers", &rs); err != nil {
		t.Errorf("GET /readers at the end: %v", err)
	}

	// A clean stop.
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-g.exited:
		if !g.cmd.ProcessState.Success() {
			t.Errorf("the gateway did not stop cleanly on SIGTERM: %v", g.cmd.ProcessState)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("the gateway did not stop within 30 s of SIGTERM")
	}
	var simReads uint64
	for _, r := range readers {
		simReads += r.stop()
	}

	// The report.
	report := soakReport(samples, steadyFrom)
	t.Logf("dock soak: %s (warm-up %s), 4 doors, 4 LLRP reader simulators (scenario: a 55-tag pallet in every 7.5 s, dwell 4 s, ~1,500 reads/s each), 4 printer simulators, Mosquitto",
		soakEnd.Sub(began).Round(time.Second), soakWarmUp)
	t.Logf("reads: %.0f reads/s taken by the portal over the steady period (%.0f per reader); %d reads sent by the simulators in all, %d taken by the portal (%d weak, %d replayed, %d overflow), %d portal events dropped",
		report.readsPerSec, report.readsPerSec/float64(len(soakDoors)), simReads, rs.Portal.Reads, rs.Portal.Weak, rs.Portal.Replayed, rs.Portal.Overflow, rs.Dropped)
	t.Logf("CPU: %.2f %% of one core over the steady period (%.2f %% during warm-up; %.1f CPU-seconds in %.0f s, %.1f per million reads); %.0f read and write system calls/s; %.1f outbox commits/s",
		report.cpuSteady, report.cpuWarm, report.cpuSeconds, report.steadySeconds, report.cpuSeconds/(report.readsPerSec*report.steadySeconds/1e6), report.syscallsPerSec, report.commitsPerSec)
	t.Logf("RSS over time (MB, every 5 s): %s", report.rssLine)
	t.Logf("of it anonymous (Go heap, Badger's memtables and caches; the rest is mapped files): %s", report.anonLine)
	t.Logf("RSS after warm-up: min %.1f MB, max %.1f MB, last %.1f MB (anonymous %.1f MB); first third's peak %.1f MB, last third's median %.1f MB; slope %+.2f MB/min",
		report.rssMin, report.rssMax, report.rssLast, report.anonLast, report.rssEarlyMax, report.rssLateMedian, report.slope)
	t.Logf("RSS at its highest after warm-up (%s in, /proc/PID/smaps, MB): %s", report.peakAt, report.peakParts)
	t.Logf("RSS's parts after warm-up (MB, lowest–highest): %s", report.partsRange)
	ev := obs.snapshot()
	t.Logf("events: %.1f events/s at the subscriber over the steady period; %s", float64(ev.steadyEvents)/soakEnd.Sub(steadyFrom).Seconds(), countsLine(ev.byType))
	t.Logf("read-to-event (portal.arrival, steady period): %s", latencyLine(ev.arrival))
	t.Logf("last-read-to-portal.pass (includes the 3 s presence timeout): %s", latencyLine(ev.pass))
	var scan, post []time.Duration
	for _, r := range receipts {
		post = append(post, r.answered)
		if fb, ok := firstLabelByte(r, prs); ok {
			scan = append(scan, fb.Sub(r.posted))
		}
	}
	t.Logf("scan-to-first-label-byte (%d receipts of 20 cartons): %s; POST /receipts answered in %s", len(receipts), latencyLine(scan), latencyLine(post))
	verdict := "GOAL MET"
	if report.cpuSteady > 5 || report.rssMax > 64 {
		verdict = "GOAL MISSED"
	}
	t.Logf("%s: CPU %.2f %% of one core (goal ≤ 5 %%), RSS max %.1f MB after warm-up (goal ≤ 64 MB; median of the last third %.1f MB)", verdict, report.cpuSteady, report.rssMax, report.rssLateMedian)

	// The checks: nothing here depends on how fast the machine is.
	for _, r := range receipts {
		if r.err != nil {
			t.Errorf("receipt %s: %v", r.id, r.err)
		}
	}
	if !labelsArrived(receipts, prs) {
		for _, r := range receipts {
			if n := labelsOf(r, prs); n < len(r.cartons) {
				t.Errorf("receipt %s at %s: %d of %d labels arrived at its printer", r.id, r.door, n, len(r.cartons))
			}
		}
	}
	if n := obs.receiptsCreated(receipts); n < len(receipts) {
		t.Errorf("receipt.created arrived for %d of %d receipts", n, len(receipts))
	}
	if ev.byType["portal.arrival"] == 0 || ev.byType["portal.pass"] == 0 {
		t.Errorf("no portal.arrival or portal.pass events arrived: %s", countsLine(ev.byType))
	}
	for _, r := range rs.Readers {
		if r.Status.Event != "connected" {
			t.Errorf("reader %s at the end: %s %s", r.ID, r.Status.Event, r.Status.Error)
		}
	}
	if report.rssEarlyMax == 0 {
		t.Errorf("no RSS samples after the warm-up")
	} else if report.rssLateMedian > 1.3*report.rssEarlyMax {
		t.Errorf("RSS grew after warm-up: the last third's median %.1f MB is more than 30 %% above the first third's peak %.1f MB", report.rssLateMedian, report.rssEarlyMax)
	}
	if os.Getenv("GOMEMLIMIT") == "" && report.rssLateMedian > soakMaxRSS {
		t.Errorf("RSS stood at %.1f MB in the last third of the soak (median), more than %d MB (its soft memory limit follows the live heap: cmd/dockgate/memlimit.go)", report.rssLateMedian, soakMaxRSS)
	}
	if t.Failed() {
		t.Logf("last gateway log lines:\n%s", tailFile(g.logPath, 40))
	}
}

// soakWarmUp is left out of the steady figures: connections, the portal's
// first passes, and memory: CPU is steady after ~15 s, but RSS rises until
// Badger's memtables and caches have filled, ~25 s in.
const soakWarmUp = 25 * time.Second

// soakMaxRSS (MB) bounds the median of the gateway's RSS in the last
// third of the soak: 1.5 times the goal, well above what it takes (54–56
// MB in 3- and 10-minute soaks on a 2-core machine, with peaks under 60 MB;
// 48–70 MB with peaks to ~95 MB on a loaded one, with Badger's memtables
// and value-log files larger than now) and below what it took before its
// soft memory limit followed its live heap (100–121 MB).
const soakMaxRSS = 96

// soakDoors are the dock's doors; door i has reader R{i}, printer P{i}.
var soakDoors = []string{"DOOR1", "DOOR2", "DOOR3", "DOOR4"}

// The readers' scenario: a pallet of soakTags tags every soakPeriod, dwell
// soakDwell. Per tag and second in the field: 4 antennas × 0.8 of the dwell
// in range × 0.16 × 100 cycles ≈ 51 reads, so 55 × 51.2 × 4/7.5 ≈ 1,500
// reads/s per reader on average.
const (
	soakPeriod   = 7500 * time.Millisecond
	soakDwell    = 4 * time.Second
	soakCases    = 14
	soakItems    = 40
	soakCycle    = 10 * time.Millisecond
	soakReadRate = 0.16
)

// soakScenario writes reader i's scenario: distinct EPCs in every pallet,
// pallets staggered by a quarter period between readers, enough of them to
// last `last` (then it loops).
func soakScenario(t *testing.T, path string, i int, last time.Duration) {
	t.Helper()
	const cp = "9520123" // the goods' company prefix (GTIN 09520123456788)
	caseGTIN := gtinWithCheck("1952012345678")
	itemGTIN := "09520123456788"
	n := int(last/soakPeriod) + 1
	var b strings.Builder
	fmt.Fprintf(&b, "name: soak-R%d\nseed: %d\nloop: true\nduration: %s\ncycle: %s\nantennas: 4\n", i+1, i+1, time.Duration(n)*soakPeriod, soakCycle)
	b.WriteString("doors:\n  - id: dock\n    outside: [1, 2]\n    inside: [3, 4]\ncartons:\n")
	for k := range n {
		at := time.Second + time.Duration(i)*soakPeriod/4 + time.Duration(k)*soakPeriod
		fmt.Fprintf(&b, "  - name: pallet-%d\n    door: dock\n    direction: in\n    at: %s\n    dwell: %s\n    read_rate: %v\n    epcs:\n", k, at, soakDwell, soakReadRate)
		ref := fmt.Sprintf("3%s%09d", cp, i*1_000_000+k)
		sscc, err := epc.NewSSCC96(6, len(cp), gtinWithCheck(ref))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "      - %s\n", sscc.Hex())
		for j := range soakCases + soakItems {
			filter, gtin := 2, caseGTIN
			if j >= soakCases {
				filter, gtin = 1, itemGTIN
			}
			e, err := epc.NewSGTIN96(filter, len(cp), gtin, uint64(i)*10_000_000+uint64(k)*100+uint64(j))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "      - %s\n", e.Hex())
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// gtinWithCheck appends the GS1 check digit.
func gtinWithCheck(digits string) string {
	c, err := gs1.CheckDigit(digits)
	if err != nil {
		panic(err)
	}
	return digits + string(c)
}

// soakReader is one `dockgate sim reader` process.
type soakReader struct {
	addr   string
	cmd    *exec.Cmd
	stderr bytes.Buffer
	exited chan struct{}
}

func startSoakReader(t *testing.T, bin, dir string, i int, last time.Duration) *soakReader {
	t.Helper()
	sc := filepath.Join(dir, fmt.Sprintf("reader-%d.yaml", i+1))
	soakScenario(t, sc, i, last)
	r := &soakReader{exited: make(chan struct{})}
	r.cmd = exec.Command(bin, "sim", "reader", "--listen", "127.0.0.1:0", "--scenario", sc)
	r.cmd.Stderr = &r.stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.exited })
	// It prints {"listen": …} once it listens.
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		for sc.Scan() {
		}
	}()
	select {
	case l := <-line:
		var v struct {
			Listen string `json:"listen"`
		}
		if err := json.Unmarshal([]byte(l), &v); err != nil || v.Listen == "" {
			t.Fatalf("reader simulator %d: %q (%v)\n%s", i+1, l, err, r.stderr.String())
		}
		r.addr = v.Listen
	case <-time.After(20 * time.Second):
		t.Fatalf("reader simulator %d did not start within 20 s", i+1)
	}
	return r
}

// stop interrupts the simulator and returns the reads it sent, from its
// last line ("served N connections (M refused), R reports with N reads").
func (r *soakReader) stop() uint64 {
	r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	m := regexp.MustCompile(`reports with (\d+) reads`).FindStringSubmatch(r.stderr.String())
	if m == nil {
		return 0
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	return n
}

// soakPrinter is a printer simulator that knows when the first byte of
// each label arrived: its listener's connections note the time of every
// read that brings a "^XA", and each format the simulator parses takes the
// oldest time noted (the formats come in order on one connection).
type soakPrinter struct {
	addr string
	sim  *printersim.Sim

	mu        sync.Mutex
	starts    []time.Time          // ^XA arrivals not yet matched to a format
	firstByte map[string]time.Time // SSCC → first byte of its label
	formats   int
}

var ssccInLabel = regexp.MustCompile(`\(00\)(\d{18})`)

func startSoakPrinter(t *testing.T) *soakPrinter {
	t.Helper()
	p := &soakPrinter{firstByte: map[string]time.Time{}}
	p.sim = printersim.New(printersim.Options{Profile: "zebra-zt411r-203", OnFormat: p.onFormat})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.sim.Serve(ctx, stampListener{ln, p}); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func (p *soakPrinter) onFormat(f printersim.Format) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.formats++
	var at time.Time
	if len(p.starts) > 0 {
		at, p.starts = p.starts[0], p.starts[1:]
	}
	if m := ssccInLabel.FindSubmatch(f.ZPL); m != nil && !at.IsZero() {
		if _, seen := p.firstByte[string(m[1])]; !seen { // a reprint keeps the first
			p.firstByte[string(m[1])] = at
		}
	}
}

type stampListener struct {
	net.Listener
	p *soakPrinter
}

func (l stampListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	// The simulator parses each connection afresh: a format cut off with
	// the last one will never be matched.
	l.p.mu.Lock()
	l.p.starts = nil
	l.p.mu.Unlock()
	return &stampConn{Conn: c, p: l.p}, nil
}

type stampConn struct {
	net.Conn
	p      *soakPrinter
	tail   []byte // the last two bytes read: a "^XA" split over two reads
	tailAt time.Time
}

var tokXA = []byte("^xa")

func (c *stampConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		now := time.Now()
		buf := append(slices.Clone(c.tail), b[:n]...)
		low := bytes.ToLower(buf)
		var found []time.Time
		for i := 0; ; {
			j := bytes.Index(low[i:], tokXA)
			if j < 0 {
				break
			}
			at := now
			if i+j < len(c.tail) {
				at = c.tailAt
			}
			if i+j+len(tokXA) > len(c.tail) { // not all in the tail: not seen before
				found = append(found, at)
			}
			i += j + 1
		}
		if len(found) > 0 {
			c.p.mu.Lock()
			c.p.starts = append(c.p.starts, found...)
			c.p.mu.Unlock()
		}
		c.tail = append(c.tail[:0], buf[max(0, len(buf)-2):]...)
		c.tailAt = now
	}
	return n, err
}

// soakGateway is the gateway child process.
type soakGateway struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	exited  chan struct{}
}

// startSoakGateway writes the dock's configuration and starts the gateway
// (the HTTP API on a free port, tried again on another when it was taken in
// between), waiting for /healthz to answer 200.
func startSoakGateway(t *testing.T, bin, dir, brokerURL string, readers []*soakReader, prs []*soakPrinter) *soakGateway {
	t.Helper()
	dataDir := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logFile.Close() })
	for attempt := 1; ; attempt++ {
		httpAddr := freePort(t)
		var b strings.Builder
		fmt.Fprintf(&b, "site: soak\ngateway: gw1\ndata_dir: %s\nmqtt:\n  url: %s\nhttp:\n  listen: %s\nreaders:\n", dataDir, brokerURL, httpAddr)
		for i, r := range readers {
			fmt.Fprintf(&b, "  - id: R%d\n    type: llrp\n    address: %s\n", i+1, r.addr)
		}
		b.WriteString("printers:\n")
		for i, p := range prs {
			fmt.Fprintf(&b, "  - id: P%d\n    profile: zebra-zt411r-203\n    address: %s\n    door: %s\n", i+1, p.addr, soakDoors[i])
		}
		b.WriteString("doors:\n")
		for i, d := range soakDoors {
			fmt.Fprintf(&b, "  - id: %s\n    role: receiving\n    printer: P%d\n    reader: R%d\n    antennas_outside: [1, 2]\n    antennas_inside: [3, 4]\n    location: \"%d\"\n", d, i+1, i+1, i+1)
		}
		cfg := filepath.Join(dir, "dockgate.yaml")
		if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(logFile, "=== start %d\n", attempt)
		g := &soakGateway{base: "http://" + httpAddr, logPath: logPath, exited: make(chan struct{})}
		g.cmd = exec.Command(bin, "run", "-c", cfg, "--log-format", "json")
		g.cmd.Stdout, g.cmd.Stderr = logFile, logFile
		if err := g.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { g.cmd.Wait(); close(g.exited) }()
		t.Cleanup(func() { g.cmd.Process.Kill(); <-g.exited })
		err := g.waitHealthy()
		if err == nil {
			return g
		}
		g.cmd.Process.Kill()
		<-g.exited
		if !strings.Contains(err.Error(), "address already in use") || attempt == 3 {
			t.Fatalf("gateway: %v\nlast gateway log lines:\n%s", err, tailFile(logPath, 30))
		}
	}
}

func (g *soakGateway) waitHealthy() error {
	hc := &http.Client{Timeout: time.Second}
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		select {
		case <-g.exited:
			return fmt.Errorf("the gateway exited (%v): %s", g.cmd.ProcessState, lastLine(tailFile(g.logPath, 1)))
		default:
		}
		if resp, err := hc.Get(g.base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("/healthz not 200 within 30 s")
}

// soakReaderStats is what GET /readers answers.
type soakReaderStats struct {
	Readers []struct {
		ID     string `json:"id"`
		Status struct {
			Event string `json:"event"`
			Error string `json:"error"`
		} `json:"status"`
	} `json:"readers"`
	Portal struct {
		Reads, Weak, Replayed, Overflow, Arrivals, Passes uint64
	} `json:"portal"`
	Dropped int64 `json:"portal_events_dropped"`
}

// waitSoakReaders waits until every reader is connected and the portal
// takes reads.
func waitSoakReaders(t *testing.T, g *soakGateway, hc *http.Client) {
	t.Helper()
	end := time.Now().Add(30 * time.Second)
	var rs soakReaderStats
	for time.Now().Before(end) {
		rs = soakReaderStats{}
		if err := crashGetJSON(hc, g.base+"/readers", &rs); err == nil {
			connected := 0
			for _, r := range rs.Readers {
				if r.Status.Event == "connected" {
					connected++
				}
			}
			if connected == len(soakDoors) && rs.Portal.Reads > 0 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the readers did not connect and deliver reads within 30 s: %+v\nlast gateway log lines:\n%s", rs, tailFile(g.logPath, 30))
}

// soakSample is the gateway process at one time.
type soakSample struct {
	at       time.Time
	cpuTicks uint64 // utime + stime, in clock ticks
	syscalls uint64 // syscr + syscw
	rssKB    uint64
	anonKB   uint64
	parts    rssParts
	reads    uint64 // taken by the portal
	commits  uint64 // the outbox's commits (GET /outbox)
}

// rssParts is a resident set split by what is mapped (/proc/PID/smaps),
// in kB.
type rssParts struct {
	anon   uint64 // anonymous memory: the Go heap and runtime
	binary uint64 // the gateway's executable
	memLog uint64 // Badger's memtable logs (*.mem)
	vlog   uint64 // its value log (*.vlog)
	tables uint64 // its tables (*.sst)
	other  uint64 // shared libraries and other files
}

// readRSSParts reads the resident set of process pid by mapping.
func readRSSParts(pid int) (rssParts, error) {
	var p rssParts
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return p, err
	}
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		return p, err
	}
	var part *uint64
	for _, l := range strings.Split(string(smaps), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && len(f[1]) == 4:
			// A mapping: address range, permissions, offset, device,
			// inode and, for a file, its path.
			path := strings.TrimSuffix(strings.Join(f[5:], " "), " (deleted)")
			switch {
			case path == "" || strings.HasPrefix(path, "["):
				part = &p.anon
			case path == exe:
				part = &p.binary
			case strings.HasSuffix(path, ".mem"):
				part = &p.memLog
			case strings.HasSuffix(path, ".vlog"):
				part = &p.vlog
			case strings.HasSuffix(path, ".sst"):
				part = &p.tables
			default:
				part = &p.other
			}
		case len(f) == 3 && f[0] == "Rss:" && part != nil:
			n, _ := strconv.ParseUint(f[1], 10, 64)
			*part += n
		}
	}
	return p, nil
}

// rssPartNames name the parts in the order of rssParts.list.
var rssPartNames = []string{"anonymous (the Go heap and runtime)", "binary", "Badger's memtable logs", "value log", "tables", "other files"}

func (p rssParts) list() []uint64 {
	return []uint64{p.anon, p.binary, p.memLog, p.vlog, p.tables, p.other}
}

// partsLine writes the parts of the samples' resident sets in MB: one
// value each for one sample, a range for more.
func partsLine(samples []soakSample) string {
	var b strings.Builder
	for i, name := range rssPartNames {
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for _, s := range samples {
			v := s.parts.list()[i]
			lo, hi = min(lo, v), max(hi, v)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if lo == hi {
			fmt.Fprintf(&b, "%s %.1f", name, float64(lo)/1024)
		} else {
			fmt.Fprintf(&b, "%s %.1f–%.1f", name, float64(lo)/1024, float64(hi)/1024)
		}
	}
	return b.String()
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// architecture Linux runs dockgate on.
const clockTicks = 100

func (g *soakGateway) sample(t *testing.T, hc *http.Client, at time.Time) soakSample {
	t.Helper()
	pid := g.cmd.Process.Pid
	s := soakSample{at: at}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("the gateway process: %v", err)
	}
	// Fields after the command name in parentheses: state is field 3,
	// utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	s.cpuTicks = ut + st
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, l := range strings.Split(string(io), "\n") {
			if k, v, ok := strings.Cut(l, ": "); ok && (k == "syscr" || k == "syscw") {
				n, _ := strconv.ParseUint(v, 10, 64)
				s.syscalls += n
			}
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("the gateway process: %v", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			s.rssKB = n
		case "RssAnon":
			s.anonKB = n
		}
	}
	if s.parts, err = readRSSParts(pid); err != nil {
		t.Fatalf("the gateway process: %v", err)
	}
	var rs soakReaderStats
	if err := crashGetJSON(hc, g.base+"/readers", &rs); err == nil {
		s.reads = rs.Portal.Reads
	}
	var ob struct {
		Commits uint64 `json:"commits"`
	}
	if err := crashGetJSON(hc, g.base+"/outbox", &ob); err == nil {
		s.commits = ob.Commits
	}
	return s
}

// soakFigures are the samples summed up.
type soakFigures struct {
	cpuSteady, cpuWarm, cpuSeconds, steadySeconds float64
	readsPerSec, syscallsPerSec, commitsPerSec    float64
	rssMin, rssMax, rssLast, anonLast             float64 // MB, after warm-up
	rssEarlyMax, rssLateMedian                    float64 // MB: the first third's peak, the last third's median
	slope                                         float64 // MB/min, after warm-up
	rssLine, anonLine                             string
	peakParts, partsRange                         string // the parts of the highest RSS after warm-up, their ranges
	peakAt                                        time.Duration
}

func soakReport(samples []soakSample, steadyFrom time.Time) soakFigures {
	var f soakFigures
	mb := func(kb uint64) float64 { return float64(kb) / 1024 }
	var line, anon []string
	for _, s := range samples {
		line = append(line, fmt.Sprintf("%.0f", mb(s.rssKB)))
		anon = append(anon, fmt.Sprintf("%.0f", mb(s.anonKB)))
	}
	f.rssLine, f.anonLine = strings.Join(line, " "), strings.Join(anon, " ")
	// The first sample at or after the warm-up starts the steady period.
	w := slices.IndexFunc(samples, func(s soakSample) bool { return !s.at.Before(steadyFrom.Add(-time.Second)) })
	if w < 0 || w == len(samples)-1 {
		return f
	}
	first, warm, last := samples[0], samples[w], samples[len(samples)-1]
	pct := func(a, b soakSample) float64 {
		return 100 * float64(b.cpuTicks-a.cpuTicks) / clockTicks / b.at.Sub(a.at).Seconds()
	}
	f.cpuWarm = pct(first, warm)
	f.cpuSteady = pct(warm, last)
	f.cpuSeconds = float64(last.cpuTicks-warm.cpuTicks) / clockTicks
	f.steadySeconds = last.at.Sub(warm.at).Seconds()
	f.readsPerSec = float64(last.reads-warm.reads) / f.steadySeconds
	f.syscallsPerSec = float64(last.syscalls-warm.syscalls) / f.steadySeconds
	f.commitsPerSec = float64(last.commits-warm.commits) / f.steadySeconds
	steady := samples[w:]
	f.rssMin, f.rssMax = math.Inf(1), 0
	var sx, sy, sxx, sxy float64
	for _, s := range steady {
		v := mb(s.rssKB)
		if v > f.rssMax {
			f.peakParts, f.peakAt = partsLine([]soakSample{s}), s.at.Sub(first.at).Round(time.Second)
		}
		f.rssMin, f.rssMax = min(f.rssMin, v), max(f.rssMax, v)
		x := s.at.Sub(warm.at).Minutes()
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	n := float64(len(steady))
	if d := n*sxx - sx*sx; d > 0 {
		f.slope = (n*sxy - sx*sy) / d
	}
	f.partsRange = partsLine(steady)
	f.rssLast, f.anonLast = mb(last.rssKB), mb(last.anonKB)
	// The Go heap and Badger's memtables make RSS swing by 10–20 MB
	// between collections: growth is the level of the last third above
	// the peak of the first.
	third := min(max(2, len(steady)/3), len(steady))
	var late []float64
	for i, s := range steady {
		if i < third {
			f.rssEarlyMax = max(f.rssEarlyMax, mb(s.rssKB))
		}
		if i >= len(steady)-third {
			late = append(late, mb(s.rssKB))
		}
	}
	slices.Sort(late)
	f.rssLateMedian = late[(len(late)-1)/2]
	return f
}

// soakReceipt is one receipt posted.
type soakReceipt struct {
	id, door string
	posted   time.Time
	answered time.Duration
	cartons  []string // SSCCs
	err      error
}

func postSoakReceipt(t *testing.T, hc *http.Client, base string, n int) *soakReceipt {
	t.Helper()
	r := &soakReceipt{id: fmt.Sprintf("soak-%04d", n+1), door: soakDoors[n%len(soakDoors)]}
	body, _ := json.Marshal(map[string]any{"id": r.id, "door": r.door, "gtin": "09520123456788",
		"supplier": "Acme", "po": fmt.Sprintf("PO-%d", n+1), "cartons": 20, "qty_per_carton": 12, "unit": "EA"})
	var answer struct {
		Cartons []string `json:"cartons"`
	}
	r.posted = time.Now()
	status, err := crashPost(context.Background(), hc, base+"/receipts", body, &answer)
	r.answered = time.Since(r.posted)
	switch {
	case err != nil:
		r.err = err
	case status != http.StatusCreated:
		r.err = fmt.Errorf("POST /receipts: %d", status)
	case len(answer.Cartons) != 20:
		r.err = fmt.Errorf("POST /receipts: %d cartons, want 20", len(answer.Cartons))
	}
	r.cartons = answer.Cartons
	return r
}

func (r *soakReceipt) printer(prs []*soakPrinter) *soakPrinter {
	return prs[slices.Index(soakDoors, r.door)]
}

// labelsOf counts the receipt's labels that arrived at its door's printer.
func labelsOf(r *soakReceipt, prs []*soakPrinter) int {
	p := r.printer(prs)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, s := range r.cartons {
		if _, ok := p.firstByte[s]; ok {
			n++
		}
	}
	return n
}

func labelsArrived(rs []*soakReceipt, prs []*soakPrinter) bool {
	for _, r := range rs {
		if r.err == nil && labelsOf(r, prs) < len(r.cartons) {
			return false
		}
	}
	return true
}

// firstLabelByte is when the first byte of the receipt's first label to
// arrive reached its printer.
func firstLabelByte(r *soakReceipt, prs []*soakPrinter) (time.Time, bool) {
	p := r.printer(prs)
	p.mu.Lock()
	defer p.mu.Unlock()
	var first time.Time
	for _, s := range r.cartons {
		if at, ok := p.firstByte[s]; ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	return first, !first.IsZero()
}

// soakObserver is the independent subscriber: it notes when each event
// arrived against the time it carries.
type soakObserver struct {
	mu           sync.Mutex
	steadyFrom   time.Time
	byType       map[string]int
	steadyEvents int
	arrival      []time.Duration // portal.arrival: arrival − the read's time
	pass         []time.Duration // portal.pass: arrival − the last read's time
	created      map[string]bool // receipt ids with receipt.created
}

type soakEvents struct {
	byType        map[string]int
	steadyEvents  int
	arrival, pass []time.Duration
}

func observeSoakEvents(t *testing.T, brokerURL, filter string) *soakObserver {
	t.Helper()
	o := &soakObserver{byType: map[string]int{}, created: map[string]bool{}}
	handle := func(_ paho.Client, m paho.Message) {
		now := time.Now()
		var ev struct {
			Type string `json:"type"`
			Body struct {
				ID   string    `json:"id"`   // receipt.created
				Time time.Time `json:"time"` // portal.arrival
				End  time.Time `json:"end"`  // portal.pass
			} `json:"body"`
		}
		if err := json.Unmarshal(m.Payload(), &ev); err != nil || ev.Type == "" {
			t.Errorf("subscriber: %s: not an event: %.200s", m.Topic(), m.Payload())
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.byType[ev.Type]++
		steady := !o.steadyFrom.IsZero() && now.After(o.steadyFrom)
		if steady {
			o.steadyEvents++
		}
		switch ev.Type {
		case "receipt.created":
			o.created[ev.Body.ID] = true
		case "portal.arrival":
			if steady && !ev.Body.Time.IsZero() {
				o.arrival = append(o.arrival, now.Sub(ev.Body.Time))
			}
		case "portal.pass":
			if steady && !ev.Body.End.IsZero() {
				o.pass = append(o.pass, now.Sub(ev.Body.End))
			}
		}
	}
	opts := paho.NewClientOptions().AddBroker(brokerURL).SetClientID("dockgate-soak-observer").
		SetCleanSession(true).SetAutoReconnect(true).SetConnectTimeout(5 * time.Second).SetDefaultPublishHandler(handle)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	if tok := c.Subscribe(filter, 1, handle); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber: subscribe %s: %v", filter, tok.Error())
	}
	return o
}

func (o *soakObserver) setSteadyFrom(at time.Time) {
	o.mu.Lock()
	o.steadyFrom = at
	o.mu.Unlock()
}

func (o *soakObserver) receiptsCreated(rs []*soakReceipt) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range rs {
		if o.created[r.id] {
			n++
		}
	}
	return n
}

func (o *soakObserver) snapshot() soakEvents {
	o.mu.Lock()
	defer o.mu.Unlock()
	byType := make(map[string]int, len(o.byType))
	for k, v := range o.byType {
		byType[k] = v
	}
	return soakEvents{byType: byType, steadyEvents: o.steadyEvents, arrival: slices.Clone(o.arrival), pass: slices.Clone(o.pass)}
}

// latencyLine is "p50 …, p99 …, max … (n …)".
func latencyLine(d []time.Duration) string {
	if len(d) == 0 {
		return "no samples"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	q := func(p float64) time.Duration {
		return s[max(0, int(math.Ceil(p*float64(len(s))))-1)].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s (n %d)", q(0.50), q(0.99), s[len(s)-1].Round(100*time.Microsecond), len(s))
}
