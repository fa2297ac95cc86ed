package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/console"
	"github.com/dockgate/dockgate/edge/lots"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/portal"
)

// emit appends one event to the outbox; it returns once the event is
// durable.
func (g *Gateway) emit(ctx context.Context, ev outbox.Event, body any) error {
	if ev.Body == nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("event %s: %w", ev.Type, err)
		}
		ev.Body = b
	}
	if ev.Source == "" {
		ev.Source = "gateway/" + g.cfg.Gateway
	}
	_, err := g.ob.Append(ctx, ev)
	return err
}

// stage stages one event in txn (outbox.Stage): it is queued once txn
// commits, and never if it does not.
func (g *Gateway) stage(txn *badger.Txn, ev outbox.Event, body any) error {
	if ev.Body == nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("event %s: %w", ev.Type, err)
		}
		ev.Body = b
	}
	if ev.Source == "" {
		ev.Source = "gateway/" + g.cfg.Gateway
	}
	return g.ob.Stage(txn, ev)
}

// receivingEmitter gives receiving the outbox: every receiving event, and the
// EPCIS document of a receipt.
type receivingEmitter struct{ g *Gateway }

func (e receivingEmitter) Emit(txn *badger.Txn, ev receiving.Event) error {
	err := e.stage(txn, ev)
	if errors.Is(err, outbox.ErrStoreFull) {
		return fmt.Errorf("%w: %w", receiving.ErrUnavailable, err)
	}
	return err
}

func (e receivingEmitter) stage(txn *badger.Txn, ev receiving.Event) error {
	g := e.g
	if err := g.stage(txn, outbox.Event{ID: "urn:uuid:" + ev.ID, Type: ev.Type, Time: ev.Time,
		Source: "receiving/" + g.cfg.Gateway, Priority: outbox.PriorityLot}, ev.Body); err != nil {
		return err
	}
	if ev.Receipt != nil && g.epcisReceipt != nil {
		doc, err := g.epcisReceipt(ev.Receipt, ev.Cartons)
		if err != nil {
			return fmt.Errorf("EPCIS document of receipt %s: %w", ev.Receipt.ID, err)
		}
		if err := g.stage(txn, outbox.Event{ID: "urn:uuid:" + ev.ID + "-epcis", Type: "epcis.receiving", Time: ev.Time,
			Topic: "epcis", Priority: outbox.PriorityLot, Body: doc}, nil); err != nil {
			return err
		}
	}
	return g.stageSiteReceipt(txn, ev)
}

// stageLotChange stages the events of a lot registry change (created, hold,
// release …) in the transaction that makes it: the change and its events
// commit together. An event that cannot be stored refuses the change.
func (g *Gateway) stageLotChange(txn *badger.Txn, c lots.Change) error {
	err := g.stageLotEvents(txn, c)
	if errors.Is(err, outbox.ErrStoreFull) {
		return fmt.Errorf("%w: %w", lots.ErrStoreFull, err)
	}
	return err
}

func (g *Gateway) stageLotEvents(txn *badger.Txn, c lots.Change) error {
	if c.FromSite {
		// The site publishes its own changes; a hold heard from it still
		// opens the door board's alert (its id stands for the change).
		return g.openLotAlert(txn, c, "urn:uuid:"+stableEventID("site", c.Code, c.Action, c.At.UTC().Format(time.RFC3339Nano)))
	}
	if c.Action == "link" {
		return nil // links are traced, not published one by one
	}
	id := outbox.NewID()
	if err := g.stage(txn, outbox.Event{ID: id, Type: "lot." + c.Action, Time: c.At, Source: "lots/" + g.cfg.Gateway,
		Priority: outbox.PriorityLot}, c); err != nil {
		return err
	}
	if err := g.stageSiteStatus(txn, c); err != nil {
		return err
	}
	if err := g.openLotAlert(txn, c, id); err != nil {
		return err
	}
	if (c.Action == "hold" || c.Action == "recall" || c.Action == "release") && g.epcisHold != nil {
		if c.Lot.GTIN == "" {
			// EPCIS names a lot by its class (GTIN + lot): without a
			// GTIN there is none; the lot event above carries the change.
			g.log.Warn("lot has no GTIN: no EPCIS document for its "+c.Action, "lot", c.Code)
			return nil
		}
		doc, err := g.epcisHold(c)
		if err != nil {
			return fmt.Errorf("EPCIS document of the %s of lot %s: %w", c.Action, c.Code, err)
		}
		return g.stage(txn, outbox.Event{Type: "epcis.hold", Time: c.At, Topic: "epcis", Priority: outbox.PriorityLot, Body: doc}, nil)
	}
	return nil
}

// onPortalEvent is the portal engine's sink. It runs on a reader's
// goroutine with the engine locked, so it never waits: passes and alerts are
// queued without bound (they are never dropped), arrivals into a bounded
// queue that drops them, counted, when a tag burst outruns the outbox.
func (g *Gateway) onPortalEvent(ev portal.Event) {
	// A pass that began before this start was rebuilt from the saved
	// reads; it closes during the replay, or later when its tags were read
	// within a presence timeout of the restart.
	switch ev := ev.(type) {
	case *portal.ArrivalEvent:
		if g.recovering.Load() {
			return // published before the stop, most likely: not twice
		}
	case *portal.PassEvent:
		ev.Recovered = ev.Start.Before(g.started)
		if g.recovering.Load() {
			g.recovered++
		}
	case *portal.AlertEvent:
		ev.Recovered = ev.PassStart.Before(g.started) // as its pass
	}
	if _, arrival := ev.(*portal.ArrivalEvent); !arrival {
		g.portalMu.Lock()
		g.portalKeep = append(g.portalKeep, ev)
		g.portalMu.Unlock()
		select {
		case g.portalKick <- struct{}{}:
		default: // a wake-up is pending already
		}
		return
	}
	select {
	case g.portalQ <- ev:
	default:
		// Logged at the 1st, 2nd, 4th … drop: a burst of 60,000 tags must
		// not become 60,000 log lines.
		if n := g.portalDropped.Add(1); n&(n-1) == 0 {
			g.log.Warn("portal pipeline full: arrival events dropped (passes and alerts are kept)", "dropped_total", n)
		}
	}
}

// takePortalKept returns the queued passes and alerts, oldest first; they
// stay in portalBusy until handleKept has published them.
func (g *Gateway) takePortalKept() []portal.Event {
	g.portalMu.Lock()
	defer g.portalMu.Unlock()
	evs := g.portalKeep
	g.portalKeep = nil
	g.portalBusy = evs
	return evs
}

// handleKept publishes the queued passes and alerts and returns how many
// there were.
func (g *Gateway) handleKept(ctx context.Context) int {
	evs := g.takePortalKept()
	for _, ev := range evs {
		g.handlePortalEvent(ctx, ev)
		g.portalMu.Lock()
		g.portalBusy = g.portalBusy[1:]
		g.portalMu.Unlock()
	}
	return len(evs)
}

// portalWaiting is the start of the oldest pass queued or being published,
// zero when none is: the saved reads from then on are still needed.
func (g *Gateway) portalWaiting() time.Time {
	g.portalMu.Lock()
	defer g.portalMu.Unlock()
	var oldest time.Time
	for _, evs := range [][]portal.Event{g.portalBusy, g.portalKeep} {
		for _, ev := range evs {
			if p, ok := ev.(*portal.PassEvent); ok && (oldest.IsZero() || p.Start.Before(oldest)) {
				oldest = p.Start
			}
		}
	}
	return oldest
}

// observeReads is the readers' OnReads: the engine takes the reads, then
// they are saved (see savedReads.add for the order).
func (g *Gateway) observeReads(batch []rfid.Read) {
	g.eng.Observe(batch)
	g.reads.add(batch)
}

// recoverPortal replays the reads saved before the gateway last stopped into
// the engine and ticks it with the clock: the passes a crash left open close
// with their own read times and go to the pipeline. A pass whose tags were
// read within a presence timeout of now stays open and goes on with the
// readers' new reads. Either way it is marked recovered, as it began before
// this start.
func (g *Gateway) recoverPortal() {
	if g.reads == nil {
		return
	}
	g.started = g.now()
	g.recovering.Store(true)
	defer g.recovering.Store(false)
	n, err := g.reads.replay(g.eng.Observe, g.eng.Tick)
	if err != nil {
		g.log.Error("saved portal reads not replayed: passes open at the last stop may be missing", "replayed", n, "err", err)
	}
	if g.eng.Stats().Tracked > 0 {
		// Tags still present when the gateway stopped wait for their
		// readers' backlogs, which may continue their passes, before they
		// can depart: a slow restart must not split a carton in two.
		g.eng.HoldDepartures(g.now().Add(recoveryHold))
	}
	if n > 0 {
		// Passes still open go on and are published when their tags leave.
		g.log.Info("portal reads saved before the last stop replayed", "reads", n, "passes_closed", g.recovered, "tags_present", g.eng.Stats().Tracked)
	}
}

// recoveryHold is how long after a restart with tags present nothing
// departs: time for the readers to connect and deliver their backlogs.
const recoveryHold = 10 * time.Second

// readsAlarm raises (or clears) an alarm of the saved portal reads.
func (g *Gateway) readsAlarm(kind, msg string, cleared bool) {
	g.onAlarm(outbox.Alarm{Kind: kind, Message: msg, Cleared: cleared, Time: g.now().UTC()})
}

// portalQueued is the number of portal events waiting for the pipeline.
func (g *Gateway) portalQueued() int {
	g.portalMu.Lock()
	defer g.portalMu.Unlock()
	return len(g.portalKeep) + len(g.portalQ)
}

// runPortalPipeline matches passes to receipts and publishes portal events,
// passes and alerts before arrivals. Arrivals are appended to the outbox in
// groups (gatherArrivals): one commit and sync for a pallet's tags rather
// than one for each.
func (g *Gateway) runPortalPipeline(ctx context.Context) error {
	// An event taken is finished even if shutdown begins meanwhile.
	hctx := context.WithoutCancel(ctx)
	linger := time.NewTimer(arrivalLinger)
	linger.Stop()
	var arrivals []*portal.ArrivalEvent
	for {
		g.handleKept(hctx)
		select {
		case <-ctx.Done():
			// Drain what the readers produced before they stopped.
			for {
				kept := g.handleKept(hctx)
				select {
				case ev := <-g.portalQ:
					arrivals = g.gatherArrivals(ctx, arrivals[:0], ev, nil)
					g.publishArrivals(hctx, arrivals)
				default:
					if kept == 0 {
						return nil
					}
				}
			}
		case <-g.portalKick:
		case ev := <-g.portalQ:
			arrivals = g.gatherArrivals(ctx, arrivals[:0], ev, linger)
			g.publishArrivals(hctx, arrivals)
		}
	}
}

// arrivalLinger is how long the pipeline waits, after an arrival, for more
// to append with it: the tags of a pallet arrive within tens of ms, and
// each commit is a sync. The readers' sessions read on the same beat
// (every 40 ms, llrp.DefaultReadInterval), so the arrivals of all doors of
// a beat come within it. It adds at most this to the arrivals' latency;
// they are telemetry, which a crash may lose while they wait (as it may in
// the pipeline's queue).
const arrivalLinger = 25 * time.Millisecond

// maxArrivalBatch bounds the arrivals appended together.
const maxArrivalBatch = 512

// gatherArrivals appends first and the arrivals queued after it to batch,
// in their order: those queued already, then (with linger) those that come
// within arrivalLinger, until a pass or an alert is waiting, ctx ends or
// the batch is full.
func (g *Gateway) gatherArrivals(ctx context.Context, batch []*portal.ArrivalEvent, first portal.Event, linger *time.Timer) []*portal.ArrivalEvent {
	batch = appendArrival(batch, first)
	for len(batch) < maxArrivalBatch {
		select {
		case ev := <-g.portalQ:
			batch = appendArrival(batch, ev)
			continue
		default:
		}
		break
	}
	if linger == nil {
		return batch
	}
	linger.Reset(arrivalLinger)
	defer linger.Stop()
	for len(batch) < maxArrivalBatch {
		select {
		case ev := <-g.portalQ:
			batch = appendArrival(batch, ev)
		case <-linger.C:
			return batch
		case <-g.portalKick:
			// A pass or an alert waits: publish the arrivals now; the
			// loop takes it next. The kick is put back for the loop.
			select {
			case g.portalKick <- struct{}{}:
			default:
			}
			return batch
		case <-ctx.Done():
			return batch
		}
	}
	return batch
}

func appendArrival(batch []*portal.ArrivalEvent, ev portal.Event) []*portal.ArrivalEvent {
	if a, ok := ev.(*portal.ArrivalEvent); ok {
		return append(batch, a)
	}
	return batch // only arrivals are queued in portalQ
}

// publishArrivals appends the arrivals to the outbox in one batch (one
// commit). Arrivals are telemetry: dropped first when the store fills.
func (g *Gateway) publishArrivals(ctx context.Context, arrivals []*portal.ArrivalEvent) {
	if len(arrivals) == 0 {
		return
	}
	evs := make([]outbox.Event, 0, len(arrivals))
	for _, a := range arrivals {
		body, err := json.Marshal(a)
		if err != nil {
			g.log.Error("arrival not published", "door", a.Door, "epc", a.EPC, "err", err)
			continue
		}
		evs = append(evs, outbox.Event{Type: "portal.arrival", Time: a.Time, Source: "portal/" + a.Door,
			Priority: outbox.PriorityTelemetry, Body: body})
	}
	_, _, _ = g.ob.AppendBatch(ctx, evs)
}

func (g *Gateway) handlePortalEvent(ctx context.Context, ev portal.Event) {
	switch ev := ev.(type) {
	case *portal.PassEvent:
		if !g.stagePass(ctx, ev) {
			break
		}
		g.m.passes.WithLabelValues(ev.Door, ev.Direction).Inc()
		if g.reads != nil {
			// The pass and its alerts (which came before it) are in the
			// outbox: its reads need not be replayed.
			g.reads.passDone(ev)
		}
	case *portal.AlertEvent:
		g.log.Warn("carton of a held lot at the door", "door", ev.Door, "direction", ev.Direction, "lot", ev.Lot, "epc", ev.EPC)
		// The same alert replayed after a crash has the same id.
		id := "urn:uuid:" + stableEventID("alert", ev.Door, ev.EPC, ev.PassStart.UTC().Format(time.RFC3339Nano))
		if err := g.store.Update(func(txn *badger.Txn) error {
			if err := g.stage(txn, outbox.Event{ID: id, Type: "lot.hold.alert", Time: ev.Time, Source: "portal/" + ev.Door,
				Priority: outbox.PriorityLifecycle}, ev); err != nil {
				return err
			}
			if err := console.OpenAlertIn(txn, console.Alert{ID: id, Kind: "lot.hold.alert", Door: ev.Door, Lot: ev.Lot, EPC: ev.EPC,
				Direction: ev.Direction, Reason: ev.Reason, Time: ev.Time}); err != nil {
				return err
			}
			return receiving.RecordEventIn(txn, ev.Lot, receiving.EventRef{EventID: id, Type: "lot.hold.alert", Time: ev.Time, Subject: ev.EPC})
		}); err != nil {
			g.log.Error("hold alert not published", "door", ev.Door, "epc", ev.EPC, "err", err)
		}
		g.m.alerts.WithLabelValues(ev.Door).Inc()
	case *portal.ArrivalEvent:
		g.publishArrivals(ctx, []*portal.ArrivalEvent{ev})
	}
}

// stableEventID derives a UUID-shaped event id from its parts, so that a
// fact recorded again (a pass replayed after a crash) gets the same id and a
// subscriber drops the copy.
func stableEventID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h[6] = h[6]&0x0f | 0x50 // version 5 shape
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// maxEventBytes is the outbox's bound on an event body
// (outbox.max_event_bytes and its default).
func (g *Gateway) maxEventBytes() int {
	if n := g.cfg.Outbox.MaxEventBytes; n > 0 {
		return n
	}
	return 256 << 10
}

// onReaderEvent publishes reader health as the reader's retained status.
func (g *Gateway) onReaderEvent(ev rfid.ReaderEvent) {
	st := map[string]any{"event": ev.Kind.String(), "time": ev.Time.UTC()}
	if ev.Err != nil {
		st["error"] = ev.Err.Error()
	}
	if ev.Antenna != 0 {
		st["antenna"] = ev.Antenna
	}
	if ev.Message != "" {
		st["message"] = ev.Message
	}
	if ev.Kind == rfid.EventBufferWarning {
		st["level"] = ev.Level
	}
	if ev.Kind == rfid.EventGPI {
		st["gpi"], st["state"] = ev.Port, gpiState(ev.High)
		if ev.Initial {
			st["initial"] = true
		}
	}
	g.readerMu.Lock()
	g.readerStatus[ev.Reader] = st
	switch ev.Kind {
	case rfid.EventConnected:
		delete(g.readerDown, ev.Reader)
	case rfid.EventDisconnected, rfid.EventConnectFailed:
		why := ev.Kind.String()
		if ev.Err != nil {
			why = ev.Err.Error()
		}
		g.readerDown[ev.Reader] = why
		delete(g.readerGPI, ev.Reader) // unknown until reported again
	case rfid.EventGPI:
		if g.readerGPI[ev.Reader] == nil {
			g.readerGPI[ev.Reader] = map[uint16]gpiSeen{}
		}
		g.readerGPI[ev.Reader][ev.Port] = gpiSeen{high: ev.High, at: ev.Time, initial: ev.Initial}
	case rfid.EventAntennaDisconnected:
		if g.antennasDown[ev.Reader] == nil {
			g.antennasDown[ev.Reader] = map[uint16]bool{}
		}
		g.antennasDown[ev.Reader][ev.Antenna] = true
	case rfid.EventAntennaConnected:
		delete(g.antennasDown[ev.Reader], ev.Antenna)
	}
	if in := g.readerInputs(ev.Reader); in != nil {
		st["inputs"] = in
	}
	g.readerMu.Unlock()
	if g.signals != nil {
		g.signals.ReaderEvent(ev)
	}
	if g.hub != nil && readerShown(ev.Kind) {
		g.hub.ReaderChanged(ev.Reader)
	}
	if err := g.pub.SetDeviceStatus("reader", ev.Reader, st); err != nil {
		g.log.Warn("reader status not published", "reader", ev.Reader, "err", err)
	}
	level, attrs := g.log.Info, []any{"reader", ev.Reader}
	if ev.Kind == rfid.EventGPI {
		g.emitGPI(ev)
		level, attrs = g.log.Debug, append(attrs, "gpi", ev.Port, "state", gpiState(ev.High))
		if ev.Initial {
			attrs = append(attrs, "at_connect", true)
		}
	}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
		if !g.stopping.Load() {
			level = g.log.Warn
		}
	}
	level("reader "+strings.ToLower(ev.Kind.String()), attrs...)
}
