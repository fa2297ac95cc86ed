package transport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// Flow control bytes.
const (
	XON  = 0x11
	XOFF = 0x13
)

// XOFFTimeout is how long Write waits for XON after the printer sent XOFF.
var XOFFTimeout = 60 * time.Second

// stream turns a blocking byte stream (a serial port) into a printers.Conn:
// one goroutine reads the port, strips XON/XOFF when flow control is on,
// and buffers the rest for Read, which honours deadlines.
type stream struct {
	rw  io.ReadWriteCloser
	xon bool

	mu       sync.Mutex
	buf      []byte
	rerr     error
	paused   bool
	deadline time.Time
	closed   bool
	changed  chan struct{} // closed and replaced on every change
	done     chan struct{}
	wmu      sync.Mutex
}

// NewStream wraps rw. With xonxoff, XOFF (0x13) from the printer stops
// writes until XON (0x11); both are removed from what Read returns (status
// replies never contain them).
func NewStream(rw io.ReadWriteCloser, xonxoff bool) printers.Conn {
	s := &stream{rw: rw, xon: xonxoff, changed: make(chan struct{}), done: make(chan struct{})}
	go s.readLoop()
	return s
}

func (s *stream) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *stream) readLoop() {
	defer close(s.done)
	b := make([]byte, 1024)
	for {
		n, err := s.rw.Read(b)
		s.mu.Lock()
		for _, c := range b[:n] {
			switch {
			case s.xon && c == XOFF:
				s.paused = true
			case s.xon && c == XON:
				s.paused = false
			default:
				s.buf = append(s.buf, c)
			}
		}
		if err == nil && s.closed {
			err = printers.ErrClosed
		}
		if err != nil {
			s.rerr = err
		}
		if n > 0 || err != nil {
			s.broadcastLocked()
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitChange waits for ch or the deadline (zero: none); false on deadline.
func waitChange(ch chan struct{}, deadline time.Time) bool {
	if deadline.IsZero() {
		<-ch
		return true
	}
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func (s *stream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, printers.ErrClosed
		case len(s.buf) > 0:
			n := copy(p, s.buf)
			s.buf = s.buf[n:]
			s.mu.Unlock()
			return n, nil
		case s.rerr != nil:
			err := s.rerr
			s.mu.Unlock()
			return 0, err
		}
		ch, dl := s.changed, s.deadline
		s.mu.Unlock()
		if !waitChange(ch, dl) {
			return 0, os.ErrDeadlineExceeded
		}
	}
}

func (s *stream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	written := 0
	for len(p) > 0 {
		n := len(p)
		if s.xon {
			stalled := time.Now().Add(XOFFTimeout)
			for {
				s.mu.Lock()
				paused, closed, ch := s.paused, s.closed, s.changed
				s.mu.Unlock()
				if closed {
					return written, printers.ErrClosed
				}
				if !paused {
					break
				}
				if !waitChange(ch, stalled) {
					return written, fmt.Errorf("printer sent XOFF and no XON within %v", XOFFTimeout)
				}
			}
			n = min(n, 64) // small chunks so an XOFF stops us quickly
		}
		m, err := s.rw.Write(p[:n])
		written += m
		if err != nil {
			if s.isClosed() {
				err = printers.ErrClosed
			}
			return written, err
		}
		p = p[m:]
	}
	return written, nil
}

func (s *stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *stream) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	s.deadline = t
	s.broadcastLocked()
	s.mu.Unlock()
	return nil
}

func (s *stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.broadcastLocked()
	s.mu.Unlock()
	err := s.rw.Close()
	select {
	case <-s.done:
	case <-time.After(time.Second):
		// a port whose Read does not end on Close; its goroutine ends with
		// the next byte or error
	}
	if errors.Is(err, os.ErrClosed) {
		err = nil
	}
	return err
}
