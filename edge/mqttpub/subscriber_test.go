package mqttpub

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
)

// subLog records what a subscriber's handler was given; failNext makes the
// next call fail.
type subLog struct {
	mu       sync.Mutex
	msgs     []Message
	failNext bool
	failed   int
}

func (l *subLog) handle(m Message) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failNext {
		l.failNext = false
		l.failed++
		return errors.New("store unavailable")
	}
	l.msgs = append(l.msgs, m)
	return nil
}

func (l *subLog) count(topic string) (n int, retained int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if m.Topic == topic {
			n++
			if m.Retained {
				retained++
			}
		}
	}
	return n, retained
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runSubscriber(t *testing.T, s *Subscriber) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// A retained event of the outbox reaches a subscriber that comes later,
// marked retained; a message whose handling fails comes again; what is
// published while the subscriber is away waits in its persistent session.
func TestSubscriberPersistentSessionAndRetainedEvents(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	ob := memOutbox(t)
	p, err := New(testConfig(b.URL()), ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	const status = "dockgate/v1/site1/lots/L1/status"
	if _, err := ob.Append(context.Background(), outbox.Event{Type: "lot.status", Topic: status, RawTopic: true, Retain: true,
		Priority: outbox.PriorityLifecycle, Body: []byte(`{"code":"L1","status":"on_hold"}`)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the retained event acknowledged", func() bool { return p.Stats().Acked >= 1 })

	cfg := testConfig(b.URL())
	cfg.ClientID = "gw1-sync"
	log := &subLog{failNext: true}
	s, err := NewSubscriber(cfg, []string{"dockgate/v1/site1/lots/+/status"}, log.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	stop := runSubscriber(t, s)
	// The first delivery fails: it is not acknowledged and comes again.
	waitUntil(t, "the retained status, after a failed delivery", func() bool { n, r := log.count(status); return n == 1 && r == 1 })
	if log.failed != 1 || s.Stats().Sessions < 2 {
		t.Fatalf("failed %d, sessions %d", log.failed, s.Stats().Sessions)
	}
	waitUntil(t, "connected", func() bool { return s.Stats().Connected })
	stop()
	if st := s.Stats(); st.Connected || st.Since.IsZero() {
		t.Fatalf("stats after stop %+v", st)
	}

	// Away: a live (not retained) message waits in the session.
	const other = "dockgate/v1/site1/lots/L2/status"
	if _, err := ob.Append(context.Background(), outbox.Event{Type: "lot.status", Topic: other, RawTopic: true,
		Priority: outbox.PriorityLifecycle, Body: []byte(`{"code":"L2"}`)}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the live event acknowledged", func() bool { return p.Stats().Acked >= 2 })
	s2, err := NewSubscriber(cfg, []string{"dockgate/v1/site1/lots/+/status"}, log.handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	runSubscriber(t, s2)
	waitUntil(t, "the message published while away", func() bool { n, _ := log.count(other); return n == 1 })
	// The session was kept: the retained status is not sent again.
	time.Sleep(200 * time.Millisecond)
	if n, _ := log.count(status); n != 1 {
		t.Fatalf("retained status delivered %d times", n)
	}
}

func TestSubscriberConfig(t *testing.T) {
	if _, err := NewSubscriber(testConfig("tcp://127.0.0.1:1883"), nil, func(Message) error { return nil }, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("no filters: %v", err)
	}
	if _, err := NewSubscriber(Config{}, []string{"a/#"}, func(Message) error { return nil }, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("no url: %v", err)
	}
}
