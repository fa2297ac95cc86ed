package printers

import (
	"errors"
	"fmt"
)

// Sentinel errors. Faults reported by a printer's status wrap one of the fault
// sentinels; errors from transports and the spooler wrap the others. A fault
// sentinel names the condition without the word "printer": messages put
// it after the printer ("printer P1 faulted: paused", "printer paused").
var (
	// ErrPaperOut: the printer reports media out.
	ErrPaperOut = errors.New("paper out")
	// ErrRibbonOut: the printer reports ribbon out.
	ErrRibbonOut = errors.New("ribbon out")
	// ErrHeadOpen: the print head is up (open).
	ErrHeadOpen = errors.New("head open")
	// ErrPaused: the printer is paused.
	ErrPaused = errors.New("paused")
	// ErrBufferFull: the printer's receive buffer is full.
	ErrBufferFull = errors.New("receive buffer full")
	// ErrOverTemp: the print head or motor is over temperature.
	ErrOverTemp = errors.New("over temperature")
	// ErrUnderTemp: the print head is under temperature.
	ErrUnderTemp = errors.New("under temperature")
	// ErrHardware: the printer reports a hardware fault (cutter, bad print
	// head element, head detection, corrupt RAM).
	ErrHardware = errors.New("hardware fault")
	// ErrStatusTimeout: the printer did not answer a status query in time.
	// It may be off, unreachable or faulted (printers stay silent to ~HS
	// while faulted); it is never taken as "ok".
	ErrStatusTimeout = errors.New("status timeout: printer state unknown, possibly faulted")
	// ErrNoStatus: the transport cannot read status (a file sink, a
	// one-way device).
	ErrNoStatus = errors.New("transport has no status channel")
	// ErrBadStatus: a status reply could not be parsed.
	ErrBadStatus = errors.New("malformed status reply")
	// ErrConfig: a printer configuration is invalid.
	ErrConfig = errors.New("invalid printer config")
	// ErrClosed: the connection is closed.
	ErrClosed = errors.New("printer connection closed")
)

// FaultError is a printer fault read from its status. It carries the
// printer's id and the raw status, and unwraps to every fault sentinel that
// applies (errors.Is(err, ErrPaperOut) …).
type FaultError struct {
	Printer string
	Status  Status
}

func (e *FaultError) Error() string {
	if e.Printer == "" {
		return "printer faulted: " + e.Status.Summary()
	}
	return fmt.Sprintf("printer %s faulted: %s", e.Printer, e.Status.Summary())
}

// Unwrap returns the fault sentinels the status reports.
func (e *FaultError) Unwrap() []error { return e.Status.Faults() }

// ConfigError names the field of a printer configuration that is wrong and
// how to fix it.
type ConfigError struct {
	Printer string // id, or "printers[i]" when the id is missing
	Field   string // yaml path, e.g. "serial.baud"
	Problem string // what is wrong and how to fix it
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("printer %s: %s: %s", e.Printer, e.Field, e.Problem)
}

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }
