package printersim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/dockgate/dockgate/printers/zebra"
)

// Fault is an injectable printer condition.
type Fault string

// Faults.
const (
	PaperOut  Fault = "paper-out"
	HeadOpen  Fault = "head-open"
	RibbonOut Fault = "ribbon-out"
	Pause     Fault = "pause"
)

// Options configure a simulator.
type Options struct {
	// Profile is the firmware profile id it pretends to be (informational).
	Profile string
	// Dir, when set, receives each format as fmt-NNNNNN.zpl (and a PNG
	// preview through Preview).
	Dir string
	// Preview renders a format to PNG bytes; nil writes no preview.
	Preview func(zpl []byte) ([]byte, error)
	// LabelsPerSecond is the print speed; 0 prints instantly.
	LabelsPerSecond float64
	// Silent: do not answer ~HS while paper, ribbon or head is faulted.
	Silent bool
	// OnFormat, when set, is called with each format as it is received
	// (from the connection's goroutine; keep it short).
	OnFormat func(Format)
	// Logger; nil discards.
	Logger *slog.Logger
	// Now is the clock stamped on formats; nil is time.Now.
	Now func() time.Time
}

// Format is one ^XA … ^XZ format the simulator received.
type Format struct {
	Seq      int       `json:"seq"`
	ZPL      []byte    `json:"-"`
	Copies   int       `json:"copies"`
	Printed  int       `json:"printed"` // labels printed so far
	Received time.Time `json:"received"`
	File     string    `json:"file,omitempty"`
}

// Sim is a simulated printer. Its methods are safe for concurrent use.
type Sim struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond
	faults  map[Fault]bool
	silent  bool
	refuse  bool
	slow    int // bytes/s, 0 off
	rate    float64
	formats []*Format
	queue   []*Format // received, not finished
	left    int       // labels left of queue[0] once started
	started bool
	inFmt   bool
	labels  int
	conn    net.Conn
	conns   int
	closed  bool
}

// New returns a simulator.
func New(o Options) *Sim {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sim{o: o, log: o.Logger, faults: map[Fault]bool{}, silent: o.Silent, rate: o.LabelsPerSecond}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// Serve accepts connections on ln one at a time until ctx ends, then closes
// ln. A second connection waits in the backlog until the first closes.
func (s *Sim) Serve(ctx context.Context, ln net.Listener) error {
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		s.mu.Lock()
		s.closed = true
		if s.conn != nil {
			s.conn.Close()
		}
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	go s.engine(ctx)
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		s.mu.Lock()
		refuse := s.refuse
		s.mu.Unlock()
		if refuse {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			c.Close()
			continue
		}
		s.handle(ctx, c)
	}
}

func (s *Sim) handle(ctx context.Context, c net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conn = c
	s.conns++
	s.inFmt = false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.conn = nil
		s.mu.Unlock()
		c.Close()
	}()
	p := &parser{s: s}
	buf := make([]byte, 32<<10)
	for ctx.Err() == nil {
		s.mu.Lock()
		slow := s.slow
		s.mu.Unlock()
		chunk := buf
		if slow > 0 {
			chunk = buf[:max(1, min(len(buf), slow/20))]
		}
		n, err := c.Read(chunk)
		if n > 0 {
			reply := p.feed(chunk[:n])
			if len(reply) > 0 {
				if _, err := c.Write(reply); err != nil {
					return
				}
			}
			if slow > 0 {
				time.Sleep(time.Duration(float64(n) / float64(slow) * float64(time.Second)))
			}
		}
		if err != nil {
			return
		}
	}
}

// parser splits the byte stream into formats and immediate commands.
type parser struct {
	s    *Sim
	pend []byte
	cur  []byte
}

var (
	tokXA   = []byte("^XA")
	tokXZ   = []byte("^XZ")
	tokHS   = []byte("~HS")
	tokHQES = []byte("~HQES")
)

// feed consumes data and returns the replies to send.
func (p *parser) feed(data []byte) []byte {
	var out []byte
	p.pend = append(p.pend, data...)
	b := p.pend
	for len(b) > 0 {
		if !p.inFmt() {
			i := bytes.IndexAny(b, "^~")
			if i < 0 {
				b = b[:0]
				break
			}
			b = b[i:]
			if need := partial(b); need {
				break
			}
			switch {
			case hasPrefixFold(b, tokXA):
				p.setInFmt(true)
				p.cur = append(p.cur[:0], b[:3]...)
				b = b[3:]
			case hasPrefixFold(b, tokHQES):
				out = p.s.replyHQES(out)
				b = b[5:]
			case hasPrefixFold(b, tokHS):
				out = p.s.replyHS(out)
				b = b[3:]
			default:
				b = b[1:]
			}
			continue
		}
		j := indexFold(b, tokXZ)
		k := bytes.IndexByte(b, '~')
		if k >= 0 && (j < 0 || k < j) {
			p.cur = append(p.cur, b[:k]...)
			b = b[k:]
			if partial(b) {
				break
			}
			switch {
			case hasPrefixFold(b, tokHQES):
				out = p.s.replyHQES(out)
				b = b[5:]
			case hasPrefixFold(b, tokHS):
				out = p.s.replyHS(out)
				b = b[3:]
			default:
				p.cur = append(p.cur, '~')
				b = b[1:]
			}
			continue
		}
		if j < 0 {
			keep := 0 // "^" or "^X" may continue as "^XZ" in the next chunk
			if len(b) >= 2 && b[len(b)-2] == '^' && b[len(b)-1]|0x20 == 'x' {
				keep = 2
			} else if b[len(b)-1] == '^' {
				keep = 1
			}
			p.cur = append(p.cur, b[:len(b)-keep]...)
			b = b[len(b)-keep:]
			break
		}
		p.cur = append(p.cur, b[:j+3]...)
		b = b[j+3:]
		p.setInFmt(false)
		p.s.received(p.cur)
		p.cur = nil
	}
	p.pend = append(p.pend[:0], b...)
	return out
}

// ZPL command names are not case sensitive: ^xz ends a format as ^XZ does.

// hasPrefixFold is bytes.HasPrefix ignoring ASCII case.
func hasPrefixFold(b, prefix []byte) bool {
	return len(b) >= len(prefix) && bytes.EqualFold(b[:len(prefix)], prefix)
}

// indexFold is bytes.Index ignoring ASCII case.
func indexFold(b, t []byte) int {
	for i := 0; i+len(t) <= len(b); i++ {
		if b[i] == t[0] && bytes.EqualFold(b[i:i+len(t)], t) {
			return i
		}
	}
	return -1
}

// partial reports whether b (starting at ^ or ~) may be the start of a
// token that continues in the next chunk.
func partial(b []byte) bool {
	for _, t := range [][]byte{tokXA, tokHQES, tokHS} {
		if len(b) < len(t) && hasPrefixFold(t, b) {
			return true
		}
	}
	return false
}

func (p *parser) inFmt() bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	return p.s.inFmt
}

func (p *parser) setInFmt(v bool) {
	p.s.mu.Lock()
	p.s.inFmt = v
	p.s.mu.Unlock()
}

var pqRE = regexp.MustCompile(`(?i)\^PQ(\d+)`)

func (s *Sim) received(zpl []byte) {
	copies := 1
	if m := pqRE.FindSubmatch(zpl); m != nil {
		if n, err := strconv.Atoi(string(m[1])); err == nil && n > 0 {
			copies = min(n, 99999999)
		}
	}
	s.mu.Lock()
	f := &Format{Seq: len(s.formats) + 1, ZPL: zpl, Copies: copies, Received: s.o.Now()}
	s.formats = append(s.formats, f)
	s.queue = append(s.queue, f)
	dir, preview := s.o.Dir, s.o.Preview
	if dir != "" {
		f.File = filepath.Join(dir, fmt.Sprintf("fmt-%06d.zpl", f.Seq))
	}
	s.printInstantLocked()
	s.cond.Broadcast()
	cp := *f
	s.mu.Unlock()
	if s.o.OnFormat != nil {
		s.o.OnFormat(cp)
	}
	if dir != "" {
		if err := os.WriteFile(f.File, zpl, 0o644); err != nil {
			s.log.Warn("write format", "file", f.File, "err", err)
		}
		if preview != nil {
			png, err := preview(zpl)
			if err != nil {
				s.log.Warn("preview", "format", f.Seq, "err", err)
			} else if err := os.WriteFile(f.File[:len(f.File)-4]+".png", png, 0o644); err != nil {
				s.log.Warn("write preview", "format", f.Seq, "err", err)
			}
		}
	}
}

func (s *Sim) faultedLocked() bool {
	return s.faults[PaperOut] || s.faults[HeadOpen] || s.faults[RibbonOut] || s.faults[Pause]
}

// printInstantLocked prints everything queued when the speed is 0.
func (s *Sim) printInstantLocked() {
	if s.rate > 0 || s.faultedLocked() {
		return
	}
	for _, f := range s.queue {
		s.labels += f.Copies - f.Printed
		f.Printed = f.Copies
	}
	s.queue = s.queue[:0]
	s.started = false
	s.left = 0
}

// engine prints queued labels at the configured speed.
func (s *Sim) engine(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed {
		if len(s.queue) == 0 || s.faultedLocked() || s.rate <= 0 {
			s.printInstantLocked()
			s.cond.Wait()
			continue
		}
		f := s.queue[0]
		if !s.started {
			s.started = true
			s.left = f.Copies - f.Printed
		}
		d := time.Duration(float64(time.Second) / s.rate)
		s.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			s.mu.Lock()
			return
		case <-t.C:
		}
		s.mu.Lock()
		if s.faultedLocked() || len(s.queue) == 0 || s.queue[0] != f {
			continue
		}
		f.Printed++
		s.labels++
		s.left--
		if s.left <= 0 {
			s.queue = s.queue[1:]
			s.started = false
		}
	}
}

// HostStatus is the simulator's state as ~HS reports it.
func (s *Sim) HostStatus() zebra.HostStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostStatusLocked()
}

func (s *Sim) hostStatusLocked() zebra.HostStatus {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	waiting := len(s.queue)
	left := 0
	if s.started && len(s.queue) > 0 {
		waiting--
		left = s.left
	}
	return zebra.HostStatus{
		CommSettings: 0b1_1000 | 6, // 8N1, 1 stop, 9600
		PaperOut:     b(s.faults[PaperOut]), Paused: b(s.faults[Pause]), LabelLength: 1218,
		FormatsInBuffer: min(waiting, 999), PartialFormat: b(s.inFmt),
		FunctionSettings: 1, HeadUp: b(s.faults[HeadOpen]), RibbonOut: b(s.faults[RibbonOut]),
		ThermalTransfer: 1, PrintMode: "2", LabelsRemaining: left, FormatWhilePrinting: 1,
	}
}

func (s *Sim) extendedLocked() zebra.ExtendedStatus {
	var e uint64
	if s.faults[PaperOut] {
		e |= zebra.ErrMediaOut
	}
	if s.faults[RibbonOut] {
		e |= zebra.ErrRibbonOut
	}
	if s.faults[HeadOpen] {
		e |= zebra.ErrHeadOpen
	}
	x := zebra.ExtendedStatus{Errors: e}
	if e != 0 {
		x.ErrorFlag = 1
	}
	return x
}

func (s *Sim) replyHS(out []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.silent && (s.faults[PaperOut] || s.faults[HeadOpen] || s.faults[RibbonOut]) {
		return out
	}
	return zebra.AppendHS(out, s.hostStatusLocked())
}

func (s *Sim) replyHQES(out []byte) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return zebra.AppendHQES(out, s.extendedLocked())
}

// SetFault sets or clears a fault.
func (s *Sim) SetFault(f Fault, on bool) {
	s.mu.Lock()
	if on {
		s.faults[f] = true
	} else {
		delete(s.faults, f)
	}
	s.printInstantLocked()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Resume clears every fault.
func (s *Sim) Resume() {
	s.mu.Lock()
	clear(s.faults)
	s.printInstantLocked()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Drop closes the current connection, if any.
func (s *Sim) Drop() {
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
}

// SetSlow limits the link to bytesPerSecond (0: no limit).
func (s *Sim) SetSlow(bytesPerSecond int) {
	s.mu.Lock()
	s.slow = max(0, bytesPerSecond)
	s.mu.Unlock()
}

// SetRefuse makes the simulator reset every new connection.
func (s *Sim) SetRefuse(on bool) {
	s.mu.Lock()
	s.refuse = on
	s.mu.Unlock()
}

// SetSilent makes the simulator ignore ~HS while paper, ribbon or head is
// faulted.
func (s *Sim) SetSilent(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// SetSpeed sets the print speed in labels per second (0: instantly).
func (s *Sim) SetSpeed(labelsPerSecond float64) {
	s.mu.Lock()
	s.rate = max(0, labelsPerSecond)
	s.printInstantLocked()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Formats returns copies of every format received, in order.
func (s *Sim) Formats() []Format {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Format, len(s.formats))
	for i, f := range s.formats {
		out[i] = *f
	}
	return out
}

// Count returns the formats received and the labels printed.
func (s *Sim) Count() (formats, labels int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.formats), s.labels
}

// Connections returns how many connections were served.
func (s *Sim) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}
