package printersim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
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
	// Now is the clock stamped on formats and read for the uptime; nil is
	// time.Now.
	Now func() time.Time

	// BadTags is the fraction of RFID tags (0 to 1) that take no write:
	// the printer voids the label and tries the next one, up to the ^RS
	// tries of the format. Which tags are bad follows Seed.
	BadTags float64
	// Seed chooses the bad tags (0 is 1): the same seed, the same tags.
	Seed uint64
	// Miscalibrated is the "previous EPC" fault: the encoder writes each
	// tag with the EPC of the RFID format before it (the first tag after
	// the fault starts gets its own), and reports the write a success.
	Miscalibrated bool
	// BootedAgo is the printer's uptime when the simulator starts
	// (device.uptime).
	BootedAgo time.Duration
}

// Format is one ^XA … ^XZ format the simulator received.
type Format struct {
	Seq      int       `json:"seq"`
	ZPL      []byte    `json:"-"`
	Copies   int       `json:"copies"`
	Printed  int       `json:"printed"` // labels printed so far (not counting voids)
	Received time.Time `json:"received"`
	File     string    `json:"file,omitempty"`
	// Voids counts the labels voided for this format's RFID encoding.
	Voids int `json:"voids,omitempty"`
	// EncodeFailed: a tag took no write within the format's tries; the
	// rest of the format was dropped (^RS e N).
	EncodeFailed bool `json:"encode_failed,omitempty"`
	// Lost: the format was in the buffer when the printer lost power.
	Lost bool `json:"lost,omitempty"`

	rfid   *rfidFormat
	length int // ^LL, dots (0: the printer's)
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
	link    *link // where replies go: the current connection's writer
	conns   int
	closed  bool

	caps     caps
	dpi      int
	labelLen int // dots, the current label length (~HS dddd)
	// Non-volatile counters: kept through a power cycle.
	total, valid, voids int64
	lengthDots          int64
	printed             []Label
	boot                time.Time
	offUntil            time.Time // powered off until
	// Volatile RFID state.
	rv        bool // ~RVE
	badTags   float64
	failNext  int // the next tags to fail
	rng       *rand.Rand
	misEPC    bool
	prevEPC   string
	tagsTried int64
}

// Label is one label the simulator physically printed (or voided), in
// order: the log tests count double prints from.
type Label struct {
	// Format is the Seq of the format it belongs to; Copy counts the
	// format's labels from 1 (a voided label shares the Copy of the label
	// it was tried for).
	Format int  `json:"format"`
	Copy   int  `json:"copy"`
	Void   bool `json:"void,omitempty"`
	// EPC is what the label's tag holds after the write (hex), when the
	// format encodes one and the write took.
	EPC string `json:"epc,omitempty"`
	// TID is the tag's TID (unique per tag), when the write took.
	TID string `json:"tid,omitempty"`
	// Try is the attempt of the tag write (1 for the first tag).
	Try int `json:"try,omitempty"`
	// Locked: the format locked the tag's EPC bank with a non-zero access
	// password (^RFW,H,P and ^RLM).
	Locked bool `json:"locked,omitempty"`
}

// caps are what the simulated firmware answers, from its profile.
type caps struct {
	sgd, rv, rfid bool
}

// New returns a simulator.
func New(o Options) *Sim {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Sim{o: o, log: o.Logger, faults: map[Fault]bool{}, silent: o.Silent, rate: o.LabelsPerSecond,
		caps: caps{sgd: true, rv: true, rfid: true}, dpi: 203, labelLen: defaultLabelLen,
		badTags: min(max(o.BadTags, 0), 1), misEPC: o.Miscalibrated}
	if o.Profile != "" {
		if p, err := firmwareprofiles.Lookup(o.Profile); err == nil {
			s.caps = caps{sgd: p.Status.SGD, rv: p.RFID.RV, rfid: p.RFID.Supported}
			s.dpi = p.DPI
		}
	}
	seed := o.Seed
	if seed == 0 {
		seed = 1
	}
	s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.boot = o.Now().Add(-o.BootedAgo)
	s.cond = sync.NewCond(&s.mu)
	return s
}

// defaultLabelLen is the label length of a printer that was given none: 6
// inches at 203 dpi.
const defaultLabelLen = 1218

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
		refuse := s.refuse || s.o.Now().Before(s.offUntil)
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
	l := &link{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.link = l
	s.mu.Unlock()
	go s.write(l)
	defer func() {
		s.mu.Lock()
		s.conn = nil
		if s.link == l {
			s.link = nil
		}
		l.closed = true
		s.mu.Unlock()
		select {
		case l.wake <- struct{}{}:
		default:
		}
		c.Close()
		<-l.done
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
			if reply := p.feed(chunk[:n]); len(reply) > 0 {
				s.mu.Lock()
				if l.broken {
					s.mu.Unlock()
					return
				}
				s.sendLocked(l, reply)
				s.mu.Unlock()
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

// link is a connection's reply queue. Replies are queued under s.mu in the
// order the printer's state makes them (a ^HV reply as its label prints
// comes before a ~HS reply that shows the buffer empty) and written by one
// goroutine, so that a peer that does not read blocks no one.
type link struct {
	c      net.Conn
	buf    []byte
	closed bool // the connection ended: write what is queued, then stop
	broken bool // a write failed
	wake   chan struct{}
	done   chan struct{}
}

// sendLocked queues b on l.
func (s *Sim) sendLocked(l *link, b []byte) {
	if l == nil || l.closed || len(b) == 0 {
		return
	}
	l.buf = append(l.buf, b...)
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// replyLocked queues b on the current connection, if any: a reply the
// printer sends as it prints is lost with no one connected.
func (s *Sim) replyLocked(b []byte) { s.sendLocked(s.link, b) }

// write is l's writer goroutine.
func (s *Sim) write(l *link) {
	defer close(l.done)
	for range l.wake {
		s.mu.Lock()
		b, closed := l.buf, l.closed
		l.buf = nil
		s.mu.Unlock()
		if len(b) > 0 && !l.broken {
			if _, err := l.c.Write(b); err != nil {
				s.mu.Lock()
				l.broken = true
				s.mu.Unlock()
				l.c.Close()
			}
		}
		if closed {
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
	tokHQOD = []byte("~HQOD")
	tokRVE  = []byte("~RVE")
	tokRVD  = []byte("~RVD")
)

// maxSGDLine bounds an SGD command line; a longer run without a line end
// is not one.
const maxSGDLine = 1024

// immediate answers the ~ command at the start of b, if it is one the
// simulator knows: it returns the bytes consumed (0: not one) and appends
// the reply to out.
func (p *parser) immediate(b []byte, out []byte) (int, []byte) {
	switch {
	case hasPrefixFold(b, tokHQES):
		return len(tokHQES), p.s.replyHQES(out)
	case hasPrefixFold(b, tokHQOD):
		return len(tokHQOD), p.s.replyHQOD(out)
	case hasPrefixFold(b, tokHS):
		return len(tokHS), p.s.replyHS(out)
	case hasPrefixFold(b, tokRVE):
		p.s.setRV(true)
		return len(tokRVE), out
	case hasPrefixFold(b, tokRVD):
		p.s.setRV(false)
		return len(tokRVD), out
	}
	return 0, out
}

// feed consumes data and returns the replies to send.
func (p *parser) feed(data []byte) []byte {
	var out []byte
	p.pend = append(p.pend, data...)
	b := p.pend
	for len(b) > 0 {
		if !p.inFmt() {
			i := bytes.IndexAny(b, "^~!")
			if i < 0 {
				b = b[:0]
				break
			}
			b = b[i:]
			if b[0] == '!' {
				// A Link-OS SGD line: ! U1 getvar "name", to CR or LF.
				e := bytes.IndexAny(b, "\r\n")
				if e < 0 {
					if len(b) > maxSGDLine {
						b = b[1:]
						continue
					}
					break
				}
				if e > maxSGDLine {
					b = b[1:]
					continue
				}
				out = p.s.replySGD(out, b[:e])
				b = b[e:]
				continue
			}
			if need := partial(b); need {
				break
			}
			if hasPrefixFold(b, tokXA) {
				p.setInFmt(true)
				p.cur = append(p.cur[:0], b[:3]...)
				b = b[3:]
				continue
			}
			n, o := p.immediate(b, out)
			out = o
			b = b[max(n, 1):]
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
			n, o := p.immediate(b, out)
			out = o
			if n == 0 {
				p.cur = append(p.cur, '~')
				n = 1
			}
			b = b[n:]
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
	for _, t := range [][]byte{tokXA, tokHQES, tokHQOD, tokHS, tokRVE, tokRVD} {
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
	rf, length := parseFormat(zpl)
	s.mu.Lock()
	f := &Format{Seq: len(s.formats) + 1, ZPL: zpl, Copies: copies, Received: s.o.Now(), rfid: rf, length: length}
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
	if s.rate > 0 {
		return
	}
	for len(s.queue) > 0 && !s.faultedLocked() {
		f := s.queue[0]
		if s.printOneLocked(f) {
			s.queue = s.queue[1:]
		}
	}
	if len(s.queue) == 0 {
		s.queue = s.queue[:0:0]
	}
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
		done := s.printOneLocked(f)
		s.left = f.Copies - f.Printed
		if done {
			s.queue = s.queue[1:]
			s.started = false
			s.left = 0
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
		PaperOut:     b(s.faults[PaperOut]), Paused: b(s.faults[Pause]), LabelLength: min(s.labelLen, 9999),
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
