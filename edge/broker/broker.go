// Package broker runs the embedded MQTT broker (mochi-mqtt/server/v2) that the
// gateway starts when no external broker is configured.
//
// It follows Mosquitto 2's convention: a listener on a loopback address allows
// anonymous clients; a listener on any other address refuses to start without
// credentials, and then every client must present them.
package broker

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// ErrCredentialsRequired: a non-loopback listener was configured without a
// username and password.
var ErrCredentialsRequired = errors.New("the embedded broker needs a username and password on a non-loopback address")

// Config of the embedded broker.
type Config struct {
	// Listen is host:port; port 0 picks a free one (tests).
	Listen string
	// Username and Password, when set, are required of every client.
	Username string
	Password string
	Logger   *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	srv  *mqtt.Server
	tcp  *listeners.TCP
	addr string
}

// IsLoopback reports whether host:port names a loopback address.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start listens and serves until Close.
func Start(c Config) (*Broker, error) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:1883"
	}
	if !IsLoopback(c.Listen) && (c.Username == "" || c.Password == "") {
		return nil, fmt.Errorf("broker listen %s: %w (set broker.username and broker.password_file, or listen on 127.0.0.1)", c.Listen, ErrCredentialsRequired)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(quietHandler{log.Handler()}).With("component", "broker")})
	if err := srv.AddHook(&authHook{user: []byte(c.Username), pass: []byte(c.Password)}, nil); err != nil {
		return nil, err
	}
	// Bind here so that "address in use" is reported before anything starts.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	tcp := listeners.NewTCP(listeners.Config{ID: "dockgate", Address: addr})
	if err := srv.AddListener(tcp); err != nil {
		return nil, fmt.Errorf("embedded broker on %s: %w", addr, err)
	}
	if err := srv.Serve(); err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	return &Broker{srv: srv, tcp: tcp, addr: tcp.Address()}, nil
}

// Addr is the listener's host:port.
func (b *Broker) Addr() string { return b.addr }

// URL is the tcp:// URL clients connect to.
func (b *Broker) URL() string { return "tcp://" + b.addr }

// Server is the mochi server, for in-process publishing and subscribing.
func (b *Broker) Server() *mqtt.Server { return b.srv }

// Close stops the broker and disconnects its clients.
func (b *Broker) Close() error { return b.srv.Close() }

// authHook admits anyone when no credentials are configured (loopback only,
// enforced by Start) and otherwise only the configured user.
type authHook struct {
	mqtt.HookBase
	user, pass []byte
}

func (h *authHook) ID() string { return "dockgate-auth" }

func (h *authHook) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}

func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	if len(h.user) == 0 {
		return true
	}
	u := subtle.ConstantTimeCompare(cl.Properties.Username, h.user)
	p := subtle.ConstantTimeCompare(pk.Connect.Password, h.pass)
	return u&p == 1
}

func (h *authHook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

// quietHandler passes only warnings and errors: the broker's info lines,
// and its warnings without a message (a client's connection closing), are
// per-connection chatter.
type quietHandler struct{ slog.Handler }

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError && r.Message == "" {
		return nil
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}
func (q quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{q.Handler.WithAttrs(a)}
}
func (q quietHandler) WithGroup(n string) slog.Handler { return quietHandler{q.Handler.WithGroup(n)} }
