//go:build interop

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// The gateway is killed (SIGKILL) at random points while lots are issued,
// registered, held, released and recalled and receipts are taken, against a
// real Mosquitto with an independent subscriber. Afterwards every
// acknowledged change has its event at the subscriber (duplicates allowed,
// deduplicated by eventID), and every change the store holds has one too:
// a change whose event is absent was neither acknowledged nor recorded.
//
// 100 kills (10 with -short; DOCKGATE_CRASH_KILLS overrides both).
func TestInteropCrashEvents(t *testing.T) {
	kills := 100
	if testing.Short() {
		kills = 10
	}
	if v := os.Getenv("DOCKGATE_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("DOCKGATE_CRASH_KILLS=%q: give a number of kills, at least 1", v)
		}
		kills = n
	}
	brokerURL := startCrashMosquitto(t)
	bin := buildCrashGateway(t)

	// Every wait below is bounded; together they fit the budget.
	budget := 90*time.Second + time.Duration(kills)*900*time.Millisecond
	deadline := time.Now().Add(budget)

	const prefix = "dockgate/v1/crash/gw1"
	obs := observeCrashEvents(t, brokerURL, prefix+"/events/#")

	logPath := filepath.Join(t.TempDir(), "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	h := &crashHarness{t: t, bin: bin, broker: brokerURL, dataDir: t.TempDir(), cfgDir: t.TempDir(), log: logFile, logPath: logPath}

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d kills, budget %s", seed, kills, budget)
	rng := rand.New(rand.NewPCG(seed, 0))
	led := newCrashLedger()
	var starts []time.Duration
	began := time.Now()
	done := 0
	for run := 1; run <= kills; run++ {
		if time.Until(deadline) < 40*time.Second { // the final check's share
			t.Errorf("only %d of %d kills within the time budget (gateway starts: %s)", done, kills, startStats(starts))
			break
		}
		g := h.start(run)
		starts = append(starts, g.startup)
		ctx, cancel := context.WithCancel(context.Background())
		tr := &http.Transport{MaxIdleConnsPerHost: 8}
		hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		var wg sync.WaitGroup
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				led.client(ctx, hc, g.base, run, rand.New(rand.NewPCG(seed, uint64(run*16+c+1))))
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(351)) * time.Millisecond)
		// Killed while the clients' requests are in flight; the clients
		// stop at once rather than knock at a closed port until it is gone.
		h.kill(g, cancel)
		if !waitGroupWithin(&wg, 10*time.Second) {
			t.Fatalf("run %d: the clients did not stop within 10 s of the kill", run)
		}
		tr.CloseIdleConnections()
		done++
	}
	killPhase := time.Since(began)

	// The last start: it publishes what the kills left queued (or staged).
	g := h.start(kills + 1)
	client := &http.Client{Timeout: 30 * time.Second}
	if err := h.drain(client, g.base, deadline); err != nil {
		h.fatalWithStacks(g, err)
	}
	if !obs.quiet(time.Second, 10*time.Second) {
		t.Errorf("the subscriber was still receiving events 10 s after the outbox drained")
	}
	store, err := crashStoreOf(client, g.base, led)
	if err != nil {
		h.fatalWithStacks(g, err)
	}
	events, deliveries := obs.snapshot()
	problems := checkCrashEvents(led, store, events)

	// The report.
	led.mu.Lock()
	t.Logf("%d kills in %s (gateway start %s); final drain and check %s",
		done, killPhase.Round(time.Millisecond), startStats(starts), time.Since(began.Add(killPhase)).Round(time.Millisecond))
	t.Logf("requests: %d sent, %d acknowledged (%d issues, %d registrations, %d holds, %d releases, %d recalls, %d receipts; %d of them retries with the same id), %d refused, %d without an answer",
		led.sent, led.acked, len(led.issued), len(led.registered), led.changeCount("hold"), led.changeCount("release"), led.changeCount("recall"),
		len(led.receipts), led.retriesAcked, led.refused, led.unanswered)
	acked := led.acked
	led.mu.Unlock()
	byType := map[string]int{}
	for _, ev := range events {
		byType[ev.Type]++
	}
	t.Logf("events: %d delivered, %d distinct eventIDs, %d duplicates; %s", deliveries, len(events), deliveries-len(events), countsLine(byType))
	t.Logf("store: %d lots with %d history entries, %d receipts", len(store.lots), store.entries, len(store.receipts))
	if acked == 0 || len(events) == 0 {
		t.Error("no request was acknowledged or no event received: the test checked nothing")
	}
	for _, p := range problems {
		t.Error(p)
	}
	if t.Failed() {
		t.Logf("last gateway log lines:\n%s", tailFile(logPath, 30))
	}
}

// startCrashMosquitto runs a Mosquitto of the test's own on a free loopback
// port, for the whole test; its queue for the subscriber's session is large
// enough for every event.
func startCrashMosquitto(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Fatalf("mosquitto not installed (apt-get install -y mosquitto): %v", err)
	}
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n", port)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("mosquitto", "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for range 200 {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return "tcp://" + addr
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("mosquitto did not listen on %s: %s", addr, out.String())
	return ""
}

// buildCrashGateway builds the gateway binary into the test's temp dir.
func buildCrashGateway(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dockgate")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashEvent is one event as the subscriber received it.
type crashEvent struct {
	ID   string          `json:"eventID"`
	Type string          `json:"type"`
	Body json.RawMessage `json:"body"`
}

// crashObserver is the independent subscriber: a persistent session (clean
// session false, fixed client id) at QoS 1, subscribed before the gateway
// first starts, so that nothing published while it is away is lost.
type crashObserver struct {
	mu         sync.Mutex
	byID       map[string]crashEvent
	deliveries int
	last       time.Time // of the last delivery
}

func observeCrashEvents(t *testing.T, brokerURL, filter string) *crashObserver {
	t.Helper()
	o := &crashObserver{byID: map[string]crashEvent{}}
	handle := func(_ paho.Client, m paho.Message) {
		var ev crashEvent
		if err := json.Unmarshal(m.Payload(), &ev); err != nil || ev.ID == "" || ev.Type == "" {
			t.Errorf("subscriber: %s: not an event: %.200s", m.Topic(), m.Payload())
			return
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		o.deliveries++
		o.last = time.Now()
		if _, dup := o.byID[ev.ID]; !dup {
			o.byID[ev.ID] = ev
		}
	}
	opts := paho.NewClientOptions().AddBroker(brokerURL).SetClientID("dockgate-crash-observer").
		SetCleanSession(false).SetAutoReconnect(true).SetResumeSubs(true).
		SetConnectTimeout(5 * time.Second).SetDefaultPublishHandler(handle)
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

// quiet waits until nothing arrived for d, at most limit.
func (o *crashObserver) quiet(d, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		o.mu.Lock()
		since := time.Since(o.last)
		o.mu.Unlock()
		if since >= d {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func (o *crashObserver) snapshot() (map[string]crashEvent, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.byID), o.deliveries
}

// crashHarness starts the gateway binary on one data dir, again and again.
type crashHarness struct {
	t       *testing.T
	bin     string
	broker  string
	dataDir string
	cfgDir  string
	log     *os.File // every run's output, in turn
	logPath string
}

// crashGateway is one started gateway process.
type crashGateway struct {
	cmd     *exec.Cmd
	base    string        // http://127.0.0.1:port
	exited  chan struct{} // closed once the process is reaped
	startup time.Duration // exec to a healthy /healthz
}

// start starts the gateway (the HTTP API on a free loopback port, tried
// again on another when the port was taken in between) and waits for
// /healthz to answer 200.
func (h *crashHarness) start(run int) *crashGateway {
	t := h.t
	t.Helper()
	for attempt := 1; ; attempt++ {
		g, err := h.tryStart(run)
		if err == nil {
			return g
		}
		if !strings.Contains(err.Error(), "address already in use") || attempt == 3 {
			t.Fatalf("start %d: %v\nlast gateway log lines:\n%s", run, err, tailFile(h.logPath, 30))
		}
	}
}

func (h *crashHarness) tryStart(run int) (*crashGateway, error) {
	t := h.t
	httpAddr := freePort(t)
	cfg := filepath.Join(h.cfgDir, "dockgate.yaml")
	// No printers, readers or scanners: nothing but the requests makes
	// events. Unpaced publishing, so the backlog drains fast.
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`site: crash
gateway: gw1
data_dir: %s
mqtt:
  url: %s
  rate: -1
http:
  listen: %s
doors:
  - id: DOOR1
    role: receiving
`, h.dataDir, h.broker, httpAddr)), 0o600); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(h.log, "=== start %d\n", run)
	g := &crashGateway{base: "http://" + httpAddr, exited: make(chan struct{})}
	g.cmd = exec.Command(h.bin, "run", "-c", cfg, "--log-format", "json")
	g.cmd.Stdout, g.cmd.Stderr = h.log, h.log
	began := time.Now()
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.cmd.Wait(); close(g.exited) }()
	t.Cleanup(func() { g.cmd.Process.Kill(); <-g.exited })

	hc := &http.Client{Timeout: time.Second}
	end := began.Add(20 * time.Second)
	var last string
	for time.Now().Before(end) {
		select {
		case <-g.exited:
			return nil, fmt.Errorf("the gateway exited (%v): %s", g.cmd.ProcessState, lastLine(tailFile(h.logPath, 1)))
		default:
		}
		resp, err := hc.Get(g.base + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				g.startup = time.Since(began)
				return g, nil
			}
			last = fmt.Sprintf("%s: %.500s", resp.Status, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	g.cmd.Process.Kill()
	<-g.exited
	return nil, fmt.Errorf("/healthz not 200 within 20 s (last answer: %s)", last)
}

// kill sends SIGKILL, then calls stopped (which stops the clients), and
// waits (bounded) for the process to be gone.
func (h *crashHarness) kill(g *crashGateway, stopped func()) {
	err := g.cmd.Process.Signal(syscall.SIGKILL)
	stopped()
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		h.t.Fatal(err)
	}
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
		h.t.Fatal("the gateway did not exit within 10 s of SIGKILL")
	}
}

// fatalWithStacks ends the test on a gateway that stopped answering or
// publishing: SIGQUIT makes it write its goroutines to the log, shown with
// the error.
func (h *crashHarness) fatalWithStacks(g *crashGateway, err error) {
	h.t.Helper()
	g.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-g.exited:
	case <-time.After(10 * time.Second):
	}
	h.t.Fatalf("%v\nlast gateway log lines (goroutines after SIGQUIT):\n%s", err, tailFile(h.logPath, 300))
}

// drain waits until the outbox holds nothing (queued, staged or in flight)
// for a second and a half: events staged by a change before the last kill
// are moved into the queue at start, and receipts left unfinished are
// finished by the gateway after it starts.
func (h *crashHarness) drain(hc *http.Client, base string, deadline time.Time) error {
	end := time.Now().Add(60 * time.Second)
	if end.After(deadline) {
		end = deadline
	}
	var emptySince time.Time
	var last map[string]any
	for time.Now().Before(end) {
		var stats map[string]any
		if err := crashGetJSON(hc, base+"/outbox", &stats); err != nil {
			return fmt.Errorf("GET /outbox: %w", err)
		}
		last = stats
		if outboxHolds(stats) == 0 {
			if emptySince.IsZero() {
				emptySince = time.Now()
			}
			if time.Since(emptySince) >= 1500*time.Millisecond {
				return nil
			}
		} else {
			emptySince = time.Time{}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := json.Marshal(last)
	return fmt.Errorf("the outbox did not drain in time: %s", b)
}

// outboxHolds counts the events of GET /outbox's stats not yet published:
// queued in every priority, handed to the publisher, and staged (when the
// outbox reports staged events).
func outboxHolds(stats map[string]any) float64 {
	n := 0.0
	if q, ok := stats["queued"].(map[string]any); ok { // by priority name
		for _, c := range q {
			n += num(c)
		}
	}
	return n + num(stats["in_flight"]) + num(stats["staged"])
}

func num(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case map[string]any: // a count with events and bytes
		return num(v["events"])
	}
	return 0
}

// lotAction is a lot and a change of its status.
type lotAction struct{ code, action string }

// crashOp is an issue, registration or receipt request, kept to be retried
// with the same id (or code) when it got no answer.
type crashOp struct {
	kind string // issue, register, receipt
	key  string // request id; a registration's code
	body []byte
}

// crashLedger records what the clients asked and what was acknowledged
// (answered 2xx), over all runs.
type crashLedger struct {
	mu         sync.Mutex
	seq        int
	issued     map[string]string // issue request id → lot code
	registered map[string]bool   // codes
	changes    map[lotAction]int // acknowledged holds, releases, recalls
	receipts   map[string]string // receipt id → lot code
	tried      map[string]bool   // every receipt id sent
	pool       []string          // acknowledged lot codes, for status changes
	status     map[string]string // last status answered ("" unknown)
	retry      []crashOp
	onRetry    map[string]bool // keys acknowledged on a retry

	sent, acked, refused, unanswered, retriesAcked int
}

func newCrashLedger() *crashLedger {
	return &crashLedger{issued: map[string]string{}, registered: map[string]bool{}, changes: map[lotAction]int{},
		receipts: map[string]string{}, tried: map[string]bool{}, status: map[string]string{}, onRetry: map[string]bool{}}
}

func (l *crashLedger) changeCount(action string) int {
	n := 0
	for k, c := range l.changes {
		if k.action == action {
			n += c
		}
	}
	return n
}

// client sends requests until ctx is done.
func (l *crashLedger) client(ctx context.Context, hc *http.Client, base string, run int, rng *rand.Rand) {
	const gtin = "09520123456788"
	for ctx.Err() == nil {
		l.mu.Lock()
		l.seq++
		n := l.seq
		var op *crashOp
		if len(l.retry) > 0 && rng.IntN(4) == 0 {
			i := rng.IntN(len(l.retry))
			again := l.retry[i]
			op = &again
			l.retry = slices.Delete(l.retry, i, i+1)
		}
		l.mu.Unlock()
		retried := op != nil
		switch r := rng.IntN(100); {
		case op != nil:
		case r < 30:
			id := fmt.Sprintf("L-%d-%d", run, n)
			op = &crashOp{kind: "issue", key: id, body: crashBody(map[string]any{
				"id": id, "product": fmt.Sprintf("P%d", rng.IntN(60)), "gtin": gtin, "by": "crash"})}
		case r < 42:
			code := fmt.Sprintf("S-%d-%d", run, n)
			op = &crashOp{kind: "register", key: code, body: crashBody(map[string]any{
				"code": code, "product": "SP1", "supplier": "Acme", "gtin": gtin, "by": "crash"})}
		case r < 75:
			l.change(ctx, hc, base, rng)
			continue
		default:
			id := fmt.Sprintf("R-%d-%d", run, n)
			req := map[string]any{"id": id, "door": "DOOR1", "gtin": gtin,
				"product": fmt.Sprintf("R%d", rng.IntN(30)), "cartons": 1 + rng.IntN(3)}
			if rng.IntN(3) == 0 {
				req["supplier"], req["supplier_lot"] = "Acme", fmt.Sprintf("RL-%d-%d", run, n)
			}
			op = &crashOp{kind: "receipt", key: id, body: crashBody(req)}
		}
		l.do(ctx, hc, base, *op, retried)
	}
}

func crashBody(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// do sends an issue, registration or receipt and records the answer.
func (l *crashLedger) do(ctx context.Context, hc *http.Client, base string, op crashOp, retried bool) {
	path := map[string]string{"issue": "/lots", "register": "/lots/register", "receipt": "/receipts"}[op.kind]
	if op.kind == "receipt" {
		l.mu.Lock()
		l.tried[op.key] = true
		l.mu.Unlock()
	}
	var answer struct {
		Code string `json:"code"` // a lot
		ID   string `json:"id"`   // a receipt
		Lot  string `json:"lot"`
	}
	status, err := crashPost(ctx, hc, base+path, op.body, &answer)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	switch {
	case err != nil || status == http.StatusServiceUnavailable || status >= 500:
		// No answer, or the store could not take it now: the same
		// request again later (the id makes it the same change).
		l.unanswered++
		l.retry = append(l.retry, op)
		return
	case status/100 != 2:
		l.refused++
		return
	}
	l.acked++
	if retried {
		l.retriesAcked++
		l.onRetry[op.key] = true
	}
	code := answer.Code
	switch op.kind {
	case "issue":
		l.issued[op.key] = code
	case "register":
		l.registered[code] = true
	case "receipt":
		l.receipts[answer.ID] = answer.Lot
		code = answer.Lot
	}
	if _, known := l.status[code]; !known && code != "" {
		l.pool = append(l.pool, code)
		l.status[code] = "active"
	}
}

// change holds, releases or recalls a lot acknowledged earlier, as its last
// known status allows (a recall now and then: it is final).
func (l *crashLedger) change(ctx context.Context, hc *http.Client, base string, rng *rand.Rand) {
	l.mu.Lock()
	if len(l.pool) == 0 {
		l.mu.Unlock()
		return
	}
	code := l.pool[rng.IntN(len(l.pool))]
	st := l.status[code]
	l.mu.Unlock()
	var action string
	switch {
	case st == "recalled":
		return
	case rng.IntN(12) == 0:
		action = "recall"
	case st == "on_hold":
		action = "release"
	case st == "":
		action = []string{"hold", "release"}[rng.IntN(2)]
	default:
		action = "hold"
	}
	var body []byte
	if action != "release" {
		body = crashBody(map[string]string{"reason": "crash test " + action, "by": "crash"})
	}
	var answer struct {
		Status string `json:"status"`
	}
	status, err := crashPost(ctx, hc, base+"/lots/"+url.PathEscape(code)+"/"+action, body, &answer)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	switch {
	case err != nil || status >= 500:
		l.unanswered++
		l.status[code] = "" // it may or may not have changed
	case status/100 != 2:
		l.refused++
	default:
		l.acked++
		l.changes[lotAction{code, action}]++
		l.status[code] = answer.Status
	}
}

// crashPost posts body and decodes a 2xx answer into v; err is set when no
// complete answer came.
func crashPost(ctx context.Context, hc *http.Client, url string, body []byte, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, v); err != nil {
			return 0, fmt.Errorf("answer %s: %w", resp.Status, err)
		}
	}
	return resp.StatusCode, nil
}

func crashGetJSON(hc *http.Client, url string, v any) error {
	resp, err := hc.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.300s", resp.Status, b)
	}
	return json.Unmarshal(b, v)
}

// crashStore is what the final gateway's store holds.
type crashStore struct {
	lots     map[string][]lotChange // code → its history
	entries  int
	receipts map[string]bool // ids of receipts recorded (of those sent)
}

// lotChange is one history entry of a lot, or one lot event's change.
type lotChange struct {
	Action string    `json:"action"`
	At     time.Time `json:"at"`
}

// crashStoreOf reads every lot with its history (GET /lots, then
// GET /lots/{code}) and which of the receipts sent were recorded.
func crashStoreOf(hc *http.Client, base string, led *crashLedger) (crashStore, error) {
	var list []struct {
		Code string `json:"code"`
	}
	s := crashStore{lots: map[string][]lotChange{}, receipts: map[string]bool{}}
	if err := crashGetJSON(hc, base+"/lots", &list); err != nil {
		return s, fmt.Errorf("GET /lots: %w", err)
	}
	for _, l := range list {
		var lot struct {
			History []lotChange `json:"history"`
		}
		if err := crashGetJSON(hc, base+"/lots/"+url.PathEscape(l.Code), &lot); err != nil {
			return s, fmt.Errorf("GET /lots/%s: %w", l.Code, err)
		}
		s.lots[l.Code] = lot.History
		s.entries += len(lot.History)
	}
	led.mu.Lock()
	ids := make([]string, 0, len(led.tried))
	for id := range led.tried {
		ids = append(ids, id)
	}
	led.mu.Unlock()
	for _, id := range ids {
		resp, err := hc.Get(base + "/receipts/" + url.PathEscape(id))
		if err != nil {
			return s, fmt.Errorf("GET /receipts/%s: %w", id, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			s.receipts[id] = true
		case http.StatusNotFound:
		default:
			return s, fmt.Errorf("GET /receipts/%s: %s", id, resp.Status)
		}
	}
	return s, nil
}

// checkCrashEvents compares what was acknowledged and what the store holds
// with the events the subscriber received, and returns every problem.
func checkCrashEvents(led *crashLedger, store crashStore, events map[string]crashEvent) []string {
	type changeKey struct {
		code, action string
		at           int64
	}
	lotEvents := map[changeKey]bool{}  // distinct changes published
	perAction := map[lotAction]int{}   // their number per lot and action
	created := map[string]bool{}       // lots with lot.created
	receiptEvents := map[string]bool{} // receipts with receipt.created
	var malformed []string
	for _, ev := range events {
		switch {
		case ev.Type == "receipt.created":
			var b struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(ev.Body, &b) != nil || b.ID == "" {
				malformed = append(malformed, fmt.Sprintf("%s %s: %.200s", ev.Type, ev.ID, ev.Body))
				continue
			}
			receiptEvents[b.ID] = true
		case strings.HasPrefix(ev.Type, "lot.") && strings.Count(ev.Type, ".") == 1:
			var b struct {
				Code string `json:"code"`
				lotChange
			}
			if json.Unmarshal(ev.Body, &b) != nil || b.Code == "" || b.At.IsZero() {
				malformed = append(malformed, fmt.Sprintf("%s %s: %.200s", ev.Type, ev.ID, ev.Body))
				continue
			}
			action := strings.TrimPrefix(ev.Type, "lot.")
			k := changeKey{b.Code, action, b.At.UnixNano()}
			if !lotEvents[k] {
				lotEvents[k] = true
				perAction[lotAction{b.Code, action}]++
			}
			if action == "created" {
				created[b.Code] = true
			}
		}
	}

	var problems []string
	report := func(what string, items []string) {
		if len(items) == 0 {
			return
		}
		slices.Sort(items)
		total, more := len(items), ""
		if total > 10 {
			more = fmt.Sprintf(" … (%d more)", total-10)
			items = items[:10]
		}
		problems = append(problems, fmt.Sprintf("%d %s: %s%s", total, what, strings.Join(items, "; "), more))
	}
	inStore := func(code string) string {
		if _, ok := store.lots[code]; ok {
			return "in the store"
		}
		return "not in the store"
	}

	led.mu.Lock()
	retry := func(key string) string {
		if led.onRetry[key] {
			return ", acknowledged on a retry"
		}
		return ""
	}
	var ackNoEvent, ackLost []string
	for id, code := range led.issued {
		if !created[code] {
			ackNoEvent = append(ackNoEvent, fmt.Sprintf("issue %s → lot %s has no lot.created (%s%s)", id, code, inStore(code), retry(id)))
		}
		if _, ok := store.lots[code]; !ok {
			ackLost = append(ackLost, "issued lot "+code)
		}
	}
	for code := range led.registered {
		if !created[code] {
			ackNoEvent = append(ackNoEvent, fmt.Sprintf("registered lot %s has no lot.created (%s%s)", code, inStore(code), retry(code)))
		}
		if _, ok := store.lots[code]; !ok {
			ackLost = append(ackLost, "registered lot "+code)
		}
	}
	for k, n := range led.changes {
		if got := perAction[k]; got < n {
			ackNoEvent = append(ackNoEvent, fmt.Sprintf("lot %s: %d %s acknowledged, %d lot.%s events", k.code, n, k.action, got, k.action))
		}
		recorded := 0
		for _, h := range store.lots[k.code] {
			if h.Action == k.action {
				recorded++
			}
		}
		if recorded < n {
			ackLost = append(ackLost, fmt.Sprintf("lot %s: %d %s acknowledged, %d in its history", k.code, n, k.action, recorded))
		}
	}
	for id, code := range led.receipts {
		if !receiptEvents[id] {
			ackNoEvent = append(ackNoEvent, fmt.Sprintf("receipt %s (lot %s) has no receipt.created%s", id, code, retry(id)))
		}
		if !store.receipts[id] {
			ackLost = append(ackLost, "receipt "+id)
		}
	}
	led.mu.Unlock()

	// The converse: every change the store holds was published.
	var storedNoEvent []string
	for code, hist := range store.lots {
		for _, h := range hist {
			if !lotEvents[changeKey{code, h.Action, h.At.UnixNano()}] {
				storedNoEvent = append(storedNoEvent, fmt.Sprintf("lot %s %s at %s", code, h.Action, h.At.Format(time.RFC3339Nano)))
			}
		}
	}
	for id := range store.receipts {
		if !receiptEvents[id] {
			storedNoEvent = append(storedNoEvent, "receipt "+id)
		}
	}
	report("acknowledged changes without their event", ackNoEvent)
	report("changes in the store without their event (a lot without lot.created is issue 16)", storedNoEvent)
	report("acknowledged changes missing from the store", ackLost)
	report("events without a lot code, time or receipt id", malformed)
	return problems
}

func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// startStats is the min, median and max of the start times.
func startStats(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("min %s, median %s, max %s", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]))
}

func countsLine(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
