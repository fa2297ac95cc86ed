package llrp_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// startSim serves sc on a loopback port and returns its address.
func startSim(t *testing.T, sc *readersim.Scenario, scale float64) (string, *readersim.Sim) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sim := readersim.New(sc)
	sim.TimeScale = scale
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	})
	return ln.Addr().String(), sim
}

func loadScenario(t *testing.T, name string) *readersim.Scenario {
	t.Helper()
	sc, err := readersim.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// recorder collects reads and events from a session.
type recorder struct {
	mu     sync.Mutex
	epcs   map[rfid.EPC]int
	events []rfid.ReaderEvent
	reads  int
	notify chan struct{}
}

func newRecorder() *recorder {
	return &recorder{epcs: map[rfid.EPC]int{}, notify: make(chan struct{}, 1)}
}

func (r *recorder) onReads(b []rfid.Read) {
	r.mu.Lock()
	for _, rd := range b {
		r.epcs[rd.EPC]++
		r.reads++
	}
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) onEvent(e rfid.ReaderEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor polls cond on every callback, up to a generous bound.
func (r *recorder) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ok := cond()
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out waiting for %s; events: %v", what, r.kinds())
		}
	}
}

func (r *recorder) count(k rfid.EventKind) int {
	n := 0
	for _, e := range r.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func (r *recorder) kinds() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s []string
	for _, e := range r.events {
		x := e.Kind.String()
		if e.Err != nil {
			x += "(" + e.Err.Error() + ")"
		}
		s = append(s, x)
	}
	return strings.Join(s, ", ")
}

func runSession(t *testing.T, cfg llrp.Config) (*llrp.Session, context.CancelFunc) {
	t.Helper()
	s, err := llrp.NewSession(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return s, cancel
}

func TestSessionReadsScenario(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	addr, sim := startSim(t, sc, 10)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "all nine cartons' EPCs", func() bool {
		n := 0
		for _, p := range sc.Truth() {
			for _, e := range p.EPCs {
				if rec.epcs[e] > 0 {
					n++
				}
			}
		}
		return n == 9
	})
	rec.waitFor(t, "keepalive acks", func() bool { return sim.Stats().KeepaliveAcks > 0 })
	rec.mu.Lock()
	if rec.count(rfid.EventConnected) != 1 {
		t.Errorf("connected events = %d, want 1", rec.count(rfid.EventConnected))
	}
	rec.mu.Unlock()
	if st := s.Stats(); st.Reads == 0 || st.Connects != 1 || st.Malformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSessionReconnectsAfterDrop(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.Faults = []readersim.Fault{{At: 800 * time.Millisecond, Kind: readersim.FaultDrop}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	var mu sync.Mutex
	var attempts []int
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		HealthyAfter: time.Millisecond,
		Backoff: func(n int) time.Duration {
			mu.Lock()
			attempts = append(attempts, n)
			mu.Unlock()
			return 10 * time.Millisecond
		},
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "a second connection", func() bool { return rec.count(rfid.EventConnected) >= 2 })
	rec.mu.Lock()
	if rec.count(rfid.EventDisconnected) < 1 {
		t.Error("no disconnected event")
	}
	rec.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) == 0 || attempts[0] != 0 {
		t.Errorf("backoff attempts %v: after a healthy session the first retry must be attempt 0", attempts)
	}
}

func TestSessionHalfOpenIsNoticed(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.Faults = []readersim.Fault{{At: 200 * time.Millisecond, Kind: readersim.FaultMute, For: time.Hour}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 50 * time.Millisecond,
		Backoff: func(int) time.Duration { return 10 * time.Millisecond },
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	rec.waitFor(t, "keepalive timeout and reconnect", func() bool {
		timeout := false
		for _, e := range rec.events {
			if e.Kind == rfid.EventDisconnected && errors.Is(e.Err, rfid.ErrKeepaliveTimeout) {
				timeout = true
			}
		}
		return timeout && rec.count(rfid.EventConnected) >= 2
	})
}

func TestSessionSecondClientRefused(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	addr, sim := startSim(t, sc, 1)
	first := newRecorder()
	runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		OnEvent: first.onEvent})
	first.waitFor(t, "first client connected", func() bool { return first.count(rfid.EventConnected) == 1 })
	second := newRecorder()
	var mu sync.Mutex
	var attempts []int
	runSession(t, llrp.Config{ReaderID: "r2", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		Backoff: func(n int) time.Duration {
			mu.Lock()
			attempts = append(attempts, n)
			mu.Unlock()
			return 5 * time.Millisecond
		},
		OnEvent: second.onEvent})
	second.waitFor(t, "refusals", func() bool {
		n := 0
		for _, e := range second.events {
			if e.Kind == rfid.EventConnectFailed && errors.Is(e.Err, rfid.ErrConnectionRefused) {
				n++
			}
		}
		return n >= 4
	})
	mu.Lock()
	if len(attempts) < 3 || attempts[1] != 1 || attempts[2] != 2 {
		t.Errorf("backoff attempts %v: failed connects must grow the attempt count", attempts)
	}
	mu.Unlock()
	if sim.Stats().Refused < 3 {
		t.Errorf("sim refused %d", sim.Stats().Refused)
	}
}

func TestNewSessionValidates(t *testing.T) {
	for _, cfg := range []llrp.Config{
		{},
		{Address: "h:5084", Antennas: []uint16{0}},
		{Address: "h:5084", KeepalivePeriod: -time.Second},
	} {
		if _, err := llrp.NewSession(cfg); err == nil {
			t.Errorf("NewSession(%+v) succeeded", cfg)
		}
	}
	if _, err := llrp.NewSession(llrp.Config{Address: "reader-1"}); err != nil {
		t.Errorf("host without port: %v", err)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := llrp.Backoff(100*time.Millisecond, time.Second)
	for n := range 10 {
		d := b(n)
		hi := min(100*time.Millisecond<<n, time.Second)
		if d < hi/2 || d > hi {
			t.Errorf("attempt %d: %v outside [%v, %v]", n, d, hi/2, hi)
		}
	}
}

func TestSessionWritesEPC(t *testing.T) {
	sc := loadScenario(t, "dock-in")
	sc.Cartons[0].Dwell = time.Hour // stays in the field
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	addr, _ := startSim(t, sc, 1)
	rec := newRecorder()
	s, _ := runSession(t, llrp.Config{ReaderID: "r1", Address: addr, KeepalivePeriod: 500 * time.Millisecond,
		OnReads: rec.onReads, OnEvent: rec.onEvent})
	target := rfid.MustParseEPC("3054257BF46DB640000003E9")
	rec.waitFor(t, "the target tag", func() bool { return rec.epcs[target] > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Same length: EPC words only.
	newEPC := rfid.MustParseEPC("3054257BF46DB64000000FFF")
	res, err := s.WriteEPC(ctx, target, newEPC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Result != 0 || res.WordsWritten != 6 || res.EPC != target {
		t.Fatalf("write result %+v", res)
	}
	rec.waitFor(t, "the new EPC", func() bool { return rec.epcs[newEPC] > 0 })
	// Longer EPC: PC word rewritten too.
	longer := rfid.MustParseEPC("3054257BF46DB64000000FFF1234")
	if res, err = s.WriteEPC(ctx, newEPC, longer, 0); err != nil || res.WordsWritten != 8 {
		t.Fatalf("longer write: %+v, %v", res, err)
	}
	rec.waitFor(t, "the longer EPC", func() bool { return rec.epcs[longer] > 0 })
	// A caller that has given up before the write went out: it never goes.
	gone, cancel3 := context.WithCancel(context.Background())
	cancel3()
	never := rfid.MustParseEPC("3054257BF46DB64000000AAA")
	for range 20 {
		if _, err := s.WriteEPC(gone, longer, never, 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("write for a cancelled caller: %v", err)
		}
	}
	// A write after them goes through, and the abandoned ones never did.
	final := rfid.MustParseEPC("3054257BF46DB64000000BBB")
	if _, err := s.WriteEPC(ctx, longer, final, 0); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "the final EPC", func() bool { return rec.epcs[final] > 0 })
	rec.mu.Lock()
	rewritten := rec.epcs[never]
	rec.mu.Unlock()
	if rewritten > 0 {
		t.Fatal("a write whose caller had given up rewrote the tag")
	}
	newEPC = final
	// A tag that is not there: the write is never reported.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	if _, err := s.WriteEPC(short, rfid.MustParseEPC("E2801160600002084E5C7A11"), newEPC, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write to an absent tag: %v", err)
	}
}
