package main

import (
	"encoding/json"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// events subscribes to the gateway's events and sends each one's type and
// body.
func watchEvents(t *testing.T, brokerAddr string) <-chan map[string]any {
	t.Helper()
	ch := make(chan map[string]any, 1000)
	o := paho.NewClientOptions().AddBroker("tcp://" + brokerAddr).SetClientID("observer-" + t.Name()).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	var once sync.Once
	o.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) {
		var v map[string]any
		if json.Unmarshal(m.Payload(), &v) == nil && strings.Contains(m.Topic(), "/events/") {
			select {
			case ch <- v:
			default:
				once.Do(func() { t.Log("observer: events dropped") })
			}
		}
	})
	var c paho.Client
	for i := 0; i < 50; i++ {
		c = paho.NewClient(o)
		if tok := c.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	if tok := c.Subscribe("dockgate/v1/test/gw1/events/#", 1, nil); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return ch
}

// A gateway killed (SIGKILL) while a pallet is in the door's field has
// published the arrivals and no pass; started again on the same data dir,
// it publishes the pass, marked recovered, from the reads it saved.
func TestPassOpenAtSIGKILLIsPublishedAfterRestart(t *testing.T) {
	dataDir := t.TempDir()
	const door = `doors:
  - id: dock-1
    reader: R1
    antennas_outside: [1, 2]
    antennas_inside: [3, 4]
    presence_timeout: 12s
`
	cmd, _, brokerAddr := startGatewayWith(t, dataDir, `readers:
  - id: R1
    type: sim
    scenario: dock-in
`+door)
	evs := watchEvents(t, brokerAddr)
	deadline := time.After(30 * time.Second)
	for arrived := false; !arrived; {
		select {
		case v := <-evs:
			if v["type"] == "portal.pass" {
				t.Fatal("the pass closed before the kill: the test cannot tell a recovered pass")
			}
			arrived = v["type"] == "portal.arrival"
		case <-deadline:
			t.Fatal("no portal.arrival from the simulated reader")
		}
	}
	// Reads are saved every 100 ms.
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// Started again with the reader unreachable: the pass can only come
	// from the saved reads. It closes a presence timeout after the last
	// read before the kill, once the observer has subscribed (events are
	// not retained).
	_, _, brokerAddr = startGatewayWith(t, dataDir, `readers:
  - id: R1
    type: llrp
    address: 127.0.0.1:1
`+door)
	// (The 12 s presence timeout is the margin for a slow restart.)
	evs = watchEvents(t, brokerAddr)
	deadline = time.After(60 * time.Second)
	for {
		select {
		case v := <-evs:
			if v["type"] != "portal.pass" {
				continue
			}
			body, _ := v["body"].(map[string]any)
			if body["recovered"] != true || body["door"] != "dock-1" || len(body["tags"].([]any)) == 0 {
				t.Fatalf("pass after the restart: %v", body)
			}
			return
		case <-deadline:
			t.Fatal("no portal.pass after the restart")
		}
	}
}
