package spool

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// State is a job's place in its life.
type State string

// Job states.
const (
	Queued    State = "queued"
	Held      State = "held"
	Sending   State = "sending"
	Sent      State = "sent"
	Confirmed State = "confirmed"
	Failed    State = "failed"
	Cancelled State = "cancelled"
	Unknown   State = "unknown"
)

// States are the job states, in the order of a job's life.
var States = []State{Queued, Held, Sending, Sent, Confirmed, Failed, Cancelled, Unknown}

// Active reports whether the job is in its printer's queue.
func (s State) Active() bool {
	return s == Queued || s == Held || s == Sending || s == Sent
}

// Job is one print job.
type Job struct {
	// ID is the idempotency key: submitting the same id again is the same
	// job. Letters, digits and ". _ : -", at most 128.
	ID      string `json:"id"`
	Printer string `json:"printer"`
	// ZPL is one or more complete formats (^XA … ^XZ).
	ZPL string `json:"zpl,omitempty"`
	// Copies sends the ZPL this many times (default 1).
	Copies int `json:"copies"`
	// Labels is the number of labels the job prints: the ^PQ quantities of
	// its formats, summed, times Copies. Set by the spooler.
	Labels int    `json:"labels"`
	Lot    string `json:"lot,omitempty"`
	Carton string `json:"carton,omitempty"`
	// Template names the label template the job was rendered from (""
	// for ZPL given as it is); By is who asked for the job. Both go into
	// its events and the label audit trail; neither makes a resubmission
	// a different job.
	Template string          `json:"template,omitempty"`
	By       *printers.Actor `json:"by,omitempty"`

	State    State     `json:"state"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Reason says why the job is held, failed or unknown.
	Reason string `json:"reason,omitempty"`
	// Seq is the job's position in its printer's queue.
	Seq uint64 `json:"seq"`

	// EPC is the EPC the job's ZPL writes on its tag (^RFW … ^FD<hex>),
	// upper-case hex; set by the spooler.
	EPC string `json:"epc,omitempty"`
	// Encode is the verified outcome of the job's tag write, on a printer
	// that verifies RFID jobs (printers[].verify_encode).
	Encode *printers.Encode `json:"encode,omitempty"`
	// Mark ties a job sent on a printer with a label counter to the
	// counter read before its batch, so that a batch cut short is resolved
	// from the printer's count, even after a restart.
	Mark *Mark `json:"mark,omitempty"`
	// Resume says how many labels of the job already printed when it was
	// cut in the middle: only the rest is sent again.
	Resume *Resume `json:"resume,omitempty"`
}

// Mark is a batch's label counter reading, kept on each job of the batch
// with the job's place in it.
type Mark struct {
	// Counter is the printer's label count (sgd) or print length in whole
	// units (hqod) before the batch was written.
	Counter int64 `json:"counter"`
	// Voids is the printer's count of voided RFID labels then; -1 when it
	// has none.
	Voids int64 `json:"voids"`
	// Source is the counter read: sgd or hqod.
	Source string `json:"source"`
	// PerLabel is, for hqod, the length of one label in the counter's
	// units, and LabelDots that length in dots (~HS).
	PerLabel  float64 `json:"per_label,omitempty"`
	LabelDots int     `json:"label_dots,omitempty"`
	// Uptime is the printer's uptime in seconds when the counter was read
	// (-1 unknown); At is when, by the gateway's clock. A later reading
	// that does not follow from them means the printer restarted.
	Uptime int64     `json:"uptime_s"`
	At     time.Time `json:"at"`
	// Before is the labels the batch sends ahead of this job; Labels the
	// labels this job sends in it.
	Before int `json:"before"`
	Labels int `json:"labels"`
}

// Resume records the labels of a job that printed before its batch was cut:
// the job is sent again with only the rest (for the queue position Seq;
// an operator's reprint, which moves the job, sends it whole).
type Resume struct {
	Seq     uint64 `json:"seq"`
	Printed int    `json:"printed"`
}

// printedBefore is how many of the job's labels printed in earlier
// attempts of this queue position.
func (j *Job) printedBefore() int {
	if j.Resume != nil && j.Resume.Seq == j.Seq {
		return j.Resume.Printed
	}
	return 0
}

// Sentinel errors.
var (
	ErrNotFound      = errors.New("no such job")
	ErrUnknownPrint  = errors.New("unknown printer")
	ErrInvalidJob    = errors.New("invalid job")
	ErrIDConflict    = errors.New("job id already used for a different job")
	ErrInFlight      = errors.New("job is at the printer")
	ErrNotReprint    = errors.New("job cannot be reprinted in its state")
	ErrNotCancelable = errors.New("job cannot be cancelled in its state")
	ErrClosed        = errors.New("spooler closed")
	// ErrEventNotStored: the Events sink (a JobEventStager) could not
	// store a job's event, so the change it reports was refused and the
	// job keeps its state; the error wraps the sink's (such as the
	// outbox's ErrStoreFull). Retry later.
	ErrEventNotStored = errors.New("job event not stored")
)

// StateError says a job's state does not allow an operation.
type StateError struct {
	ID    string
	State State
	Op    string
	Err   error
}

func (e *StateError) Error() string {
	return fmt.Sprintf("job %s is %s: %s is not possible (%v)", e.ID, e.State, e.Op, e.Err)
}

// Unwrap returns the sentinel.
func (e *StateError) Unwrap() error { return e.Err }

var jobIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// MaxCopies bounds the labels of a job (Job.Labels), and so its copies.
const MaxCopies = 1000

func (j *Job) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: job %q: %s", ErrInvalidJob, j.ID, fmt.Sprintf(format, args...))
	}
	if !jobIDRE.MatchString(j.ID) {
		return bad("id must be 1-128 letters, digits, '.', '_', ':' or '-'")
	}
	if j.Copies == 0 {
		j.Copies = 1
	}
	if j.Copies < 0 || j.Copies > MaxCopies {
		return bad("copies %d is not 1-%d", j.Copies, MaxCopies)
	}
	n, err := CheckZPL(j.ZPL)
	if err != nil {
		return fmt.Errorf("%w: job %q: %w", ErrInvalidJob, j.ID, err)
	}
	j.Labels = jobLabels(n.Labels, j.Copies)
	j.EPC = epcOf(j.ZPL)
	if j.Labels > MaxCopies {
		return fmt.Errorf("%w: job %q: %w: it prints %d labels (%d per copy, the ^PQ quantities of its %d format(s) summed, times %d copies); a job prints at most %d: lower the copies or ^PQ, or print the rest as further jobs",
			ErrInvalidJob, j.ID, ErrTooManyLabels, j.Labels, n.Labels, n.Formats, j.Copies, MaxCopies)
	}
	return nil
}

// jobLabels is labels per copy times copies, bounded so that it fits an
// int on 32-bit ARM.
func jobLabels(perCopy, copies int) int {
	return int(min(int64(perCopy)*int64(copies), maxCount))
}

// ErrForbiddenCommand is wrapped by CheckCommands' errors.
var ErrForbiddenCommand = errors.New("ZPL carries a command a print job may not carry")

// CheckCommands refuses ZPL that carries a command whose reply or effect
// reaches beyond its own labels: a host query (its reply, read on the
// connection the status is polled on, would be taken for the printer's
// status and confirm other jobs), a command that cancels or clears other
// formats, a change of the command prefixes, a change to the printer's
// stored settings or memory, to how it connects (serial, network,
// wireless, name, password, ZPL mode) or to its media and head setup
// (calibration, sensors, ~SD darkness, tear-off), or a command that runs
// a program or prints on its own (ZBI, configuration labels, applicator
// reprint). Label commands that last only as the printer's current
// settings for the labels that follow (^MD, ^PR, ^LH, ^PW, ^MN …) are
// label content and allowed. The spooler refuses such jobs, and dockgate
// print refuses such files, with the same message.
//
// Commands match whatever their case and with line breaks inside them (the
// printer ignores CR and LF in the command stream). The prefixes are "^"
// and "~" only: a job may not change them, so a command behind another
// prefix does not run.
func CheckCommands(zpl string) error {
	z := strings.ToUpper(strings.NewReplacer("\r", "", "\n", "").Replace(zpl))
	for _, f := range forbiddenCommands {
		for _, c := range f.cmds {
			if strings.Contains(z, c) {
				return fmt.Errorf("%w: %s %s", ErrForbiddenCommand, c, f.why)
			}
		}
	}
	return nil
}

// forbiddenCommands are the commands a job may not carry, by the reason
// given. Prefix changes are named first: after one, the other commands of
// the job hide behind the new prefix.
var forbiddenCommands = []struct {
	cmds []string
	why  string
}{
	{[]string{"^CC", "~CC", "^CT", "~CT", "^CD", "~CD"},
		"changes the command prefix or delimiter: the change lasts beyond the job and breaks the spooler's status queries and every later label; remove it"},
	// ~HS … ~HU answer on the connection; ^HF … ^HZ are the format
	// commands that do (stored formats, graphics, the configuration,
	// directory and font lists, RFID logs and calibration, XML
	// descriptions, ^HV field verification).
	// ~WQ (odometer, printhead life …) and ~RV (RFID encoding results)
	// answer too.
	{[]string{"~HS", "~HQ", "~HI", "~HM", "~HD", "~HB", "~HL", "~HU", "~WQ", "~RV",
		"^HF", "^HG", "^HH", "^HL", "^HR", "^HT", "^HV", "^HW", "^HY", "^HZ"},
		"sends data back to the host: the reply would be read as the printer's status and confirm or fail other jobs; query the printer outside print jobs (dockgate printer status)"},
	{[]string{"~JA", "~JX", "~JP", "~JR"},
		"cancels or clears formats in the printer or resets it: it would cancel other jobs; remove it"},
	// ZebraDesigner puts ^JUS in the setup format it writes ahead of the
	// labels; the message says so.
	{[]string{"^JU", "^JB", "~JB", "^ID", "~EF", "~EG", "~RO", "~JD", "~PP", "^PP", "^CM"},
		"changes the printer's stored settings, memory or mode beyond the job (saving or restoring the configuration, erasing stored objects or counters, renaming memory letters, communication diagnostics, a programmed pause): remove it from the label (label designers add ^JUS to their setup format) and change the printer's setup on the printer itself"},
	// Serial (^SC), network (^N…, ~NC, ~NR, ~NT), wireless (^W…, ~WR),
	// identity and access (^KC, ^KN, ^KP, ^KL), command language (^SZ),
	// the real-time clock (^ST, ^SL, ^KD) and ZebraNet alerts (^SX, ^SQ).
	// ^WF, ^WT and ^WV are RFID label commands, not wireless settings.
	{[]string{"^SC", "^NB", "^NC", "~NC", "^ND", "^NI", "^NN", "^NP", "~NR", "^NS", "^NT", "~NT", "^NW",
		"^WA", "^WE", "^WI", "^WL", "^WP", "^WR", "~WR", "^WS", "^WX",
		"^KC", "^KN", "^KP", "^KL", "^SZ", "^ST", "^SL", "^KD", "^SX", "^SQ"},
		"changes how the printer connects, names itself or reads commands (serial, network or wireless settings, printer name, password, language, ZPL mode, clock, alerts): the change lasts beyond the job and can cut the gateway off the printer; change it on the printer or with its setup tools, not in a label"},
	// ~SD sets the darkness itself, for every later job; ^MD inside a
	// format adjusts it relative to that setting and stays allowed.
	// ZebraDesigner writes ~SD, ~TA and ~JS into its setup format.
	{[]string{"~JC", "~JL", "~JG", "~JN", "~JO", "^JT", "^JS", "~JS", "^JJ", "^JW", "^JH", "^JZ", "~JF", "~KB",
		"^SS", "^SR", "^SI", "^XS", "~TA", "~PL", "~SD", "^MP", "^MA", "^MI", "^MW", "^KV"},
		"calibrates the printer or changes its stored media, print head or darkness setup (sensor calibration, label length, head tests, sensors, backfeed, tear-off, present length, ~SD darkness, mode protection, maintenance alerts): it feeds labels the job does not count or changes every later job; label designers add ~SD, ~TA and ~JS to their setup format: remove it, set the printer up on the printer itself, and adjust a label's darkness with ^MD inside its format"},
	{[]string{"^JI", "~JI", "~JQ", "~WC", "~WL", "^WD", "~PR", "~PS", "^ZZ"},
		"runs a program or makes the printer act on its own (starting or stopping ZBI, printing a configuration, network or directory label, reprinting the last label, resuming a paused printer, sleep): it acts beyond the job or prints labels the job does not count; remove it"},
}

// fillLabels counts the labels of a job stored before jobs recorded them.
func (j *Job) fillLabels() {
	if j.Labels != 0 || j.ZPL == "" {
		return
	}
	if n, err := CheckZPL(j.ZPL); err == nil {
		j.Labels = jobLabels(n.Labels, max(j.Copies, 1))
	}
}

// same reports whether two submissions describe the same job.
func (j *Job) same(o *Job) bool {
	return j.Printer == o.Printer && j.ZPL == o.ZPL && j.Copies == o.Copies && j.Lot == o.Lot && j.Carton == o.Carton
}

// Filter selects jobs for List.
type Filter struct {
	Printer string
	State   State
	// Limit is the most jobs returned (0: all).
	Limit int
	// WithZPL includes each job's ZPL.
	WithZPL bool
	// After lists only jobs whose id sorts after it (jobs are listed by
	// id): the next page after a page's last job.
	After string
}
