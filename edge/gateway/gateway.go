// Package gateway wires the gateway's parts into one process: the store, the
// embedded broker, the outbox and its publisher, the printers' spoolers, the
// portals, the lot registry, receiving and the local HTTP API.
//
// Data flows left to right and shuts down in the same order:
//
//	readers ─▶ portals ─┐
//	scanner/API/MQTT ─▶ receiving ─▶ lots, labels ─▶ spoolers ─▶ printers
//	                    └──────────────▶ outbox (Badger) ─▶ publisher ─▶ MQTT broker
//
// On shutdown the readers stop first, then receiving and the spoolers drain,
// then the publisher publishes "offline" and disconnects, then the embedded
// broker stops and the store closes.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/broker"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/mqttpub"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/store"
)

// Info identifies the running build.
type Info struct {
	Version string
	Commit  string
}

// Gateway is a configured, opened gateway ready to Run.
type Gateway struct {
	cfg   *config.Config
	log   *slog.Logger
	info  Info
	store *store.Store
	brk   *broker.Broker
	api   *api.Server
	ob    *outbox.Outbox
	pub   *mqttpub.Publisher
	// MQTTURL is the broker the publisher connects to (the embedded one's
	// when mqtt.url is empty).
	MQTTURL string
}

// Open takes the data directory, binds every listener and returns a gateway
// ready to Run. Anything that would stop the gateway from starting (a locked
// data dir, a port in use) is reported here, before any work begins.
func Open(cfg *config.Config, info Info, log *slog.Logger) (_ *Gateway, err error) {
	g := &Gateway{cfg: cfg, log: log, info: info}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	g.store, err = store.Open(cfg.DataDir, store.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	if g.store.Recovered != "" {
		log.Error("store could not be opened: set aside and started fresh", "moved_to", g.store.Recovered, "err", g.store.RecoverErr)
	}
	g.MQTTURL = cfg.MQTT.URL
	if g.MQTTURL == "" {
		g.brk, err = broker.Start(broker.Config{Listen: cfg.Broker.Listen, Username: cfg.Broker.Username, Password: cfg.Broker.Password, Logger: log})
		if err != nil {
			return nil, err
		}
		g.MQTTURL = g.brk.URL()
		log.Info("embedded MQTT broker listening", "addr", g.brk.Addr())
	}
	g.ob, err = outbox.Open(g.store, outbox.Options{Logger: log})
	if err != nil {
		return nil, err
	}
	g.pub, err = mqttpub.New(mqttpub.Config{
		URL: g.MQTTURL, ClientID: cfg.MQTT.ClientID, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		TopicPrefix: cfg.MQTT.TopicPrefix, KeepAlive: cfg.MQTT.KeepAlive, InFlight: cfg.MQTT.Inflight,
		Site: cfg.Site, Gateway: cfg.Gateway, Version: info.Version, ConfigHash: cfg.Hash(),
		Getenv: func(string) string { return "" },
	}, g.ob, log.With("component", "publisher"))
	if err != nil {
		return nil, err
	}
	if cfg.HTTP.Listen != "" {
		g.api = api.New(cfg.HTTP.Token, log, g.health)
		if err := g.api.Listen(cfg.HTTP.Listen); err != nil {
			return nil, err
		}
		log.Info("HTTP API listening", "addr", g.api.Addr())
	}
	return g, nil
}

// Outbox is the gateway's outbox.
func (g *Gateway) Outbox() *outbox.Outbox { return g.ob }

// Publisher is the gateway's MQTT publisher.
func (g *Gateway) Publisher() *mqttpub.Publisher { return g.pub }

// Store is the gateway's store.
func (g *Gateway) Store() *store.Store { return g.store }

// Broker is the embedded broker, or nil.
func (g *Gateway) Broker() *broker.Broker { return g.brk }

// API is the HTTP API, or nil when disabled.
func (g *Gateway) API() *api.Server { return g.api }

func (g *Gateway) health() (bool, any) {
	return true, map[string]any{"site": g.cfg.Site, "gateway": g.cfg.Gateway, "version": g.info.Version}
}

// Run runs the gateway until ctx ends, then shuts down in data-flow order.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.close()
	// Stages stop in data-flow order: each stage's context ends once the
	// stages before it have returned.
	pubCtx, stopPub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopPub()
	front, ctx := errgroup.WithContext(ctx)
	if g.api != nil {
		front.Go(func() error { return g.api.Run(ctx) })
	}
	front.Go(func() error { <-ctx.Done(); return nil })

	back := new(errgroup.Group)
	back.Go(func() error { return g.ob.Run(pubCtx) })
	back.Go(func() error { return g.pub.Run(pubCtx) })

	err := front.Wait()
	stopPub() // the publisher publishes "offline" and disconnects
	if berr := back.Wait(); err == nil {
		err = berr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (g *Gateway) close() {
	if g.ob != nil {
		if err := g.ob.Close(); err != nil {
			g.log.Warn("closing the outbox", "err", err)
		}
		g.ob = nil
	}
	if g.brk != nil {
		if err := g.brk.Close(); err != nil {
			g.log.Warn("closing the embedded broker", "err", err)
		}
		g.brk = nil
	}
	if g.store != nil {
		if err := g.store.Close(); err != nil {
			g.log.Error("closing the store", "err", fmt.Sprint(err))
		}
		g.store = nil
	}
}
