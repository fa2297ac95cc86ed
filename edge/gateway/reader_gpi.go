package gateway

import (
	"context"
	"time"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/rfid"
)

// gpiEvent is the body of a reader.gpi event: a general purpose input of a
// reader changed (a photo eye, a forklift sensor).
type gpiEvent struct {
	Reader string    `json:"reader"`
	GPI    uint16    `json:"gpi"`
	State  string    `json:"state"` // high | low
	Time   time.Time `json:"time"`
}

func gpiState(high bool) string {
	if high {
		return "high"
	}
	return "low"
}

// gpiAppendTimeout bounds the wait of a reader's goroutine on the outbox.
const gpiAppendTimeout = 5 * time.Second

// emitGPI queues a reader.gpi telemetry event (dropped first when the
// store fills).
func (g *Gateway) emitGPI(ev rfid.ReaderEvent) {
	if g.ob == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), gpiAppendTimeout)
	defer cancel()
	body := gpiEvent{Reader: ev.Reader, GPI: ev.Port, State: gpiState(ev.High), Time: ev.Time.UTC()}
	if err := g.emit(ctx, outbox.Event{Type: "reader.gpi", Time: ev.Time, Source: "reader/" + ev.Reader,
		Priority: outbox.PriorityTelemetry}, body); err != nil {
		g.log.Warn("reader GPI event not queued", "reader", ev.Reader, "gpi", ev.Port, "err", err)
	}
}

// gpiSeen is a reader's input as it last reported it.
type gpiSeen struct {
	high bool
	at   time.Time
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
