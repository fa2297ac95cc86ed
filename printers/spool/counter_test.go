package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/printersim"
)

// counterProfile is a printer with an SGD label counter (and an RFID
// encoder that verifies).
const counterProfile = "zebra-zt411r-203"

// counterSim is a simulator of that printer, on for an hour.
func counterSim(speed float64) printersim.Options {
	return printersim.Options{Profile: counterProfile, BootedAgo: time.Hour, LabelsPerSecond: speed}
}

func withCounter(c *printers.Config) { c.Profile = counterProfile }

// counterRig is newRig with the spooler's log kept.
func counterRig(t testing.TB, so printersim.Options, mod func(*printers.Config)) (*rig, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	r := newRigWith(t, so, mod, func(r *rig, o *Options) { o.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	return r, logs
}

// resolvedByCounter checks that a batch was resolved from the counter.
func resolvedByCounter(t testing.TB, logs *syncBuffer) {
	t.Helper()
	if !strings.Contains(logs.String(), "resolved by the printer's label counter") {
		t.Fatalf("no batch was resolved by the label counter; log:\n%s", logs)
	}
}

// printedLabels counts, per job, the labels the simulator physically
// printed (voided ones not counted), from its own log. A job's id is the
// data of its format's first field.
func printedLabels(sim *printersim.Sim) map[string]int {
	id := map[int]string{}
	for _, f := range sim.Formats() {
		z := string(f.ZPL)
		i := strings.Index(z, "^FD")
		j := strings.Index(z, "^FS")
		if i >= 0 && j > i {
			id[f.Seq] = z[i+3 : j]
		}
	}
	n := map[string]int{}
	for _, l := range sim.Labels() {
		if !l.Void {
			n[id[l.Format]]++
		}
	}
	return n
}

// waitAll waits (bounded) until no job of ids is active, and returns them.
func waitAll(t testing.TB, sp *Spooler, ids []string, within time.Duration) map[string]Job {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out := map[string]Job{}
		active := ""
		for _, id := range ids {
			j, err := sp.Get(id)
			if err != nil {
				t.Fatal(err)
			}
			out[id] = j
			if j.State.Active() && active == "" {
				active = id + " " + string(j.State)
			}
		}
		if active == "" {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still active", active)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

// checkExact checks that every job ended confirmed with each label printed
// once.
func checkExact(t testing.TB, sim *printersim.Sim, jobs map[string]Job) {
	t.Helper()
	n := printedLabels(sim)
	for id, j := range jobs {
		if j.State != Confirmed {
			t.Errorf("job %s is %s (%s)", id, j.State, j.Reason)
		}
		if n[id] != j.Labels {
			t.Errorf("job %s: %d labels printed, want %d", id, n[id], j.Labels)
		}
	}
}

// A connection that drops while a batch prints: the printer's counter
// confirms what printed, the SGD label count or, on a printer with a
// ~HQOD print length counter, the length printed. The printer is slow
// enough (20 labels/s) that the drop comes while the batch prints,
// however loaded the machine is.
func TestDropWhilePrintingResolvedByCounter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sim    printersim.Options
		config func(*printers.Config)
		prefix string // of the jobs' ids
		jobs   int
		drop   int // labels printed when the connection drops
	}{
		{name: "sgd", sim: counterSim(20), config: withCounter, prefix: "D", jobs: 40, drop: 5},
		{name: "hqod", sim: printersim.Options{Profile: "zebra-zt411-203", LabelsPerSecond: 20}, config: func(c *printers.Config) {
			c.Profile = "zebra-zt411-203"
			c.LabelCounter = printers.CounterHQOD
		}, prefix: "H", jobs: 24, drop: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, logs := counterRig(t, tc.sim, tc.config)
			all := ids(tc.prefix, tc.jobs)
			for _, id := range all {
				r.submit(t, id)
			}
			printed := 0
			for i := 0; i < 10000 && printed < tc.drop; i++ {
				time.Sleep(time.Millisecond)
				_, printed = r.sim.Count()
			}
			if printed < tc.drop {
				t.Fatalf("the printer printed %d labels, not the %d to drop after", printed, tc.drop)
			}
			r.sim.Drop()
			checkExact(t, r.sim, waitAll(t, r.sp, all, 20*time.Second))
			resolvedByCounter(t, logs)
		})
	}
}

// stallConn stops taking bytes once `after` bytes of formats were
// written, until the spooler's write timeout closes it: a write that
// stalls and is reset. The bytes before the stall reach the printer.
type stallConn struct {
	printers.Conn
	mu      *sync.Mutex
	written *int
	after   int
	closed  chan struct{}
	once    *sync.Once
}

func (c stallConn) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "^XA") {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	room := c.after - *c.written
	*c.written += len(p)
	c.mu.Unlock()
	if room >= len(p) {
		return c.Conn.Write(p)
	}
	n := 0
	if room > 0 {
		n, _ = c.Conn.Write(p[:room])
	}
	<-c.closed
	return n, errors.New("write stalled and was reset")
}

func (c stallConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// A write that stalls in the middle of a batch and is reset: what reached
// the printer printed, the job cut and those after it did not; the counter
// says so, and they are sent again.
func TestStallResetResolvedByCounter(t *testing.T) {
	var mu sync.Mutex
	dials, written := 0, 0
	logs := &syncBuffer{}
	r := newRigWith(t, counterSim(0), func(c *printers.Config) {
		withCounter(c)
		c.Timeouts.Write = 100 * time.Millisecond
	}, func(r *rig, o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, nil))
		o.Dial = func(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", cfg.Address)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			dials++
			if dials == 1 {
				return stallConn{Conn: c.(*net.TCPConn), mu: &mu, written: &written, after: 5*len(label("S000")) + 7,
					closed: make(chan struct{}), once: &sync.Once{}}, nil
			}
			return c.(*net.TCPConn), nil
		}
	})
	all := ids("S", 12)
	if err := r.sp.SubmitAll(context.Background(), jobsOf(all)); err != nil {
		t.Fatal(err)
	}
	got := waitAll(t, r.sp, all, 20*time.Second)
	checkExact(t, r.sim, got)
	resolvedByCounter(t, logs)
	again := 0
	for _, j := range got {
		if j.Attempts > 1 {
			again++
		}
	}
	if again == 0 {
		t.Fatal("no job was sent again after the stall")
	}
}

func jobsOf(ids []string) []Job {
	out := make([]Job, len(ids))
	for i, id := range ids {
		out[i] = Job{ID: id, Printer: "p1", ZPL: label(id)}
	}
	return out
}

// writeCut fails the n-th write of a format (counting writes that carry
// ^XA) after its first bytes, like a connection lost in the middle of a
// job.
type writeCut struct {
	printers.Conn
	mu     *sync.Mutex
	writes *int
	at     int
}

func (c writeCut) Write(p []byte) (int, error) {
	if !strings.Contains(string(p), "^XA") {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	*c.writes++
	k := *c.writes
	c.mu.Unlock()
	if k != c.at {
		return c.Conn.Write(p)
	}
	n, _ := c.Conn.Write(p[:5])
	c.Conn.Close()
	return n, errors.New("connection reset by peer")
}

// cutRig is a spooler whose first connection cuts its at-th format write.
func cutRig(t *testing.T, so printersim.Options, at int, mod func(*printers.Config)) *rig {
	t.Helper()
	var mu sync.Mutex
	dials, writes := 0, 0
	return newRigWith(t, so, mod, func(r *rig, o *Options) {
		o.Dial = func(ctx context.Context, cfg printers.Config) (printers.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", cfg.Address)
			if err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			dials++
			if dials == 1 {
				return writeCut{Conn: c.(*net.TCPConn), mu: &mu, writes: &writes, at: at}, nil
			}
			return c.(*net.TCPConn), nil
		}
	})
}

// A job of three copies cut after its first: the counter shows one label
// printed, and only the other two are sent again.
func TestCutInTheMiddleSendsTheRest(t *testing.T) {
	r := newRigWithCut(t, 2)
	if err := r.sp.Submit(context.Background(), Job{ID: "C3", Printer: "p1", ZPL: label("C3"), Copies: 3}); err != nil {
		t.Fatal(err)
	}
	r.submit(t, "after")
	got := waitAll(t, r.sp, []string{"C3", "after"}, 20*time.Second)
	checkExact(t, r.sim, got)
	if got["C3"].Attempts != 2 || got["C3"].Resume != nil || got["C3"].Mark != nil {
		t.Fatalf("C3 %+v", got["C3"])
	}
	// the second attempt sent two copies
	fs := r.sim.Formats()
	if n := len(fs); n != 4 { // copy 1, copies 2 and 3 again, "after"
		t.Fatalf("%d formats reached the printer", n)
	}
}

func newRigWithCut(t *testing.T, at int) *rig {
	return cutRig(t, counterSim(0), at, func(c *printers.Config) { withCounter(c); c.BatchJobs = 4 })
}

// A power cycle loses the printer's buffer, and its counter may lag: the
// jobs of the batch are unknown, as without a counter, and none prints
// twice.
func TestPowerCycleLeavesUnknown(t *testing.T) {
	r, logs := counterRig(t, counterSim(20), withCounter)
	all := ids("P", 8)
	for _, id := range all {
		r.submit(t, id)
	}
	for i := 0; i < 3000; i++ {
		if _, l := r.sim.Count(); l >= 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.sim.PowerCycle(50 * time.Millisecond)
	got := waitAll(t, r.sp, all, 20*time.Second)
	n := printedLabels(r.sim)
	unknown := 0
	for id, j := range got {
		switch j.State {
		case Unknown:
			unknown++
			if !strings.Contains(j.Reason, "restarted") {
				t.Errorf("job %s unknown: %s", id, j.Reason)
			}
		case Confirmed:
			if n[id] != 1 {
				t.Errorf("job %s confirmed, printed %d", id, n[id])
			}
		default:
			t.Errorf("job %s is %s (%s)", id, j.State, j.Reason)
		}
		if n[id] > 1 {
			t.Errorf("job %s printed %d times", id, n[id])
		}
	}
	if unknown == 0 {
		t.Fatalf("no job was left unknown by the power cycle; log:\n%s", logs)
	}
}

// The gateway stopped while a batch waited for a paused printer: after the
// restart, the counter confirms what printed and queues what did not.
func TestRestartResolvedByCounter(t *testing.T) {
	sim, addr := startSim(t, counterSim(5))
	dir := t.TempDir()
	cfg := testConfig(addr)
	withCounter(&cfg)
	cfg.Timeouts.Confirm = 300 * time.Millisecond
	open := func() (*store.Store, *Spooler) {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := New(st, Options{Printers: []printers.Config{cfg}, Backoff: func(int) time.Duration { return 5 * time.Millisecond }})
		if err != nil {
			t.Fatal(err)
		}
		return st, sp
	}
	st, sp := open()
	sim.SetFault(printersim.Pause, true)
	all := ids("R", 6)
	for _, id := range all {
		if err := sp.Submit(context.Background(), Job{ID: id, Printer: "p1", ZPL: label(id)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(ctx) }()
	// held by the pause, then resumed and stopped while the batch is
	// written but not seen taken: pause again so it stays in the printer
	for i := 0; i < 2000; i++ {
		if j, _ := sp.Get(all[0]); j.State == Held {
			break
		}
		time.Sleep(time.Millisecond)
	}
	sim.SetFault(printersim.Pause, false)
	for i := 0; i < 2000; i++ {
		if f, _ := sim.Count(); f == len(all) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	sim.SetFault(printersim.Pause, true)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if j, _ := sp.Get(all[0]); j.State != Sent || j.Mark == nil {
		t.Fatalf("after the stop %s is %s with mark %+v, want sent with a counter mark", j.ID, j.State, j.Mark)
	}
	st.Close()
	sim.Resume()
	st, sp = open()
	defer st.Close()
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- sp.Run(ctx) }()
	defer func() { cancel(); <-done }()
	checkExact(t, sim, waitAll(t, sp, all, 20*time.Second))
}

func TestPlaceLabels(t *testing.T) {
	for _, tc := range []struct {
		eff  []int
		good int
		want []int
	}{
		{[]int{1, 1, 1}, 2, []int{1, 1, 0}},
		{[]int{3, 2, 1}, 4, []int{3, 1, 0}},
		{[]int{2, 0, 2}, 3, []int{2, 0, 1}},
		{[]int{1, 1}, 0, []int{0, 0}},
		{[]int{1, 1}, -1, []int{0, 0}},
	} {
		if got := placeLabels(tc.eff, tc.good); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("placeLabels(%v, %d) = %v, want %v", tc.eff, tc.good, got, tc.want)
		}
	}
}

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		zpl            string
		copies, before int
		want           string
	}{
		{"^XA^FDa^XZ", 3, 1, "^XA^FDa^XZ^XA^FDa^XZ"},
		{"^XA^PQ5^FDa^XZ", 1, 2, "^XA^PQ3^FDa^XZ"},
		{"^xa^pq 5,0,1,Y^FDa^xz", 1, 4, "^xa^pq1,0,1,Y^FDa^xz"},
		{"~DGR:A.GRF,2,1,FF\n^XA^FDa^XZ^XA^PQ2^FDb^XZ", 1, 2, "~DGR:A.GRF,2,1,FF^XA^PQ1^FDb^XZ"},
		{"^XA^FDa^XZ^XA^FDb^XZ", 2, 3, "^XA^FDb^XZ"},
		{"^XA^FDa^XZ", 1, 0, "^XA^FDa^XZ"},
	} {
		got, err := remaining(tc.zpl, tc.copies, tc.before)
		if err != nil || got != tc.want {
			t.Errorf("remaining(%q, %d, %d) = %q, %v; want %q", tc.zpl, tc.copies, tc.before, got, err, tc.want)
		}
		if n, err := CheckZPL(got); err != nil || (tc.before > 0 && n.Labels*1 != labelsOf(t, tc.zpl)*tc.copies-tc.before) {
			t.Errorf("remaining(%q) = %q: %d labels, %v", tc.zpl, got, n.Labels, err)
		}
	}
	if _, err := remaining("^XA^PQ4^SN1,1^FDx^FS^XZ", 1, 2); !errors.Is(err, errNotResumable) {
		t.Errorf("a numbered format cut after 2 of 4: %v", err)
	}
	if _, err := remaining("^XA^FDa^XZ", 1, 2); !errors.Is(err, errNotResumable) {
		t.Errorf("more printed than the job has: %v", err)
	}
}

func labelsOf(t testing.TB, zpl string) int {
	n, err := CheckZPL(zpl)
	if err != nil {
		t.Fatal(err)
	}
	return n.Labels
}
