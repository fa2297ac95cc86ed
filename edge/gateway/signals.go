package gateway

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/signals"
	"github.com/dockgate/dockgate/rfid"
)

// Door signals (edge/signals): the engine hears every event the outbox
// queues (onQueued), follows the readers' connections (onReaderEvent) and
// sets the outputs of the doors' readers, which it gets here.
//
//	outbox ─OnQueued─▶ signals engine ─▶ one writer per reader ─SetGPO─▶ reader
//	                         └─OnChange─▶ console hub (the door boards' light stacks)
//
// It stops before the readers: the outputs are set low through them.

// openSignals makes the signals engine when a door has signals.
func (g *Gateway) openSignals() error {
	var doors []signals.Door
	var lag time.Duration // a pass is heard a presence timeout after its last read
	for _, d := range g.cfg.Doors {
		lag = max(lag, d.PresenceTimeout)
		if len(d.Signals) > 0 {
			doors = append(doors, signals.Door{ID: d.ID, Reader: d.Reader, Rules: d.Signals})
		}
	}
	if len(doors) == 0 {
		return nil
	}
	var onChange func(string)
	if g.hub != nil {
		onChange = g.hub.DoorChanged // the door boards show the lights
	}
	var err error
	g.signals, err = signals.New(signals.Config{Doors: doors, Logger: g.log.With("component", "signals"), OnWrite: g.m.signalWrite,
		OnChange: onChange, Clock: signalClock{g.now}, StaleAfter: signals.DefaultStaleAfter + lag})
	return err
}

// signalClock is the gateway's clock, which dates the events, with the
// system's timers.
type signalClock struct{ now func() time.Time }

func (c signalClock) Now() time.Time { return c.now() }

func (signalClock) AfterFunc(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// attachSignals gives the signals engine reader r's outputs, when a door's
// signals drive them. A reader without outputs the gateway can set is a
// startup warning: check-config refuses signals on a serial reader.
func (g *Gateway) attachSignals(id string, r rfid.Reader) {
	if g.signals == nil {
		return
	}
	var doors []string
	for _, d := range g.cfg.Doors {
		if d.Reader == id && len(d.Signals) > 0 {
			doors = append(doors, d.ID)
		}
	}
	if len(doors) == 0 {
		return
	}
	if set, ok := r.(rfid.GPOSetter); ok {
		g.signals.Attach(id, set)
		return
	}
	g.log.Warn("door signals not set: the door's reader has no general purpose outputs the gateway can set (use an LLRP reader)",
		"reader", id, "doors", strings.Join(doors, ","))
}

// onQueued is the outbox's OnQueued: the dock console and the door signals
// hear every event as it is queued. Neither waits.
func (g *Gateway) onQueued(evs []outbox.Event) {
	if g.hub != nil {
		g.hub.Publish(evs)
	}
	if g.signals != nil {
		g.signals.Queued(evs)
	}
}

// readersContext runs the door signals and returns the readers' context:
// once ctx ends, the signals set their outputs low through the readers,
// and then the readers' context ends.
func (g *Gateway) readersContext(base, ctx context.Context) context.Context {
	rctx, stopReaders := context.WithCancel(base)
	if g.signals == nil {
		context.AfterFunc(ctx, stopReaders)
		return rctx
	}
	sctx, stopSignals := context.WithCancel(base)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := g.signals.Run(sctx); err != nil {
			g.log.Error("door signals stopped", "err", err)
		}
	}()
	context.AfterFunc(ctx, func() {
		stopSignals()
		<-done
		stopReaders()
	})
	return rctx
}

// httpDoorLights is GET /doors/{id}/lights: the door's light stack as the
// door board shows it, each rule with its label, colour and whether it is
// lit, until when (signals.Light's JSON); no rules for a door without
// signals.
func (g *Gateway) httpDoorLights(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var ids []string
	for _, d := range g.cfg.Doors {
		ids = append(ids, d.ID)
	}
	if !slices.Contains(ids, id) {
		api.Error(w, http.StatusNotFound, fmt.Errorf("door %q is not configured; the doors are %s", id, strings.Join(ids, ", ")))
		return
	}
	lights := []signals.Light{}
	if g.signals != nil {
		lights = append(lights, g.signals.Lights(id)...)
	}
	api.JSON(w, http.StatusOK, map[string]any{"door": id, "lights": lights})
}
