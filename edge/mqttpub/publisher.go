package mqttpub

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/dockgate/dockgate/edge/outbox"
)

// Errors of a session; Run logs them and reconnects.
var (
	// ErrAckTimeout: a PUBACK did not arrive within AckTimeout.
	ErrAckTimeout = errors.New("no PUBACK within mqtt.ack_timeout")
	// ErrConnectionLost: the broker connection dropped.
	ErrConnectionLost = errors.New("connection to the broker lost")
	// ErrSubscriptionLost: the broker stopped delivering the session's
	// subscriptions (commands would not arrive).
	ErrSubscriptionLost = errors.New("broker dropped the session's subscriptions")
)

// subscriptionCheck is when, after a session is up, the gateway republishes
// its online status to see it delivered back: a broker that was still
// cleaning up the connection this one replaced can drop the new session's
// subscriptions after granting them.
const subscriptionCheck = time.Second

// maxSubCheckFails is how many sessions in a row may fail the subscription
// check before it is turned off.
const maxSubCheckFails = 2

// Device kinds with a retained status topic.
const (
	DevicePrinter = "printer"
	DeviceReader  = "reader"
)

// OfflinePayload is the retained status when the gateway is gone (LWT and
// clean shutdown).
const OfflinePayload = `{"state":"offline"}`

// Status is the retained online status payload.
type Status struct {
	State      string `json:"state"`
	Version    string `json:"version"`
	ConfigHash string `json:"config_hash"`
	Session    string `json:"session"`
}

// DeviceStatus is the retained payload of printer/{id}/status and
// reader/{id}/status. Consumers compare Session with the gateway's status:
// a device status from an older session is stale.
type DeviceStatus struct {
	Session string          `json:"session"`
	Time    time.Time       `json:"time"`
	Status  json.RawMessage `json:"status"`
}

// Stats of the publisher.
type Stats struct {
	Connected bool   `json:"connected"`
	Session   string `json:"session,omitempty"`
	Sessions  uint64 `json:"sessions"`
	Published uint64 `json:"published"`
	Acked     uint64 `json:"acked"`
	LastError string `json:"last_error,omitempty"`
}

// Publisher drains an outbox to a broker.
type Publisher struct {
	cfg    Config
	ob     *outbox.Outbox
	log    *slog.Logger
	pass   string
	tlsCfg *tls.Config

	mu        sync.Mutex
	client    mqtt.Client
	session   string
	devices   map[string]json.RawMessage // "printer/id" → status
	devDirty  map[string]bool            // changed since last published
	devWake   chan struct{}
	onCommand func(name string, payload []byte)
	stats     Stats

	// noCharge: the last session ended for a reason that is not its
	// oldest unacknowledged event's (a stalled uplink), so the next Rewind
	// does not count an attempt against it. Owned by Run's goroutine.
	noCharge bool
	// subCheckFails counts sessions in a row whose subscription check
	// failed; at maxSubCheckFails the check is off (a broker that never
	// delivers a client's own publishes back to it). Owned by Run's
	// goroutine.
	subCheckFails int
	// conn is the session's connection when the gateway dialed it.
	conn atomic.Pointer[coalescingConn]
}

// New checks cfg (defaults filled in) and returns a publisher for ob.
func New(cfg Config, ob *outbox.Outbox, log *slog.Logger) (*Publisher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pass, err := cfg.password()
	if err != nil {
		return nil, err
	}
	tc, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Publisher{cfg: cfg, ob: ob, log: log.With("component", "mqtt"), pass: pass, tlsCfg: tc,
		devices: map[string]json.RawMessage{}, devDirty: map[string]bool{}, devWake: make(chan struct{}, 1)}, nil
}

// Config returns the effective configuration (defaults filled in).
func (p *Publisher) Config() Config { return p.cfg }

// Topic returns the full topic of rel under the prefix.
func (p *Publisher) Topic(rel string) string { return p.cfg.TopicPrefix + "/" + rel }

// OnCommand sets the receiver of commands (topic cmd/{name}); call it before
// Run. It is called from the MQTT client's goroutine and must not block:
// hand the command to a queue (command.Dispatcher.Submit does).
func (p *Publisher) OnCommand(f func(name string, payload []byte)) {
	p.mu.Lock()
	p.onCommand = f
	p.mu.Unlock()
}

// Stats returns a snapshot.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

func checkDevice(kind, id string) error {
	if kind != DevicePrinter && kind != DeviceReader {
		return fmt.Errorf("device kind %q: use %q or %q", kind, DevicePrinter, DeviceReader)
	}
	if id == "" || strings.ContainsAny(id, "/+#\x00") {
		return fmt.Errorf("device id %q must be non-empty without / + # or NUL", id)
	}
	return nil
}

// SetDeviceStatus records the status of a printer or reader and publishes it,
// retained, to {kind}/{id}/status (now if connected, and again at every new
// session, carrying the session ID). v is marshalled to JSON. Statuses are
// published in order by one goroutine, so the retained one is the latest.
func (p *Publisher) SetDeviceStatus(kind, id string, v any) error {
	if err := checkDevice(kind, id); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s %s status: %w", kind, id, err)
	}
	key := kind + "/" + id
	p.mu.Lock()
	p.devices[key] = b
	p.devDirty[key] = true
	p.mu.Unlock()
	p.wakeDevices()
	return nil
}

// ClearDeviceStatus forgets a removed device and clears its retained status
// with an empty retained message (at once, or at the next session).
func (p *Publisher) ClearDeviceStatus(kind, id string) error {
	if err := checkDevice(kind, id); err != nil {
		return err
	}
	key := kind + "/" + id
	p.mu.Lock()
	delete(p.devices, key)
	p.devDirty[key] = true
	p.mu.Unlock()
	p.wakeDevices()
	return nil
}

func (p *Publisher) wakeDevices() {
	select {
	case p.devWake <- struct{}{}:
	default:
	}
}

// publishDevices publishes the device statuses changed since the last call
// (all of them when all is set), in order, each awaited.
func (p *Publisher) publishDevices(ctx context.Context, c mqtt.Client, sid string, all bool) error {
	type change struct {
		key    string
		status json.RawMessage // nil: cleared
	}
	p.mu.Lock()
	var changes []change
	if all {
		for k, v := range p.devices {
			changes = append(changes, change{k, v})
		}
		for k := range p.devDirty {
			if _, ok := p.devices[k]; !ok {
				changes = append(changes, change{k, nil})
			}
		}
	} else {
		for k := range p.devDirty {
			changes = append(changes, change{k, p.devices[k]})
		}
	}
	clear(p.devDirty)
	p.mu.Unlock()
	for i, ch := range changes {
		payload := []byte{}
		if ch.status != nil {
			var err error
			if payload, err = json.Marshal(DeviceStatus{Session: sid, Time: p.cfg.Now().UTC(), Status: ch.status}); err != nil {
				return err
			}
		}
		if err := waitToken(ctx, c.Publish(p.Topic(ch.key+"/status"), 1, true, payload), p.cfg.AckTimeout); err != nil {
			// Publish the rest again with the next change or session.
			p.mu.Lock()
			for _, rest := range changes[i:] {
				p.devDirty[rest.key] = true
			}
			p.mu.Unlock()
			return fmt.Errorf("%s status: %w", ch.key, err)
		}
	}
	return nil
}

// Run connects, publishes and reconnects until ctx ends; then it publishes
// the offline status, disconnects and returns nil.
func (p *Publisher) Run(ctx context.Context) error {
	attempt := 0
	for {
		start := p.cfg.Now()
		healthy, err := p.runSession(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, outbox.ErrClosed) {
			return fmt.Errorf("mqtt publisher: %w (stop the publisher before closing the outbox)", err)
		}
		if err == nil {
			err = errors.New("session ended")
		}
		p.mu.Lock()
		p.stats.LastError = err.Error()
		p.mu.Unlock()
		if healthy || p.cfg.Now().Sub(start) >= p.cfg.HealthyAfter {
			attempt = 0
		}
		wait := p.cfg.Backoff(attempt)
		p.log.Warn("broker session ended", "err", err, "retry_in", wait, "attempt", attempt)
		attempt++
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func newSessionID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// waitToken waits for t at most d, or until ctx ends.
func waitToken(ctx context.Context, t mqtt.Token, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.Done():
		return t.Error()
	case <-timer.C:
		return ErrAckTimeout
	case <-ctx.Done():
		return ctx.Err()
	}
}

// authHint says what to check when the broker refused the credentials,
// from what the gateway sent: most often the password was never given to
// it (the service reads it from its environment file).
func (p *Publisher) authHint(err error) string {
	if !errors.Is(err, packets.ErrorRefusedNotAuthorised) && !errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword) {
		return ""
	}
	switch {
	case p.cfg.Username == "":
		return " (no mqtt.username was sent: set the gateway's user, and its password in " + PasswordEnv + " or mqtt.password_file)"
	case p.pass == "":
		return fmt.Sprintf(" (user %q was sent without a password: set %s, e.g. in the service's environment file, or mqtt.password_file)", p.cfg.Username, PasswordEnv)
	}
	return fmt.Sprintf(" (check user %q's password, %s or mqtt.password_file, against the broker's password file)", p.cfg.Username, PasswordEnv)
}

// runSession is one broker connection. healthy reports whether events were
// acknowledged in it (which resets the backoff).
func (p *Publisher) runSession(ctx context.Context) (healthy bool, err error) {
	sid := newSessionID()
	statusTopic := p.Topic("status")
	// sctx ends when the session breaks; wctx also when ctx ends (shutdown):
	// work stops on wctx, while PUBACKs already due are still awaited on
	// sctx so that a clean shutdown does not leave duplicates behind.
	sctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	wctx, wcancel := context.WithCancel(sctx)
	defer wcancel()
	defer context.AfterFunc(ctx, wcancel)()

	opts := mqtt.NewClientOptions().
		AddBroker(p.cfg.URL).
		SetClientID(p.cfg.ClientID).
		SetCleanSession(true).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(false).
		SetStore(noStore{}).
		SetKeepAlive(p.cfg.KeepAlive).
		SetPingTimeout(max(p.cfg.KeepAlive/2, time.Second)).
		SetConnectTimeout(p.cfg.ConnectTimeout).
		SetWriteTimeout(p.cfg.AckTimeout).
		SetWill(statusTopic, OfflinePayload, 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			cancel(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		})
	if p.cfg.Username != "" {
		opts.SetUsername(p.cfg.Username)
		opts.SetPassword(p.pass)
	}
	if p.tlsCfg != nil {
		opts.SetTLSConfig(p.tlsCfg)
	}
	p.conn.Store(nil)
	if u, err := url.Parse(p.cfg.URL); err == nil {
		opts.SetCustomOpenConnectionFn(openConn(u.Scheme, p.cfg.AckTimeout, func(c *coalescingConn) { p.conn.Store(c) }))
	}
	c := mqtt.NewClient(opts)
	if err := waitToken(wctx, c.Connect(), p.cfg.ConnectTimeout+time.Second); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("connect %s: %w%s", p.cfg.URL, err, p.authHint(err))
	}
	p.log.Info("connected to broker", "url", p.cfg.URL, "client_id", p.cfg.ClientID, "session", sid)

	// Online first, then device statuses, then commands.
	online, _ := json.Marshal(Status{State: "online", Version: p.cfg.Version, ConfigHash: p.cfg.ConfigHash, Session: sid})
	if err := waitToken(wctx, c.Publish(statusTopic, 1, true, online), p.cfg.AckTimeout); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("publish online status: %w", err)
	}
	p.mu.Lock()
	p.client, p.session = c, sid
	p.stats.Session = sid
	p.stats.Sessions++
	onCmd := p.onCommand
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.client, p.session = nil, ""
		p.stats.Connected, p.stats.Session = false, ""
		p.mu.Unlock()
	}()
	// The will of the connection this one replaces can reach the broker
	// after this session's online status (a broker that notices the old
	// connection late, or a takeover): the gateway watches its own status
	// and says online again.
	echo := make(chan struct{}, 1) // this session's online status came back
	reassert := func(_ mqtt.Client, m mqtt.Message) {
		var st Status
		if json.Unmarshal(m.Payload(), &st) != nil || wctx.Err() != nil {
			return
		}
		if st.State == "online" && st.Session == sid {
			select {
			case echo <- struct{}{}:
			default:
			}
			return
		}
		if st.State != "offline" {
			return
		}
		go func() {
			if wctx.Err() != nil {
				return // shutting down: the offline is this session's own
			}
			if err := waitToken(wctx, c.Publish(statusTopic, 1, true, online), p.cfg.AckTimeout); err != nil {
				p.log.Warn("online status not restored after a late will", "err", err)
				return
			}
			p.log.Info("online status restored after a late will of an earlier connection", "session", sid)
		}()
	}
	tok := c.Subscribe(statusTopic, 1, reassert)
	if err := waitToken(wctx, tok, p.cfg.AckTimeout); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("subscribe %s: %w", statusTopic, err)
	}
	statusGranted := granted(tok)
	if !statusGranted {
		p.log.Warn("broker refused the subscription to the gateway's own status: a late will of an earlier connection will not be corrected; grant the gateway read on it", "topic", statusTopic)
	}
	if err := p.publishDevices(wctx, c, sid, true); err != nil {
		c.Disconnect(0)
		return false, fmt.Errorf("publish device statuses: %w", err)
	}
	// Later device changes go out in order from one goroutine.
	var devWG sync.WaitGroup
	devWG.Add(1)
	go func() {
		defer devWG.Done()
		for {
			select {
			case <-wctx.Done():
				return
			case <-p.devWake:
				if err := p.publishDevices(wctx, c, sid, false); err != nil && wctx.Err() == nil {
					p.log.Warn("device status not published", "err", err)
				}
			}
		}
	}()
	defer func() { wcancel(); devWG.Wait() }()
	if onCmd != nil {
		prefix := p.Topic("cmd/")
		handler := func(_ mqtt.Client, m mqtt.Message) {
			if m.Retained() {
				p.log.Warn("retained command ignored: clear it with an empty retained message", "topic", m.Topic())
				return
			}
			onCmd(strings.TrimPrefix(m.Topic(), prefix), m.Payload())
		}
		tok = c.Subscribe(prefix+"#", 1, handler)
		if err := waitToken(wctx, tok, p.cfg.AckTimeout); err != nil {
			c.Disconnect(0)
			return false, fmt.Errorf("subscribe %s#: %w", prefix, err)
		}
		if !granted(tok) {
			p.log.Error("broker refused the subscription to commands: no command will arrive; grant the gateway read on it", "topic", prefix+"#")
		}
	}

	// Up: status watched, devices published, commands subscribed. The
	// last session's error is history now (the log keeps it).
	p.mu.Lock()
	p.stats.Connected = true
	p.stats.LastError = ""
	p.mu.Unlock()
	var checkWG sync.WaitGroup
	var checked atomic.Bool
	if statusGranted && p.subCheckFails < maxSubCheckFails {
		checkWG.Add(1)
		go func() {
			defer checkWG.Done()
			checked.Store(p.checkSubscriptions(wctx, cancel, c, statusTopic, online, echo))
		}()
	}
	acked, perr := p.pump(wctx, sctx, cancel, c)
	// The check publishes nothing after this: an online status of its
	// could otherwise land after the offline of a clean shutdown.
	wcancel()
	checkWG.Wait()
	switch {
	case errors.Is(perr, ErrSubscriptionLost):
		p.subCheckFails++
		if p.subCheckFails == maxSubCheckFails {
			p.log.Error("the broker does not deliver the gateway's own status back, session after session: the subscription check is off (commands may still arrive; check the broker's loop-delivery settings)")
		}
	case checked.Load():
		p.subCheckFails = 0
	}
	// A session that lost its subscriptions is not a healthy one, whatever
	// it acknowledged: the backoff grows.
	healthy = acked > 0 && !errors.Is(perr, ErrSubscriptionLost)
	if ctx.Err() != nil {
		// Clean shutdown: say so before leaving.
		if err := waitToken(context.Background(), c.Publish(statusTopic, 1, true, []byte(OfflinePayload)), min(p.cfg.AckTimeout, 2*time.Second)); err != nil {
			p.log.Warn("offline status not published", "err", err)
		}
		c.Disconnect(250)
		p.log.Info("disconnected from broker", "session", sid)
		return healthy, nil
	}
	c.Disconnect(0)
	return healthy, perr
}

// granted reports whether the broker granted every filter of a completed
// subscription (an MQTT 3.1.1 SUBACK says 0x80 for a refused one).
func granted(tok mqtt.Token) bool {
	st, ok := tok.(*mqtt.SubscribeToken)
	if !ok {
		return true
	}
	for _, qos := range st.Result() {
		if qos == 0x80 {
			return false
		}
	}
	return true
}

// checkSubscriptions ends the session when the broker stops delivering its
// subscriptions soon after granting them. The retained online status
// delivered on subscribing says the gateway may read its status topic;
// then, after subscriptionCheck, the status is published again and must
// come back. A broker that never delivered the first (an ACL that grants
// the subscription but filters what it delivers) is not checked.
//
// It reports whether the check passed.
func (p *Publisher) checkSubscriptions(wctx context.Context, cancel context.CancelCauseFunc, c mqtt.Client, topic string, online []byte, echo <-chan struct{}) bool {
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-echo:
			return true
		case <-t.C:
		case <-wctx.Done():
		}
		return false
	}
	if !wait(p.cfg.AckTimeout) {
		return false
	}
	t := time.NewTimer(subscriptionCheck)
	defer t.Stop()
	select {
	case <-t.C:
	case <-wctx.Done():
		return false
	}
	select {
	case <-echo: // a later one (a late will answered): not the check's
	default:
	}
	if wctx.Err() != nil {
		return false
	}
	if err := waitToken(wctx, c.Publish(topic, 1, true, online), p.cfg.AckTimeout); err != nil {
		return false // the pump sees a broken session for itself
	}
	if wait(p.cfg.AckTimeout) {
		return true
	}
	if wctx.Err() == nil {
		p.log.Warn("the broker did not deliver the gateway's own status back: its subscriptions (commands) are lost; reconnecting", "topic", topic)
		cancel(fmt.Errorf("%w: %s not delivered back within %v", ErrSubscriptionLost, topic, p.cfg.AckTimeout))
	}
	return false
}

// readAhead is how many events the reader prepares ahead of the window; it
// bounds how long a lifecycle event waits behind a backlog of lower ones.
// The reader takes up to readAhead at a time from the outbox and hands
// them to the publishing loop in batches of up to readBatch: a channel
// operation, and a wake-up of the reader, per batch rather than per event.
const (
	readAhead = 128
	readBatch = 32
)

// ackQueue bounds the acknowledged events awaiting removal from the outbox;
// they are removed in batches of up to ackBatch, gathered for at most
// ackLinger. A removal lost in a crash only means a duplicate.
const (
	ackQueue  = 4096
	ackBatch  = 1024
	ackLinger = 5 * time.Millisecond
)

// prepared is an event with its topic and payload, or why it cannot be
// published.
type prepared struct {
	ev      outbox.Event
	topic   string
	payload []byte
	err     error
}

func (p *Publisher) prepare(ev outbox.Event, topics map[topicKey]string) prepared {
	pr := prepared{ev: ev, topic: ev.Topic}
	if !ev.RawTopic {
		// events/{type}: the same few types again and again.
		k := topicKey{rel: ev.Topic}
		if k.rel == "" {
			k = topicKey{rel: ev.Type, ofType: true}
		}
		t, ok := topics[k]
		if !ok {
			t = p.Topic(ev.RelTopic())
			if len(topics) >= maxTopicCache {
				clear(topics)
			}
			topics[k] = t
		}
		pr.topic = t
	}
	pr.payload, pr.err = ev.Payload()
	if pr.err == nil {
		pr.err = outbox.CheckTopic(pr.topic)
	}
	return pr
}

// maxTopicCache bounds the full topics a session's reader keeps, by the
// type or relative topic they were made from.
const maxTopicCache = 256

// topicKey is what a full topic is made from: an event's relative topic,
// or its type (ofType).
type topicKey struct {
	rel    string
	ofType bool
}

type inflight struct {
	ev  outbox.Event
	tok mqtt.Token
}

// pump publishes outbox events until sctx ends; it returns the number of
// events acknowledged and the reason the session ended.
func (p *Publisher) pump(wctx, sctx context.Context, cancel context.CancelCauseFunc, c mqtt.Client) (uint64, error) {
	if err := p.ob.Rewind(wctx, !p.noCharge); err != nil {
		return 0, fmt.Errorf("rewind outbox: %w", err)
	}
	p.noCharge = false
	slots := make(chan struct{}, p.cfg.InFlight)
	pending := make(chan inflight, p.cfg.InFlight)
	// PUBACKed events wait here for their (fsynced) removal; a deep queue
	// keeps the window moving while the acker syncs.
	acks := make(chan outbox.Event, ackQueue)
	var ackedN uint64
	// answered: after the PUBACK that failed the session, the broker
	// answered a ping or acknowledged events published after it.
	var answered bool
	var wg sync.WaitGroup
	wg.Add(2)

	// Collector: PUBACKs in publish order, each within AckTimeout.
	go func() {
		defer wg.Done()
		defer close(acks)
		failed := false
		timer := time.NewTimer(p.cfg.AckTimeout)
		defer timer.Stop()
		for f := range pending {
			var err error
			select {
			case <-f.tok.Done():
				err = p.tokenError(sctx, f.tok)
			default:
				if failed {
					// The session is over: only PUBACKs already in count.
					continue
				}
				timer.Reset(p.cfg.AckTimeout)
				select {
				case <-f.tok.Done():
					err = p.tokenError(sctx, f.tok)
				case <-timer.C:
					err = ErrAckTimeout
					// Is the link up? Without a connection of ours to
					// probe, take it that it is.
					conn := p.conn.Load()
					answered = conn == nil || conn.probe(wctx, p.cfg.AckTimeout)
				case <-sctx.Done():
					// A PUBACK that arrived before the break still counts.
					select {
					case <-f.tok.Done():
						err = f.tok.Error()
					default:
						err = context.Cause(sctx)
					}
				}
			}
			if err != nil {
				if !failed && !errors.Is(err, context.Canceled) {
					cancel(fmt.Errorf("event %d (%s): %w", f.ev.Seq, f.ev.Type, err))
				}
				failed = true
				continue
			}
			answered = answered || failed
			acks <- f.ev
			// A slot for each PUBACK, at once: holding slots back to send
			// PUBLISHes in groups stalls on a broker with Nagle on its
			// socket (Mosquitto's default), which holds the next PUBACK
			// until our ACK comes, and that rides on our next PUBLISH.
			<-slots
		}
	}()
	// Acker: removes acknowledged events from the outbox in batches: after
	// the first of a batch it waits ackLinger, then takes what came
	// meanwhile (the queue holds far more than arrive in ackLinger), so that
	// removals share few syncs and the acker is not woken for every event.
	go func() {
		defer wg.Done()
		batch := make([]outbox.Event, 0, ackBatch)
		linger := time.NewTimer(ackLinger)
		defer linger.Stop()
		for ev := range acks {
			batch = append(batch[:0], ev)
			linger.Reset(ackLinger)
			select {
			case <-linger.C:
			case <-sctx.Done():
				// The session is over: the acks still to come are few.
			}
		more:
			for len(batch) < cap(batch) {
				select {
				case ev, ok := <-acks:
					if !ok {
						break more
					}
					batch = append(batch, ev)
				default:
					break more
				}
			}
			if err := p.ob.Ack(context.Background(), batch...); err != nil {
				cancel(fmt.Errorf("ack outbox: %w", err))
			}
			ackedN += uint64(len(batch))
			p.mu.Lock()
			p.stats.Acked += uint64(len(batch))
			p.mu.Unlock()
		}
	}()

	// Reader: takes events from the outbox in delivery order and prepares
	// their topic and payload ahead of the window.
	ready := make(chan []prepared, readAhead/readBatch)
	rctx, rcancel := context.WithCancel(wctx)
	defer rcancel()
	var rwg sync.WaitGroup
	rwg.Add(1)
	go func() {
		defer rwg.Done()
		defer close(ready)
		topics := map[topicKey]string{}
		for {
			evs, err := p.ob.Next(rctx, readAhead)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					cancel(err)
				}
				return
			}
			for len(evs) > 0 {
				batch := make([]prepared, min(len(evs), readBatch))
				for i := range batch {
					batch[i] = p.prepare(evs[i], topics)
				}
				select {
				case ready <- batch:
					evs = evs[len(batch):]
				case <-rctx.Done():
					p.ob.Return(evs...)
					return
				}
			}
		}
	}()

	lim := newLimiter(p.cfg.Rate, p.cfg.Burst, p.cfg.Now)
	var queue []prepared // of the batch being published
publish:
	for {
		if len(queue) == 0 {
			select {
			case b, ok := <-ready:
				if !ok {
					break publish
				}
				queue = b
			case <-wctx.Done():
				break publish
			}
		}
		pr := queue[0]
		queue = queue[1:]
		select {
		case slots <- struct{}{}:
		case <-wctx.Done():
			p.ob.Return(pr.ev)
			break publish
		}
		if err := lim.wait(wctx); err != nil {
			<-slots
			p.ob.Return(pr.ev)
			break publish
		}
		if pr.err != nil {
			<-slots
			if qerr := p.ob.Quarantine(context.Background(), pr.ev, "cannot publish: "+pr.err.Error()); qerr != nil {
				cancel(qerr)
			}
			continue
		}
		tok := c.Publish(pr.topic, 1, pr.ev.Retain, pr.payload)
		select {
		case <-tok.Done():
			if err := p.tokenError(sctx, tok); err != nil {
				// Refused by the client before it went out (queue blocked,
				// no packet ids): publishing the next event now would put
				// it ahead of this one. End the session; both go again.
				<-slots
				p.ob.Return(pr.ev)
				cancel(fmt.Errorf("publish event %d (%s): %w", pr.ev.Seq, pr.ev.Type, err))
				break publish
			}
		default:
		}
		p.mu.Lock()
		p.stats.Published++
		p.mu.Unlock()
		pending <- inflight{pr.ev, tok}
	}
	rcancel()
	for _, pr := range queue {
		p.ob.Return(pr.ev)
	}
	for b := range ready {
		for _, pr := range b {
			p.ob.Return(pr.ev)
		}
	}
	rwg.Wait()
	close(pending)
	wg.Wait()
	cause := context.Cause(sctx)
	p.noCharge = stalled(cause, answered)
	return ackedN, cause
}

// tokenError is the outcome of a completed publish token. paho fails the
// tokens of a lost connection ("connection lost before Publish completed")
// before it reports why the connection was lost (and refuses publishes,
// "not Connected", meanwhile); the session's cause, once that report is in,
// says more (a keepalive or send timeout is the link's fault, not the
// event's), so a failed token waits for it: paho closes the connection
// first, which may take the write timeout.
func (p *Publisher) tokenError(sctx context.Context, tok mqtt.Token) error {
	err := tok.Error()
	if err == nil {
		return nil
	}
	t := time.NewTimer(p.cfg.AckTimeout + time.Second)
	defer t.Stop()
	select {
	case <-sctx.Done():
		return context.Cause(sctx)
	case <-t.C:
		return err
	}
}

// stalled reports whether a session that ended with cause broke on the
// link rather than on a message: the broker went silent (an ack timeout
// after which it answered neither a ping nor with later PUBACKs), a
// keepalive went unanswered, or a send timed out. A broker that closes the
// connection after a message, or answers but never acknowledges it, is
// taken to refuse it, and the event is charged an attempt. A session ended
// because the broker dropped its subscriptions charges nothing either.
func stalled(cause error, answered bool) bool {
	if errors.Is(cause, ErrSubscriptionLost) {
		return true // the broker's doing, not an event's
	}
	if errors.Is(cause, ErrAckTimeout) {
		return !answered
	}
	if !errors.Is(cause, ErrConnectionLost) {
		return false
	}
	var ne net.Error
	return errors.As(cause, &ne) && ne.Timeout() || strings.Contains(cause.Error(), "pingresp not received")
}

// limiter is a token bucket; rate < 0 is unlimited.
type limiter struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), tokens: float64(burst), last: now(), now: now}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.rate < 0 {
		return nil
	}
	for {
		t := l.now()
		l.tokens = min(l.burst, l.tokens+t.Sub(l.last).Seconds()*l.rate)
		l.last = t
		if l.tokens >= 1 {
			l.tokens--
			return nil
		}
		d := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}
