package gateway

import (
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/dockgate/dockgate/edge/outbox"
	"github.com/dockgate/dockgate/edge/receiving"
	"github.com/dockgate/dockgate/printers"
	"github.com/dockgate/dockgate/printers/spool"
)

// The spooler stages its job events in the transactions of their changes.
var _ spool.JobEventStager = (*printing)(nil)

// StageJobEvent stages a job event of the spooler (confirmed, failed,
// unknown, held, cancelled, reprint) in txn, the transaction that changes
// the job, as PrinterEvent publishes it: a lot event, with its reference in
// the lot's trace. A print, reprint, void or cancel is also a label audit
// record with its label.* event (stageLabels). The change and its events
// commit together. An event that cannot be stored (outbox.ErrStoreFull,
// returned as it is: the spooler wraps it in spool.ErrEventNotStored)
// refuses the change.
func (p *printing) StageJobEvent(txn *badger.Txn, e printers.Event) error {
	id := outbox.NewID()
	if err := p.g.stage(txn, outbox.Event{ID: id, Type: string(e.Kind), Time: e.Time, Source: "printer/" + e.Printer,
		Priority: outbox.PriorityLot}, e); err != nil {
		return err
	}
	if e.Kind == printers.EventJobFailed || e.Kind == printers.EventJobHeld || e.Kind == printers.EventJobUnknown {
		p.g.m.jobTrouble.WithLabelValues(e.Printer, strings.TrimPrefix(string(e.Kind), "job."), jobReason(e)).Inc()
	}
	if e.Encode != nil && (e.Kind == printers.EventJobConfirmed || e.Kind == printers.EventJobFailed) {
		// A label's tag outcome, once: with the job's end (the
		// label.encode_failed event that goes with a failure is not
		// counted again).
		p.g.m.tagEncodes.WithLabelValues(e.Printer, e.Encode.Outcome).Inc()
	}
	if e.Lot != "" {
		if err := receiving.RecordEventIn(txn, e.Lot, receiving.EventRef{EventID: id, Type: string(e.Kind), Time: e.Time, Subject: e.JobID}); err != nil {
			return err
		}
	}
	return p.stageLabels(txn, e)
}

// jobReason is the cause of a job's trouble as one of a few words, for the
// metric's label (the event carries the full text).
func jobReason(e printers.Event) string {
	if e.Encode != nil && (e.Encode.Outcome == printers.EncodeFailed || e.Encode.Outcome == printers.EncodeUnverified) {
		return e.Encode.Outcome
	}
	if st := e.Status; st != nil {
		switch {
		case !st.Known:
			return "no_status"
		case st.PaperOut:
			return "paper_out"
		case st.RibbonOut:
			return "ribbon_out"
		case st.HeadOpen:
			return "head_open"
		case st.Paused:
			return "paused"
		case len(st.Faults()) > 0:
			return "printer_fault"
		}
	}
	r := strings.ToLower(e.Reason)
	switch {
	case strings.Contains(r, "unreachable"), strings.Contains(r, "connection"), strings.Contains(r, "not sent"):
		return "connection"
	case strings.Contains(r, "stopped"), strings.Contains(r, "restart"):
		return "restart"
	case strings.Contains(r, "confirm"):
		return "not_confirmed"
	}
	return "other"
}
