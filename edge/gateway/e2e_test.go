package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/scanner"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// subscriber is an independent MQTT client recording everything under the
// gateway's prefix.
type subscriber struct {
	c    paho.Client
	mu   sync.Mutex
	msgs []message
}

type message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

func subscribe(t *testing.T, url, filter string) *subscriber {
	t.Helper()
	s := &subscriber{}
	o := paho.NewClientOptions().AddBroker(url).SetClientID("central-" + t.Name()).SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second).SetOrderMatters(false)
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, message{m.Topic(), append([]byte(nil), m.Payload()...), m.Retained()})
		s.mu.Unlock()
	})
	s.c = paho.NewClient(o)
	if tok := s.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscriber connect: %v", tok.Error())
	}
	if tok := s.c.Subscribe(filter, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	t.Cleanup(func() { s.c.Disconnect(100) })
	return s
}

// events returns the event envelopes received on events/{typ}, each
// eventID once (delivery is at least once).
func (s *subscriber) events(typ string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	seen := map[any]bool{}
	for _, m := range s.msgs {
		if strings.HasSuffix(m.Topic, "/events/"+typ) {
			var v map[string]any
			if json.Unmarshal(m.Payload, &v) == nil && !seen[v["eventID"]] {
				seen[v["eventID"]] = true
				out = append(out, v)
			}
		}
	}
	return out
}

func (s *subscriber) count(suffix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.msgs {
		if strings.HasSuffix(m.Topic, suffix) {
			n++
		}
	}
	return n
}

// eventually polls cond every 50ms for at most d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func testConfig(t *testing.T, r1, r2 string) *config.Config {
	t.Helper()
	door := func(id, role, reader string) config.Door {
		return config.Door{DoorConfig: portal.DoorConfig{ID: id, Role: role, Reader: reader,
			AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}, PresenceTimeout: 700 * time.Millisecond}, Printer: "P1"}
	}
	c := &config.Config{
		Site: "e2e", Gateway: "gw", DataDir: t.TempDir(),
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		HTTP:     config.HTTP{Listen: "127.0.0.1:0"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers: []readers.Config{
			{ID: "R1", Type: readers.TypeLLRP, Address: r1, KeepAlive: time.Second},
			{ID: "R2", Type: readers.TypeLLRP, Address: r2, KeepAlive: time.Second},
		},
		Doors: []config.Door{door("DOOR1", portal.RoleReceiving, "R1"), door("DOOR2", portal.RoleShipping, "R2")},
	}
	filled, err := config.Complete(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return filled
}

// cartonScenario moves cartons (each one EPC) through a door.
func cartonScenario(t *testing.T, door, dir string, epcs []string) *readersim.Scenario {
	sc := &readersim.Scenario{Name: "e2e-" + door, Cycle: 20 * time.Millisecond,
		Doors: []readersim.Door{{ID: door, Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}}}
	for i, e := range epcs {
		sc.Cartons = append(sc.Cartons, readersim.Carton{Name: fmt.Sprintf("c%d", i), Door: door, Direction: dir,
			At: 300*time.Millisecond + time.Duration(i)*100*time.Millisecond, Dwell: 800 * time.Millisecond, EPCs: []string{e}, ReadRate: 1})
	}
	if err := sc.Prepare(); err != nil {
		t.Fatal(err)
	}
	return sc
}

func post(t *testing.T, url string, body any, out any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: %v: %s", url, err, data)
		}
	}
	return resp.StatusCode
}

func get(t *testing.T, url string, out any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s: %v: %s", url, err, data)
		}
	}
	return resp.StatusCode
}

// TestReceivingEndToEnd runs the whole flow over real loopback sockets: a
// receipt over HTTP, labels printed once on the printer simulator, cartons
// confirmed by the LLRP reader simulator at the receiving door, every event
// at an independent MQTT subscriber; then a lot put on hold and one of its
// cartons leaving through the shipping door raises the alert.
func TestReceivingEndToEnd(t *testing.T) {
	const n = 6
	ln1, ln2 := listen(t), listen(t)
	cfg := testConfig(t, ln1.Addr().String(), ln2.Addr().String())
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := Open(cfg, Info{Version: "test"}, log, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	}()
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	base := "http://" + g.API().Addr()

	var rc receiving.Receipt
	if code := post(t, base+"/receipts", receiving.Request{ID: "ASN-1", Door: "DOOR1", GTIN: "09520123456788",
		Product: "WLD01", Description: "Linen dress ^XA^FDinjected^FS^XZ", Cartons: n, QtyPerCarton: 25,
		Expiry: "2027-05-31", Production: "2025-05-12"}, &rc); code != http.StatusCreated {
		t.Fatalf("POST /receipts: %d", code)
	}
	if len(rc.Cartons) != n || !rc.LotAssigned {
		t.Fatalf("receipt %+v", rc)
	}
	sim := g.PrinterSim("P1")
	eventually(t, 20*time.Second, "every label confirmed", func() bool { return len(sub.events("job.confirmed")) >= n })
	if formats, labels := sim.Count(); formats != n || labels != n {
		t.Fatalf("printer printed %d formats, %d labels; want %d each", formats, labels, n)
	}
	// The description's ZPL did not start a second label: one ^XA per format.
	for _, f := range sim.Formats() {
		if c := strings.Count(string(f.ZPL), "^XA"); c != 1 {
			t.Fatalf("format has %d ^XA:\n%s", c, f.ZPL)
		}
	}

	var epcs []string
	for _, sscc := range rc.Cartons {
		c, err := g.Receiving().Carton(sscc)
		if err != nil {
			t.Fatal(err)
		}
		epcs = append(epcs, c.EPC)
	}
	rctx, stopReaders := context.WithCancel(ctx)
	defer stopReaders()
	go readersim.New(cartonScenario(t, "DOOR1", "in", epcs)).Serve(rctx, ln1)
	defer func() {
		if t.Failed() {
			t.Logf("portal stats %+v", g.Portal().Stats())
			t.Logf("passes %v", sub.events("portal.pass"))
			t.Logf("unexpected %v", sub.events("carton.unexpected"))
		}
	}()
	eventually(t, 30*time.Second, "receipt complete", func() bool {
		var got receiving.Receipt
		get(t, base+"/receipts/ASN-1", &got)
		return got.Status == "complete"
	})
	eventually(t, 10*time.Second, "receipt.complete event", func() bool { return len(sub.events("receipt.complete")) == 1 })

	// Hold the lot through the MQTT command path.
	hold := fmt.Sprintf(`{"id":"hold-1","expires_at":%q,"lot":%q,"reason":"QA sample failed","reply_to":"central/replies"}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339), rc.Lot)
	sub.c.Subscribe("central/replies", 1, nil).WaitTimeout(5 * time.Second)
	// Resent with the same id until it is done, as a WMS would.
	eventually(t, 20*time.Second, "lot on hold", func() bool {
		if held, _ := g.Lots().IsHeld(rc.Lot); held {
			return true
		}
		sub.c.Publish(cfg.MQTT.TopicPrefix+"/cmd/lot.hold", 1, false, hold).WaitTimeout(5 * time.Second)
		time.Sleep(200 * time.Millisecond)
		return false
	})

	go readersim.New(cartonScenario(t, "DOOR2", "out", epcs[:1])).Serve(rctx, ln2)
	eventually(t, 30*time.Second, "hold alert", func() bool { return len(sub.events("lot.hold.alert")) >= 1 })
	alert := sub.events("lot.hold.alert")[0]["body"].(map[string]any)
	if alert["lot"] != rc.Lot || alert["epc"] != epcs[0] || alert["door"] != "DOOR2" {
		t.Fatalf("alert %v", alert)
	}

	for _, typ := range []string{"receipt.created", "portal.pass", "lot.hold", "lot.created"} {
		if len(sub.events(typ)) == 0 {
			t.Errorf("no %s event at the subscriber", typ)
		}
	}
	if sub.count("/epcis") < 2 {
		t.Errorf("EPCIS documents: %d", sub.count("/epcis"))
	}
	if sub.count("central/replies") == 0 {
		t.Error("no reply to the hold command")
	}
	// Printed exactly once, still.
	if formats, _ := sim.Count(); formats != n {
		t.Fatalf("printer printed %d formats after the flow, want %d", formats, n)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"dockgate_mqtt_connected 1", "dockgate_portal_alerts_total 1", `dockgate_printer_queued_jobs{printer="P1"} 0`,
		`dockgate_receipts_total{outcome="ok"} 1`, "dockgate_receipt_duration_seconds_count 1", `dockgate_door_passes_total{direction="in",door=`,
		`dockgate_door_alerts_total{door=`, "dockgate_outbox_oldest_event_age_seconds "} {
		if !strings.Contains(string(metrics), m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
	var tr receiving.LotTrace
	if code := get(t, base+"/trace/lot/"+rc.Lot, &tr); code != 200 || len(tr.Cartons) != n {
		t.Fatalf("trace: %d %+v", code, tr)
	}
	for _, c := range tr.Cartons {
		if c.JobState != "confirmed" || len(c.Passes) == 0 {
			t.Fatalf("carton trace %+v", c)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// A serial scanner at the door: each scanned supplier label is a receipt
// that keeps the supplier's lot; a bad scan is published as rejected.
func TestScannerStartsReceipts(t *testing.T) {
	r, w := io.Pipe()
	old := openScanner
	openScanner = func(scanner.Config) (io.ReadCloser, error) { return r, nil }
	t.Cleanup(func() { openScanner = old })

	cfg, err := config.Complete(&config.Config{Site: "s", Gateway: "gw", DataDir: t.TempDir(),
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zd421-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
		Scanners: []scanner.Config{{ID: "S1", Device: "/dev/null", Door: "DOOR1", Supplier: "Acme", Cartons: 2}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = ""
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sub := subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")

	go w.Write([]byte("]C1010952012345678810SUP-9\x1d17270531\r\n(01)09520123456789\r\n"))
	eventually(t, 20*time.Second, "receipt and rejection", func() bool {
		return len(sub.events("receipt.created")) == 1 && len(sub.events("scan.rejected")) == 1
	})
	body := sub.events("receipt.created")[0]["body"].(map[string]any)
	if body["lot"] != "SUP-9" || body["supplier"] != "Acme" || len(body["cartons"].([]any)) != 2 || body["source"] != "scan" {
		t.Fatalf("receipt %v", body)
	}
	if reason := sub.events("scan.rejected")[0]["body"].(map[string]any)["reason"].(string); !strings.Contains(reason, "check digit") {
		t.Fatalf("rejection reason %q", reason)
	}
	eventually(t, 20*time.Second, "labels printed", func() bool { n, _ := g.PrinterSim("P1").Count(); return n == 2 })
}

// gs1.digital_link_domain reaches the carton label's QR code.
func TestDigitalLinkDomainOnLabels(t *testing.T) {
	cfg, err := config.Complete(&config.Config{Site: "d", Gateway: "gw", DataDir: t.TempDir(),
		GS1:      config.GS1{DigitalLinkDomain: "dl.luxewear.example"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	rc, err := g.Receiving().Receive(context.Background(), receiving.Request{Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := g.Receiving().Carton(rc.Cartons[0])
	j, err := g.Spooler().Get(c.Job)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(j.ZPL, "dl.luxewear.example/01/09520123456788") {
		t.Fatalf("label QR lacks the configured domain:\n%s", j.ZPL)
	}
}

// A store that cannot be opened is set aside; the gateway starts fresh and
// publishes the alarm (it used to crash on the alarm raised while the
// outbox opened).
func TestCorruptStoreStartsFreshWithAlarm(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "badger"), 0o750)
	os.WriteFile(filepath.Join(dir, "badger", "MANIFEST"), []byte("not a manifest"), 0o640)
	cfg, err := config.Complete(&config.Config{Site: "c", Gateway: "gw", DataDir: dir,
		Broker: config.Broker{Listen: "127.0.0.1:0"},
		Doors:  []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Listen = ""
	sub := (*subscriber)(nil)
	g, err := Open(cfg, Info{}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Store().Recovered == "" {
		t.Fatal("store not reported as set aside")
	}
	// Subscribe before the gateway runs: the events are not retained.
	sub = subscribe(t, g.MQTTURL, cfg.MQTT.TopicPrefix+"/#")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, 20*time.Second, "store_recovered alarm and event", func() bool {
		return len(sub.events("alarm.store_recovered")) == 1 && len(sub.events("store.recovered")) == 1
	})
}
