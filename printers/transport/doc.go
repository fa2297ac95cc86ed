// Package transport dials the connections the spooler and the CLI print
// over: raw TCP (port 9100), serial lines (go.bug.st/serial, with XON/XOFF
// flow control done here on the byte stream because the library has none),
// USB printer device files (/dev/usb/lp*) and a file sink that appends ZPL
// to a file.
//
// Dial opens one printers.Conn per printer at a time: a second Dial of the
// same target in this process waits until the first connection is closed,
// because most printers serve one connection at a time and interleave or
// block competing ones.
//
// Status replies come back on the same connection (Read with a deadline).
// The file sink has no way back: its Read fails with printers.ErrNoStatus.
// A USB device file whose driver cannot poll behaves the same.
package transport
