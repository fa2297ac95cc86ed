package mqttpub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
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

// hookBroker starts a mochi broker on loopback with hook, and a sink of the
// events it takes in.
func hookBroker(t *testing.T, hook mqttsrv.Hook) (url string, s *sink) {
	t.Helper()
	srv := mqttsrv.New(&mqttsrv.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(allowHook), nil); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddHook(hook, nil); err != nil {
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
	s = newSink()
	if err := srv.Subscribe(prefix+"/events/#", 1, func(_ *mqttsrv.Client, _ packets.Subscription, pk packets.Packet) {
		s.add(pk.TopicName, pk.Payload, false)
	}); err != nil {
		t.Fatal(err)
	}
	return "tcp://" + tcp.Address(), s
}

// poisonOutbox is an outbox holding ten events, the second of which
// carries "poison"; it returns the poison's sequence number and the alarms.
func poisonOutbox(t *testing.T, maxAttempts int) (*outbox.Outbox, uint64, func() []outbox.Alarm) {
	t.Helper()
	st, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var alarms []outbox.Alarm
	ob, err := outbox.Open(st, outbox.Options{MaxAttempts: maxAttempts, OnAlarm: func(a outbox.Alarm) { mu.Lock(); alarms = append(alarms, a); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	var poisonSeq uint64
	for i := 0; i < 10; i++ {
		body := fmt.Sprintf(`{"i":%d}`, i)
		if i == 1 {
			body = `{"i":1,"note":"poison"}`
		}
		seq, err := ob.Append(context.Background(), outbox.Event{Type: "p1", Priority: outbox.PriorityLot, Body: json.RawMessage(body)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			poisonSeq = seq
		}
	}
	return ob, poisonSeq, func() []outbox.Alarm { mu.Lock(); defer mu.Unlock(); return append([]outbox.Alarm(nil), alarms...) }
}

func TestPoisonEventIsQuarantinedAndTheRestFlows(t *testing.T) {
	choke := &chokeHook{}
	url, s := hookBroker(t, choke)
	ob, poisonSeq, alarmsOf := poisonOutbox(t, 3)
	cfg := testConfig(url)
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
	if alarms := alarmsOf(); len(alarms) != 1 || alarms[0].Kind != outbox.AlarmQuarantined {
		t.Fatalf("alarms %+v", alarms)
	}
	checkOrder(t, s)
}

// dropHook makes the broker drop a payload containing "poison" without a
// PUBACK and without closing the connection, acknowledging the messages
// after it (a message an ACL refuses silently).
type dropHook struct {
	mqttsrv.HookBase
	mu    sync.Mutex
	drops int
}

func (h *dropHook) ID() string           { return "drop" }
func (h *dropHook) Provides(b byte) bool { return b == mqttsrv.OnPublish }
func (h *dropHook) OnPublish(_ *mqttsrv.Client, pk packets.Packet) (packets.Packet, error) {
	if bytes.Contains(pk.Payload, []byte("poison")) {
		h.mu.Lock()
		h.drops++
		h.mu.Unlock()
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// A broker that acknowledges the events after one but never that one
// refuses it: each such session charges it, and it is quarantined.
func TestSilentlyDroppedEventIsQuarantined(t *testing.T) {
	drop := &dropHook{}
	url, s := hookBroker(t, drop)
	ob, poisonSeq, _ := poisonOutbox(t, 3)
	cfg := testConfig(url)
	cfg.AckTimeout = 300 * time.Millisecond
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "the 9 good events", 30*time.Second, func() bool { return len(s.ids) == 9 })
	deadline := time.Now().Add(20 * time.Second)
	for ob.Stats().Quarantined == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	q, err := ob.Quarantined(10)
	if err != nil || len(q) != 1 || q[0].Event.Seq != poisonSeq || q[0].Attempts != 3 {
		t.Fatalf("quarantine %+v %v", q, err)
	}
	if st := ob.Stats(); st.Pending() != 0 {
		t.Fatalf("outbox %+v: want nothing pending", st)
	}
}

// stallHook holds every PUBLISH longer than the publisher's ack timeout in
// the first sessions (a stalled uplink: nothing is acknowledged), then lets
// them through.
type stallHook struct {
	mqttsrv.HookBase
	hold     time.Duration
	sessions int // stalled sessions
	mu       sync.Mutex
	seen     map[*mqttsrv.Client]bool
}

func (h *stallHook) ID() string           { return "stall" }
func (h *stallHook) Provides(b byte) bool { return b == mqttsrv.OnPublish }
func (h *stallHook) OnPublish(cl *mqttsrv.Client, pk packets.Packet) (packets.Packet, error) {
	if !strings.Contains(pk.TopicName, "/events/") {
		return pk, nil
	}
	h.mu.Lock()
	h.seen[cl] = true
	stall := len(h.seen) <= h.sessions
	h.mu.Unlock()
	if stall {
		time.Sleep(h.hold)
	}
	return pk, nil
}

// Sessions broken by a stalled uplink charge no event: after more of them
// than max_attempts, everything is still delivered and nothing quarantined.
func TestStalledUplinkQuarantinesNothing(t *testing.T) {
	stall := &stallHook{hold: 2 * time.Second, sessions: 3, seen: map[*mqttsrv.Client]bool{}}
	url, s := hookBroker(t, stall)
	ob, _, alarmsOf := poisonOutbox(t, 2) // "poison" means nothing to this broker
	cfg := testConfig(url)
	cfg.AckTimeout = 300 * time.Millisecond
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "all 10 events", 60*time.Second, func() bool { return len(s.ids) == 10 })
	deadline := time.Now().Add(10 * time.Second)
	for ob.Stats().Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := ob.Stats(); st.Quarantined != 0 || st.Pending() != 0 {
		t.Fatalf("outbox %+v: want everything delivered, nothing quarantined", st)
	}
	stall.mu.Lock()
	if len(stall.seen) <= stall.sessions {
		t.Errorf("only %d sessions: the stall did not break sessions", len(stall.seen))
	}
	stall.mu.Unlock()
	if a := alarmsOf(); len(a) != 0 {
		t.Fatalf("alarms %+v", a)
	}
	checkOrder(t, s)
}

// blackhole is a TCP relay to a broker that, in its first sessions,
// swallows everything in both directions from the first event on: a link
// gone dead without a reset, which paho's keepalive detects.
type blackhole struct {
	broker   string
	sessions int
	mu       sync.Mutex
	opened   int
}

func (b *blackhole) serve(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", b.broker)
			if err != nil {
				client.Close()
				continue
			}
			b.mu.Lock()
			b.opened++
			dies := b.opened <= b.sessions
			b.mu.Unlock()
			var dead atomic.Bool
			go func() { // client to broker
				defer client.Close()
				defer server.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := client.Read(buf)
					if err != nil {
						return
					}
					if dies && bytes.Contains(buf[:n], []byte("/events/")) {
						dead.Store(true)
					}
					if !dead.Load() {
						if _, err := server.Write(buf[:n]); err != nil {
							return
						}
					}
				}
			}()
			go func() { // broker to client
				// A dead link does not pass on the broker's close either.
				defer func() {
					if !dead.Load() {
						client.Close()
					}
				}()
				buf := make([]byte, 32<<10)
				for {
					n, err := server.Read(buf)
					if err != nil {
						return
					}
					if !dead.Load() {
						if _, err := client.Write(buf[:n]); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// Sessions lost to a dead link that paho's keepalive detects (it fails the
// waiting publishes before it says why the connection was lost) charge no
// event either.
func TestDeadLinkFoundByKeepaliveQuarantinesNothing(t *testing.T) {
	url, s := hookBroker(t, &mqttsrv.HookBase{})
	hole := &blackhole{broker: strings.TrimPrefix(url, "tcp://"), sessions: 3}
	ob, _, alarmsOf := poisonOutbox(t, 2)
	cfg := testConfig(hole.serve(t))
	cfg.KeepAlive = 2 * time.Second   // mochi allows 1.5 keepalives of silence
	cfg.AckTimeout = 30 * time.Second // the keepalive finds the dead link first
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "all 10 events", 60*time.Second, func() bool { return len(s.ids) == 10 })
	deadline := time.Now().Add(10 * time.Second)
	for ob.Stats().Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := ob.Stats(); st.Quarantined != 0 || st.Pending() != 0 {
		t.Fatalf("outbox %+v: want everything delivered, nothing quarantined", st)
	}
	hole.mu.Lock()
	if hole.opened <= hole.sessions {
		t.Errorf("only %d sessions: the dead link did not break sessions", hole.opened)
	}
	hole.mu.Unlock()
	if a := alarmsOf(); len(a) != 0 {
		t.Fatalf("alarms %+v", a)
	}
	checkOrder(t, s)
}

// failedToken is a publish token that paho completed with err.
type failedToken struct{ err error }

func (failedToken) Wait() bool                     { return true }
func (failedToken) WaitTimeout(time.Duration) bool { return true }
func (failedToken) Done() <-chan struct{}          { c := make(chan struct{}); close(c); return c }
func (t failedToken) Error() error                 { return t.err }

// paho fails the publishes of a lost connection before it reports why it
// was lost: a failed token takes the reason that follows it.
func TestFailedTokenTakesTheConnectionLostReason(t *testing.T) {
	p := &Publisher{}
	sctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	why := fmt.Errorf("%w: %w", ErrConnectionLost, errors.New("pingresp not received, disconnecting"))
	time.AfterFunc(50*time.Millisecond, func() { cancel(why) })
	err := p.tokenError(sctx, failedToken{errors.New("connection lost before Publish completed")})
	if !errors.Is(err, ErrConnectionLost) || !stalled(err, false) {
		t.Fatalf("error %v: want the connection-lost reason, a stall", err)
	}
	// With no such report, the token's own error stands.
	sctx2, cancel2 := context.WithCancelCause(context.Background())
	defer cancel2(nil)
	if err := p.tokenError(sctx2, failedToken{errors.New("boom")}); err == nil || err.Error() != "boom" {
		t.Fatalf("error %v, want the token's", err)
	}
	if err := p.tokenError(sctx2, failedToken{}); err != nil {
		t.Fatalf("a completed token: %v", err)
	}
}

// noLoopRelay is a TCP relay to a broker that drops, on the way to the
// client, every live (not retained) PUBLISH on a status topic: a broker
// that does not deliver a client's own publishes back to it, retained
// messages on subscribe aside.
func noLoopRelay(t *testing.T, broker string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", broker)
			if err != nil {
				client.Close()
				continue
			}
			go func() { defer server.Close(); _, _ = io.Copy(server, client) }()
			go func() {
				defer client.Close()
				r := bufio.NewReader(server)
				for {
					hdr, err := r.ReadByte()
					if err != nil {
						return
					}
					frame := []byte{hdr}
					length, shift := 0, 0
					for {
						b, err := r.ReadByte()
						if err != nil {
							return
						}
						frame = append(frame, b)
						length |= int(b&0x7f) << shift
						shift += 7
						if b&0x80 == 0 {
							break
						}
					}
					body := make([]byte, length)
					if _, err := io.ReadFull(r, body); err != nil {
						return
					}
					if hdr>>4 == 3 && hdr&1 == 0 && len(body) > 2 {
						n := int(body[0])<<8 | int(body[1])
						if n+2 <= len(body) && strings.HasSuffix(string(body[2:2+n]), "/status") {
							continue // a live status publish: dropped
						}
					}
					if _, err := client.Write(append(frame, body...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// On a broker that never echoes a client's own publishes, the subscription
// check fails twice, then is turned off: sessions stop restarting.
func TestSubscriptionCheckTurnsOffOnANoLoopBroker(t *testing.T) {
	url, _ := hookBroker(t, &mqttsrv.HookBase{})
	cfg := testConfig(noLoopRelay(t, strings.TrimPrefix(url, "tcp://")))
	cfg.AckTimeout = 500 * time.Millisecond
	p, err := New(cfg, memOutbox(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	for i := 0; p.Stats().Sessions < maxSubCheckFails+1 || !p.Stats().Connected; i++ {
		if i == 3000 {
			t.Fatalf("stats %+v: want %d sessions", p.Stats(), maxSubCheckFails+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(subscriptionCheck + 3*cfg.AckTimeout) // long enough for a check to fail
	if st := p.Stats(); st.Sessions != maxSubCheckFails+1 || !st.Connected {
		t.Fatalf("stats %+v: want the session after the check was turned off to stay", st)
	}
}
