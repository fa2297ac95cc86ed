package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// A reader's GPI change is its status on reader/{id}/status and a
// reader.gpi telemetry event.
func TestReaderGPIPublished(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := openGateway(t, cfg, Options{})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	// The reader's goroutine hands the event over without waiting for the
	// store: with no appender running yet, the call still returns.
	g.onReaderEvent(rfid.ReaderEvent{Kind: rfid.EventGPI, Reader: "R1", Port: 1, High: true, Time: at})
	if n := g.ob.Stats().Appended; n != 0 {
		t.Fatalf("%d events appended before the appender ran", n)
	}
	ctx, stop := context.WithCancel(context.Background())
	stop() // the appender queues what is waiting, then returns
	if err := g.runGPIEvents(ctx); err != nil {
		t.Fatal(err)
	}
	g.readerMu.Lock()
	st, _ := g.readerStatus["R1"].(map[string]any)
	g.readerMu.Unlock()
	if st["event"] != "gpi" || st["gpi"] != uint16(1) || st["state"] != "high" {
		t.Fatalf("reader status %v", st)
	}
	evs := takeEvents(t, g)["reader.gpi"]
	if len(evs) != 1 {
		t.Fatalf("%d reader.gpi events", len(evs))
	}
	ev := evs[0]
	if ev.Priority != outbox.PriorityTelemetry || ev.Source != "reader/R1" || !ev.Time.Equal(at) {
		t.Fatalf("event %+v", ev)
	}
	var body map[string]any
	if err := json.Unmarshal(ev.Body, &body); err != nil {
		t.Fatal(err)
	}
	if body["reader"] != "R1" || body["gpi"] != 1.0 || body["state"] != "high" || body["time"] != "2026-03-02T08:00:00Z" {
		t.Fatalf("body %s", ev.Body)
	}
}

// A simulated reader at a door with a photo eye: the gateway configures the
// GPI trigger, publishes the eye's changes and makes a pass of the pallet
// that went through while the eye saw it, and of nothing else.
func TestPhotoEyeDoorEndToEnd(t *testing.T) {
	c := &config.Config{
		Site: "e2e", Gateway: "gw", DataDir: t.TempDir(),
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers: []readers.Config{{ID: "R1", Type: readers.TypeSim, Scenario: "photo-eye", TimeScale: 8, KeepAlive: time.Second,
			Trigger: readers.Trigger{Start: readers.TriggerGPI, Port: 1, Stop: readers.TriggerGPI}}},
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleReceiving, Reader: "R1",
			AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}, PresenceTimeout: 700 * time.Millisecond}, Printer: "P1"}},
	}
	cfg, err := config.Complete(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{Version: "test"}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	}()
	eventually(t, 30*time.Second, "the eye low at connect, going high and low, and a pass", func() bool {
		return len(sub.events("reader.gpi")) == 3 && len(sub.events("portal.pass")) >= 1
	})
	if states := gpiStates(sub); strings.Join(states, " ") != "R1:1:low(initial) R1:1:high R1:1:low" {
		t.Fatalf("reader.gpi events %v", states)
	}
	if sub.count("/reader/R1/status") == 0 {
		t.Fatal("no reader status")
	}
	// Past the pallet parked after the eye went low (14.5 s of scenario
	// time at 8×), and the presence timeout.
	time.Sleep(6*time.Second/8 + time.Second)
	passes := sub.events("portal.pass")
	if len(passes) != 1 {
		t.Fatalf("%d passes, want only the pallet that passed the eye", len(passes))
	}
	tags := passes[0]["body"].(map[string]any)["tags"].([]any)
	if len(tags) != 5 {
		t.Fatalf("pass of %d tags, want the pallet's 5", len(tags))
	}
}

// A photo eye that chatters faster than events can be queued loses changes
// (logged), never the reader's goroutine; what was kept is queued in order.
func TestReaderGPIQueueFullDrops(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	g := openGateway(t, cfg, Options{})
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	for i := range gpiQueueSize + 10 {
		g.emitGPI(rfid.ReaderEvent{Kind: rfid.EventGPI, Reader: "R1", Port: 1, High: i%2 == 0, Time: at.Add(time.Duration(i) * time.Millisecond)})
	}
	ctx, stop := context.WithCancel(context.Background())
	stop()
	if err := g.runGPIEvents(ctx); err != nil {
		t.Fatal(err)
	}
	evs := takeEvents(t, g)["reader.gpi"]
	if len(evs) != gpiQueueSize {
		t.Fatalf("%d reader.gpi events, want the %d the queue held", len(evs), gpiQueueSize)
	}
	for i, ev := range evs {
		if want := at.Add(time.Duration(i) * time.Millisecond); !ev.Time.Equal(want) {
			t.Fatalf("event %d at %v, want %v: out of order", i, ev.Time, want)
		}
	}
}

// gpiStates are the reader.gpi events sub received, as
// "reader:gpi:state", "(initial)" marking an input's state at connect.
func gpiStates(sub *subscriber) []string {
	var states []string
	for _, e := range sub.events("reader.gpi") {
		b := e["body"].(map[string]any)
		s := fmt.Sprintf("%v:%v:%v", b["reader"], b["gpi"], b["state"])
		if b["initial"] == true {
			s += "(initial)"
		}
		states = append(states, s)
	}
	return states
}

// A photo eye blocked before the gateway connects to its reader: with no
// change of the input, the reader.gpi events, the reader's retained status
// (its inputs), GET /readers and the console show GPI 1 high at connect.
func TestReaderGPIHighAtConnect(t *testing.T) {
	sc := writeScenarioGPI(t, "DOOR1", "gpi: [{at: 0s, port: 1, state: high}]\n")
	cfg := signalsConfig(t, t.TempDir(), map[string]string{"DOOR1": sc}, nil)
	cfg.Readers[0].Trigger = readers.Trigger{Start: readers.TriggerGPI, Port: 1, Stop: readers.TriggerGPI}
	cfg.HTTP.Listen = "127.0.0.1:0" // the API's own auth: loopback, no token
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	runGateway(t, g)
	eventually(t, 20*time.Second, "GPI 1 at connect", func() bool { return len(sub.events("reader.gpi")) >= 1 })
	time.Sleep(100 * time.Millisecond) // no other input is reported
	if states := gpiStates(sub); strings.Join(states, " ") != "R1:1:high(initial)" {
		t.Fatalf("reader.gpi events %v, want GPI 1 high at connect only", states)
	}

	want := []any{map[string]any{"gpi": 1.0, "state": "high", "initial": true}}
	inputs := func(status any) []any {
		st, _ := status.(map[string]any)
		in, _ := st["inputs"].([]any)
		for _, i := range in {
			delete(i.(map[string]any), "time")
		}
		return in
	}
	eventually(t, 10*time.Second, "the retained status with the inputs", func() bool {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		for i := len(sub.msgs) - 1; i >= 0; i-- {
			if m := sub.msgs[i]; strings.HasSuffix(m.Topic, "/reader/R1/status") {
				var v map[string]any
				return json.Unmarshal(m.Payload, &v) == nil && reflect.DeepEqual(inputs(v["status"]), want)
			}
		}
		return false
	})

	h := g.api.Handler()
	code, body := call(t, h, "GET", "/readers", "", "")
	var rd struct {
		Readers []struct {
			ID     string         `json:"id"`
			Status map[string]any `json:"status"`
		} `json:"readers"`
	}
	if err := json.Unmarshal(body, &rd); code != 200 || err != nil || len(rd.Readers) != 1 {
		t.Fatalf("GET /readers: %d %s", code, body)
	}
	if st := rd.Readers[0].Status; st["event"] != "gpi" || st["initial"] != true || !reflect.DeepEqual(inputs(st), want) {
		t.Fatalf("GET /readers status %v, want GPI 1 high at connect among its inputs", st)
	}

	cr := g.consoleReaders()
	if len(cr) != 1 || len(cr[0].GPI) != 1 || !cr[0].GPI[0].High || !cr[0].GPI[0].AtConnect || cr[0].GPI[0].Name != "read trigger" {
		t.Fatalf("console reader %+v, want the read trigger GPI 1 high at connect", cr)
	}
}
