package printers

import (
	"strings"
	"time"
)

// Status is a printer's state as read from ~HS and ~HQES. The zero value is
// an unknown status: Known false, which Ready reports as not ready.
type Status struct {
	// Known is true when the printer answered at least one status query.
	// A status that timed out is unknown and possibly faulted.
	Known bool `json:"known"`
	// Sources lists the replies the status was built from ("~HS", "~HQES").
	Sources []string `json:"sources,omitempty"`
	// Time is when the status was read (the injected clock).
	Time time.Time `json:"time"`

	PaperOut  bool `json:"paper_out"`
	RibbonOut bool `json:"ribbon_out"`
	HeadOpen  bool `json:"head_open"`
	Paused    bool `json:"paused"`

	BufferFull    bool `json:"buffer_full"`
	UnderTemp     bool `json:"under_temp"`
	OverTemp      bool `json:"over_temp"`
	CorruptRAM    bool `json:"corrupt_ram"`
	CutterFault   bool `json:"cutter_fault"`
	HeadOverTemp  bool `json:"head_over_temp"`
	MotorOverTemp bool `json:"motor_over_temp"`
	BadHead       bool `json:"bad_head_element"`
	HeadDetect    bool `json:"head_detection_error"`

	// PartialFormat: a format has started (^XA) and not ended.
	PartialFormat bool `json:"partial_format"`
	// LabelWaiting: a printed label waits to be taken (peel-off mode).
	LabelWaiting bool `json:"label_waiting"`
	// FormatsInBuffer is the number of formats received and not yet printed;
	// -1 when unknown (only ~HQES answered).
	FormatsInBuffer int `json:"formats_in_buffer"`
	// LabelsRemaining is the number of labels left in the current batch; -1
	// when unknown.
	LabelsRemaining int `json:"labels_remaining"`
	// LabelLength is the label length the printer is set to, in dots (~HS);
	// 0 when unknown.
	LabelLength int `json:"label_length,omitempty"`

	// Warnings from ~HQES (need calibration, clean head, replace head, paper
	// near end) as raw bits; zero when not reported.
	WarningBits uint64 `json:"warning_bits,omitempty"`
	// ErrorBits from ~HQES, raw.
	ErrorBits uint64 `json:"error_bits,omitempty"`
}

// Unknown returns the status of a printer that did not answer, dated at
// (in UTC, as every time in the gateway's JSON).
func Unknown(at time.Time) Status {
	return Status{Time: at.UTC(), FormatsInBuffer: -1, LabelsRemaining: -1}
}

// Faults returns the fault sentinels the status reports, in a fixed order.
// An unknown status returns ErrStatusTimeout.
func (s Status) Faults() []error {
	if !s.Known {
		return []error{ErrStatusTimeout}
	}
	var out []error
	add := func(on bool, err error) {
		if on {
			out = append(out, err)
		}
	}
	add(s.PaperOut, ErrPaperOut)
	add(s.RibbonOut, ErrRibbonOut)
	add(s.HeadOpen, ErrHeadOpen)
	add(s.Paused, ErrPaused)
	add(s.BufferFull, ErrBufferFull)
	add(s.OverTemp || s.HeadOverTemp || s.MotorOverTemp, ErrOverTemp)
	add(s.UnderTemp, ErrUnderTemp)
	add(s.CutterFault || s.BadHead || s.HeadDetect || s.CorruptRAM, ErrHardware)
	return out
}

// Held reports whether the status is one a job waits out: paper out, ribbon
// out, head open or pause. These clear when an operator fixes the printer.
func (s Status) Held() bool {
	return s.Known && (s.PaperOut || s.RibbonOut || s.HeadOpen || s.Paused)
}

// Ready reports whether the printer answered and reports no fault.
func (s Status) Ready() bool { return s.Known && len(s.Faults()) == 0 }

// Drained reports whether the printer has taken every format sent to it:
// no format waiting in its buffer, no label of a batch left, no partial
// format. An unknown count is not drained.
func (s Status) Drained() bool {
	return s.Known && s.FormatsInBuffer == 0 && s.LabelsRemaining == 0 && !s.PartialFormat
}

// Err returns a *FaultError when the status is not ready, else nil.
func (s Status) Err() error {
	if s.Ready() {
		return nil
	}
	return &FaultError{Status: s}
}

// Summary is a short human description: "ready", "unknown" or the faults.
func (s Status) Summary() string {
	if !s.Known {
		return "unknown (no status reply; possibly faulted)"
	}
	f := s.Faults()
	if len(f) == 0 {
		return "ready"
	}
	parts := make([]string, len(f))
	for i, e := range f {
		parts[i] = e.Error()
	}
	return strings.Join(parts, ", ")
}

// Same reports whether two statuses describe the same condition (ignoring
// the time, the sources and the buffer counts), for change events.
func (s Status) Same(o Status) bool {
	if s.Known != o.Known {
		return false
	}
	return s.Summary() == o.Summary()
}
