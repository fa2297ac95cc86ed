package mqttpub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

// chokeHook makes the broker drop the connection of a client that publishes
// a payload containing "poison", without a PUBACK: the way a broker treats
// a message it refuses (too large, not allowed).
type chokeHook struct {
	mqttsrv.HookBase
	mu     sync.Mutex
	chokes int
}

// allowHook admits every client (the test broker is on loopback).
type allowHook struct{ mqttsrv.HookBase }

func (h *allowHook) ID() string { return "allow" }
func (h *allowHook) Provides(b byte) bool {
	return b == mqttsrv.OnConnectAuthenticate || b == mqttsrv.OnACLCheck
}
func (h *allowHook) OnConnectAuthenticate(*mqttsrv.Client, packets.Packet) bool { return true }
func (h *allowHook) OnACLCheck(*mqttsrv.Client, string, bool) bool              { return true }

func (h *chokeHook) ID() string { return "choke" }

func (h *chokeHook) Provides(b byte) bool { return b == mqttsrv.OnPublish }

func (h *chokeHook) OnPublish(cl *mqttsrv.Client, pk packets.Packet) (packets.Packet, error) {
	if bytes.Contains(pk.Payload, []byte("poison")) {
		h.mu.Lock()
		h.chokes++
		h.mu.Unlock()
		cl.Stop(errors.New("test: refused message"))
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

func TestPoisonEventIsQuarantinedAndTheRestFlows(t *testing.T) {
	srv := mqttsrv.New(&mqttsrv.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(allowHook), nil); err != nil {
		t.Fatal(err)
	}
	choke := &chokeHook{}
	if err := srv.AddHook(choke, nil); err != nil {
		t.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := newSink()
	if err := srv.Subscribe(prefix+"/events/#", 1, func(_ *mqttsrv.Client, _ packets.Subscription, pk packets.Packet) {
		s.add(pk.TopicName, pk.Payload, false)
	}); err != nil {
		t.Fatal(err)
	}

	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var alarms []outbox.Alarm
	ob, err := outbox.Open(st, outbox.Options{MaxAttempts: 3, OnAlarm: func(a outbox.Alarm) { mu.Lock(); alarms = append(alarms, a); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	ctx := context.Background()
	var poisonSeq uint64
	for i := 0; i < 10; i++ {
		body := fmt.Sprintf(`{"i":%d}`, i)
		if i == 1 {
			body = `{"i":1,"note":"poison"}`
		}
		seq, err := ob.Append(ctx, outbox.Event{Type: "p1", Priority: outbox.PriorityLot, Body: json.RawMessage(body)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			poisonSeq = seq
		}
	}
	cfg := testConfig("tcp://" + tcp.Address())
	cfg.AckTimeout = time.Second // mochi sometimes closes a stopped client late
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "the 9 good events", 30*time.Second, func() bool { return len(s.ids) == 9 })
	deadline := time.Now().Add(10 * time.Second)
	for ob.Stats().Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := ob.Stats(); st.Quarantined != 1 || st.Pending() != 0 {
		t.Fatalf("outbox %+v: want the poison quarantined and the rest delivered", st)
	}
	q, err := ob.Quarantined(10)
	if err != nil || len(q) != 1 || q[0].Event.Seq != poisonSeq || q[0].Attempts != 3 {
		t.Fatalf("quarantine %+v %v", q, err)
	}
	choke.mu.Lock()
	// Three charged sessions; a broker that closes the connection before it
	// flushed the PUBACK of the event before the poison costs one more.
	if choke.chokes < 3 || choke.chokes > 5 {
		t.Errorf("broker choked %d times, want 3 to 5", choke.chokes)
	}
	choke.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	if len(alarms) != 1 || alarms[0].Kind != outbox.AlarmQuarantined {
		t.Fatalf("alarms %+v", alarms)
	}
	checkOrder(t, s)
}
