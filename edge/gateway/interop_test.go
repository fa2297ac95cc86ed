//go:build interop

package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/rfid/portal"
)

// startMosquitto runs a Mosquitto of the test's own on a free loopback port.
func startMosquitto(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mosquitto"); err != nil {
		t.Fatalf("mosquitto not installed (apt-get install -y mosquitto): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	conf := filepath.Join(t.TempDir(), "mosquitto.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port)), 0o600)
	cmd := exec.Command("mosquitto", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 200; i++ {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			return "tcp://" + addr
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("mosquitto did not start")
	return ""
}

// The gateway against a real Mosquitto: retained online status, receipts'
// events and EPCIS documents at an independent subscriber, a command round
// trip, and the retained offline status after a clean stop.
func TestInteropGatewayWithMosquitto(t *testing.T) {
	url := startMosquitto(t)
	cfg, err := config.Complete(&config.Config{Site: "interop", Gateway: "gw", DataDir: t.TempDir(),
		MQTT:     config.MQTT{URL: url},
		HTTP:     config.HTTP{},
		Printers: []printers.Config{{ID: "P1", Profile: "zebra-zt411r-203", Transport: config.TransportSim}},
		Doors:    []config.Door{{DoorConfig: portal.DoorConfig{ID: "DOOR1"}, Printer: "P1"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sub := subscribe(t, url, cfg.MQTT.TopicPrefix+"/#")
	g, err := Open(cfg, Info{Version: "interop"}, slog.New(slog.DiscardHandler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	if _, err := g.Receiving().Receive(ctx, receiving.Request{ID: "I-1", Door: "DOOR1", GTIN: "09520123456788", Product: "WLD01", Cartons: 3}); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf(`{"id":"rcv-2","expires_at":%q,"door":"DOOR1","scan":"(01)09520123456788(10)SUP-5","supplier":"Acme","cartons":2,"reply_to":"central/replies"}`,
		time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	sub.c.Subscribe("central/replies", 1, nil).WaitTimeout(5 * time.Second)
	// Commands sent before the gateway subscribed are lost (clean sessions):
	// like a WMS, resend with the same id until a reply comes.
	replied := func() bool {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		for _, m := range sub.msgs {
			if m.Topic == "central/replies" {
				return true
			}
		}
		return false
	}
	for i := 0; i < 40 && !replied(); i++ {
		sub.c.Publish(cfg.MQTT.TopicPrefix+"/cmd/receive", 1, false, cmd).WaitTimeout(5 * time.Second)
		time.Sleep(250 * time.Millisecond)
	}

	eventually(t, 30*time.Second, "events at the subscriber", func() bool {
		return len(sub.events("receipt.created")) == 2 && sub.count("/epcis") >= 2 && len(sub.events("job.confirmed")) >= 5
	})
	var done2 bool
	sub.mu.Lock()
	for _, m := range sub.msgs {
		if m.Topic == "central/replies" && strings.Contains(string(m.Payload), `"status":"done"`) {
			done2 = true
		}
	}
	sub.mu.Unlock()
	if !done2 {
		t.Error("no done reply to the receive command")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "offline status", func() bool {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		for i := len(sub.msgs) - 1; i >= 0; i-- {
			if strings.HasSuffix(sub.msgs[i].Topic, "/status") && !strings.Contains(sub.msgs[i].Topic, "printer/") {
				var v map[string]any
				json.Unmarshal(sub.msgs[i].Payload, &v)
				return v["state"] == "offline"
			}
		}
		return false
	})
}
