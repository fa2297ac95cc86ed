package mqttpub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqttsrv "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/broker"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

const prefix = "dockgate/v1/site1/gw1"

// received is one message seen by a test subscriber.
type received struct {
	topic   string
	payload []byte
	retain  bool
}

// sink collects messages from an embedded broker's inline subscription.
type sink struct {
	mu   sync.Mutex
	msgs []received
	ids  map[string]int // eventID → times seen
	// per priority, the seqs in arrival order (first arrivals only)
	seqs   map[string][]uint64
	change chan struct{}
}

func newSink() *sink {
	return &sink{ids: map[string]int{}, seqs: map[string][]uint64{}, change: make(chan struct{}, 1)}
}

func (s *sink) attach(t testing.TB, b *broker.Broker, filter string) {
	t.Helper()
	err := b.Server().Subscribe(filter, 1, func(_ *mqttsrv.Client, _ packets.Subscription, pk packets.Packet) {
		s.add(pk.TopicName, pk.Payload, pk.FixedHeader.Retain)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *sink) add(topic string, payload []byte, retain bool) {
	s.mu.Lock()
	s.msgs = append(s.msgs, received{topic, append([]byte(nil), payload...), retain})
	if strings.Contains(topic, "/events/") {
		var env outbox.Envelope
		if json.Unmarshal(payload, &env) == nil {
			s.ids[env.EventID]++
			if s.ids[env.EventID] == 1 {
				typ := env.Type
				s.seqs[typ] = append(s.seqs[typ], env.Seq)
			}
		}
	}
	s.mu.Unlock()
	select {
	case s.change <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds (checked under the lock) or fails.
func (s *sink) waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-s.change:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (s *sink) onTopic(topic string) []received {
	var out []received
	for _, m := range s.msgs {
		if m.topic == topic {
			out = append(out, m)
		}
	}
	return out
}

func startBroker(t testing.TB, addr string) *broker.Broker {
	t.Helper()
	var b *broker.Broker
	var err error
	for i := 0; i < 50; i++ { // the old listener's port may take a moment
		if b, err = broker.Start(broker.Config{Listen: addr}); err == nil {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal(err)
	return nil
}

func testConfig(url string) Config {
	return Config{
		URL: url, Site: "site1", Gateway: "gw1", Version: "1.2.3", ConfigHash: "abc",
		Rate: -1, AckTimeout: 5 * time.Second, ConnectTimeout: 2 * time.Second,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond },
		Getenv:  func(string) string { return "" },
	}
}

func memOutbox(t testing.TB) *outbox.Outbox {
	t.Helper()
	s, err := store.Open("", store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.Open(s, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close(); s.Close() })
	return ob
}

// runPublisher runs p until the test ends.
func runPublisher(t testing.TB, p *Publisher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func appendN(t testing.TB, ob *outbox.Outbox, n int, from int) {
	t.Helper()
	var g errgroup.Group
	g.SetLimit(64)
	for i := from; i < from+n; i++ {
		g.Go(func() error {
			p := outbox.Priority(i % 3)
			_, err := ob.Append(context.Background(), outbox.Event{
				Type: fmt.Sprintf("p%d", p), Priority: p, Source: "test",
				Body: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// checkOrder verifies that first arrivals are in sequence order within each
// priority (event type pN).
func checkOrder(t testing.TB, s *sink) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for typ, seqs := range s.seqs {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] <= seqs[i-1] {
				t.Fatalf("%s: seq %d arrived after %d", typ, seqs[i], seqs[i-1])
			}
		}
	}
}

func TestBrokerOutageLosesNothingKeepsOrder(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	addr := b.Addr()
	s := newSink()
	s.attach(t, b, prefix+"/events/#")
	ob := memOutbox(t)
	// Reconnects wait at a gate opened once the new broker has its
	// subscriber, so that nothing is published to a broker nobody hears.
	gate := make(chan struct{})
	var gateOnce sync.Once
	openGate := func() { gateOnce.Do(func() { close(gate) }) }
	t.Cleanup(openGate)
	cfg := testConfig(b.URL())
	cfg.Backoff = func(int) time.Duration { <-gate; return 10 * time.Millisecond }
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)

	appendN(t, ob, 300, 0)
	s.waitFor(t, "the first 300 events", 20*time.Second, func() bool { return len(s.ids) == 300 })

	b.Close()
	appendN(t, ob, 600, 300) // queued while the broker is down
	if ob.Stats().Pending() == 0 {
		t.Fatal("events were removed from the outbox while the broker was down")
	}
	b2 := startBroker(t, addr)
	defer b2.Close()
	s.attach(t, b2, prefix+"/events/#")
	openGate()
	s.waitFor(t, "all 900 events after the outage", 30*time.Second, func() bool { return len(s.ids) == 900 })
	checkOrder(t, s)
	s.waitFor(t, "the outbox to drain", 10*time.Second, func() bool { return ob.Stats().Pending() == 0 })
	if st := p.Stats(); st.Sessions < 2 {
		t.Fatalf("stats %+v: want a second session", st)
	}
}

func TestStatusDevicesAndCleanShutdown(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	s := newSink()
	s.attach(t, b, prefix+"/#")
	ob := memOutbox(t)
	p, err := New(testConfig(b.URL()), ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetDeviceStatus(DevicePrinter, "zt411-1", map[string]any{"state": "ready"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetDeviceStatus("scale", "x", 1); err == nil {
		t.Fatal("unknown device kind accepted")
	}
	stop := runPublisher(t, p)
	s.waitFor(t, "online status and printer status", 10*time.Second, func() bool {
		return len(s.onTopic(prefix+"/status")) > 0 && len(s.onTopic(prefix+"/printer/zt411-1/status")) > 0
	})
	s.mu.Lock()
	st := s.onTopic(prefix + "/status")[0]
	dev := s.onTopic(prefix + "/printer/zt411-1/status")[0]
	s.mu.Unlock()
	var online Status
	if err := json.Unmarshal(st.payload, &online); err != nil || online.State != "online" || online.Version != "1.2.3" || online.ConfigHash != "abc" || online.Session == "" || !st.retain {
		t.Fatalf("online status %s retain=%v: %v", st.payload, st.retain, err)
	}
	var ds DeviceStatus
	if err := json.Unmarshal(dev.payload, &ds); err != nil || ds.Session != online.Session || string(ds.Status) != `{"state":"ready"}` || !dev.retain {
		t.Fatalf("device status %s retain=%v: %v", dev.payload, dev.retain, err)
	}
	// A status set while connected goes out at once.
	if err := p.SetDeviceStatus(DeviceReader, "door-3", "connected"); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "reader status", 10*time.Second, func() bool { return len(s.onTopic(prefix+"/reader/door-3/status")) > 0 })
	// Quick changes: the last one published is the latest.
	for i := 0; i < 50; i++ {
		if err := p.SetDeviceStatus(DeviceReader, "door-3", i); err != nil {
			t.Fatal(err)
		}
	}
	lastOn := func(topic string) []byte {
		m := s.onTopic(topic)
		if len(m) == 0 {
			return nil
		}
		return m[len(m)-1].payload
	}
	s.waitFor(t, "the latest reader status", 10*time.Second, func() bool {
		var ds DeviceStatus
		return json.Unmarshal(lastOn(prefix+"/reader/door-3/status"), &ds) == nil && string(ds.Status) == "49"
	})
	s.mu.Lock()
	before := len(s.onTopic(prefix + "/reader/door-3/status"))
	s.mu.Unlock()
	if err := p.ClearDeviceStatus(DeviceReader, "door-3"); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the cleared reader status", 10*time.Second, func() bool {
		return len(s.onTopic(prefix+"/reader/door-3/status")) > before && len(lastOn(prefix+"/reader/door-3/status")) == 0
	})

	if _, err := ob.Append(context.Background(), outbox.Event{Type: "lot.created", Priority: outbox.PriorityLot, Body: json.RawMessage(`{"lot":"A1"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Append(context.Background(), outbox.Event{Type: "epcis", Priority: outbox.PriorityLot, Topic: "epcis", Body: json.RawMessage(`{"type":"EPCISDocument"}`)}); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "event and epcis", 10*time.Second, func() bool {
		return len(s.onTopic(prefix+"/events/lot.created")) == 1 && len(s.onTopic(prefix+"/epcis")) == 1
	})
	s.mu.Lock()
	evm := s.onTopic(prefix + "/events/lot.created")[0]
	ep := s.onTopic(prefix + "/epcis")[0]
	s.mu.Unlock()
	var env map[string]any
	if err := json.Unmarshal(evm.payload, &env); err != nil || evm.retain {
		t.Fatalf("event %s retain=%v: %v", evm.payload, evm.retain, err)
	}
	for _, k := range []string{"eventID", "seq", "type", "time", "body"} {
		if _, ok := env[k]; !ok {
			t.Fatalf("event envelope %s lacks %q", evm.payload, k)
		}
	}
	if string(ep.payload) != `{"type":"EPCISDocument"}` {
		t.Fatalf("epcis payload %s", ep.payload)
	}

	stop()
	s.mu.Lock()
	all := s.onTopic(prefix + "/status")
	last := all[len(all)-1]
	s.mu.Unlock()
	if string(last.payload) != OfflinePayload || !last.retain {
		t.Fatalf("last status after a clean shutdown: %s retain=%v", last.payload, last.retain)
	}
}

func TestWillOnConnectionLossThenOnlineAgain(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	s := newSink()
	s.attach(t, b, prefix+"/status")
	ob := memOutbox(t)
	cfg := testConfig(b.URL())
	p, err := New(cfg, ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "online", 10*time.Second, func() bool { return len(s.msgs) == 1 && p.Stats().Connected })
	cl, ok := b.Server().Clients.Get(p.Config().ClientID)
	if !ok {
		t.Fatalf("client %s not connected", p.Config().ClientID)
	}
	cl.Stop(errors.New("test: drop the connection"))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("publisher: %+v", p.Stats()) // why the last session ended
			s.mu.Lock()
			for _, m := range s.msgs {
				t.Logf("status: %s", m.payload)
			}
			s.mu.Unlock()
		}
	})
	// The will and the new session's online status may reach the broker
	// in either order; the last word must be online, of the new session.
	var first Status
	s.waitFor(t, "LWT offline and online again", 30*time.Second, func() bool {
		_ = json.Unmarshal(s.msgs[0].payload, &first)
		offline := false
		for _, m := range s.msgs[1:] {
			offline = offline || string(m.payload) == OfflinePayload
		}
		var last Status
		_ = json.Unmarshal(s.msgs[len(s.msgs)-1].payload, &last)
		return offline && last.State == "online" && last.Session != first.Session
	})
}

func TestMoreThan65535QueuedOffline(t *testing.T) {
	const n = 70000
	ob := memOutbox(t)
	start := time.Now()
	appendN(t, ob, n, 0)
	t.Logf("queued %d events in %v", n, time.Since(start))
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	done := make(chan struct{})
	err := b.Server().Subscribe(prefix+"/events/#", 1, func(_ *mqttsrv.Client, _ packets.Subscription, pk packets.Packet) {
		// The envelope starts {"eventID":"…": take the ID without a full decode.
		id, _, ok := bytes.Cut(bytes.TrimPrefix(pk.Payload, []byte(`{"eventID":"`)), []byte(`"`))
		if !ok {
			return
		}
		mu.Lock()
		seen[string(id)] = true
		if len(seen) == n {
			close(done)
		}
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(testConfig(b.URL()), ob, nil)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	runPublisher(t, p)
	select {
	case <-done:
		t.Logf("delivered in %v", time.Since(start))
	case <-time.After(120 * time.Second):
		mu.Lock()
		t.Fatalf("only %d of %d events arrived", len(seen), n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ob.Stats().Pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := ob.Stats(); st.Pending() != 0 {
		t.Fatalf("outbox not drained: %+v", st)
	}
}

func TestConfigValidation(t *testing.T) {
	good := Config{URL: "tcp://127.0.0.1:1883", Site: "s", Gateway: "g"}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	if good.ClientID != "dockgate-s-g" || good.TopicPrefix != "dockgate/v1/s/g" || good.InFlight != 20 {
		t.Fatalf("defaults: %+v", good)
	}
	bad := []struct {
		c    Config
		want string
	}{
		{Config{Site: "s", Gateway: "g"}, "mqtt.url"},
		{Config{URL: "http://x:1", Site: "s", Gateway: "g"}, "scheme"},
		{Config{URL: "tcp://x:1"}, "topic_prefix"},
		{Config{URL: "tcp://x:1", Site: "s", Gateway: "g", CAFile: "ca.pem"}, "ssl://"},
		{Config{URL: "ssl://x:1", Site: "s", Gateway: "g", CertFile: "c.pem"}, "key_file"},
		{Config{URL: "tcp://x:1", TopicPrefix: "a/+/b"}, "wildcard"},
		{Config{URL: "tcp://x:1", Site: "s", Gateway: "g", InFlight: -1}, "inflight"},
	}
	for _, c := range bad {
		err := c.c.WithDefaults().Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%+v) = %v, want an error about %s", c.c, err, c.want)
		}
	}
}

func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "pw")
	if err := os.WriteFile(pf, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == PasswordEnv {
			return "from-env"
		}
		return ""
	}
	c := Config{Password: "inline", Getenv: env}
	if p, _ := c.password(); p != "from-env" {
		t.Fatalf("env: %q", p)
	}
	c.PasswordFile = pf
	if p, _ := c.password(); p != "from-file" {
		t.Fatalf("file: %q", p)
	}
	c.PasswordFile = filepath.Join(dir, "missing")
	if _, err := c.password(); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing file: %v", err)
	}
	c = Config{Password: "inline", Getenv: func(string) string { return "" }}
	if p, _ := c.password(); p != "inline" {
		t.Fatalf("inline: %q", p)
	}
}

func TestLimiterPaces(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(10, 2, func() time.Time { return now })
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := l.wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if l.tokens >= 1 {
		t.Fatalf("burst not consumed: %v tokens", l.tokens)
	}
	now = now.Add(100 * time.Millisecond) // one token at 10/s
	if err := l.wait(ctx); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with no tokens and a canceled ctx: %v", err)
	}
}

// A will that reaches the broker after the new session said online (a late
// takeover of an earlier connection) is corrected: the gateway watches its
// own status and says online again.
func TestLateWillIsCorrected(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	s := newSink()
	s.attach(t, b, prefix+"/status")
	p, err := New(testConfig(b.URL()), memOutbox(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	runPublisher(t, p)
	s.waitFor(t, "online", 10*time.Second, func() bool { return len(s.msgs) == 1 && p.Stats().Connected })
	if err := b.Server().Publish(prefix+"/status", []byte(OfflinePayload), true, 1); err != nil {
		t.Fatal(err)
	}
	s.waitFor(t, "the late will, then online again", 10*time.Second, func() bool {
		var last Status
		return len(s.msgs) >= 3 && string(s.msgs[1].payload) == OfflinePayload &&
			json.Unmarshal(s.msgs[len(s.msgs)-1].payload, &last) == nil && last.State == "online" && last.Session == p.Stats().Session
	})
}

// A broker that drops the session's subscriptions after granting them (the
// cleanup of a replaced connection overlapping the new one) is noticed: the
// gateway's own status does not come back, the session is restarted, and
// commands arrive again.
func TestLostSubscriptionsRestartTheSession(t *testing.T) {
	b := startBroker(t, "127.0.0.1:0")
	defer b.Close()
	cfg := testConfig(b.URL())
	cfg.AckTimeout = time.Second
	p, err := New(cfg, memOutbox(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var cmds []string
	p.OnCommand(func(name string, _ []byte) { mu.Lock(); cmds = append(cmds, name); mu.Unlock() })
	runPublisher(t, p)
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ {
			if i == 2000 {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	eventually("the first session", func() bool { return p.Stats().Connected })
	cl, ok := b.Server().Clients.Get(p.cfg.ClientID)
	if !ok {
		t.Fatal("the gateway's client is not on the broker")
	}
	b.Server().UnsubscribeClient(cl)
	eventually("a second session", func() bool { st := p.Stats(); return st.Sessions == 2 && st.Connected })
	eventually("a command through the new session", func() bool {
		_ = b.Server().Publish(prefix+"/cmd/ping", []byte(`{}`), false, 1)
		mu.Lock()
		defer mu.Unlock()
		return len(cmds) > 0
	})
	time.Sleep(subscriptionCheck + 2*cfg.AckTimeout) // long enough for its check to fail
	if st := p.Stats(); st.Sessions != 2 || !st.Connected {
		t.Fatalf("stats %+v: want the second session to stay", st)
	}
}

// A broker that refuses the gateway's credentials gets an error that says
// what the gateway sent: a user without a password is the usual mistake
// (the password never reached the service's environment).
func TestRefusedCredentialsSayWhatWasSent(t *testing.T) {
	var b *broker.Broker
	var err error
	for i := 0; i < 50; i++ {
		if b, err = broker.Start(broker.Config{Listen: "127.0.0.1:0", Username: "gw1", Password: "secret"}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, tc := range []struct{ user, pass, want string }{
		{"gw1", "", `user "gw1" was sent without a password: set DOCKGATE_MQTT_PASSWORD`},
		{"gw1", "wrong", `check user "gw1"'s password`},
		{"", "", "no mqtt.username was sent"},
	} {
		cfg := testConfig(b.URL())
		cfg.Username, cfg.Password = tc.user, tc.pass
		p, err := New(cfg, memOutbox(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		last := ""
		for i := 0; i < 500 && !strings.Contains(last, tc.want); i++ {
			time.Sleep(10 * time.Millisecond)
			last = p.Stats().LastError
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(last, tc.want) {
			t.Errorf("user %q password %q: last error %q, want %q", tc.user, tc.pass, last, tc.want)
		}
	}
}

// A type and a relative topic of the same name make different topics
// (events/{type} and the topic itself), however often each comes.
func TestPrepareTopics(t *testing.T) {
	p, err := New(testConfig("tcp://127.0.0.1:1"), memOutbox(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	topics := map[topicKey]string{}
	for range 2 {
		for _, tc := range []struct {
			ev   outbox.Event
			want string
		}{
			{outbox.Event{Type: "epcis"}, prefix + "/events/epcis"},
			{outbox.Event{Type: "lot.created", Topic: "epcis"}, prefix + "/epcis"},
			{outbox.Event{Type: "reply", Topic: "ops/reply/7", RawTopic: true}, "ops/reply/7"},
		} {
			if got := p.prepare(tc.ev, topics).topic; got != tc.want {
				t.Errorf("%+v: topic %q, want %q", tc.ev, got, tc.want)
			}
		}
	}
}
