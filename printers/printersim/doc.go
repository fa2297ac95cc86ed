// Package printersim is a ZPL label printer simulator that speaks the real
// bytes over raw TCP, for tests and for "dockgate sim printer".
//
// It takes ZPL, splits the stream into formats (^XA … ^XZ), "prints" each
// format's ^PQ quantity of labels at a configurable speed, and answers ~HS
// and ~HQES from its state: formats in buffer and labels remaining drain as
// labels print, paper out, head open, ribbon out and pause stop printing and
// show in both replies. Like a real printer it serves one connection at a
// time (a second one waits in the listen backlog) and, when told to be
// silent, does not answer ~HS while media, ribbon or head is faulted.
//
// Faults are injected through the Go API (SetFault, Resume, Drop, SetSlow,
// SetRefuse, SetSilent) or a line-based control port (Control,
// ServeControl); the control commands are:
//
//	paper-out | head-open | ribbon-out | pause   set a fault
//	clear paper-out|head-open|ribbon-out|pause   clear one fault
//	resume                                       clear every fault
//	drop                                         close the current connection
//	slow N                                       limit the link to N bytes/s (0: off)
//	refuse on|off                                accept and at once reset connections
//	silent on|off                                no ~HS answer while faulted
//	speed N                                      print N labels/s (0: instantly)
//	count                                        "formats F labels L"
//	status                                       the ~HS state as JSON
//
// Each command is answered with one line: "ok", a value, or "error: …".
//
// With Options.Dir set, each format is written to DIR/fmt-NNNNNN.zpl, and
// with Options.Preview (Preview renders through the label engine's ZPL
// interpreter and rasteriser) a PNG beside it.
package printersim
