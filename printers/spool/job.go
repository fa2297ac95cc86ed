package spool

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
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

	State    State     `json:"state"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Reason says why the job is held, failed or unknown.
	Reason string `json:"reason,omitempty"`
	// Seq is the job's position in its printer's queue.
	Seq uint64 `json:"seq"`
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
// formats, a change of the command prefixes, or a change to the printer's
// stored settings or memory. The spooler refuses such jobs, and dockgate
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
	{[]string{"~HS", "~HQ", "~HI", "~HM", "~HD", "~HB", "~HL", "~HU",
		"^HF", "^HG", "^HH", "^HL", "^HR", "^HT", "^HV", "^HW", "^HY", "^HZ"},
		"sends data back to the host: the reply would be read as the printer's status and confirm or fail other jobs; query the printer outside print jobs (dockgate printer status)"},
	{[]string{"~JA", "~JX", "~JP", "~JR"},
		"cancels or clears formats in the printer or resets it: it would cancel other jobs; remove it"},
	// ZebraDesigner puts ^JUS in the setup format it writes ahead of the
	// labels; the message says so.
	{[]string{"^JU", "^JB", "~JB", "^ID", "~EF", "~EG", "~RO", "~JD", "~PP"},
		"changes the printer's stored settings, memory or mode beyond the job (saving or restoring the configuration, erasing stored objects or counters, communication diagnostics, a programmed pause): remove it from the label (label designers add ^JUS to their setup format) and change the printer's setup on the printer itself"},
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
}
