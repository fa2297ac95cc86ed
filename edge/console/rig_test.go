package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/gateway"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
	"github.com/dockgate/dockgate/rfid/readersim"
)

// rig is a running gateway on loopback: a simulated printer P1 and an LLRP
// portal R1 at DOOR1 whose simulator serves once cartons are known.
type rig struct {
	t      testing.TB
	g      *gateway.Gateway
	cfg    *config.Config
	base   string
	reader net.Listener
	ctx    context.Context
}

// newRig starts the gateway; each change is made to its configuration
// before it is completed.
func newRig(t testing.TB, changes ...func(*config.Config)) *rig {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	raw := &config.Config{
		Site: "test", Gateway: "gw", DataDir: t.TempDir(),
		Broker:   config.Broker{Listen: "127.0.0.1:0"},
		HTTP:     config.HTTP{Listen: "127.0.0.1:0"},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Readers:  []readers.Config{{ID: "R1", Type: readers.TypeLLRP, Address: ln.Addr().String(), KeepAlive: time.Second}},
		Doors: []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1", Role: portal.RoleReceiving, Reader: "R1",
			AntennasOutside: []uint16{1, 2}, AntennasInside: []uint16{3, 4}, PresenceTimeout: 500 * time.Millisecond}, Printer: "P1"}},
	}
	for _, change := range changes {
		change(raw)
	}
	cfg, err := config.Complete(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := gateway.Open(cfg, gateway.Info{Version: "test"}, log, gateway.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	return &rig{t: t, g: g, cfg: cfg, base: "http://" + g.API().Addr(), reader: ln, ctx: ctx}
}

// receive makes a receipt through the API.
func (r *rig) receive(id string, cartons int) receiving.Receipt {
	r.t.Helper()
	body, _ := json.Marshal(receiving.Request{ID: id, Door: "DOOR1", Scan: "(01)09520123456788(10)SUP-" + id + "(17)300531",
		Supplier: "Acme", Cartons: cartons, QtyPerCarton: 12})
	resp, err := http.Post(r.base+"/receipts", "application/json", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rc receiving.Receipt
	if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil || resp.StatusCode != http.StatusCreated {
		r.t.Fatalf("POST /receipts: %d %v", resp.StatusCode, err)
	}
	return rc
}

// movePortal moves the receipt's cartons in through DOOR1's portal.
func (r *rig) movePortal(rc receiving.Receipt) {
	r.t.Helper()
	sc := &readersim.Scenario{Name: "console-" + rc.ID, Cycle: 20 * time.Millisecond,
		Doors: []readersim.Door{{ID: "DOOR1", Outside: []uint16{1, 2}, Inside: []uint16{3, 4}}}}
	for i, sscc := range rc.Cartons {
		c, err := r.g.Receiving().Carton(sscc)
		if err != nil {
			r.t.Fatal(err)
		}
		sc.Cartons = append(sc.Cartons, readersim.Carton{Name: fmt.Sprintf("c%d", i), Door: "DOOR1", Direction: "in",
			At: 200*time.Millisecond + time.Duration(i)*80*time.Millisecond, Dwell: 500 * time.Millisecond, EPCs: []string{c.EPC}, ReadRate: 1})
	}
	if err := sc.Prepare(); err != nil {
		r.t.Fatal(err)
	}
	go readersim.New(sc).Serve(r.ctx, r.reader)
}

// holdOverMQTT puts a lot on hold with the MQTT command, as a WMS does.
func (r *rig) holdOverMQTT(lot, reason string) {
	r.t.Helper()
	o := paho.NewClientOptions().AddBroker(r.g.MQTTURL).SetClientID("central-" + lot).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		r.t.Fatalf("mqtt connect: %v", tok.Error())
	}
	defer c.Disconnect(50)
	cmd := fmt.Sprintf(`{"id":"hold-%s","expires_at":%q,"lot":%q,"reason":%q}`, lot, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), lot, reason)
	if tok := c.Publish(r.cfg.MQTT.TopicPrefix+"/cmd/lot.hold", 1, false, cmd); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		r.t.Fatalf("publish: %v", tok.Error())
	}
}

// client is an HTTP client that does not follow redirects (a test looks
// at them) and asks for pages as a browser does.
var client = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (r *rig) page(path string) (int, string, http.Header) {
	r.t.Helper()
	req, _ := http.NewRequest("GET", r.base+path, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// form posts a form from the console's own origin.
func (r *rig) form(path string, vals url.Values) (int, string, http.Header) {
	r.t.Helper()
	req, _ := http.NewRequest("POST", r.base+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// eventually polls cond every 20 ms for at most d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
