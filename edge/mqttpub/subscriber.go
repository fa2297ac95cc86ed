package mqttpub

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// Message is one message a Subscriber delivers.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
}

// SubscriberStats tell whether the subscriber hears the broker, and since
// when: Since is when the current session came up while Connected, when
// the last one ended (or the subscriber was made) while not.
type SubscriberStats struct {
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since"`
	Sessions  uint64    `json:"sessions"`
	Received  uint64    `json:"received"`
	LastError string    `json:"last_error,omitempty"`
}

// Subscriber keeps subscriptions in a persistent MQTT session (clean
// session off, QoS 1): what is published to its filters while it is away is
// kept by the broker and delivered when it is back, on top of the retained
// messages. Each message is acknowledged (PUBACK) only after Handle has
// returned nil for it, so a message whose handling failed (a store that
// cannot write) comes again in the next session: at-least-once.
//
// Messages are handed to Handle one at a time, in the order they arrive.
// The filters are subscribed when the broker has no session for the client
// id (the first time, or after the broker lost it); a session the broker
// kept keeps its subscriptions, and subscribing again would make the broker
// send every retained message again.
type Subscriber struct {
	cfg     Config
	filters []string
	handle  func(Message) error
	log     *slog.Logger
	pass    string

	mu    sync.Mutex
	stats SubscriberStats
}

// NewSubscriber returns a subscriber of filters with the connection
// settings of cfg (URL, credentials, TLS, keepalive, timeouts, backoff);
// cfg.ClientID must be the subscriber's own, stable and different from the
// publisher's (the broker keeps the session under it). handle gets every
// message: it returns an error only when the message should come again (a
// malformed message is logged and dropped by handle, not refused).
func NewSubscriber(cfg Config, filters []string, handle func(Message) error, log *slog.Logger) (*Subscriber, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(filters) == 0 {
		return nil, fmt.Errorf("%w: a subscriber needs at least one topic filter", ErrConfig)
	}
	pass, err := cfg.password()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Subscriber{cfg: cfg, filters: filters, handle: handle, log: log.With("component", "mqtt-sub"), pass: pass}
	s.stats.Since = cfg.Now()
	return s, nil
}

// Stats returns a snapshot.
func (s *Subscriber) Stats() SubscriberStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Run keeps the session up until ctx ends, reconnecting with the backoff.
func (s *Subscriber) Run(ctx context.Context) error {
	tc, err := s.cfg.TLSConfig()
	if err != nil {
		return err
	}
	attempt := 0
	for {
		start := s.cfg.Now()
		err := s.session(ctx, tc)
		if ctx.Err() != nil {
			return nil
		}
		s.mu.Lock()
		s.stats.LastError = err.Error()
		s.mu.Unlock()
		if s.cfg.Now().Sub(start) >= s.cfg.HealthyAfter {
			attempt = 0
		}
		wait := s.cfg.Backoff(attempt)
		s.log.Warn("subscriber session ended", "err", err, "retry_in", wait, "attempt", attempt)
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

// inQueue bounds the messages taken from the broker and not yet handled;
// the broker's own in-flight window (Mosquitto: 20) is what really bounds
// them, as none is acknowledged before it is handled.
const inQueue = 64

// session is one connection; it returns why it ended.
func (s *Subscriber) session(ctx context.Context, tc *tls.Config) error {
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	in := make(chan mqtt.Message, inQueue)
	opts := mqtt.NewClientOptions().
		AddBroker(s.cfg.URL).
		SetClientID(s.cfg.ClientID).
		SetCleanSession(false).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetOrderMatters(true).
		SetAutoAckDisabled(true).
		SetStore(noStore{}).
		SetKeepAlive(s.cfg.KeepAlive).
		SetPingTimeout(max(s.cfg.KeepAlive/2, time.Second)).
		SetConnectTimeout(s.cfg.ConnectTimeout).
		SetWriteTimeout(s.cfg.AckTimeout).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) {
			select {
			case in <- m:
			case <-sctx.Done(): // not acknowledged: it comes again
			}
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			cancel(fmt.Errorf("%w: %w", ErrConnectionLost, err))
		})
	if s.cfg.Username != "" {
		opts.SetUsername(s.cfg.Username)
		opts.SetPassword(s.pass)
	}
	if tc != nil {
		opts.SetTLSConfig(tc)
	}
	if u, err := url.Parse(s.cfg.URL); err == nil {
		opts.SetCustomOpenConnectionFn(openConn(u.Scheme, s.cfg.AckTimeout, func(*coalescingConn) {}))
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if err := waitToken(sctx, tok, s.cfg.ConnectTimeout+time.Second); err != nil {
		c.Disconnect(0)
		return fmt.Errorf("connect %s: %w", s.cfg.URL, err)
	}
	defer c.Disconnect(250)
	present := false
	if ct, ok := tok.(*mqtt.ConnectToken); ok {
		present = ct.SessionPresent()
	}
	if !present {
		// A new session: subscribe, and the broker sends the retained
		// messages of the filters.
		subs := make(map[string]byte, len(s.filters))
		for _, f := range s.filters {
			subs[f] = 1
		}
		st := c.SubscribeMultiple(subs, nil)
		if err := waitToken(sctx, st, s.cfg.AckTimeout); err != nil {
			return fmt.Errorf("subscribe %v: %w", s.filters, err)
		}
		if !granted(st) {
			s.log.Error("broker refused a subscription: grant the gateway read on the site's topics", "filters", s.filters)
		}
	}
	s.log.Info("subscribed to the site", "url", s.cfg.URL, "client_id", s.cfg.ClientID, "session_present", present)
	s.mu.Lock()
	s.stats.Connected, s.stats.Since, s.stats.LastError = true, s.cfg.Now(), ""
	s.stats.Sessions++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.Connected, s.stats.Since = false, s.cfg.Now()
		s.mu.Unlock()
	}()
	for {
		select {
		case <-sctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return context.Cause(sctx)
		case m := <-in:
			if err := s.handle(Message{Topic: m.Topic(), Payload: m.Payload(), Retained: m.Retained()}); err != nil {
				// Not acknowledged: the broker sends it again in the
				// next session.
				return fmt.Errorf("message on %s not handled: %w", m.Topic(), err)
			}
			m.Ack()
			s.mu.Lock()
			s.stats.Received++
			s.mu.Unlock()
		}
	}
}
