package printers

import (
	"io"
	"time"
)

// Conn is an open connection to one printer: bytes to the printer, status
// replies from it. Transports dial a Conn; everything above works on this
// interface and is tested against the simulator over loopback TCP.
//
// Read returns an error wrapping ErrNoStatus when the transport has no way
// back from the printer (a file sink). SetReadDeadline bounds the next Read;
// a Read past the deadline returns an error for which os.IsTimeout (or
// errors.Is(err, os.ErrDeadlineExceeded)) is true.
type Conn interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
}

// Flusher is implemented by connections that buffer writes (the file sink
// syncs to disk); the spooler calls Flush after writing a job.
type Flusher interface {
	Flush() error
}
