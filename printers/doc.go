// Package printers holds what every part of dockgate that talks to a label
// printer shares: the printer configuration (Config, one entry of the
// gateway's "printers:" list), the connection a transport dials (Conn), the
// typed printer status (Status) read from ~HS and ~HQES, the sentinel errors
// for printer faults, the verified outcome of an RFID label's tag write
// (Encode), and the events (Event, EventSink) the spooler emits for the
// edge outbox.
//
// The pieces live in subpackages:
//
//   - printers/zebra parses ~HS and ~HQES replies from a byte stream and
//     queries a connection for status.
//   - printers/transport dials raw TCP (port 9100), serial lines, USB printer
//     device files (/dev/usb/lp*) and a file sink.
//   - printers/spool is the durable per-printer spooler (jobs in Badger).
//   - printers/printersim is a printer simulator speaking the real bytes.
//
// A status that could not be read is never "ok": Status.Known is false and
// Status.Ready reports false, because a Zebra printer stays silent to ~HS
// while media is out, the ribbon is out or the head is open.
package printers
