package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/encoder/gs1"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

func init() {
	register(&command{name: "demo", summary: "demo [--out DIR] [--console]: receive a scripted shipment end to end on simulated hardware", run: runDemo})
}

// demoBatch is one batch of the scripted shipment.
type demoBatch struct {
	asn        string
	production string
	cartons    int
	perCarton  int
}

// The scripted shipment: LuxeWear linen dresses, 500 in two May batches.
var demoShipment = []demoBatch{
	{asn: "LWX-ASN-0501", production: "2025-05-06", cartons: 10, perCarton: 25},
	{asn: "LWX-ASN-0502", production: "2025-05-20", cartons: 10, perCarton: 25},
}

func runDemo(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "demo", "dockgate demo [--out DIR] [--console [--listen ADDR]] [--log-level LEVEL]")
	out := fs.String("out", "demo-out", "directory for labels (ZPL and PNG), events and the trace")
	withConsole := fs.Bool("console", false, "keep the gateway running after the shipment, with the dock console on --listen, until interrupted")
	listen := fs.String("listen", config.DefaultHTTPListen, "with --console: the HTTP API and console address")
	logLevel := fs.String("log-level", "warn", "gateway log level")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fs.usageError("unexpected argument %q", fs.Arg(0))
	}
	log, err := newLogger(env.stderr, "text", *logLevel)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*out, "labels"), 0o750); err != nil {
		return err
	}
	dataDir, err := os.MkdirTemp("", "dockgate-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	say := func(format string, a ...any) { fmt.Fprintf(env.stdout, format+"\n", a...) }

	// The portal: a simulated LLRP reader on a loopback port. The gateway
	// connects to it like to a real reader; the cartons move once labelled.
	httpListen := "127.0.0.1:0"
	if *withConsole {
		httpListen = *listen
	}
	readerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer readerLn.Close()
	cfg, err := config.Complete(&config.Config{
		Site: "lyon", Gateway: "dock-demo", DataDir: dataDir,
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		HTTP:     config.HTTP{Listen: httpListen},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers:  []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: readerLn.Addr().String(), KeepAlive: 2 * time.Second}},
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleReceiving, Reader: "R1",
			AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}, PresenceTimeout: time.Second}, Printer: "P1",
			// A light stack on the reader's outputs: green for a pass that
			// matched, red for a carton of a held lot, amber blinking for
			// a carton no receipt announced; the board shows the labels.
			Signals: []signals.Rule{
				{On: signals.EventPassMatched, GPO: signals.Ports{1}, For: 5 * time.Second, Color: signals.ColorGreen, Label: "Pass OK — drive on"},
				{On: signals.EventHoldAlert, GPO: signals.Ports{2}, For: 10 * time.Second, Color: signals.ColorRed, Label: "Held lot — stop the forklift"},
				{On: signals.EventUnexpected, GPO: signals.Ports{3}, For: 10 * time.Second, Pattern: signals.PatternBlink, Color: signals.ColorAmber, Label: "Carton not expected — call the office"},
			}}},
		Labels: config.Labels{PreviewDir: filepath.Join(*out, "labels")},
	}, env.getenv)
	if err != nil {
		return err
	}
	ver, rev := buildVersion()
	g, err := gateway.Open(cfg, gateway.Info{Version: ver, Commit: rev}, log, gateway.Options{})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	gwDone := make(chan error, 1)
	go func() { gwDone <- g.Run(ctx) }()
	stopped := false
	stopSim := func() {}
	defer func() {
		// On every way out, stop the gateway before its data dir goes,
		// and before the reader it is connected to: it sets the light
		// stack's outputs low as it stops.
		if !stopped {
			cancel()
			<-gwDone
		}
		stopSim()
	}()
	api := "http://" + g.API().Addr()
	say("dockgate demo: gateway %s/%s up: MQTT %s, HTTP API %s, printer P1 (simulated %s), LLRP portal R1 at DOOR1 (simulated) with a light stack on its outputs (GPO 1 green, GPO 2 red, GPO 3 amber)",
		cfg.Site, cfg.Gateway, g.MQTTURL, api, cfg.Printers[0].Profile)

	sub, err := newDemoSubscriber(g.MQTTURL, cfg.MQTT.TopicPrefix, env.stdout)
	if err != nil {
		return err
	}
	defer sub.close()

	gtinBody := "1061414100001"
	cd, _ := gs1.CheckDigit(gtinBody)
	gtin := gtinBody + string(cd)
	var receipts []receiving.Receipt
	var epcs []string
	for _, b := range demoShipment {
		req := receiving.Request{ID: b.asn, Door: "DOOR1", Source: "demo", GTIN: gtin, Product: "WLD01",
			Description: "LuxeWear linen wrap dress, natural", Supplier: "LuxeWear Atelier", PO: "PO-2025-0142",
			DespatchAdvice: b.asn, Production: b.production, Expiry: "2030-05-31", Cartons: b.cartons, QtyPerCarton: b.perCarton}
		var rc receiving.Receipt
		if err := httpJSON(ctx, "POST", api+"/receipts", req, &rc); err != nil {
			return fmt.Errorf("receipt %s: %w", b.asn, err)
		}
		receipts = append(receipts, rc)
		say("received %s: %d cartons × %d dresses, GTIN %s → lot %s, SSCCs %s … %s",
			rc.ID, len(rc.Cartons), b.perCarton, gtin, rc.Lot, rc.Cartons[0], rc.Cartons[len(rc.Cartons)-1])
		for _, s := range rc.Cartons {
			c, err := g.Receiving().Carton(s)
			if err != nil {
				return err
			}
			epcs = append(epcs, c.EPC)
		}
	}
	total := len(epcs)
	if err := waitFor(ctx, 60*time.Second, func() bool { return sub.count("job.confirmed") >= total }); err != nil {
		return fmt.Errorf("labels: %d of %d confirmed by the printer: %w", sub.count("job.confirmed"), total, err)
	}
	formats, labels := g.PrinterSim("P1").Count()
	say("printer P1 printed %d labels in %d formats (RFID-encoded SSCC-96 EPCs); ZPL and PNG in %s", labels, formats, filepath.Join(*out, "labels"))

	// Move the cartons through the portal.
	sc := &readersim.Scenario{Name: "luxewear-in", Cycle: 25 * time.Millisecond,
		Doors: []readersim.Door{{ID: "DOOR1", Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}}}
	for i, e := range epcs {
		sc.Cartons = append(sc.Cartons, readersim.Carton{Name: fmt.Sprintf("carton-%02d", i+1), Door: "DOOR1", Direction: "in",
			At: 200*time.Millisecond + time.Duration(i)*120*time.Millisecond, Dwell: 900 * time.Millisecond, EPCs: []string{e}, ReadRate: 0.9})
	}
	if err := sc.Prepare(); err != nil {
		return err
	}
	say("moving %d cartons through DOOR1 …", total)
	portalSim := readersim.New(sc)
	simCtx, simCancel := context.WithCancel(context.WithoutCancel(ctx))
	simDone := make(chan struct{})
	go func() {
		defer close(simDone)
		_ = portalSim.Serve(simCtx, readerLn)
	}()
	stopSim = func() { simCancel(); <-simDone }
	if err := waitFor(ctx, 60*time.Second, func() bool { return sub.count("receipt.complete") >= len(receipts) }); err != nil {
		return fmt.Errorf("portal: %d of %d receipts confirmed: %w", sub.count("receipt.complete"), len(receipts), err)
	}
	say("every carton seen at DOOR1: %d receipts complete", len(receipts))
	greens := func() int {
		n := 0
		for _, w := range portalSim.GPOWrites() {
			if w.Port == 1 && w.High {
				n++
			}
		}
		return n
	}
	if err := waitFor(ctx, 10*time.Second, func() bool { return greens() > 0 }); err != nil {
		return fmt.Errorf("light stack: the green (GPO 1) of DOOR1 was not lit after its passes: %w", err)
	}
	say("DOOR1's light stack: green (GPO 1) lit %d times by matched passes", greens())

	var trace receiving.LotTrace
	if err := httpJSON(ctx, "GET", api+"/trace/lot/"+receipts[0].Lot, nil, &trace); err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	tb, _ := json.MarshalIndent(trace, "", "  ")
	tracePath := filepath.Join(*out, "trace-"+receipts[0].Lot+".json")
	if err := os.WriteFile(tracePath, tb, 0o640); err != nil {
		return err
	}
	say("trace of lot %s (%d cartons, %d events; also in %s):", trace.Lot, len(trace.Cartons), len(trace.Events), tracePath)
	env.stdout.Write(tb)
	fmt.Fprintln(env.stdout)

	if *withConsole {
		say("dockgate demo: the dock console is at %s/ (door board %s/doors/DOOR1); Ctrl-C stops the gateway", api, api)
		select {
		case <-ctx.Done():
		case err := <-gwDone:
			stopped = true
			return err
		}
	}
	cancel()
	stopped = true
	if err := <-gwDone; err != nil {
		return err
	}
	n, err := sub.writeEvents(filepath.Join(*out, "events.jsonl"))
	if err != nil {
		return err
	}
	say("dockgate demo: done; %d messages received by the independent subscriber are in %s", n, filepath.Join(*out, "events.jsonl"))
	return nil
}

func waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

func httpJSON(ctx context.Context, method, url string, in, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	return httpJSONReq(req, in, out)
}

// httpJSONReq sends in as the JSON body of req and decodes the JSON answer
// into out; an error answer becomes the error.
func httpJSONReq(req *http.Request, in, out any) error {
	method, url := req.Method, req.URL.String()
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, url, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	return json.Unmarshal(data, out)
}

// demoSubscriber is the central system of the demo: an independent MQTT
// client that prints the events as they arrive.
type demoSubscriber struct {
	c      paho.Client
	prefix string
	w      io.Writer
	mu     sync.Mutex
	msgs   []json.RawMessage
	counts map[string]int
	seen   map[string]bool // eventIDs: delivery is at least once
}

func newDemoSubscriber(url, prefix string, w io.Writer) (*demoSubscriber, error) {
	s := &demoSubscriber{prefix: prefix, w: w, counts: map[string]int{}, seen: map[string]bool{}}
	o := paho.NewClientOptions().AddBroker(url).SetClientID("central-wms").SetAutoReconnect(false).
		SetConnectTimeout(5 * time.Second) // order matters: events are shown as they arrive
	o.SetDefaultPublishHandler(s.onMessage)
	s.c = paho.NewClient(o)
	if tok := s.c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscriber: %v", tok.Error())
	}
	if tok := s.c.Subscribe(prefix+"/#", 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("subscriber: %v", tok.Error())
	}
	return s, nil
}

func (s *demoSubscriber) onMessage(_ paho.Client, m paho.Message) {
	rel := strings.TrimPrefix(m.Topic(), s.prefix+"/")
	line := map[string]any{"topic": m.Topic(), "retained": m.Retained()}
	var v map[string]any
	_ = json.Unmarshal(m.Payload(), &v)
	line["payload"] = v
	b, _ := json.Marshal(line)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, b)
	typ, isEvent := strings.CutPrefix(rel, "events/")
	if isEvent {
		id, _ := v["eventID"].(string)
		if s.seen[id] {
			return // a redelivery
		}
		s.seen[id] = true
		s.counts[typ]++
	}
	// Print the events a person wants to see; count the rest.
	switch {
	case rel == "status":
		fmt.Fprintf(s.w, "  [mqtt] %s %v\n", rel, v["state"])
	case rel == "epcis":
		fmt.Fprintf(s.w, "  [mqtt] epcis EPCIS 2.0 document (%d bytes)\n", len(m.Payload()))
	case isEvent && typ != "job.confirmed" && typ != "portal.arrival" && !strings.HasPrefix(typ, "printer."):
		fmt.Fprintf(s.w, "  [mqtt] events/%s seq=%v %s\n", typ, v["seq"], summary(v["body"]))
	}
}

// summary is a one-line digest of an event body.
func summary(body any) string {
	m, ok := body.(map[string]any)
	if !ok {
		return ""
	}
	var parts []string
	for _, k := range []string{"code", "lot", "receipt", "id", "door", "direction", "status", "cases", "reason"} {
		if v, ok := m[k]; ok && v != nil && v != "" && !isObject(v) {
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func (s *demoSubscriber) count(typ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[typ]
}

func (s *demoSubscriber) writeEvents(path string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf bytes.Buffer
	for _, m := range s.msgs {
		buf.Write(m)
		buf.WriteByte('\n')
	}
	return len(s.msgs), os.WriteFile(path, buf.Bytes(), 0o640)
}

func (s *demoSubscriber) close() { s.c.Disconnect(100) }
