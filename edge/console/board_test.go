package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// withSignals gives DOOR1 a blue for every pass (for 2 s), labelled, and a
// red for a hold alert, by default.
func withSignals(c *config.Config) {
	c.Doors[0].Signals = []signals.Rule{
		{On: signals.EventHoldAlert, GPO: signals.Ports{2}, For: 10 * time.Second},
		{On: signals.EventPass, GPO: signals.Ports{1}, For: 2 * time.Second, Color: signals.ColorBlue, Label: "Pallet through — drive on"},
	}
}

// The board shows the door's light stack: which output is lit by which
// rule, and it goes out on the board with no event of the outbox (the
// signals engine tells the console).
func TestConsoleBoardLights(t *testing.T) {
	r := newRig(t, withSignals)
	door := openSSE(t, r.base+"/events?topic=door/DOOR1")
	first := door.next(t, 5*time.Second, "board", "Light stack")
	for _, want := range []string{`data-rule="lot.hold.alert" data-color="red" data-lit="false"`, `data-rule="pass" data-color="blue" data-lit="false"`,
		`<span class="light-label">Held lot</span>`, `off · <span class="nowrap">red lamp</span>`, "GPO 2 · lot.hold.alert (alert)",
		`<span class="light-label">Pallet through — drive on</span>`, `off · <span class="nowrap">blue lamp</span>`} {
		if !strings.Contains(first, want) {
			t.Fatalf("board before any pass lacks %q:\n%s", want, first)
		}
	}
	rc := r.receive("ASN-L", 2)
	r.movePortal(rc)
	lit := door.next(t, 30*time.Second, "board", `data-rule="pass" data-color="blue" data-lit="true"`)
	for _, want := range []string{`<li class="light light-on" data-rule="pass"`, `class="lamp lamp-blue"`, `<strong>ON</strong> · <span class="nowrap">blue lamp</span> · `,
		" s left</span>", "GPO 1 · pass</small>", `<li class="light light-off light-alert" data-rule="lot.hold.alert"`} {
		if !strings.Contains(lit, want) {
			t.Fatalf("board with the pass's green lacks %q:\n%s", want, lit)
		}
	}
	// The page renders the same board.
	if code, page, _ := r.page("/doors/DOOR1"); code != 200 || !strings.Contains(page, "Light stack") || !strings.Contains(page, `data-rule="pass"`) {
		t.Fatalf("GET /doors/DOOR1: %d\n%s", code, page)
	}
	door.next(t, 10*time.Second, "board", `data-rule="pass" data-color="blue" data-lit="false"`)

	// A door without signals shows no light stack.
	plain := newRig(t)
	if _, page, _ := plain.page("/doors/DOOR1"); strings.Contains(page, "Light stack") || strings.Contains(page, "GPO") {
		t.Errorf("a door without signals shows a light stack:\n%s", page)
	}
}

// A reader's inputs, its connection and its loss reach an open board at
// once, with no event of the outbox.
func TestConsoleReaderLive(t *testing.T) {
	r := newRig(t, withSignals, func(c *config.Config) {
		c.Readers[0].Trigger = readers.Trigger{Start: readers.TriggerGPI, Port: 1, Level: "high", Stop: readers.TriggerGPI}
	})
	door := openSSE(t, r.base+"/events?topic=door/DOOR1")
	door.next(t, 5*time.Second, "board", "Light stack")
	sc := &readersim.Scenario{Name: "photo-eye", Cycle: 20 * time.Millisecond,
		Doors: []readersim.Door{{ID: "DOOR1", Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}},
		GPI:   []readersim.GPIStep{{At: 300 * time.Millisecond, Port: 1, State: readersim.GPIHigh}}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(r.ctx)
	served := make(chan error, 1)
	go func() { served <- readersim.New(sc).Serve(simCtx, r.reader) }()
	door.next(t, 15*time.Second, "board", `data-state="connected"`)
	door.next(t, 10*time.Second, "board", "read trigger (GPI 1): <strong>▲ high</strong>")
	stopSim()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	b := door.next(t, 10*time.Second, "board", `data-state="down"`)
	if !strings.Contains(b, "✖ R1 not connected") || strings.Contains(b, "(GPI 1)") {
		t.Fatalf("board after the reader left:\n%s", b)
	}
	_, page, _ := r.page("/doors/DOOR1")
	for _, want := range []string{"✖ R1 not connected", "The reader is not connected: the lights are not set."} {
		if !strings.Contains(page, want) {
			t.Errorf("door page lacks %q:\n%s", want, page)
		}
	}
}

// A photo eye blocked before the gateway connects: the board shows the
// read trigger high at connect with no change of the input.
func TestConsoleReaderInputsAtConnect(t *testing.T) {
	r := newRig(t, withSignals, func(c *config.Config) {
		c.Readers[0].Trigger = readers.Trigger{Start: readers.TriggerGPI, Port: 1, Level: "high", Stop: readers.TriggerGPI}
	})
	door := openSSE(t, r.base+"/events?topic=door/DOOR1")
	door.next(t, 5*time.Second, "board", "Light stack")
	sc := &readersim.Scenario{Name: "eye-blocked", Cycle: 20 * time.Millisecond,
		Doors: []readersim.Door{{ID: "DOOR1", Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}},
		GPI:   []readersim.GPIStep{{At: 0, Port: 1, State: readersim.GPIHigh}}}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(r.ctx)
	served := make(chan error, 1)
	go func() { served <- readersim.New(sc).Serve(simCtx, r.reader) }()
	defer func() {
		stopSim()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	door.next(t, 15*time.Second, "board", "read trigger (GPI 1): <strong>▲ high</strong> at connect <time>")
	if _, page, _ := r.page("/doors/DOOR1"); !strings.Contains(page, "read trigger (GPI 1): <strong>▲ high</strong> at connect") {
		t.Fatalf("door page lacks the input at connect:\n%s", page)
	}
}
