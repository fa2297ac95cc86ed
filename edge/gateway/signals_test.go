package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// simCarton is one carton of a scenario file: its EPC moving through the
// door at a scenario time.
type simCarton struct {
	epc, dir string
	at       time.Duration
}

// writeScenario writes a scenario of cartons moving through door (antennas
// 1, 2 outside, 3, 4 inside) and returns its path. Without cartons the
// reader reads nothing for an hour.
func writeScenario(t testing.TB, door string, cartons ...simCarton) string {
	return writeScenarioGPI(t, door, "", cartons...)
}

// writeScenarioGPI is writeScenario with the scenario's gpi: steps.
func writeScenarioGPI(t testing.TB, door, gpi string, cartons ...simCarton) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "name: signals-%s\ncycle: 20ms\nduration: 1h\ndoors:\n  - {id: %s, outside: [1, 2], inside: [3, 4]}\n%scartons:", door, door, gpi)
	if len(cartons) == 0 {
		b.WriteString(" []")
	}
	for i, c := range cartons {
		fmt.Fprintf(&b, "\n  - {name: c%d, door: %s, direction: %s, at: %s, dwell: 800ms, read_rate: 1, epcs: [%s]}", i, door, c.dir, c.at, c.epc)
	}
	path := filepath.Join(t.TempDir(), "signals-"+door+".yaml")
	if err := os.WriteFile(path, []byte(b.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readersim.Load(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// signalsConfig is a gateway on dir with the door of each given role,
// DOOR1 receiving and DOOR2 shipping, each watched by its own sim reader
// (R1, R2) playing the scenario file given; a door without a scenario has
// no reader.
func signalsConfig(t testing.TB, dir string, scenarios map[string]string, rules map[string][]signals.Rule) *config.Config {
	t.Helper()
	c := &config.Config{Site: "sig", Gateway: "gw", DataDir: dir, Broker: config.Broker{Listen: "127.0.0.1:0"}}
	for i, role := range []string{portal.RoleReceiving, portal.RoleShipping} {
		id, reader := fmt.Sprintf("DOOR%d", i+1), fmt.Sprintf("R%d", i+1)
		d := config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: role}}
		if sc, ok := scenarios[id]; ok {
			c.Readers = append(c.Readers, readers.Config{ID: reader, Type: readers.TypeSim, Scenario: sc})
			d.Reader, d.AntennasOutside, d.AntennasInside, d.PresenceTimeout = reader, []uint16{1, 2}, []uint16{3, 4}, 700*time.Millisecond
			d.Signals = rules[id]
		}
		c.Doors = append(c.Doors, d)
	}
	filled, err := config.Complete(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	filled.HTTP.Listen = ""
	return filled
}

// simOf is the simulator of a gateway's sim reader.
func simOf(t testing.TB, g *Gateway, reader string) *readersim.Sim {
	t.Helper()
	for i, rc := range g.cfg.Readers {
		if rc.ID == reader {
			if s, ok := g.readers[i].(interface{ Simulator() *readersim.Sim }); ok {
				return s.Simulator()
			}
		}
	}
	t.Fatalf("reader %s is not a simulator", reader)
	return nil
}

// gpoHistory is the states a simulator's output port was set to, in order.
func gpoHistory(sim *readersim.Sim, port uint16) []bool {
	var out []bool
	for _, w := range sim.GPOWrites() {
		if w.Port == port {
			out = append(out, w.High)
		}
	}
	return out
}

// receiveCarton receives one carton of a new lot at DOOR1.
func receiveCarton(t testing.TB, g *Gateway) *receiving.Carton {
	t.Helper()
	rc, err := g.Receiving().Receive(context.Background(), receiving.Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Receiving().Carton(rc.Cartons[0])
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runGateway runs g until the returned stop is called; stop waits for Run.
func runGateway(t testing.TB, g *Gateway) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// The light stack on the simulators, end to end: at the receiving door a
// carton of a held lot goes out (red, GPO 2, for its 1.5 s), then a carton
// of a receipt comes in (green, GPO 1); at the shipping door a carton that
// is on no shipment leaves (shipment.mismatch: red there, no green). Each
// simulator records the GPOWriteData it got: every output low at the
// connection, lit and put out, and low again at shutdown.
func TestDoorSignalsOnTheSimulator(t *testing.T) {
	dir := t.TempDir()
	// The cartons, on the gateway offline.
	off, err := Open(signalsConfig(t, dir, nil, nil), Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	held, _ := heldCarton(t, off)
	good, stray, onShipment := receiveCarton(t, off).EPC, receiveCarton(t, off).EPC, receiveCarton(t, off).SSCC
	if _, err := off.Shipping().Create(context.Background(), shipping.Request{ID: "SHP-1", Door: "DOOR2", Order: "1",
		Customer: shipping.Party{ID: "C-ACME", Name: "Acme Retail"}, ShipTo: shipping.Place{Address: "1 Main St"}, SSCCs: []string{onShipment}}); err != nil {
		t.Fatal(err)
	}
	off.Close()

	red := func(on string) signals.Rule {
		return signals.Rule{On: on, GPO: signals.Ports{2}, For: 1500 * time.Millisecond}
	}
	green := signals.Rule{On: signals.EventPassMatched, GPO: signals.Ports{1}, For: time.Second}
	cfg := signalsConfig(t, dir,
		map[string]string{
			"DOOR1": writeScenario(t, "DOOR1", simCarton{held, "out", time.Second}, simCarton{good, "in", 5 * time.Second}),
			"DOOR2": writeScenario(t, "DOOR2", simCarton{stray, "out", time.Second}),
		},
		map[string][]signals.Rule{
			"DOOR1": {red(signals.EventHoldAlert), green},
			"DOOR2": {red(signals.EventMismatch), green},
		})
	g, err := Open(cfg, Info{}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := simOf(t, g, "R1"), simOf(t, g, "R2")
	stop := runGateway(t, g)

	eventually(t, 20*time.Second, "red at DOOR1 for the held lot", func() bool { return r1.GPO(2) })
	eventually(t, 20*time.Second, "red at DOOR2 for the mismatch", func() bool { return r2.GPO(2) })
	if r1.GPO(1) || r2.GPO(1) {
		t.Error("green lit with the red")
	}
	eventually(t, 20*time.Second, "red at DOOR1 off after its 1.5 s", func() bool { return !r1.GPO(2) })
	eventually(t, 20*time.Second, "green at DOOR1 for the received carton", func() bool { return r1.GPO(1) })
	eventually(t, 20*time.Second, "green at DOOR1 off after its 1 s", func() bool { return !r1.GPO(1) })
	eventually(t, 20*time.Second, "red at DOOR2 off", func() bool { return !r2.GPO(2) })
	stop()

	// Low at the connection, lit, put out, low at shutdown.
	for _, c := range []struct {
		name string
		sim  *readersim.Sim
		port uint16
		want []bool
	}{
		{"DOOR1 red", r1, 2, []bool{false, true, false, false}},
		{"DOOR1 green", r1, 1, []bool{false, true, false, false}},
		{"DOOR2 red", r2, 2, []bool{false, true, false, false}},
		{"DOOR2 green", r2, 1, []bool{false, false}},
	} {
		if got := gpoHistory(c.sim, c.port); !slices.Equal(got, c.want) {
			t.Errorf("%s (GPO %d): written %v, want %v", c.name, c.port, got, c.want)
		}
	}
	for _, sim := range []*readersim.Sim{r1, r2} {
		if w := sim.GPOWrites(); slices.ContainsFunc(w, func(w readersim.GPOWrite) bool { return w.Port > 2 }) {
			t.Errorf("a port no rule drives was written: %v", w)
		}
	}
}

// A tuned door, as an installer leaves it: the reader's power, session 1
// and dual target, reading only while the photo eye on GPI 1 is broken,
// and the red and green of the light stack. On the simulator: a carton of
// a held lot goes out while the eye is broken (red), one parked beside the
// door while it is not is never read, then a carton of a receipt comes in
// under the eye (green).
func TestTunedDoorWithTriggerAndSignals(t *testing.T) {
	dir := t.TempDir()
	off, err := Open(signalsConfig(t, dir, nil, nil), Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	held, _ := heldCarton(t, off)
	parked, good := receiveCarton(t, off).EPC, receiveCarton(t, off).EPC
	off.Close()
	sc := writeScenarioGPI(t, "DOOR1", "gpi:\n  - {at: 1s, port: 1, state: high}\n  - {at: 3s, port: 1, state: low}\n"+
		"  - {at: 6s, port: 1, state: high}\n  - {at: 8s, port: 1, state: low}\n",
		simCarton{held, "out", 1200 * time.Millisecond}, simCarton{parked, "in", 3500 * time.Millisecond}, simCarton{good, "in", 6200 * time.Millisecond})
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
site: sig
gateway: gw
data_dir: %s
http: {listen: ""}
broker: {listen: "127.0.0.1:0"}
readers:
  - id: R1
    type: sim
    scenario: %s
    tx_power_dbm: 27
    session: 1
    target: AB
    trigger: {start: gpi, port: 1, level: high, stop: gpi}
doors:
  - id: DOOR1
    reader: R1
    antennas_outside: [1, 2]
    antennas_inside: [3, 4]
    presence_timeout: 700ms
    signals:
      - {on: lot.hold.alert, gpo: 2, for: 1500ms}
      - {on: pass.matched, gpo: 1, for: 1s}
`, dir, sc)), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sim := simOf(t, g, "R1")
	stop := runGateway(t, g)
	eventually(t, 20*time.Second, "red for the held lot", func() bool { return sim.GPO(2) })
	eventually(t, 20*time.Second, "green for the received carton", func() bool { return sim.GPO(1) })
	eventually(t, 20*time.Second, "green off", func() bool { return !sim.GPO(1) })
	if c, err := g.Receiving().CartonByEPC(parked); err != nil || !c.SeenAt.IsZero() {
		t.Errorf("the carton parked while the eye was not broken: %+v, %v; want it never read", c, err)
	}
	stop()
	if got := gpoHistory(sim, 2); !slices.Equal(got, []bool{false, true, false, false}) {
		t.Errorf("red written %v, want low at the connection, lit, put out, low at shutdown", got)
	}
	if got := gpoHistory(sim, 1); !slices.Equal(got, []bool{false, true, false, false}) {
		t.Errorf("green written %v, want low at the connection, lit, put out, low at shutdown", got)
	}
}

// BenchmarkHeldLotPassToGPO measures, against the reader simulator, the
// time from the portal engine's decision on a pass with a carton of a held
// lot (its alert and pass handed to the gateway, as the engine's sink gets
// them) to the GPOWriteData that lights the red arriving at the simulator:
// the alert recorded with its event, the outbox queueing it, the signals
// engine, the reader's writer, the LLRP session and the wire. Each
// iteration waits for the red to go off again (for: 20ms).
func BenchmarkHeldLotPassToGPO(b *testing.B) {
	dir := b.TempDir()
	off, err := Open(signalsConfig(b, dir, nil, nil), Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		b.Fatal(err)
	}
	held, lot := heldCarton(b, off)
	off.Close()
	cfg := signalsConfig(b, dir, map[string]string{"DOOR1": writeScenario(b, "DOOR1")},
		map[string][]signals.Rule{"DOOR1": {{On: signals.EventHoldAlert, GPO: signals.Ports{2}, For: 20 * time.Millisecond}}})
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		b.Fatal(err)
	}
	sim := simOf(b, g, "R1")
	writes := make(chan readersim.GPOWrite, 64)
	sim.OnGPO = func(w readersim.GPOWrite) { writes <- w }
	runGateway(b, g)
	next := func(high bool) readersim.GPOWrite {
		for {
			select {
			case w := <-writes:
				if w.Port == 2 && w.High == high {
					return w
				}
			case <-time.After(20 * time.Second):
				b.Fatalf("no GPO 2 %v written within 20 s", high)
			}
		}
	}
	next(false) // the reset at the connection

	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		end := time.Now()
		start := end.Add(-2 * time.Second).Add(time.Duration(i) * time.Microsecond)
		decided := time.Now()
		g.onPortalEvent(&portal.AlertEvent{Door: "DOOR1", Direction: portal.DirectionOut, EPC: held, Lot: lot,
			Reason: "a carton of a held lot is going out", Time: end, PassStart: start})
		g.onPortalEvent(&portal.PassEvent{Door: "DOOR1", Role: portal.RoleReceiving, Direction: portal.DirectionOut, Start: start, End: end,
			Cases: 1, Lots: map[string]int{lot: 1}, Tags: []portal.PassTag{{EPC: held, Direction: portal.DirectionOut, Lot: lot, Held: true, First: start, Last: end}}})
		w := next(true)
		lat = append(lat, w.Time.Sub(decided))
		next(false)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
	b.ReportMetric(ms(lat[(len(lat)*99+99)/100-1]), "p99_ms")
}

// GET /doors/{id}/lights is the door's light stack as the board shows it:
// each rule with its label and colour (its own, or its event's), whether
// it is lit and until when, in the gateway's JSON (seconds, UTC).
func TestDoorLightsJSON(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, zone)
	g := openGateway(t, &config.Config{Site: "l", Gateway: "gw", DataDir: t.TempDir(),
		Readers: []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: "127.0.0.1:1"}},
		Doors: []config.Door{
			{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleShipping, Reader: "R1", AntennasOutside: []uint16{1}, AntennasInside: []uint16{2}},
				Signals: []signals.Rule{
					{On: signals.EventHoldAlert, GPO: signals.Ports{2, 3}},
					{On: signals.EventLoaded, GPO: signals.Ports{1}, For: 8 * time.Second, Pattern: signals.PatternBlink, Period: 600 * time.Millisecond,
						Color: signals.ColorBlue, Label: "Truck loaded — close the door"},
				}},
			{DoorConfig: portal.DoorConfig{ID: "DOOR2"}},
		},
	}, Options{Now: func() time.Time { return at }})
	h := apiOf(g, "", "")
	g.signals.Queued([]outbox.Event{{Type: signals.EventLoaded, Time: at, Source: "shipping/S-1", Body: []byte(`{"door":"DOOR1"}`)}})

	for _, tc := range []struct {
		target string
		code   int
		want   string
	}{
		{"/doors/DOOR1/lights", http.StatusOK, `{"door":"DOOR1","lights":[` +
			`{"on":"lot.hold.alert","label":"Held lot","color":"red","gpo":[2,3],"for_seconds":5,"pattern":"steady","alert":true,"lit":false},` +
			`{"on":"shipment.loaded","label":"Truck loaded — close the door","color":"blue","gpo":[1],"for_seconds":8,"pattern":"blink","period_seconds":0.6,"alert":false,"lit":true,"until":"2026-03-02T08:00:08Z"}]}`},
		{"/doors/DOOR2/lights", http.StatusOK, `{"door":"DOOR2","lights":[]}`},
		{"/doors/DOOR9/lights", http.StatusNotFound, `door \"DOOR9\" is not configured; the doors are DOOR1, DOOR2`},
	} {
		code, body := call(t, h, http.MethodGet, tc.target, "", "")
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			t.Fatalf("GET %s: %v: %s", tc.target, err, body)
		}
		if code != tc.code || !strings.Contains(compact.String(), tc.want) {
			t.Errorf("GET %s: %d %s\nwant %d %s", tc.target, code, body, tc.code, tc.want)
		}
	}
}
