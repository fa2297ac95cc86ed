package signals

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// fakeClock is a Clock that moves only when told: Advance fires the timers
// it passes, in time order, on the caller's goroutine.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	seq    int
	timers []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	seq     int
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{at: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !t.stopped
		t.stopped = true
		return was
	}
}

// Advance moves the clock by d, firing every timer due on the way.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	for {
		c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool { return t.stopped })
		sort.Slice(c.timers, func(i, j int) bool {
			a, b := c.timers[i], c.timers[j]
			return a.at.Before(b.at) || a.at.Equal(b.at) && a.seq < b.seq
		})
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			break
		}
		t := c.timers[0]
		t.stopped = true
		c.now = t.at
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = end
	c.mu.Unlock()
}

// fakeOutputs is a reader's outputs: it records every write.
type fakeOutputs struct {
	mu     sync.Mutex
	state  map[uint16]bool
	writes []write
	fail   error
	// block, when set, holds every write until it is closed; calls
	// counts the writes begun.
	block chan struct{}
	calls int
}

type write struct {
	Port uint16
	High bool
}

func newFakeOutputs() *fakeOutputs { return &fakeOutputs{state: map[uint16]bool{}} }

func (f *fakeOutputs) SetGPO(ctx context.Context, port uint16, high bool) error {
	f.mu.Lock()
	block := f.block
	f.calls++
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.state[port] = high
	f.writes = append(f.writes, write{port, high})
	return nil
}

func (f *fakeOutputs) setFail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = err
}

func (f *fakeOutputs) high() []uint16 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []uint16
	for p, h := range f.state {
		if h {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeOutputs) written() []write {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.writes)
}

var _ rfid.GPOSetter = (*fakeOutputs)(nil)

// waitFor polls cond until it holds, for at most 10 seconds: the readers'
// writers are goroutines.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for range 10000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// waitHigh waits until the fake outputs are high exactly on ports (and every
// port the rules drive has been written).
func waitHigh(t testing.TB, f *fakeOutputs, ports ...uint16) {
	t.Helper()
	waitFor(t, "outputs high on "+portsString(ports), func() bool {
		return slices.Equal(f.high(), ports)
	})
}

func portsString(ps []uint16) string {
	b, _ := json.Marshal(ps)
	return string(b)
}

// rig is an engine on a fake clock with one reader R1 of fake outputs.
type rig struct {
	t     *testing.T
	clock *fakeClock
	eng   *Engine
	out   *fakeOutputs
	stop  func()
	mu    sync.Mutex
	fails map[string]int // OnWrite failures by door
	oks   map[string]int
}

func newRig(t *testing.T, doors ...Door) *rig {
	t.Helper()
	r := &rig{t: t, clock: newFakeClock(), out: newFakeOutputs(), fails: map[string]int{}, oks: map[string]int{}}
	for i := range doors {
		doors[i].Rules = WithDefaults(doors[i].Rules)
	}
	eng, err := New(Config{Doors: doors, Clock: r.clock, OnWrite: func(door string, _ uint16, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.fails[door]++
		} else {
			r.oks[door]++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.eng = eng
	for _, id := range eng.Readers() {
		eng.Attach(id, r.out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			r.stop()
		}
	})
	return r
}

func (r *rig) connect() {
	r.eng.ReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnected, Reader: "R1", Time: r.clock.Now()})
}

// event queues one event of type typ with body, at the clock's time.
func (r *rig) event(typ string, body map[string]any) {
	r.eventAt(typ, r.clock.Now(), body)
}

func (r *rig) eventAt(typ string, at time.Time, body map[string]any) {
	b, err := json.Marshal(body)
	if err != nil {
		r.t.Fatal(err)
	}
	r.eng.Queued([]outbox.Event{{Type: typ, Time: at, Body: b}})
}

// pass queues a pass at door that began start ago and ended now, after
// its alerts and other events (held cartons, unexpected ones) as the
// gateway commits them.
func (r *rig) pass(door string, start time.Time, alerts, unexpected bool) {
	end := r.clock.Now()
	if alerts {
		r.eventAt(EventHoldAlert, end, map[string]any{"door": door, "pass_start": start, "lot": "L1", "epc": "3074"})
	}
	if unexpected {
		r.eventAt(EventUnexpected, end, map[string]any{"door": door, "direction": "in", "epcs": []string{"3075"}})
	}
	r.eventAt("portal.pass", end, map[string]any{"door": door, "start": start, "end": end, "direction": "in"})
}

func (r *rig) lit(want ...uint16) {
	r.t.Helper()
	if got := r.eng.Lit("R1"); !slices.Equal(got, want) {
		r.t.Fatalf("lit ports %v, want %v", got, want)
	}
}

var errNoReader = errors.New("reader not connected")
