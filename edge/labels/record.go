package labels

import (
	"fmt"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// Action is what a record reports.
type Action string

// Actions.
const (
	Printed   Action = "printed"   // the printer took the job
	Reprinted Action = "reprinted" // an operator queued the job again
	Voided    Action = "voided"    // the printer voided labels: a tag that could not be written
	Cancelled Action = "cancelled" // the job was dropped before it printed
)

// EventType is the type of the record's event: label.printed …
func (a Action) EventType() string { return "label." + string(a) }

// Encode outcomes of a label's tag, as the printer reports them
// (printers.Encode).
const (
	Encoded          = printers.EncodeEncoded    // written and verified
	EncodeVoided     = printers.EncodeVoided     // written after the printer voided one or more labels
	EncodeFailed     = printers.EncodeFailed     // not written: the printer's retries are used up, or the tag reads back another EPC
	EncodeUnverified = printers.EncodeUnverified // printed, but the printer's report was lost: neither known good nor bad
)

// KindEncodeFailed is the job event the printer side raises for a tag it
// could not write: it makes a voided record.
const KindEncodeFailed = printers.EventLabelEncodeFailed

// Encode is a label's encode outcome.
type Encode struct {
	// Outcome is Encoded, EncodeVoided, EncodeFailed or EncodeUnverified.
	Outcome string `json:"outcome"`
	// Voided is how many labels the printer voided before the outcome.
	Voided int `json:"voided,omitempty"`
	// Attempts is how many writes the printer tried, when it says.
	Attempts int `json:"attempts,omitempty"`
	// EPCRead is what the tag read back, when the printer reads it back;
	// TID the tag's TID, when the printer captures it (capture_tid).
	EPCRead string `json:"epc_read,omitempty"`
	TID     string `json:"tid,omitempty"`
	// Reason says why the tag was not written or not verified.
	Reason string `json:"reason,omitempty"`
}

// Record is one entry of the audit trail.
type Record struct {
	// Seq orders the records: it increases with every record appended,
	// also across restarts. Pages of a lot's history continue after it.
	Seq uint64 `json:"seq"`
	// ID is the eventID of the record's label.* event.
	ID       string         `json:"id"`
	Action   Action         `json:"action"`
	Time     time.Time      `json:"time"`
	Job      string         `json:"job"`
	Printer  string         `json:"printer"`
	Door     string         `json:"door,omitempty"`
	Lot      string         `json:"lot,omitempty"`
	Carton   string         `json:"carton,omitempty"` // SSCC
	EPC      string         `json:"epc,omitempty"`    // hex: the tag the label writes
	Template string         `json:"template,omitempty"`
	Copies   int            `json:"copies,omitempty"`
	By       printers.Actor `json:"by"`
	// Reason is why: the operator's for a reprint or a cancel, the
	// printer's for a void.
	Reason string  `json:"reason,omitempty"`
	Encode *Encode `json:"encode,omitempty"`
	// JobState is the job's state once the change was made.
	JobState string `json:"job_state,omitempty"`
}

// EncodeOf is the encode outcome a job event reports, nil when it reports
// none: the outcome the printer reported for the job's label (encoded,
// voided N, encode_failed, unverified), or encode_failed for a
// label.encode_failed event without one. The printed record, the voided
// record and the reconciliation follow from it.
func EncodeOf(e printers.Event) *Encode {
	if enc := e.Encode; enc != nil {
		return &Encode{Outcome: enc.Outcome, Voided: enc.Voids, Attempts: enc.Attempts, EPCRead: enc.EPCRead, TID: enc.TID, Reason: enc.Reason}
	}
	if e.Kind == KindEncodeFailed {
		return &Encode{Outcome: EncodeFailed, Attempts: e.Attempts, Reason: e.Reason}
	}
	return nil
}

// FromEvent makes the records a job event reports (none for the events
// that are no print, reprint, void or cancel: held, failed, unknown,
// printer status). ID and Seq are left to the caller, and EPC when the
// event does not carry it.
func FromEvent(e printers.Event) []Record {
	r := Record{Time: e.Time, Job: e.JobID, Printer: e.Printer, Door: e.Door, Lot: e.Lot, Carton: e.Carton, EPC: e.EPC,
		Template: e.Template, Copies: e.Copies, Encode: EncodeOf(e), JobState: e.State}
	if e.By != nil {
		r.By = *e.By
	} else {
		r.By = printers.Actor{Via: printers.ViaGateway}
	}
	switch e.Kind {
	case printers.EventJobConfirmed:
		r.Action = Printed
		out := []Record{r}
		if enc := r.Encode; enc != nil && enc.Voided > 0 {
			v := r
			v.Action, v.By, v.Reason = Voided, printers.Actor{Via: printers.ViaPrinter, Name: e.Printer}, enc.Reason
			if v.Reason == "" {
				v.Reason = fmt.Sprintf("the printer voided %d label(s) before it wrote the tag", enc.Voided)
			}
			out = append(out, v)
		}
		return out
	case printers.EventJobReprint:
		r.Action, r.Reason = Reprinted, e.Why
	case printers.EventJobCancelled:
		r.Action, r.Reason = Cancelled, e.Why
	case KindEncodeFailed:
		r.Action, r.By, r.Reason = Voided, printers.Actor{Via: printers.ViaPrinter, Name: e.Printer}, e.Reason
	default:
		return nil
	}
	return []Record{r}
}
