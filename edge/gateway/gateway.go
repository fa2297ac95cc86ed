// Package gateway wires the gateway's parts into one process: the store, the
// embedded broker, the outbox and its publisher, the printers' spoolers, the
// portals, the lot registry, receiving, commands and the local HTTP API.
//
// Data flows left to right and shuts down in the same order:
//
//	readers ─▶ portal engine ─▶ pipeline (receipt matching, hold alerts) ─┐
//	scanner/API/MQTT ─▶ receiving ─▶ lots, labels ─▶ spoolers ─▶ printers │
//	                        └───────────────────────────▶ outbox (Badger) ─▶ publisher ─▶ MQTT
//	                                                             └─▶ door signals ─▶ readers' outputs
//
// The reads the portal engine takes are also saved in the store until their
// passes are in the outbox, and replayed into the engine at start, before the
// readers start: the engine's memory is lost in a crash (portal_reads.go).
//
// On shutdown the door signals set their outputs low, then the readers and
// the API stop, then the portal pipeline, the command workers and the
// spoolers drain, then the publisher publishes "offline" and disconnects
// and the saved reads are pruned, then the embedded broker stops and the
// store closes.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/broker"
	"github.com/dockgate/dockgate/edge/command"
	"github.com/dockgate/dockgate/edge/config"
	"github.com/dockgate/dockgate/edge/console"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/mqttpub"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/edge/shipping"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/edge/store"
	"github.com/dockgate/dockgate/encoder/epc"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
	"github.com/dockgate/dockgate/rfid/readers"
)

// Info identifies the running build.
type Info struct {
	Version string
	Commit  string
}

// Options are what tests, the demo and the CLI change of a gateway.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Offline opens only the store and what works on it (lots, receiving,
	// spooler queues, outbox) for the CLI: no broker, no MQTT, no HTTP API,
	// no readers, no simulators. Events wait in the outbox and jobs in the
	// spooler until the gateway runs.
	Offline bool
	// NoRecover fails on a store that cannot be opened instead of setting
	// it aside (the CLI).
	NoRecover bool
}

// Gateway is a configured, opened gateway ready to Run.
type Gateway struct {
	cfg  *config.Config
	log  *slog.Logger
	info Info
	now  func() time.Time

	store *store.Store
	brk   *broker.Broker
	api   *api.Server
	ob    *outbox.Outbox
	m     *metrics
	// obClosed: close closed the outbox; obReady is closed once ob is set.
	obClosed bool
	obReady  chan struct{}
	// alarmQ holds the outbox alarms not yet appended, in order;
	// alarmBusy: publishAlarms is running.
	alarmMu   sync.Mutex
	alarmQ    []outbox.Alarm
	alarmBusy bool
	pub       *mqttpub.Publisher
	cmds      *command.Dispatcher
	lots      *lots.Registry
	recv      *receiving.Service
	ship      *shipping.Service
	eng       *portal.Engine

	offline      bool
	stopping     atomic.Bool // Run's context ended: disconnects are expected
	readers      []rfid.Reader
	readerMu     sync.Mutex
	readerStatus map[string]any
	// readerDown and antennasDown are what /healthz warns of: a reader
	// not connected (why), antennas reported disconnected.
	readerDown   map[string]string
	antennasDown map[string]map[uint16]bool
	// readerGPI are the inputs each reader reported since it connected,
	// for the console.
	readerGPI map[string]map[uint16]gpiSeen
	// gpiQ carries reader.gpi events from the readers' goroutines to
	// runGPIEvents, which appends them.
	gpiQ chan rfid.ReaderEvent

	// Portal events: arrivals (telemetry) queue in portalQ and are dropped,
	// counted, when it is full; passes and alerts are never dropped and
	// queue in portalKeep without bound (a pass holds its tags in memory
	// anyway), counted by the portal_events_queued gauge. portalKick wakes
	// the pipeline.
	portalQ       chan portal.Event
	portalDropped atomic.Int64
	portalMu      sync.Mutex
	portalKeep    []portal.Event
	portalKick    chan struct{}
	// portalBusy are the kept events the pipeline has taken and not yet
	// published, oldest first: with portalKeep, what the saved reads must
	// still cover.
	portalBusy []portal.Event
	// reads saves the portal's reads until their passes are in the
	// outbox (nil without portals); recovering is set while they are
	// replayed at start. Passes and alerts from before started (when the
	// replay began) are marked recovered.
	reads      *savedReads
	recovering atomic.Bool
	recovered  int // passes closed by the replay
	started    time.Time

	printing *printing
	// site is the gateway's part in a site of gateways (sync.enabled), or nil.
	site *site

	// The dock console and the hub that feeds it the queued events.
	hub     *console.Hub
	console *console.Console
	// signals lights the doors' light stacks (signals.go), or nil.
	signals *signals.Engine

	// EPCIS mappings (edge/epcis).
	epcisReceipt func(*receiving.Receipt, []receiving.Carton) ([]byte, error)
	epcisPass    func(*portal.PassEvent, string) ([]byte, error)
	epcisHold    func(lots.Change) ([]byte, error)
	// prefixes gives company prefix lengths (the gateway's own and its
	// suppliers').
	prefixes *epc.CompanyPrefixTable

	// MQTTURL is the broker the publisher connects to (the embedded one's
	// when mqtt.url is empty).
	MQTTURL string
}

// Open takes the data directory, binds every listener and returns a gateway
// ready to Run. Anything that would stop the gateway from starting (a locked
// data dir, a port in use) is reported here, before any work begins.
func Open(cfg *config.Config, info Info, log *slog.Logger, o Options) (_ *Gateway, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	g := &Gateway{cfg: cfg, log: log, info: info, now: o.Now, readerStatus: map[string]any{},
		readerDown: map[string]string{}, antennasDown: map[string]map[uint16]bool{}, readerGPI: map[string]map[uint16]gpiSeen{},
		gpiQ:    make(chan rfid.ReaderEvent, gpiQueueSize),
		portalQ: make(chan portal.Event, 4096), portalKick: make(chan struct{}, 1), m: newMetrics()}
	defer func() {
		if err != nil {
			g.close()
		}
	}()
	g.store, err = store.Open(cfg.DataDir, store.Options{Logger: log, NoRecover: o.NoRecover})
	if err != nil {
		return nil, err
	}
	if g.store.Recovered != "" {
		log.Error("store could not be opened: set aside and started fresh", "moved_to", g.store.Recovered, "err", g.store.RecoverErr)
	}
	g.MQTTURL = cfg.MQTT.URL
	g.offline = o.Offline
	if g.MQTTURL == "" && !o.Offline {
		g.brk, err = broker.Start(broker.Config{Listen: cfg.Broker.Listen, Username: cfg.Broker.Username, Password: cfg.Broker.Password, Logger: log})
		if err != nil {
			return nil, err
		}
		g.MQTTURL = g.brk.URL()
		log.Info("embedded MQTT broker listening", "addr", g.brk.Addr())
	}
	obo := cfg.Outbox
	obo.Logger, obo.Now, obo.OnAlarm = log.With("component", "outbox"), o.Now, g.onAlarm
	if cfg.HTTP.Listen != "" && !o.Offline {
		g.hub = console.NewHub()
	}
	if !o.Offline {
		if err := g.openSignals(); err != nil {
			return nil, err
		}
	}
	if g.hub != nil || g.signals != nil {
		obo.OnQueued = g.onQueued
	}
	g.obReady = make(chan struct{})
	g.ob, err = outbox.Open(g.store, obo)
	close(g.obReady) // alarms raised while opening wait for this
	if err != nil {
		return nil, err
	}
	if o.Offline {
		g.MQTTURL = "tcp://127.0.0.1:1883" // never dialed offline
	}
	g.pub, err = mqttpub.New(mqttpub.Config{
		URL: g.MQTTURL, ClientID: cfg.MQTT.ClientID, Username: cfg.MQTT.Username, Password: cfg.MQTT.Password,
		CAFile: cfg.MQTT.CAFile, CertFile: cfg.MQTT.CertFile, KeyFile: cfg.MQTT.KeyFile,
		TopicPrefix: cfg.MQTT.TopicPrefix, KeepAlive: cfg.MQTT.KeepAlive, InFlight: cfg.MQTT.Inflight,
		ConnectTimeout: cfg.MQTT.ConnectTimeout, AckTimeout: cfg.MQTT.AckTimeout, HealthyAfter: cfg.MQTT.HealthyAfter,
		Rate: cfg.MQTT.Rate, Burst: cfg.MQTT.Burst,
		Site: cfg.Site, Gateway: cfg.Gateway, Version: info.Version, ConfigHash: cfg.Hash(),
		Getenv: func(string) string { return "" },
	}, g.ob, log)
	if err != nil {
		return nil, err
	}
	cmo := cfg.Commands
	cmo.Logger, cmo.Now = log.With("component", "commands"), o.Now
	cmo.CommandTopic = g.pub.Topic("cmd/")
	g.cmds = command.NewDispatcher(g.store, g.ob, cmo)
	g.pub.OnCommand(g.cmds.Submit)

	if err := g.openSync(); err != nil {
		return nil, err
	}
	g.lots, err = lots.New(g.store, lots.Options{Config: cfg.Lots, Site: cfg.Site, Gateway: cfg.Gateway,
		OnChange: g.stageLotChange, Now: o.Now, SiteSync: g.siteLots(),
		Admit: func() error { return g.ob.Admit(outbox.PriorityLot, 4<<10) }})
	if err != nil {
		return nil, err
	}
	if err := g.openPrinting(); err != nil {
		return nil, err
	}
	g.prefixes, err = cfg.GS1.CompanyPrefixTable()
	if err != nil {
		return nil, err
	}
	g.recv = receiving.New(receiving.Config{
		SSCC: receiving.SSCCRange{Extension: cfg.GS1.SSCCExtension, CompanyPrefix: cfg.GS1.CompanyPrefix,
			Start: cfg.GS1.SSCCSerialStart, End: cfg.GS1.SSCCSerialEnd},
		DefaultFormat:    cfg.Lots.DefaultFormat,
		CompanyPrefixLen: g.prefixes.ForSSCC,
		AcceptExpired:    cfg.Receiving.AcceptExpired,
		EPCScheme:        cfg.Labels.EPCScheme,
		OnReceipt:        g.m.observeReceipt,
		LotShipments:     func(lot string) (any, error) { return g.ship.LotShipments(lot) },
	}, g.store, lotAdapter{g.lots}, g.printing.doors(), receivingEmitter{g}, log.With("component", "receiving"), o.Now)
	g.recv.SetTraceLabels(g.printing)
	g.setupEPCIS()
	g.openShipping()

	if o.Offline {
		return g, nil
	}
	if err := g.openPortals(); err != nil {
		return nil, err
	}
	g.registerCommands()
	if cfg.HTTP.Listen != "" {
		g.api = api.New(cfg.HTTP.Token, log, g.health)
		g.api.SetTokenName(cfg.HTTP.TokenName)
		g.registerMetrics(g.api.Registry)
		if err := g.api.Listen(cfg.HTTP.Listen); err != nil {
			return nil, err
		}
		g.routes()
		if err := g.openConsole(); err != nil {
			return nil, err
		}
		log.Info("HTTP API listening", "addr", g.api.Addr())
	}
	return g, nil
}

func (g *Gateway) openPortals() error {
	var doors []portal.DoorConfig
	for _, d := range g.cfg.Doors {
		if d.Reader != "" {
			doors = append(doors, d.DoorConfig)
		}
	}
	if len(doors) == 0 {
		return nil
	}
	var err error
	g.eng, err = portal.New(portal.Config{Doors: doors, Sink: g.onPortalEvent, Lots: g.lotResolver(), Now: g.now})
	if err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	g.reads = newSavedReads(g.store.DB(), g.eng, g.portalWaiting, g.log.With("component", "portal"), g.readsAlarm)
	for _, rc := range g.cfg.Readers {
		r, err := readers.New(rc, readers.Handlers{OnReads: g.observeReads, OnEvent: g.onReaderEvent,
			Logger: g.log.With("component", "reader", "reader", rc.ID), Now: g.now})
		if err != nil {
			return fmt.Errorf("reader %s: %w", rc.ID, err)
		}
		g.readers = append(g.readers, r)
		g.attachSignals(rc.ID, r)
	}
	return nil
}

// onAlarm publishes an outbox alarm (store full, disk low, telemetry
// dropped, quarantine, store recovered) as a lifecycle event. It is called
// from the outbox's writer, which the append must not wait on.
//
// It is called from other goroutines too (a refusal found by Admit): alarms
// queue in the order they are raised and one goroutine at a time appends
// them, so that a clear never overtakes its raise.
func (g *Gateway) onAlarm(a outbox.Alarm) {
	g.alarmMu.Lock()
	defer g.alarmMu.Unlock()
	g.alarmQ = append(g.alarmQ, a)
	if !g.alarmBusy {
		g.alarmBusy = true
		go g.publishAlarms()
	}
}

func (g *Gateway) publishAlarms() {
	<-g.obReady // Open raises store_recovered before it returns
	for {
		g.alarmMu.Lock()
		if len(g.alarmQ) == 0 || g.ob == nil {
			g.alarmQ, g.alarmBusy = nil, false
			g.alarmMu.Unlock()
			return
		}
		a := g.alarmQ[0]
		g.alarmQ = g.alarmQ[1:]
		g.alarmMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := g.emit(ctx, outbox.Event{Type: "alarm." + a.Kind, Time: a.Time, Priority: outbox.PriorityLifecycle}, a); err != nil {
			g.log.Error("alarm not published", "kind", a.Kind, "err", err)
		}
		cancel()
	}
}

// Store is the gateway's store.
func (g *Gateway) Store() *store.Store { return g.store }

// Broker is the embedded broker, or nil.
func (g *Gateway) Broker() *broker.Broker { return g.brk }

// API is the HTTP API, or nil when disabled.
func (g *Gateway) API() *api.Server { return g.api }

// Outbox is the gateway's outbox.
func (g *Gateway) Outbox() *outbox.Outbox { return g.ob }

// Publisher is the gateway's MQTT publisher.
func (g *Gateway) Publisher() *mqttpub.Publisher { return g.pub }

// Lots is the lot registry.
func (g *Gateway) Lots() *lots.Registry { return g.lots }

// Receiving is the receiving service.
func (g *Gateway) Receiving() *receiving.Service { return g.recv }

// Portal is the portal engine, or nil without portals.
func (g *Gateway) Portal() *portal.Engine { return g.eng }

// health is /healthz: unhealthy (503) while the gateway refuses events it
// exists to keep — the outbox full or the disk low — with what to do in
// "problems"; what needs a look but loses nothing is in "warnings".
func (g *Gateway) health() (bool, any) {
	pub := g.pub.Stats()
	obs := g.ob.Stats()
	problems, warnings := []string{}, []string{}
	if obs.StoreFull {
		problems = append(problems, "outbox full: lot and receiving events are refused; restore the broker link so the backlog drains, or raise outbox.max_bytes")
	}
	if obs.DiskLow {
		problems = append(problems, "disk low: lot and receiving events are refused; free space on the data_dir disk, or lower outbox.min_free_bytes")
	}
	if !pub.Connected {
		w := fmt.Sprintf("not connected to the broker (%d events queued, kept until it is back)", obs.Pending())
		if pub.LastError != "" {
			w += ": " + pub.LastError
		}
		warnings = append(warnings, w)
	}
	g.readerMu.Lock()
	for _, rc := range g.cfg.Readers {
		if why, down := g.readerDown[rc.ID]; down {
			warnings = append(warnings, fmt.Sprintf("reader %s is not connected: %s (its doors see no tags)", rc.ID, why))
		}
		for _, a := range slices.Sorted(maps.Keys(g.antennasDown[rc.ID])) {
			warnings = append(warnings, fmt.Sprintf("reader %s antenna %d is disconnected (check its cable)", rc.ID, a))
		}
	}
	g.readerMu.Unlock()
	if g.signals != nil {
		warnings = append(warnings, g.signals.Warnings()...)
	}
	if g.printing != nil {
		var held []string
		g.printing.mu.Lock()
		for id, st := range g.printing.status {
			if st != nil && st.Held() {
				held = append(held, fmt.Sprintf("printer %s holds its jobs: %s", id, st.Summary()))
			}
		}
		g.printing.mu.Unlock()
		slices.Sort(held)
		warnings = append(warnings, held...)
	}
	if obs.Quarantined > 0 {
		warnings = append(warnings, fmt.Sprintf("%d events quarantined: see dockgate outbox quarantined (GET /outbox/quarantined)", obs.Quarantined))
	}
	detail := &healthDetail{Site: g.cfg.Site, Gateway: g.cfg.Gateway, Version: g.info.Version,
		Outbox: obs, Publisher: pub, PortalEventsDropped: g.portalDropped.Load()}
	if g.reads != nil {
		saved, dropped := g.reads.saved.Load(), g.reads.dropped.Load()
		detail.PortalReadsSaved, detail.PortalReadsDropped = &saved, &dropped
		if g.reads.full.Load() {
			warnings = append(warnings, fmt.Sprintf("more than %d portal reads kept for open passes (a tag parked at a door?): the oldest are dropped, and a crash loses them", g.reads.max))
		}
	}
	if g.store.Recovered != "" {
		detail.StoreRecoveredFrom = g.store.Recovered
		warnings = append(warnings, "the store could not be opened and was set aside in "+g.store.Recovered)
	}
	detail.Sync, warnings = g.siteHealthOf(warnings)
	detail.Problems, detail.Warnings = problems, warnings
	return len(problems) == 0, detail
}

// healthDetail is the "detail" of GET /healthz. Like all the gateway's
// JSON, its field names are snake_case (see the JSON conventions in docs/api.md).
type healthDetail struct {
	Site    string `json:"site"`
	Gateway string `json:"gateway"`
	Version string `json:"version"`
	// Problems make the gateway unhealthy (503), each saying what to do;
	// Warnings need a look but lose nothing.
	Problems  []string      `json:"problems"`
	Warnings  []string      `json:"warnings"`
	Outbox    outbox.Stats  `json:"outbox"`
	Publisher mqttpub.Stats `json:"publisher"`
	// PortalEventsDropped counts arrival events dropped by a full portal
	// pipeline; the saved reads' counters are there with portals only.
	PortalEventsDropped int64   `json:"portal_events_dropped"`
	PortalReadsSaved    *int64  `json:"portal_reads_saved,omitempty"`
	PortalReadsDropped  *uint64 `json:"portal_reads_dropped,omitempty"`
	// StoreRecoveredFrom is where a store that could not be opened was
	// set aside.
	StoreRecoveredFrom string `json:"store_recovered_from,omitempty"`
	// Sync is the site's state (sync.enabled).
	Sync *siteHealth `json:"sync,omitempty"`
}

// nowUTC is the clock in UTC: the times of jobs and their events, written
// in the gateway's JSON, are UTC.
func (g *Gateway) nowUTC() time.Time { return g.now().UTC() }

// brokerGrace is how long the embedded broker lives after the publisher's
// last message.
const brokerGrace = 250 * time.Millisecond

// engineTick is how often the portal engine looks for passes that ended (a
// presence timeout passed): a multiple of the readers' 40 ms beat
// (llrp.DefaultReadInterval), so that both wake the gateway once.
const engineTick = 120 * time.Millisecond

// Close closes an offline gateway (Run closes a running one).
func (g *Gateway) Close() { g.close() }

// Run runs the gateway until ctx ends, then shuts down in data-flow order.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.close()
	if g.offline {
		return errors.New("gateway: Run of a gateway opened offline")
	}
	base := context.WithoutCancel(ctx)
	// Each stage gets its own context, ended once the stages upstream of it
	// have returned.
	midCtx, stopMid := context.WithCancel(base)
	defer stopMid()
	pubCtx, stopPub := context.WithCancel(base)
	defer stopPub()

	// Finish the receipts a crash or an error left unfinished.
	if n, err := g.recv.Resume(ctx); err != nil {
		g.log.Error("unfinished receipts not resumed", "err", err)
	} else if n > 0 {
		g.log.Info("unfinished receipts resumed", "count", n)
	}

	// Rebuild the passes a crash left open, before new reads come in.
	g.recoverPortal()

	// A stage downstream that fails ends the gateway (exit 1, so that a
	// supervisor restarts it) instead of leaving it up without, say, its
	// printers.
	runCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	guard := func(name string, f func() error) func() error {
		return func() error {
			err := f()
			if err != nil {
				err = fmt.Errorf("%s: %w", name, err)
				fail(err)
			}
			return err
		}
	}
	front, fctx := errgroup.WithContext(runCtx)
	if g.api != nil {
		front.Go(func() error { return g.api.Run(fctx) })
		front.Go(func() error { return g.console.Run(fctx) })
	}
	// The readers stop after the door signals are set low through them.
	rctx := g.readersContext(base, fctx)
	for _, r := range g.readers {
		front.Go(func() error { return r.Run(rctx) })
	}
	if len(g.cfg.Scanners) > 0 {
		front.Go(g.runScanners(fctx))
	}
	front.Go(func() error { <-fctx.Done(); g.stopping.Store(true); return nil })

	// The portal engine stops after the readers, so that its final flush
	// sees their last reads.
	engCtx, stopEng := context.WithCancel(base)
	defer stopEng()
	engDone := make(chan error, 1)
	if g.eng != nil {
		go func() { engDone <- g.eng.Run(engCtx, engineTick) }()
	} else {
		engDone <- nil
	}

	mid := new(errgroup.Group)
	mid.Go(guard("portal pipeline", func() error { return g.runPortalPipeline(midCtx) }))
	mid.Go(guard("commands", func() error { return g.cmds.Run(midCtx) }))
	mid.Go(guard("lot expiry", func() error { return g.lots.RunExpiry(midCtx, time.Hour) }))
	mid.Go(guard("reader inputs", func() error { return g.runGPIEvents(midCtx) }))
	g.printing.run(midCtx, mid, guard)
	g.runSync(midCtx, mid, guard)

	back := new(errgroup.Group)
	back.Go(guard("outbox", func() error { return g.ob.Run(pubCtx) }))
	back.Go(guard("publisher", func() error { return g.pub.Run(pubCtx) }))
	if g.reads != nil {
		// Stopped with the publisher, after the pipeline: its last prune
		// then sees every pass of the final flush published.
		back.Go(guard("saved portal reads", func() error { return g.reads.run(pubCtx) }))
	}

	err := front.Wait()
	g.stopping.Store(true)
	stopEng()
	if eerr := <-engDone; err == nil {
		err = eerr
	}
	stopMid()
	if merr := mid.Wait(); err == nil {
		err = merr
	}
	stopPub() // the publisher publishes "offline" and disconnects
	if berr := back.Wait(); err == nil {
		err = berr
	}
	if g.brk != nil {
		// The embedded broker hands the retained offline status to its
		// subscribers asynchronously: give it a moment before it closes.
		time.Sleep(brokerGrace)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (g *Gateway) close() {
	if g.printing != nil {
		g.printing.close()
	}
	if g.ob != nil && !g.obClosed {
		// g.ob stays set: a late alarm's append then fails with ErrClosed.
		g.obClosed = true
		if err := g.ob.Close(); err != nil {
			g.log.Warn("closing the outbox", "err", err)
		}
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// loopbackListener listens on a free loopback port (the simulators).
func loopbackListener() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
