package gateway

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dockgate/dockgate/edge/receiving"
)

// metrics are the gateway's own counters and histograms, filled where the
// facts happen (the rest are read from the parts' stats at each scrape).
type metrics struct {
	receipts       *prometheus.CounterVec // by outcome
	receiptSeconds prometheus.Histogram
	passes         *prometheus.CounterVec // by door and direction
	alerts         *prometheus.CounterVec // by door
	jobTrouble     *prometheus.CounterVec // by printer, event and reason
	tagEncodes     *prometheus.CounterVec // by printer and outcome
	signalWrites   *prometheus.CounterVec // by door and result
}

func newMetrics() *metrics {
	return &metrics{
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "receipts_total",
			Help: "Receipts taken (outcome ok), refused for their input (refused) or not taken for the gateway's state (failed)."}, []string{"outcome"}),
		receiptSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "dockgate", Name: "receipt_duration_seconds",
			Help:    "Time from a receipt request to its answer: lot, cartons, labels spooled and events stored.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "door_passes_total",
			Help: "Passes recorded at a door, by direction."}, []string{"door", "direction"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "door_alerts_total",
			Help: "Cartons of a held or recalled lot seen at a door."}, []string{"door"}),
		jobTrouble: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "printer_job_trouble_total",
			Help: "Label jobs held, failed or unknown, by printer, event (held, failed, unknown) and reason (paper_out, ribbon_out, head_open, paused, printer_fault, no_status, connection, restart, not_confirmed, encode_failed, unverified, other)."},
			[]string{"printer", "event", "reason"}),
		tagEncodes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "printer_tag_encodes_total",
			Help: "RFID labels by what became of their tag, as the printer verified it: encoded, voided (written after voided labels), encode_failed, unverified (report lost)."},
			[]string{"printer", "outcome"}),
		signalWrites: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "dockgate", Name: "door_signal_writes_total",
			Help: "Writes of a door's signal outputs (GPO) to its reader, by result: ok, or failed (the reader refused or was not reachable)."},
			[]string{"door", "result"}),
	}
}

// signalWrite is the door signals' OnWrite.
func (m *metrics) signalWrite(door string, _ uint16, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	m.signalWrites.WithLabelValues(door, result).Inc()
}

// observeReceipt is receiving's OnReceipt.
func (m *metrics) observeReceipt(d time.Duration, err error) {
	outcome := "ok"
	switch {
	case err == nil:
		m.receiptSeconds.Observe(d.Seconds())
	case errors.Is(err, receiving.ErrInvalid), errors.Is(err, receiving.ErrUnknownDoor), errors.Is(err, receiving.ErrConflict), errors.Is(err, receiving.ErrExpired):
		outcome = "refused"
	default:
		outcome = "failed"
	}
	m.receipts.WithLabelValues(outcome).Inc()
}

// registerMetrics exposes the gateway's counters on /metrics.
func (g *Gateway) registerMetrics(reg *prometheus.Registry) {
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "dockgate", Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "dockgate", Name: name, Help: help}, f)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	reg.MustRegister(g.m.receipts, g.m.receiptSeconds, g.m.passes, g.m.alerts, g.m.jobTrouble, g.m.tagEncodes, g.m.signalWrites)
	reg.MustRegister(
		gauge("outbox_oldest_event_age_seconds", "Age of the oldest event not yet acknowledged by the broker (0 when none is queued).", func() float64 {
			t, ok, err := g.ob.Oldest()
			if err != nil || !ok {
				return 0
			}
			return max(g.now().Sub(t).Seconds(), 0)
		}),
		gauge("outbox_pending_events", "Events in the outbox not yet acknowledged by the broker.", func() float64 { return float64(g.ob.Stats().Pending()) }),
		gauge("outbox_store_full", "1 while lot events are refused (outbox bound or disk floor reached).", func() float64 {
			st := g.ob.Stats()
			return b2f(st.StoreFull || st.DiskLow)
		}),
		counter("outbox_telemetry_dropped_total", "Telemetry events dropped to make room.", func() float64 { return float64(g.ob.Stats().Dropped) }),
		gauge("outbox_quarantined_events", "Events set aside as poison.", func() float64 { return float64(g.ob.Stats().Quarantined) }),
		gauge("mqtt_connected", "1 while the publisher has a broker session.", func() float64 { return b2f(g.pub.Stats().Connected) }),
		counter("mqtt_acked_total", "Events acknowledged by the broker since start.", func() float64 { return float64(g.pub.Stats().Acked) }),
		counter("portal_events_dropped_total", "Portal arrival events dropped because the pipeline was full (passes and alerts are never dropped).", func() float64 { return float64(g.portalDropped.Load()) }),
		gauge("portal_events_queued", "Portal events waiting for the pipeline.", func() float64 { return float64(g.portalQueued()) }),
	)
	if g.eng != nil {
		reg.MustRegister(
			counter("portal_reads_total", "Tag reads observed.", func() float64 { return float64(g.eng.Stats().Reads) }),
			counter("portal_passes_total", "Passes through doors.", func() float64 { return float64(g.eng.Stats().Passes) }),
			counter("portal_alerts_total", "Held-lot alerts raised.", func() float64 { return float64(g.eng.Stats().Alerts) }),
			gauge("portal_tracked_epcs", "EPCs tracked now.", func() float64 { return float64(g.eng.Stats().Tracked) }),
		)
	}
	for _, pc := range g.cfg.Printers {
		id := pc.ID
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "dockgate", Name: "printer_queued_jobs",
			Help: "Active jobs in a printer's queue.", ConstLabels: prometheus.Labels{"printer": id}}, func() float64 {
			n, _ := g.printing.spool.QueueLen(id)
			return float64(n)
		}))
	}
}
