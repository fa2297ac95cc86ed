package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

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
	reg.MustRegister(
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
