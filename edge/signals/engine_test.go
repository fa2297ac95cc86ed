package signals

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// The light stack of the issue: red (2) for a held lot, green (1) for a
// matched pass, red and buzzer (2, 3) blinking for an unexpected carton.
func lightStack() Door {
	return Door{ID: "D1", Reader: "R1", Rules: []Rule{
		{On: EventHoldAlert, GPO: Ports{2}, For: 10 * time.Second},
		{On: EventPassMatched, GPO: Ports{1}, For: 2 * time.Second},
		{On: EventUnexpected, GPO: Ports{2, 3}, Pattern: PatternBlink},
		{On: EventMismatch, GPO: Ports{2}, For: 10 * time.Second},
	}}
}

func TestHeldLotPassLightsGPO2For10s(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	waitFor(t, "reset of ports 1-3", func() bool { return len(r.out.written()) == 3 })
	r.pass("D1", r.clock.Now().Add(-4*time.Second), true, false)
	r.lit(2) // not 1: the pass had an alert
	waitHigh(t, r.out, 2)
	r.clock.Advance(9900 * time.Millisecond)
	r.lit(2)
	r.clock.Advance(200 * time.Millisecond)
	r.lit()
	waitHigh(t, r.out)
	if got := r.out.written(); !slices.Equal(got[3:], []write{{2, true}, {2, false}}) {
		t.Errorf("writes after the reset %v, want port 2 high then low", got[3:])
	}
}

func TestMatchedPassLightsGPO1For2s(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	r.pass("D1", r.clock.Now().Add(-4*time.Second), false, false)
	r.lit(1)
	waitHigh(t, r.out, 1)
	r.clock.Advance(1999 * time.Millisecond)
	r.lit(1)
	r.clock.Advance(time.Millisecond)
	r.lit()
	waitHigh(t, r.out)
}

func TestAlertOverridesGreen(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	r.pass("D1", r.clock.Now().Add(-3*time.Second), false, false)
	waitHigh(t, r.out, 1)
	r.clock.Advance(500 * time.Millisecond)
	// A held carton in the next pass: red, and the green goes off.
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.lit(2)
	waitHigh(t, r.out, 2)
	// A matched pass while the red is lit does not light the green.
	r.clock.Advance(time.Second)
	r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
	r.lit(2)
	// Nor does the green come back when the red goes off.
	r.clock.Advance(9 * time.Second)
	r.lit()
	waitHigh(t, r.out)
	r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
	r.lit(1)
}

func TestUnexpectedCartonBlinks(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	r.pass("D1", r.clock.Now().Add(-2*time.Second), false, true)
	r.lit(2, 3) // not 1: the pass had an unexpected carton
	waitHigh(t, r.out, 2, 3)
	for i := range 4 {
		r.clock.Advance(500 * time.Millisecond) // half the default period
		if i%2 == 0 {
			r.lit()
			waitHigh(t, r.out)
		} else {
			r.lit(2, 3)
			waitHigh(t, r.out, 2, 3)
		}
	}
	// Lit for the default 5 s, then off for good.
	r.clock.Advance(3 * time.Second)
	r.lit()
	r.clock.Advance(5 * time.Second)
	r.lit()
	waitHigh(t, r.out)
}

func TestBlinkPeriodConfigurable(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{{On: EventPass, GPO: Ports{4}, Pattern: PatternBlink, Period: 400 * time.Millisecond, For: time.Second}}})
	r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
	var phases []bool
	for range 6 {
		phases = append(phases, len(r.eng.Lit("R1")) == 1)
		r.clock.Advance(200 * time.Millisecond)
	}
	if want := []bool{true, false, true, false, true, false}; !slices.Equal(phases, want) {
		t.Errorf("phases every 200ms %v, want %v", phases, want)
	}
	r.lit()
}

func TestShippingMismatchLightsRed(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	end := r.clock.Now()
	start := end.Add(-3 * time.Second)
	// As the gateway commits a pass out of a shipping door with a carton
	// of another shipment: shipment.mismatch, then the pass.
	r.eventAt(EventMismatch, end, map[string]any{"door": "D1", "direction": "out", "time": end,
		"shipments": []string{"S1"}, "cartons": []map[string]any{{"epc": "3074", "reason": "not_on_shipment"}}})
	r.eventAt("portal.pass", end, map[string]any{"door": "D1", "start": start, "end": end, "direction": "out"})
	r.lit(2) // red, no green
	waitHigh(t, r.out, 2)
	r.clock.Advance(10 * time.Second)
	r.lit()
}

func TestRetriggerExtends(t *testing.T) {
	r := newRig(t, lightStack())
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.clock.Advance(8 * time.Second)
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.clock.Advance(8 * time.Second) // 16 s after the first
	r.lit(2)
	r.clock.Advance(2 * time.Second)
	r.lit()
}

func TestPortHeldByAnotherRule(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{
		{On: EventHoldAlert, GPO: Ports{2}, For: 10 * time.Second},
		{On: EventMismatch, GPO: Ports{2, 3}, For: 3 * time.Second},
	}})
	r.connect()
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.event(EventMismatch, map[string]any{"door": "D1"})
	r.lit(2, 3)
	r.clock.Advance(3 * time.Second)
	r.lit(2) // the mismatch is over; the hold alert still holds 2
	waitHigh(t, r.out, 2)
	r.clock.Advance(7 * time.Second)
	r.lit()
	waitHigh(t, r.out)
}

// Two doors on one reader: each has its own ports, and an alert at one
// door leaves the other's green alone.
func TestDoorsShareAReader(t *testing.T) {
	r := newRig(t,
		Door{ID: "D1", Reader: "R1", Rules: []Rule{{On: EventHoldAlert, GPO: Ports{2}}, {On: EventPassMatched, GPO: Ports{1}}}},
		Door{ID: "D2", Reader: "R1", Rules: []Rule{{On: EventHoldAlert, GPO: Ports{4}}, {On: EventPassMatched, GPO: Ports{3}}}})
	r.pass("D2", r.clock.Now().Add(-time.Second), false, false)
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.lit(2, 3)
}

// The parts of a pass too large for one event: the pass is told once, at
// its last part, and an alert of the pass keeps it from matching.
func TestPassInParts(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{{On: EventPass, GPO: Ports{1}, For: time.Second}, {On: EventPassMatched, GPO: Ports{3}, For: time.Second}}})
	end := r.clock.Now()
	start := end.Add(-5 * time.Second)
	for part := 1; part <= 2; part++ {
		r.eventAt("portal.pass", end, map[string]any{"door": "D1", "start": start, "end": end, "part": part, "parts": 3})
	}
	r.lit()
	r.eventAt("portal.pass", end, map[string]any{"door": "D1", "start": start, "end": end, "part": 3, "parts": 3})
	r.lit(1, 3)
}

// The marks of a pass are its own: an alert of another pass at the door
// (or of the same pass at another door) does not keep this one from
// matching.
func TestMarksBelongToTheirPass(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{{On: EventPassMatched, GPO: Ports{1}, For: time.Second}}},
		Door{ID: "D2", Reader: "R1", Rules: []Rule{{On: EventPassMatched, GPO: Ports{3}, For: time.Second}}})
	now := r.clock.Now()
	r.eventAt(EventHoldAlert, now, map[string]any{"door": "D1", "pass_start": now.Add(-time.Minute)})
	r.eventAt(EventUnexpected, now.Add(-time.Second), map[string]any{"door": "D1"})
	r.eventAt(EventHoldAlert, now, map[string]any{"door": "D2", "pass_start": now.Add(-2 * time.Second)})
	r.pass("D1", now.Add(-2*time.Second), false, false)
	r.lit(1)
}

func TestStaleEventLightsNothing(t *testing.T) {
	r := newRig(t, lightStack())
	old := r.clock.Now().Add(-time.Minute)
	r.eventAt(EventHoldAlert, old, map[string]any{"door": "D1", "pass_start": old.Add(-time.Second)})
	r.eventAt("portal.pass", old, map[string]any{"door": "D1", "start": old.Add(-time.Second), "end": old})
	r.lit()
}

func TestOtherEvents(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{
		{On: EventLoaded, GPO: Ports{5}}, {On: EventShipped, GPO: Ports{6}}, {On: EventPass, GPO: Ports{7}}}})
	r.event(EventLoaded, map[string]any{"door": "D1", "shipment": "S1"})
	r.event(EventShipped, map[string]any{"door": "D1", "shipment": "S1"})
	r.event(EventLoaded, map[string]any{"door": "D9", "shipment": "S2"}) // not a door with rules
	r.event("receipt.complete", map[string]any{"door": "D1"})            // not an event rules are on
	r.event(EventPass, map[string]any{"door": "D1"})                     // the rule's name, not an event type
	r.lit(5, 6)
	// A pass from the portal of a door without rules is not read.
	r.eng.Queued([]outbox.Event{{Type: "portal.pass", Source: "portal/D9", Time: r.clock.Now(), Body: []byte(`{"door":"D1"}`)}})
	r.lit(5, 6)
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false) // a pass with an alert is still a pass
	r.lit(5, 6, 7)
}

// Outputs are reset at every connection: each port the rules drive is
// written, low unless lit; and set low when the engine stops.
func TestResetAtConnectAndShutdown(t *testing.T) {
	r := newRig(t, lightStack())
	// Not connected yet: decided, not written.
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.lit(2)
	time.Sleep(10 * time.Millisecond)
	if w := r.out.written(); len(w) != 0 {
		t.Fatalf("written before the reader connected: %v", w)
	}
	r.connect()
	waitFor(t, "ports 1-3 written", func() bool { return len(r.out.written()) == 3 })
	if got := r.out.written(); !slices.Equal(got, []write{{1, false}, {2, true}, {3, false}}) {
		t.Errorf("writes at the connection %v", got)
	}
	// A reconnection writes them all again.
	r.eng.ReaderEvent(rfid.ReaderEvent{Kind: rfid.EventDisconnected, Reader: "R1"})
	r.connect()
	waitFor(t, "ports 1-3 written again", func() bool { return len(r.out.written()) == 6 })
	if got := r.out.written()[3:]; !slices.Equal(got, []write{{1, false}, {2, true}, {3, false}}) {
		t.Errorf("writes at the reconnection %v", got)
	}
	r.stop()
	if got := r.out.written()[6:]; !slices.Equal(got, []write{{1, false}, {2, false}, {3, false}}) {
		t.Errorf("writes at shutdown %v, want every port low", got)
	}
	r.lit()
}

// A reader that is slow to take a write gets the latest state, not every
// state in between; the caller is never held.
func TestWritesCoalesce(t *testing.T) {
	r := newRig(t, Door{ID: "D1", Reader: "R1", Rules: []Rule{{On: EventPass, GPO: Ports{1}, For: time.Second}}})
	block := make(chan struct{})
	r.out.mu.Lock()
	r.out.block = block
	r.out.mu.Unlock()
	r.connect() // the writer is now held in the reset of port 1
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
			r.clock.Advance(time.Second) // lit, then off
		}
		r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
	}()
	waitFor(t, "the events handled while the reader is held", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	close(block)
	waitHigh(t, r.out, 1)
	if n := len(r.out.written()); n > 3 {
		t.Errorf("%d writes for 101 changes while the reader was held, want at most 3 (the reset, then the latest state)", n)
	}
}

// lockedBuffer is a log sink for tests.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestWriteFailuresLoggedOncePerStreak(t *testing.T) {
	var logs lockedBuffer
	clock, out := newFakeClock(), newFakeOutputs()
	var mu sync.Mutex
	results := map[string]int{}
	eng, err := New(Config{Doors: []Door{{ID: "D1", Reader: "R1", Rules: WithDefaults([]Rule{{On: EventPass, GPO: Ports{1}}})}},
		Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnWrite: func(door string, port uint16, err error) {
			mu.Lock()
			defer mu.Unlock()
			results[door+"/"+map[bool]string{true: "ok", false: "failed"}[err == nil]]++
		}})
	if err != nil {
		t.Fatal(err)
	}
	eng.Attach("R1", out)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() { cancel(); <-done }()
	count := func(key string) int {
		mu.Lock()
		defer mu.Unlock()
		return results[key]
	}
	out.setFail(errNoReader)
	eng.ReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnected, Reader: "R1"})
	waitFor(t, "a failed write", func() bool { return count("D1/failed") == 1 })
	for i := 2; i <= 4; i++ {
		clock.Advance(maxRetryAfter) // tried again, a second later and then less often
		waitFor(t, "another failed write", func() bool { return count("D1/failed") == i })
	}
	if n := strings.Count(logs.String(), "door signal not set"); n != 1 {
		t.Errorf("%d warnings for a streak of 4 failures, want 1:\n%s", n, logs.String())
	}
	if w := eng.Warnings(); len(w) != 1 || w[0] != "door signals of reader R1 not set, the light stack of D1 may be wrong: reader not connected" {
		t.Errorf("warnings %q", w)
	}
	out.setFail(nil)
	clock.Advance(maxRetryAfter)
	waitFor(t, "the write to succeed", func() bool { return count("D1/ok") == 1 })
	waitFor(t, "the recovery logged", func() bool { return strings.Contains(logs.String(), "door signals set again") })
	if w := eng.Warnings(); len(w) != 0 {
		t.Errorf("warnings after a write succeeded: %q", w)
	}
	out.setFail(errNoReader)
	eng.Queued([]outbox.Event{{Type: "portal.pass", Time: clock.Now(), Body: []byte(`{"door":"D1","start":"2026-12-05T08:00:00Z"}`)}})
	waitFor(t, "a failed write", func() bool { return count("D1/failed") == 5 })
	waitFor(t, "the second streak logged", func() bool { return strings.Count(logs.String(), "door signal not set") == 2 })
}

func TestNewRefusesBadRules(t *testing.T) {
	for _, tc := range []struct {
		door Door
		want string
	}{
		{Door{ID: "D1", Rules: []Rule{{On: EventPass, GPO: Ports{1}}}}, `door "D1": signals need the door's reader`},
		{Door{ID: "D1", Reader: "R1", Rules: WithDefaults([]Rule{{On: "pass.ok", GPO: Ports{1}}})}, `signals[0]: door "D1": on: "pass.ok" is not an event`},
	} {
		if _, err := New(Config{Doors: []Door{tc.door}}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.door, err, tc.want)
		}
	}
}

// Whatever an event's body holds, Queued neither panics nor lights a door
// it does not name.
func FuzzQueued(f *testing.F) {
	for _, s := range []string{`{"door":"D1","start":"2026-12-05T08:00:00Z"}`, `{"door":"D1","part":2,"parts":1}`, `{"door":5}`, `[`, ``, `null`,
		`{"door":"D1","pass_start":"not a time"}`} {
		f.Add("portal.pass", s)
		f.Add(EventHoldAlert, s)
	}
	f.Fuzz(func(t *testing.T, typ, body string) {
		clock := newFakeClock()
		eng, err := New(Config{Doors: []Door{lightStack()}, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		eng.Queued([]outbox.Event{{Type: typ, Time: clock.Now(), Body: []byte(body)}})
		clock.Advance(time.Minute)
		if lit := eng.Lit("R1"); len(lit) != 0 {
			t.Fatalf("lit %v a minute after any event", lit)
		}
	})
}

func TestLightsAndOnChange(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var changes []string
	eng, err := New(Config{Doors: []Door{lightStack(), {ID: "D2", Reader: "R1", Rules: []Rule{{On: EventPass, GPO: Ports{4}}}}},
		Clock: clock, OnChange: func(door string) {
			mu.Lock()
			defer mu.Unlock()
			changes = append(changes, door)
		}})
	if err != nil {
		t.Fatal(err)
	}
	took := func(want ...string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(changes, want) {
			t.Fatalf("changes %q, want %q", changes, want)
		}
		changes = nil
	}
	queue := func(typ string, body string) {
		eng.Queued([]outbox.Event{{Type: typ, Time: clock.Now(), Body: []byte(body)}})
	}
	if got := eng.Lights("D3"); got != nil {
		t.Errorf("lights of a door without rules: %v", got)
	}
	ls := eng.Lights("D1")
	if len(ls) != 4 || ls[0].On != EventHoldAlert || !ls[0].Alert || ls[1].Alert || ls[0].Lit || ls[2].Pattern != PatternBlink {
		t.Fatalf("lights before any event: %+v", ls)
	}
	queue(EventHoldAlert, `{"door":"D1","pass_start":"2026-12-05T07:59:58Z"}`)
	took("D1")
	ls = eng.Lights("D1")
	if !ls[0].Lit || !ls[0].Until.Equal(clock.Now().Add(10*time.Second)) || ls[1].Lit {
		t.Fatalf("lights after a hold alert: %+v", ls)
	}
	// An event no rule of the door is on changes nothing.
	queue(EventShipped, `{"door":"D1"}`)
	took()
	clock.Advance(10 * time.Second)
	took("D1")
	if ls = eng.Lights("D1"); ls[0].Lit {
		t.Fatalf("lights after the hold alert's time: %+v", ls)
	}
	queue("portal.pass", `{"door":"D2","start":"2026-12-05T07:59:58Z"}`)
	took("D2")
	clock.Advance(5 * time.Second)
	took("D2")
	// Blinking phases are not changes; lighting and putting out are.
	queue(EventUnexpected, `{"door":"D1"}`)
	took("D1")
	clock.Advance(4 * time.Second)
	took()
	clock.Advance(time.Second)
	took("D1")
}

// Events heard after the engine stopped (the portal pipeline drains after
// the outputs were set low) light nothing: the board must not show a light
// the reader does not.
func TestNothingLitAfterShutdown(t *testing.T) {
	r := newRig(t, lightStack())
	r.connect()
	r.stop()
	r.pass("D1", r.clock.Now().Add(-time.Second), true, false)
	r.pass("D1", r.clock.Now().Add(-time.Second), false, false)
	for _, l := range r.eng.Lights("D1") {
		if l.Lit {
			t.Errorf("rule on %s lit after shutdown", l.On)
		}
	}
	r.lit()
}

// A hold alert carries the time of the held carton's last read: in a long
// pass it is heard stale while the pass is not. The pass is then no
// matched one, and it lights the alert.
func TestHoldAlertHeardStaleInALongPass(t *testing.T) {
	r := newRig(t, lightStack())
	now := r.clock.Now()
	start := now.Add(-2 * time.Minute) // a forklift parked in the door
	r.eventAt(EventHoldAlert, start.Add(time.Second), map[string]any{"door": "D1", "pass_start": start})
	r.lit()
	r.eventAt("portal.pass", now, map[string]any{"door": "D1", "start": start, "end": now})
	r.lit(2)
	// A stale pass lights nothing, and takes its alert's mark with it.
	old := now.Add(-time.Hour)
	r.eventAt(EventHoldAlert, old, map[string]any{"door": "D1", "pass_start": old.Add(-time.Second)})
	r.eventAt("portal.pass", old, map[string]any{"door": "D1", "start": old.Add(-time.Second), "end": old})
	r.clock.Advance(10 * time.Second)
	r.lit()
	if n := len(r.eng.doors["D1"].alerted); n != 0 {
		t.Errorf("%d alert marks left, want 0", n)
	}
}

// A write cut short by the shutdown is no failure: it is neither logged
// nor counted, and the shutdown's own writes follow.
func TestWriteCutByShutdownIsNoFailure(t *testing.T) {
	var logs lockedBuffer
	clock, out := newFakeClock(), newFakeOutputs()
	var mu sync.Mutex
	failed := 0
	eng, err := New(Config{Doors: []Door{{ID: "D1", Reader: "R1", Rules: WithDefaults([]Rule{{On: EventPass, GPO: Ports{1}}})}},
		Clock: clock, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnWrite: func(_ string, _ uint16, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	eng.Attach("R1", out)
	block := make(chan struct{})
	out.mu.Lock()
	out.block = block
	out.mu.Unlock()
	calls := func() int {
		out.mu.Lock()
		defer out.mu.Unlock()
		return out.calls
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	eng.ReaderEvent(rfid.ReaderEvent{Kind: rfid.EventConnected, Reader: "R1"})
	waitFor(t, "the reset write held", func() bool { return calls() == 1 })
	cancel()
	waitFor(t, "the shutdown's write begun", func() bool { return calls() == 2 })
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := out.written(); !slices.Equal(got, []write{{1, false}}) {
		t.Errorf("writes %v, want port 1 low once", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if failed != 0 || strings.Contains(logs.String(), "door signal not set") {
		t.Errorf("%d writes counted failed, log:\n%s", failed, logs.String())
	}
}
