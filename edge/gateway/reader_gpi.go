package gateway

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// gpiEvent is the body of a reader.gpi event: a general purpose input of a
// reader changed (a photo eye, a forklift sensor), or, with Initial, its
// state when the reader connected.
type gpiEvent struct {
	Reader  string    `json:"reader"`
	GPI     uint16    `json:"gpi"`
	State   string    `json:"state"` // high | low
	Initial bool      `json:"initial,omitempty"`
	Time    time.Time `json:"time"`
}

func gpiState(high bool) string {
	if high {
		return "high"
	}
	return "low"
}

// gpiAppendTimeout bounds an append of reader.gpi events to the outbox.
const gpiAppendTimeout = 5 * time.Second

// gpiQueueSize bounds the input changes waiting to be queued.
const gpiQueueSize = 256

// emitGPI hands a reader.gpi telemetry event (dropped first when the store
// fills) to runGPIEvents. It never waits: it is called on the reader's own
// goroutine, which must not hold up the reads that follow a photo eye going
// high (nor the answers to SetGPO) for a commit. A change that finds the
// queue full is dropped, logged.
func (g *Gateway) emitGPI(ev rfid.ReaderEvent) {
	if g.ob == nil || g.gpiQ == nil {
		return
	}
	select {
	case g.gpiQ <- ev:
	default:
		g.log.Warn("reader GPI event dropped: the input changes faster than events can be queued",
			"reader", ev.Reader, "gpi", ev.Port, "state", gpiState(ev.High), "waiting", gpiQueueSize)
	}
}

// runGPIEvents appends the reader.gpi events emitGPI hands over, in order,
// those waiting together in one commit. When ctx ends (after the readers
// have stopped) it appends what is left and returns.
func (g *Gateway) runGPIEvents(ctx context.Context) error {
	batch := make([]outbox.Event, 0, 16)
	for {
		stop := false
		select {
		case ev := <-g.gpiQ:
			batch = append(batch, gpiOutboxEvent(ev))
		case <-ctx.Done():
			stop = true
		}
	more:
		for len(batch) < gpiQueueSize {
			select {
			case ev := <-g.gpiQ:
				batch = append(batch, gpiOutboxEvent(ev))
			default:
				break more
			}
		}
		if len(batch) > 0 {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gpiAppendTimeout)
			_, errs, _ := g.ob.AppendBatch(actx, batch)
			cancel()
			for i, err := range errs {
				if err != nil {
					g.log.Warn("reader GPI event not queued", "source", batch[i].Source, "err", err)
				}
			}
			batch = batch[:0]
		}
		if stop && len(g.gpiQ) == 0 {
			return nil
		}
	}
}

func gpiOutboxEvent(ev rfid.ReaderEvent) outbox.Event {
	body, _ := json.Marshal(gpiEvent{Reader: ev.Reader, GPI: ev.Port, State: gpiState(ev.High), Initial: ev.Initial, Time: ev.Time.UTC()})
	return outbox.Event{Type: "reader.gpi", Time: ev.Time, Source: "reader/" + ev.Reader,
		Priority: outbox.PriorityTelemetry, Body: body}
}

// gpiSeen is a reader's input as it last reported it; initial: its state
// read when the reader connected, unchanged since.
type gpiSeen struct {
	high    bool
	at      time.Time
	initial bool
}

// gpiInput is an input in a reader's status ("inputs"): what the reader
// last reported of it.
type gpiInput struct {
	GPI     uint16    `json:"gpi"`
	State   string    `json:"state"` // high | low
	Initial bool      `json:"initial,omitempty"`
	Time    time.Time `json:"time"`
}

// readerInputs are the inputs reader reported since it connected, by port;
// nil when none. g.readerMu is held.
func (g *Gateway) readerInputs(reader string) []gpiInput {
	seen := g.readerGPI[reader]
	if len(seen) == 0 {
		return nil
	}
	out := make([]gpiInput, 0, len(seen))
	for _, port := range slices.Sorted(maps.Keys(seen)) {
		in := seen[port]
		out = append(out, gpiInput{GPI: port, State: gpiState(in.high), Initial: in.initial, Time: in.at.UTC()})
	}
	return out
}

// readerShown reports whether a reader event changes what the console
// shows of the reader (its connection, antennas and inputs).
func readerShown(k rfid.EventKind) bool {
	switch k {
	case rfid.EventConnected, rfid.EventDisconnected, rfid.EventConnectFailed,
		rfid.EventAntennaConnected, rfid.EventAntennaDisconnected, rfid.EventGPI:
		return true
	}
	return false
}
