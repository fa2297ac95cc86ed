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
// It keeps non-volatile label counters, answered through Link-OS SGD
// (! U1 getvar "odometer.total_label_count", every label fed, voids too;
// "odometer.rfid.valid_resettable" and "odometer.rfid.void_resettable";
// "device.uptime"; any other setting answers "?") and ~HQOD (the print
// length in inches). A power cycle (PowerCycle) loses the formats in the
// buffer and the connection, refuses connections while the printer is off,
// restarts the uptime and keeps the counters.
//
// As an RFID printer it encodes each format's ^RFW EPC: a bad tag (a
// configurable fraction, chosen by a seed, or the next N) voids its label
// and the next label is tried, up to the format's ^RS tries (default 3);
// when every try failed the rest of the format is dropped (^RS e N; P and
// E pause the printer). With ~RVE it reports each RFID format with
// "_+,N_" (written) or "_-,N_" (failed), N the labels voided. A ^FNk^RFR
// read field with ^HVk returns what the tag holds, one reply per label
// (^HV a L) or per format, between the format's header and terminator
// (^FH escapes decoded); a tag that took no write reads empty. ^HRa,b
// answers a calibration table between a and b. The "previous EPC" fault
// (Miscalibrated) writes each tag with the EPC of the RFID format before
// it and still reports success. Replies made as labels print go to the
// connection open at that moment, in order with the status replies.
// Every label printed or voided is logged (Labels), so tests count double
// prints from the printer's side.
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
//	bad-tags F                                   a fraction F (0-1) of tags take no write
//	fail-tags N                                  the next N tags take no write
//	miscalibrate on|off                          the "previous EPC" fault
//	power-cycle [S]                              off for S seconds (default 0), then on
//	count                                        "formats F labels L"
//	counters                                     the label counters as JSON
//	status                                       the ~HS state as JSON
//
// Each command is answered with one line: "ok", a value, or "error: …".
//
// With Options.Dir set, each format is written to DIR/fmt-NNNNNN.zpl, and
// with Options.Preview (Preview renders through the label engine's ZPL
// interpreter and rasteriser) a PNG beside it.
package printersim
