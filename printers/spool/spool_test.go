package spool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

// rig is a simulator on loopback TCP and a spooler printing to it.
type rig struct {
	sim    *printersim.Sim
	addr   string
	st     *store.Store
	sp     *Spooler
	events *eventLog
	cancel context.CancelFunc
	done   chan error
}

type eventLog struct {
	mu sync.Mutex
	ev []printers.Event
}

func (l *eventLog) PrinterEvent(_ context.Context, e printers.Event) error {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
	return nil
}

func (l *eventLog) has(kind printers.EventKind, job string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.ev {
		if e.Kind == kind && (job == "" || e.JobID == job) {
			return true
		}
	}
	return false
}

func startSim(t testing.TB, o printersim.Options) (*printersim.Sim, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sim := printersim.New(o)
	done := make(chan struct{})
	go func() { _ = sim.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return sim, ln.Addr().String()
}

func testConfig(addr string) printers.Config {
	return printers.Config{ID: "p1", Address: addr, Timeouts: printers.Timeouts{
		Status: 200 * time.Millisecond, Confirm: 5 * time.Second, Poll: 20 * time.Millisecond, Idle: time.Second}}
}

func newRig(t testing.TB, so printersim.Options, mod func(*printers.Config)) *rig {
	t.Helper()
	return newRigWith(t, so, mod, nil)
}

// newRigWith is newRig with the spooler's options changed by opt (another
// Events sink, a logger …) before it opens.
func newRigWith(t testing.TB, so printersim.Options, mod func(*printers.Config), opt func(r *rig, o *Options)) *rig {
	t.Helper()
	sim, addr := startSim(t, so)
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addr)
	if mod != nil {
		mod(&cfg)
	}
	r := &rig{sim: sim, addr: addr, st: st, events: &eventLog{}}
	o := Options{Printers: []printers.Config{cfg}, Events: r.events,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }}
	if opt != nil {
		opt(r, &o)
	}
	r.sp, err = New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	r.start()
	t.Cleanup(func() { r.stop(t); st.Close() })
	return r
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan error, 1)
	go func() { r.done <- r.sp.Run(ctx) }()
}

func (r *rig) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		t.Error(err)
	}
	r.cancel = nil
}

func label(id string) string { return "^XA^FO50,50^A0N,40,40^FD" + id + "^FS^XZ" }

func (r *rig) submit(t testing.TB, id string) {
	t.Helper()
	if err := r.sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: label(id), Lot: "L1"}); err != nil {
		t.Fatal(err)
	}
}

// waitEvent waits (bounded) for an event: events follow the durable state
// change they report.
func (r *rig) waitEvent(t testing.TB, kind printers.EventKind, job string) {
	t.Helper()
	for i := 0; !r.events.has(kind, job); i++ {
		if i == 1000 {
			t.Fatalf("no %s event for %q", kind, job)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitState waits (bounded) for a job to reach a state.
func (r *rig) waitState(t testing.TB, id string, want State) Job {
	t.Helper()
	var j Job
	for i := 0; i < 1000; i++ {
		var err error
		if j, err = r.sp.Get(id); err != nil {
			t.Fatal(err)
		}
		if j.State == want {
			return j
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("job %s is %s (%s), want %s", id, j.State, j.Reason, want)
	return j
}

// printedOnce checks how often each job's label reached the simulator.
func printedCounts(sim *printersim.Sim) map[string]int {
	n := map[string]int{}
	for _, f := range sim.Formats() {
		z := string(f.ZPL)
		i := strings.Index(z, "^FD")
		j := strings.Index(z, "^FS")
		if i >= 0 && j > i {
			n[z[i+3:j]]++
		}
	}
	return n
}

func TestPrintsInOrderExactlyOnce(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	for i := 0; i < 50; i++ {
		r.submit(t, fmt.Sprintf("J%03d", i))
	}
	r.waitState(t, "J049", Confirmed)
	fs := r.sim.Formats()
	if len(fs) != 50 {
		t.Fatalf("printer got %d formats", len(fs))
	}
	for i, f := range fs {
		if want := label(fmt.Sprintf("J%03d", i)); string(f.ZPL) != want {
			t.Fatalf("format %d is %q, want %q", i, f.ZPL, want)
		}
	}
	for i := 0; i < 50; i++ {
		j := r.waitState(t, fmt.Sprintf("J%03d", i), Confirmed)
		if j.Attempts != 1 {
			t.Fatalf("job %s attempts %d", j.ID, j.Attempts)
		}
	}
	if n, _ := r.sp.QueueLen("p1"); n != 0 {
		t.Fatalf("queue holds %d", n)
	}
	r.waitEvent(t, printers.EventJobConfirmed, "J000")
	r.waitEvent(t, printers.EventStatus, "")
}

func TestSubmitIdempotent(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	r.submit(t, "A")
	r.submit(t, "A")
	r.waitState(t, "A", Confirmed)
	r.submit(t, "A") // after confirmation still the same job
	time.Sleep(50 * time.Millisecond)
	if c := printedCounts(r.sim)["A"]; c != 1 {
		t.Fatalf("printed %d times", c)
	}
	err := r.sp.Submit(context.Background(), Job{ID: "A", Printer: "p1", ZPL: label("other")})
	if !errors.Is(err, ErrIDConflict) {
		t.Fatalf("different job under a used id: %v", err)
	}
	for _, bad := range []Job{
		{ID: "x/y", Printer: "p1", ZPL: label("x")},
		{ID: "B", Printer: "nope", ZPL: label("x")},
		{ID: "B", Printer: "p1", ZPL: "^XA^FDopen"},
		{ID: "B", Printer: "p1", ZPL: "^XA^FDa^XZ^XA"},
		{ID: "B", Printer: "p1", ZPL: label("x"), Copies: -1},
	} {
		if err := r.sp.Submit(context.Background(), bad); err == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}

func TestHeldOnFaultsResumesWhenCleared(t *testing.T) {
	for _, f := range []printersim.Fault{printersim.PaperOut, printersim.HeadOpen, printersim.RibbonOut, printersim.Pause} {
		t.Run(string(f), func(t *testing.T) {
			r := newRig(t, printersim.Options{Silent: true}, nil)
			r.sim.SetFault(f, true)
			r.submit(t, "H1")
			r.submit(t, "H2")
			j := r.waitState(t, "H1", Held)
			if !strings.Contains(j.Reason, strings.ReplaceAll(string(f), "-", " ")) && f != printersim.Pause {
				t.Fatalf("held reason %q", j.Reason)
			}
			if n, _ := r.sim.Count(); n != 0 {
				t.Fatalf("printed %d formats while faulted", n)
			}
			r.waitEvent(t, printers.EventJobHeld, "H1")
			r.sim.Resume()
			r.waitState(t, "H2", Confirmed)
			r.waitState(t, "H1", Confirmed)
			c := printedCounts(r.sim)
			if c["H1"] != 1 || c["H2"] != 1 {
				t.Fatalf("printed %v", c)
			}
		})
	}
}

func TestFaultWhileConfirmingDoesNotFail(t *testing.T) {
	r := newRig(t, printersim.Options{LabelsPerSecond: 20}, func(c *printers.Config) { c.Timeouts.Confirm = 300 * time.Millisecond })
	if err := r.sp.Submit(context.Background(), Job{ID: "Q", Printer: "p1", ZPL: "^XA^PQ4^FDQ^FS^XZ"}); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "Q", Sent)
	r.sim.SetFault(printersim.Pause, true)
	time.Sleep(500 * time.Millisecond) // longer than the confirm timeout
	if j, _ := r.sp.Get("Q"); j.State != Sent {
		t.Fatalf("job %s while the printer is paused: %s", j.State, j.Reason)
	}
	r.sim.Resume()
	r.waitState(t, "Q", Confirmed)
}

func TestRefusedThenAccepted(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	r.sim.SetRefuse(true)
	r.submit(t, "R1")
	time.Sleep(100 * time.Millisecond)
	j, _ := r.sp.Get("R1")
	if j.State != Queued && j.State != Held {
		t.Fatalf("job %s while refused", j.State)
	}
	r.sim.SetRefuse(false)
	r.waitState(t, "R1", Confirmed)
	if c := printedCounts(r.sim)["R1"]; c != 1 {
		t.Fatalf("printed %d", c)
	}
}

func TestDropWhileConfirming(t *testing.T) {
	r := newRig(t, printersim.Options{LabelsPerSecond: 20}, nil)
	if err := r.sp.Submit(context.Background(), Job{ID: "D", Printer: "p1", ZPL: "^XA^PQ3^FDD^FS^XZ"}); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "D", Sent)
	r.sim.Drop()
	// Printed or lost with the connection: the empty buffer cannot tell,
	// so an operator checks the label.
	if j := r.waitState(t, "D", Unknown); !strings.Contains(j.Reason, "may or may not have printed") {
		t.Fatalf("reason %q", j.Reason)
	}
	r.waitEvent(t, printers.EventJobUnknown, "D")
	if c := printedCounts(r.sim)["D"]; c != 1 {
		t.Fatalf("printed %d (a sent job must not be re-sent after a reconnect)", c)
	}
	if r.sim.Connections() < 2 {
		t.Fatal("no reconnect")
	}
}

// cutConn writes only part of a large write, then fails like a connection
// lost in the middle of a job.
type cutConn struct {
	printers.Conn
}

func (c cutConn) Write(p []byte) (int, error) {
	if len(p) < 20 {
		return c.Conn.Write(p)
	}
	n, _ := c.Conn.Write(p[:10])
	c.Conn.Close()
	return n, errors.New("connection reset by peer")
}

func TestCutMidWriteIsUnknownUntilReprint(t *testing.T) {
	sim, addr := startSim(t, printersim.Options{})
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	dials := 0
	dial := func(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		dials++
		if dials == 1 {
			return cutConn{c.(*net.TCPConn)}, nil
		}
		return c.(*net.TCPConn), nil
	}
	cfg := testConfig(addr)
	cfg.BatchJobs = 4
	ev := &eventLog{}
	r := &rig{sim: sim, st: st, events: ev}
	r.sp, err = New(st, Options{Printers: []printers.Config{cfg}, Dial: dial, Events: ev, Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	// submitted before Run: one batch of three, cut in the first job
	for _, id := range []string{"W1", "W2", "W3"} {
		r.submit(t, id)
	}
	r.start()
	defer r.stop(t)
	j := r.waitState(t, "W1", Unknown)
	if !strings.Contains(j.Reason, "reprint or cancel") || !ev.has(printers.EventJobUnknown, "W1") {
		t.Fatalf("unknown job reason %q", j.Reason)
	}
	r.waitState(t, "W2", Confirmed)
	r.waitState(t, "W3", Confirmed)
	if err := r.sp.Reprint("W1"); err != nil {
		t.Fatal(err)
	}
	j = r.waitState(t, "W1", Confirmed)
	if j.Attempts != 2 {
		t.Fatalf("attempts %d", j.Attempts)
	}
	c := printedCounts(sim)
	if c["W1"] != 1 || c["W2"] != 1 || c["W3"] != 1 {
		t.Fatalf("printed %v", c)
	}
}

func TestConfirmTimeoutFails(t *testing.T) {
	r := newRig(t, printersim.Options{LabelsPerSecond: 0.5}, func(c *printers.Config) { c.Timeouts.Confirm = 100 * time.Millisecond })
	r.submit(t, "F")
	j := r.waitState(t, "F", Failed)
	if !strings.Contains(j.Reason, "did not take the job") {
		t.Fatalf("reason %q", j.Reason)
	}
	if err := r.sp.Cancel("F"); err != nil {
		t.Fatal(err)
	}
	if err := r.sp.Cancel("F"); err != nil {
		t.Fatalf("cancel twice: %v", err)
	}
	r.waitEvent(t, printers.EventJobFailed, "F")
	r.waitEvent(t, printers.EventJobCancelled, "F")
}

func TestStateRules(t *testing.T) {
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := New(st, Options{Printers: []printers.Config{testConfig("127.0.0.1:1")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Submit(context.Background(), Job{ID: "S", Printer: "p1", ZPL: label("S")}); err != nil {
		t.Fatal(err)
	}
	if err := sp.Reprint("S"); !errors.Is(err, ErrNotReprint) {
		t.Fatalf("reprint queued: %v", err)
	}
	if err := sp.Reprint("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reprint missing: %v", err)
	}
	j, _ := sp.Get("S")
	if _, err := sp.transition([]*Job{&j}, []State{Queued}, Sending, "", true); err != nil {
		t.Fatal(err)
	}
	if err := sp.Cancel("S"); !errors.Is(err, ErrInFlight) {
		t.Fatalf("cancel sending: %v", err)
	}
	list, err := sp.List(Filter{Printer: "p1", State: Sending})
	if err != nil || len(list) != 1 || list[0].ZPL != "" {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestCrashInSendingBecomesUnknown(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig("127.0.0.1:1")
	sp, err := New(st, Options{Printers: []printers.Config{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"C1", "C2"} {
		if err := sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			t.Fatal(err)
		}
	}
	j, _ := sp.Get("C1")
	if _, err := sp.transition([]*Job{&j}, []State{Queued}, Sending, "", true); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev := &eventLog{}
	sp, err = New(st, Options{Printers: []printers.Config{cfg}, Events: ev})
	if err != nil {
		t.Fatal(err)
	}
	if j, _ := sp.Get("C1"); j.State != Unknown {
		t.Fatalf("C1 is %s", j.State)
	}
	if j, _ := sp.Get("C2"); j.State != Queued {
		t.Fatalf("C2 is %s", j.State)
	}
	if n, _ := sp.QueueLen("p1"); n != 1 {
		t.Fatalf("queue %d", n)
	}
	if !ev.has(printers.EventJobUnknown, "C1") {
		t.Fatal("no unknown event")
	}
	// a new submission goes after the surviving queue
	if err := sp.Submit(context.Background(), Job{ID: "C3", Printer: "p1", ZPL: label("C3")}); err != nil {
		t.Fatal(err)
	}
	c2, _ := sp.Get("C2")
	c3, _ := sp.Get("C3")
	if c3.Seq <= c2.Seq {
		t.Fatalf("seq %d after %d", c3.Seq, c2.Seq)
	}
}

func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.zpl")
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := New(st, Options{Printers: []printers.Config{{ID: "archive", Path: path}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	if err := sp.Submit(ctx, Job{ID: "f1", Printer: "archive", ZPL: label("f1"), Copies: 2}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		if j, _ := sp.Get("f1"); j.State == Confirmed {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != label("f1")+label("f1") {
		t.Fatalf("file %q %v", b, err)
	}
}

func TestSlowLink(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	r.sim.SetSlow(4000)
	for i := 0; i < 5; i++ {
		r.submit(t, fmt.Sprintf("S%d", i))
	}
	for i := 0; i < 5; i++ {
		r.waitState(t, fmt.Sprintf("S%d", i), Confirmed)
	}
	for id, n := range printedCounts(r.sim) {
		if n != 1 {
			t.Fatalf("%s printed %d times", id, n)
		}
	}
}

func TestUnreachableIsHeldNotDropped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev := &eventLog{}
	sp, err := New(st, Options{Printers: []printers.Config{testConfig(addr)}, Events: ev, Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{sp: sp, st: st, events: ev}
	r.submit(t, "U")
	r.start()
	j := r.waitState(t, "U", Held)
	r.stop(t)
	if !strings.Contains(j.Reason, "unreachable") {
		t.Fatalf("reason %q", j.Reason)
	}
	var sawUnknown bool
	ev.mu.Lock()
	for _, e := range ev.ev {
		if e.Kind == printers.EventStatus && e.Status != nil && !e.Status.Known {
			sawUnknown = true
		}
	}
	ev.mu.Unlock()
	if !sawUnknown {
		t.Fatal("no unknown status event")
	}
	// the printer comes up on the same address: the held job prints
	sim := printersim.New(printersim.Options{})
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = sim.Serve(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	r.start()
	defer r.stop(t)
	r.waitState(t, "U", Confirmed)
	if !ev.has(printers.EventPrinterOnline, "") {
		t.Fatal("no connected event")
	}
}

func TestPrune(t *testing.T) {
	r := newRig(t, printersim.Options{}, nil)
	r.submit(t, "P1")
	r.submit(t, "P2")
	r.waitState(t, "P2", Confirmed)
	r.waitState(t, "P1", Confirmed)
	if err := r.sp.Cancel("P1"); !errors.Is(err, ErrNotCancelable) {
		t.Fatalf("cancel confirmed: %v", err)
	}
	n, err := r.sp.Prune(time.Now().Add(time.Second))
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v", n, err)
	}
	if _, err := r.sp.Get("P1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get pruned: %v", err)
	}
}

func TestIdleWatchReportsFaults(t *testing.T) {
	r := newRig(t, printersim.Options{Silent: true}, func(c *printers.Config) { c.Timeouts.Watch = 20 * time.Millisecond })
	r.sim.SetFault(printersim.PaperOut, true)
	var seen bool
	for i := 0; i < 500 && !seen; i++ {
		r.events.mu.Lock()
		for _, e := range r.events.ev {
			if e.Kind == printers.EventStatus && e.Status != nil && e.Status.PaperOut {
				seen = true
			}
		}
		r.events.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	if !seen {
		t.Fatal("no paper-out status event from an idle printer")
	}
	r.sim.Resume()
	r.submit(t, "after")
	r.waitState(t, "after", Confirmed)
}

// A batch's outcome is one transaction of several moves; each move changes
// only the jobs still in one of its from states, and says which it changed.
func TestTransitionsMoveABatchAtOnce(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := New(st, Options{Printers: []printers.Config{testConfig("127.0.0.1:9")}})
	if err != nil {
		t.Fatal(err)
	}
	var jobs []*Job
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			t.Fatal(err)
		}
		j, err := sp.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, &j)
	}
	if _, err := sp.transition(jobs[:3], []State{Queued}, Sending, "", true); err != nil {
		t.Fatal(err)
	}
	done, err := sp.transitions(context.Background(),
		move{jobs: jobs[:1], from: []State{Sending}, to: Sent},
		move{jobs: jobs[1:2], from: []State{Sending}, to: Unknown, reason: "cut off"},
		move{jobs: jobs[2:], from: []State{Sending}, to: Queued, reason: "not sent"}, // d is queued: left alone
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || len(done[0]) != 1 || len(done[1]) != 1 || len(done[2]) != 1 || done[2][0].ID != "c" {
		t.Fatalf("moved %v", done)
	}
	for id, want := range map[string]State{"a": Sent, "b": Unknown, "c": Queued, "d": Queued} {
		j, err := sp.Get(id)
		if err != nil || j.State != want {
			t.Errorf("job %s: %s %v, want %s", id, j.State, err, want)
		}
	}
	if j, _ := sp.Get("d"); j.Reason != "" || j.Attempts != 0 {
		t.Errorf("job d changed: %+v", j)
	}
}

// A batch that takes the printer longer than the confirm timeout is not
// failed while the printer keeps taking labels: the timeout bounds a
// printer that makes no progress, not the length of the batch.
func TestLongBatchPrintingPastConfirmTimeoutIsConfirmed(t *testing.T) {
	r := newRig(t, printersim.Options{LabelsPerSecond: 20}, func(c *printers.Config) { c.Timeouts.Confirm = 300 * time.Millisecond })
	// two formats of 8 labels in one batch: 16 labels, several confirm
	// timeouts long at 20 labels a second
	jobs := []Job{
		{ID: "long1", Printer: "p1", ZPL: "^XA^PQ8^FDlong1^FS^XZ"},
		{ID: "long2", Printer: "p1", ZPL: "^XA^PQ8^FDlong2^FS^XZ"},
	}
	if err := r.sp.SubmitAll(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		for i := 0; ; i++ {
			got, err := r.sp.Get(j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State == Confirmed {
				break
			}
			if !got.State.Active() || i == 1000 {
				t.Fatalf("job %s is %s (%s), want confirmed", j.ID, got.State, got.Reason)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, labels := r.sim.Count(); labels != 16 {
		t.Fatalf("printed %d labels, want 16", labels)
	}
	if r.events.has(printers.EventJobFailed, "") {
		t.Fatal("a job failed while the printer was printing it")
	}
}

// Jobs found sent after a restart whose bytes never reached the printer:
// its empty buffer does not tell them from printed ones, so they wait for
// an operator instead of being confirmed.
func TestSentAfterRestartIsUnknown(t *testing.T) {
	sim, addr := startSim(t, printersim.Options{})
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(addr)
	sp, err := New(st, Options{Printers: []printers.Config{cfg}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Submit(context.Background(), Job{ID: "lost", Printer: "p1", ZPL: label("lost")}); err != nil {
		t.Fatal(err)
	}
	j, _ := sp.Get("lost")
	// written, as far as the stopped process knew; lost on the way
	if _, err := sp.transition([]*Job{&j}, []State{Queued}, Sending, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.transition([]*Job{&j}, []State{Sending}, Sent, "", false); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ev := &eventLog{}
	r := &rig{sim: sim, addr: addr, st: st, events: ev}
	t.Cleanup(func() { st.Close() })
	r.sp, err = New(st, Options{Printers: []printers.Config{cfg}, Events: ev, Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	r.start()
	defer r.stop(t)
	got := r.waitState(t, "lost", Unknown)
	if !strings.Contains(got.Reason, "restarted") || !strings.Contains(got.Reason, "reprint or cancel") {
		t.Fatalf("reason %q", got.Reason)
	}
	r.waitEvent(t, printers.EventJobUnknown, "lost")
	if n, _ := sim.Count(); n != 0 {
		t.Fatalf("the printer took %d formats: the job must not be sent again on its own", n)
	}
	// the operator's reprint prints it
	if err := r.sp.Reprint("lost"); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "lost", Confirmed)
	if c := printedCounts(sim)["lost"]; c != 1 {
		t.Fatalf("printed %d", c)
	}
}

func TestProgressed(t *testing.T) {
	st := func(formats, labels int, partial bool) printers.Status {
		return printers.Status{Known: true, FormatsInBuffer: formats, LabelsRemaining: labels, PartialFormat: partial}
	}
	for _, c := range []struct {
		desc      string
		prev, cur printers.Status
		want      bool
	}{
		{"a label printed", st(2, 5, false), st(2, 4, false), true},
		{"the next format started", st(2, 0, false), st(1, 8, false), true},
		{"a partial format completed", st(1, 3, true), st(1, 3, false), true},
		{"no change", st(1, 3, false), st(1, 3, false), false},
		{"a format arrived", st(1, 3, false), st(2, 2, false), false},
		{"more labels, same formats", st(1, 3, false), st(1, 4, false), false},
		{"first answer", printers.Status{}, st(0, 1, false), false},
		{"no answer", st(1, 3, false), printers.Unknown(time.Time{}), false},
		{"counts not reported", st(1, 3, false), printers.Status{Known: true, FormatsInBuffer: -1, LabelsRemaining: -1}, false},
	} {
		if got := progressed(c.prev, c.cur); got != c.want {
			t.Errorf("%s: progressed %v, want %v", c.desc, got, c.want)
		}
	}
}

// A stop while a written job is still printing waits for the printer to
// take it, so that a clean restart leaves nothing for an operator.
func TestStopWaitsForAWrittenJob(t *testing.T) {
	r := newRig(t, printersim.Options{LabelsPerSecond: 10}, nil)
	if err := r.sp.Submit(context.Background(), Job{ID: "slow", Printer: "p1", ZPL: "^XA^FDslow^FS^PQ4^XZ"}); err != nil {
		t.Fatal(err)
	}
	r.waitState(t, "slow", Sent)
	r.stop(t)
	j, err := r.sp.Get("slow")
	if err != nil {
		t.Fatal(err)
	}
	if j.State != Confirmed {
		t.Fatalf("after a stop mid-print the job is %s (%s), want confirmed", j.State, j.Reason)
	}
}

// A job records the labels it prints; a job stored before jobs recorded
// them has them counted when read.
func TestSubmitRecordsLabels(t *testing.T) {
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sp, err := New(st, Options{Printers: []printers.Config{{ID: "archive", Path: filepath.Join(t.TempDir(), "out.zpl")}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sp.Submit(ctx, Job{ID: "pq", Printer: "archive", ZPL: "^XA^FDx^FS^PQ3^XZ^xa^fdy^fs^xz", Copies: 2}); err != nil {
		t.Fatal(err)
	}
	err = sp.Submit(ctx, Job{ID: "big", Printer: "archive", ZPL: "^XA^FDx^FS^XZ^XA^FDy^FS^XZ", Copies: 600})
	if !errors.Is(err, ErrTooManyLabels) || !strings.Contains(err.Error(), "1200 labels") {
		t.Errorf("600 copies of 2 formats: %v", err)
	}
	old := Job{ID: "old", Printer: "archive", ZPL: "^XA^PQ4^XZ", Copies: 1, State: Confirmed}
	if err := sp.db.Update(func(txn *badger.Txn) error { return putJob(txn, &old) }); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"pq": 8, "old": 4} {
		j, err := sp.Get(id)
		if err != nil || j.Labels != want {
			t.Errorf("Get(%s): %d labels (%v), want %d", id, j.Labels, err, want)
		}
		b, _ := json.Marshal(j)
		if !strings.Contains(string(b), fmt.Sprintf(`"labels":%d`, want)) {
			t.Errorf("%s: JSON %s has no labels", id, b)
		}
	}
	jobs, err := sp.List(Filter{Printer: "archive"})
	if err != nil || len(jobs) != 2 || jobs[0].Labels != 4 || jobs[1].Labels != 8 {
		t.Errorf("List: %+v %v", jobs, err)
	}
}

// An idle printer is reconnected for its status every timeouts.watch; it
// is said to be connected once, not at every one of those connections,
// and again after a failure.
func TestPrinterConnectedOncePerReach(t *testing.T) {
	r := newRig(t, printersim.Options{}, func(c *printers.Config) {
		c.Timeouts.Idle, c.Timeouts.Watch = 5*time.Millisecond, 10*time.Millisecond
	})
	r.submit(t, "A")
	r.waitState(t, "A", Confirmed)
	connected := func() int {
		r.events.mu.Lock()
		defer r.events.mu.Unlock()
		n := 0
		for _, e := range r.events.ev {
			if e.Kind == printers.EventPrinterOnline {
				n++
			}
		}
		return n
	}
	for i := 0; r.sim.Connections() < 5; i++ {
		if i == 1000 {
			t.Fatalf("%d connections to the idle printer, want its status read on new ones", r.sim.Connections())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := connected(); n != 1 {
		t.Fatalf("%d printer.connected events for %d connections without a failure, want 1", n, r.sim.Connections())
	}
	// refused connections, then reachable again: said once more
	r.sim.SetRefuse(true)
	for i := 0; !r.events.has(printers.EventStatus, "") || !lastUnknown(r.events); i++ {
		if i == 1000 {
			t.Fatal("no unknown status while the printer refused connections")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.sim.SetRefuse(false)
	for i := 0; connected() < 2; i++ {
		if i == 1000 {
			t.Fatal("no printer.connected after the printer was reachable again")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lastUnknown reports whether the last status event is an unknown status.
func lastUnknown(l *eventLog) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.ev) - 1; i >= 0; i-- {
		if e := l.ev[i]; e.Kind == printers.EventStatus && e.Status != nil {
			return !e.Status.Known
		}
	}
	return false
}
