package llrp

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dockgate/dockgate/internal/beat"
)

// pacedReader reads r at most once in each interval of the clock (when
// every > 0): the messages that arrive meanwhile come in one read, and the
// session wakes up once for them. A read that finds nothing waits for the
// next message as ever, so a report after a quiet spell is not held up. The
// waits end on multiples of the interval (of the clock), so that the
// sessions of a gateway's readers wake up together, once, rather than each
// on its own.
//
// On a socket, pacing the reads alone does not keep the process asleep:
// every segment the reader sends still wakes the runtime's network poller,
// which finds nobody waiting and goes back to sleep — at 1,500 reads/s a
// reader sends hundreds of segments a second. So while the reads are paced
// the socket's receive low-water mark (SO_RCVLOWAT) is raised, which stops
// the kernel from announcing data until a read takes it, and a paced read
// takes what is buffered without waiting. When it finds nothing the reader
// has gone quiet: the mark goes back to one byte and the read waits for
// the next message, as an unpaced one does. Only a connection that is the
// socket itself (syscall.Conn: plain TCP) is read that way; any other (TLS)
// is paced with sleeps alone.
type pacedReader struct {
	r     io.Reader
	every time.Duration
	last  time.Time // when the last read returned
	// hurry, when above 0, suspends the pacing: a request sent from
	// another goroutine (SetGPO, ApplyRF) waits for its answer.
	hurry *atomic.Int32
	// now and sleep are the clock (tests); nil is the time package's.
	now   func() time.Time
	sleep func(time.Duration)

	raw     syscall.RawConn // r's socket; nil when r is not one
	probed  bool            // raw was looked for
	raised  bool            // the low-water mark is raised
	refused bool            // the socket refused to raise the mark
}

// pacedLowWater is the receive low-water mark while reads are paced: far
// above what a busy reader sends in an interval (1,500 reads/s of ~60-byte
// reports is 4 KB in 40 ms), and within the default receive buffer, so
// that the kernel neither grows the buffer nor keeps data from a read.
const pacedLowWater = 64 << 10

func (p *pacedReader) Read(b []byte) (int, error) {
	if p.every <= 0 || p.hurry != nil && p.hurry.Load() > 0 {
		p.lowWater(false)
		return p.r.Read(b)
	}
	now, sleep := time.Now, time.Sleep
	if p.now != nil {
		now, sleep = p.now, p.sleep
	}
	if t := now(); t.Sub(p.last) < p.every {
		if raw := p.socket(); raw != nil {
			p.lowWater(true)
			sleep(beat.Until(t, p.every))
			if n, err, ok := takeBuffered(raw, b); ok {
				p.read(now, n, len(b))
				return n, err
			}
			// Nothing came since the last read: wait for the next
			// message, woken by its first byte.
			p.lowWater(false)
		} else {
			sleep(beat.Until(t, p.every))
		}
	}
	n, err := p.r.Read(b)
	p.read(now, n, len(b))
	return n, err
}

// read notes when a read of n bytes into a buffer of size returned. A read
// that filled the buffer left more behind: the next one does not wait.
func (p *pacedReader) read(now func() time.Time, n, size int) {
	p.last = now()
	if n == size {
		p.last = time.Time{}
	}
}

// socket returns r's raw connection, nil when r is not a socket.
func (p *pacedReader) socket() syscall.RawConn {
	if !p.probed {
		p.probed = true
		if sc, ok := p.r.(syscall.Conn); ok {
			p.raw, _ = sc.SyscallConn()
		}
	}
	return p.raw
}

// lowWater raises the socket's receive low-water mark or puts it back to
// one byte. A socket that refuses is left as it is: the reads are paced as
// well, only the poller wakes more often.
func (p *pacedReader) lowWater(raise bool) {
	if p.raised == raise || p.raw == nil || p.refused {
		return
	}
	v := 1
	if raise {
		v = pacedLowWater
	}
	if setLowWater(p.raw, v) != nil {
		// A socket that will not raise it is not asked again; one that
		// will not lower it is asked at the next read.
		p.refused = raise
		return
	}
	p.raised = raise
}

// takeBuffered reads what the socket has buffered without waiting for
// more. ok is false when nothing was buffered; n and err are then unset.
// The connection's read deadline still applies: a connection whose
// deadline has passed (a session being stopped) gives its timeout error.
func takeBuffered(raw syscall.RawConn, b []byte) (n int, err error, ok bool) {
	var rerr error
	if err := raw.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), b)
		return true
	}); err != nil {
		return 0, err, true
	}
	switch {
	case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
		return 0, nil, false
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr), true
	case n == 0 && len(b) > 0:
		return 0, io.EOF, true
	}
	return n, nil, true
}

func setLowWater(raw syscall.RawConn, v int) error {
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, v)
	}); err != nil {
		return err
	}
	return serr
}
