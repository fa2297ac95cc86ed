package printers

import (
	"context"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds.
const (
	EventStatus        EventKind = "printer.status"    // the printer's condition changed
	EventJobConfirmed  EventKind = "job.confirmed"     // the printer took the job
	EventJobFailed     EventKind = "job.failed"        // confirmation failed; waits for a reprint
	EventJobHeld       EventKind = "job.held"          // the printer is faulted; the job waits
	EventJobUnknown    EventKind = "job.unknown"       // may or may not have printed; waits for a decision
	EventJobCancelled  EventKind = "job.cancelled"     // cancelled by an operator
	EventJobReprint    EventKind = "job.reprint"       // queued again by an operator
	EventPrinterOnline EventKind = "printer.connected" // reached: the first connection, or the first after a failure
	// EventLabelEncodeFailed: a job's tag took no write within the
	// printer's tries, or read back another EPC (carton, EPC, printer and
	// the encode outcome with its attempts).
	EventLabelEncodeFailed EventKind = "label.encode_failed"
)

// Event is a status change or a job outcome, for the edge outbox.
type Event struct {
	Kind    EventKind `json:"kind"`
	Printer string    `json:"printer"`
	Door    string    `json:"door,omitempty"`
	Time    time.Time `json:"time"`
	// Job fields (job events).
	JobID    string `json:"job_id,omitempty"`
	Lot      string `json:"lot,omitempty"`
	Carton   string `json:"carton,omitempty"`
	State    string `json:"state,omitempty"`
	Attempts int    `json:"attempts,omitempty"`
	// Template is the label template the job was rendered from, Copies
	// how many times its ZPL is sent (job events).
	Template string `json:"template,omitempty"`
	Copies   int    `json:"copies,omitempty"`
	// EPC is the EPC the job's label writes; Encode the verified outcome
	// of the write (RFID jobs on a printer that verifies them).
	EPC    string  `json:"epc,omitempty"`
	Encode *Encode `json:"encode,omitempty"`
	// Status is the printer status (status events, held jobs).
	Status *Status `json:"status,omitempty"`
	// Reason is the error or fault that caused the event.
	Reason string `json:"reason,omitempty"`
	// By is who asked for what the event reports: the operator of a
	// reprint or a cancel, the requester of the job otherwise; nil when
	// not known (jobs spooled before jobs recorded it).
	By *Actor `json:"by,omitempty"`
	// Why is the operator's reason for a reprint or a cancel.
	Why string `json:"why,omitempty"`
}

// Actor is who asked for a print, a reprint or a cancel: the channel the
// request came by and the name it was known by there. The label audit
// trail records it.
type Actor struct {
	// Via is the channel: ViaAPI, ViaMQTT, ViaCLI, ViaConsole,
	// ViaScanner, ViaPrinter or ViaGateway.
	Via string `json:"via"`
	// Name is the API token's name (http.token_name) or "local" for a
	// loopback API without a token; the MQTT command's "by" (its sender's
	// client id); the CLI's user; the name the console's operator gave;
	// the scanner's or printer's id; "" for the gateway itself.
	Name string `json:"name,omitempty"`
}

// Channels of an Actor.
const (
	ViaAPI     = "api"
	ViaMQTT    = "mqtt"
	ViaCLI     = "cli"
	ViaConsole = "console"
	ViaScanner = "scanner"
	ViaPrinter = "printer"
	ViaGateway = "gateway"
)

// String is "via:name", or via alone without a name.
func (a Actor) String() string {
	if a.Name == "" {
		return a.Via
	}
	return a.Via + ":" + a.Name
}

// EventSink receives events. The spooler calls it from its printer loops
// for printer status and connections, and for job events only when the sink
// cannot stage them with the job's change (spool.JobEventStager); an error
// is logged, not retried (the job state in the store stays the truth).
type EventSink interface {
	PrinterEvent(ctx context.Context, e Event) error
}

// EventFunc adapts a function to an EventSink.
type EventFunc func(ctx context.Context, e Event) error

// PrinterEvent calls f.
func (f EventFunc) PrinterEvent(ctx context.Context, e Event) error { return f(ctx, e) }
