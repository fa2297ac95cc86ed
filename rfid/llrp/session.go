package llrp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// Config configures a Session. Zero fields take the documented defaults.
type Config struct {
	ReaderID string // copied into every Read and ReaderEvent
	Address  string // host:port, port 5084 if omitted
	// Dial opens the TCP connection (default net.Dialer.DialContext).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Antennas to inventory; empty means all antennas of the reader.
	Antennas []uint16
	// RF settings for all antennas, and per antenna over them; sent in the
	// ROSpec's AntennaConfiguration (see AntennaConfigs). A setting the
	// reader cannot take is logged, named in the connected event's
	// message, and left to the reader.
	RF        RFSettings
	AntennaRF map[uint16]RFSettings
	// Trigger starts and stops the ROSpec on the reader's triggers (GPI,
	// periodic, duration); its GPI ports are enabled and GPI events turned
	// on at setup. The zero value starts it at setup and never stops it. A
	// port the reader does not have is logged, named in the connected
	// event's message, and the default is used.
	Trigger Trigger
	// WatchGPI enables every GPI port of the reader and GPI event
	// notifications, so that OnEvent sees each input change (EventGPI).
	WatchGPI bool
	// NoInventory sets the session up without touching the reader's specs:
	// no ROSpec is added or started, none is deleted. For a tool that only
	// sets outputs or watches inputs.
	NoInventory bool
	// KeepalivePeriod is asked of the reader (default 5s). Nothing received
	// for twice this period ends the session as half-open.
	KeepalivePeriod time.Duration
	// ResponseTimeout bounds each request/response during setup and the
	// wait for the connection event (default 5s).
	ResponseTimeout time.Duration
	ROSpecID        uint32 // default 1
	// ReportEveryN asks for a report every N tags (default 1: lowest latency).
	ReportEveryN uint16
	// NoHoldEvents leaves HoldEventsAndReportsUponReconnect off. By default
	// it is on, so a reconnect does not lose reports buffered meanwhile.
	NoHoldEvents bool
	MaxMessage   int // message size cap (default DefaultMaxMessage)
	// ReadInterval paces the reads of the connection once the session is
	// set up: at most one in each ReadInterval of the clock (default
	// DefaultReadInterval; negative: no pacing). Reports that arrive
	// meanwhile are taken in one read: a reader
	// that reports every tag sends thousands of messages a second, and
	// waking up for each costs the gateway more than decoding it. A report
	// waits at most this long; its reads keep the reader's timestamps.
	ReadInterval time.Duration
	// Backoff gives the wait before reconnect attempt n (0-based); it is
	// reset after a healthy session. Default: Backoff(500ms, 30s).
	Backoff func(attempt int) time.Duration
	// HealthyAfter is how long a fully set-up session must last to reset
	// the backoff (default: KeepalivePeriod).
	HealthyAfter time.Duration
	Now          func() time.Time // default time.Now
	// OnReads receives each report's reads; the slice is reused after the
	// call returns. Called from the Run goroutine.
	OnReads func(batch []rfid.Read)
	// OnEvent receives reader health events. Called from the Run goroutine.
	OnEvent func(rfid.ReaderEvent)
	// OnWrite receives results of EPC writes (C1G2Write op specs).
	OnWrite func(WriteResult)
	// Logger receives the session's warnings, with address=; it should
	// name the reader (the session does not add ReaderID).
	Logger *slog.Logger
}

// DefaultReadInterval is Config.ReadInterval's default. Each interval is a
// wake-up of the gateway (the sessions of all readers share it) and a read
// system call per reader: in the dock soak (four readers at 1,500 reads/s)
// 10 ms cost ~400 of each a second, and 40 ms takes the gateway from
// 4.8 % to 3.6-3.9 % of one core against 20 ms, for ~20 ms more latency
// from read to event — little beside a portal's presence timeout (3 s by
// default) and the 100 ms a door's lights may take; the reads keep the
// reader's timestamps.
const DefaultReadInterval = 40 * time.Millisecond

// Backoff returns a jittered exponential backoff: attempt n waits a random
// duration in [d/2, d] where d = lo·2ⁿ capped at hi.
func Backoff(lo, hi time.Duration) func(int) time.Duration {
	return func(n int) time.Duration {
		d := lo
		for i := 0; i < n && d < hi; i++ {
			d *= 2
		}
		d = min(d, hi)
		return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	}
}

// Stats counts what a session has seen; read it with Session.Stats.
type Stats struct {
	Connects       uint64 `json:"connects"` // sessions fully set up
	Disconnects    uint64 `json:"disconnects"`
	Reports        uint64 `json:"reports"`
	Reads          uint64 `json:"reads"`
	Keepalives     uint64 `json:"keepalives"`
	Malformed      uint64 `json:"malformed"`      // messages rejected as malformed
	ErrorMessages  uint64 `json:"error_messages"` // ERROR_MESSAGE received
	FailedConnects uint64 `json:"failed_connects"`
	// Implausible counts reads whose timestamp was more than a second
	// after their arrival or a day before it by the reader-clock offset;
	// they are dated at their arrival.
	Implausible uint64 `json:"implausible"`
	ClockSteps  uint64 `json:"clock_steps"` // reader clock steps the offset was re-based for
}

// Session is an LLRP client for one reader.
type Session struct {
	cfg      Config
	log      *slog.Logger
	msgID    atomic.Uint32
	accessID atomic.Uint32
	writes   chan *writeReq
	// The reader-clock offset is kept across connections (only the Run
	// goroutine touches it): a backlog held over a reconnect keeps its
	// reader times instead of being stamped "now".
	clock   readerClock
	implLog time.Time // when implausible timestamps were last logged
	heldBuf []rfid.Read
	// live is the connection once set up, for SetGPO and ApplyRF.
	live atomic.Pointer[conn]
	// applyMu serializes ApplyRF; rfMu guards cfg.RF and cfg.AntennaRF,
	// which ApplyRF replaces for the reconnects.
	applyMu sync.Mutex
	rfMu    sync.Mutex
	// gpiStateLogged: a failure to read the inputs' state at connect was
	// logged at info once; later ones go to debug.
	gpiStateLogged bool
	st             struct {
		connects, disconnects, reports, reads, keepalives, malformed, errmsgs, failed atomic.Uint64
		implausible, steps                                                            atomic.Uint64
	}
}

// NewSession checks cfg and fills its defaults.
func NewSession(cfg Config) (*Session, error) {
	if cfg.Address == "" {
		return nil, errors.New("llrp: reader address is empty; set it to host:port (LLRP listens on 5084)")
	}
	if _, _, err := net.SplitHostPort(cfg.Address); err != nil {
		cfg.Address = net.JoinHostPort(cfg.Address, "5084")
	}
	if cfg.KeepalivePeriod < 0 || cfg.ResponseTimeout < 0 || cfg.HealthyAfter < 0 {
		return nil, errors.New("llrp: keepalive period, response timeout and healthy-after must not be negative")
	}
	if cfg.KeepalivePeriod == 0 {
		cfg.KeepalivePeriod = 5 * time.Second
	}
	if cfg.KeepalivePeriod < time.Millisecond {
		return nil, fmt.Errorf("llrp: keepalive period %v is below the 1ms resolution of LLRP", cfg.KeepalivePeriod)
	}
	if cfg.ResponseTimeout == 0 {
		cfg.ResponseTimeout = 5 * time.Second
	}
	if cfg.ReadInterval == 0 {
		cfg.ReadInterval = DefaultReadInterval
	}
	if cfg.ROSpecID == 0 {
		cfg.ROSpecID = 1
	}
	if cfg.ReportEveryN == 0 {
		cfg.ReportEveryN = 1
	}
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff(500*time.Millisecond, 30*time.Second)
	}
	if cfg.HealthyAfter == 0 {
		cfg.HealthyAfter = cfg.KeepalivePeriod
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	if err := cfg.Trigger.validate(); err != nil {
		return nil, err
	}
	for _, a := range cfg.Antennas {
		if a == 0 {
			return nil, errors.New("llrp: antenna 0 in the antenna list; antennas are numbered from 1 (leave the list empty for all)")
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The reader's name is the caller's to put on the logger (the
	// gateway's carries reader=ID): adding it here too would log it twice.
	return &Session{cfg: cfg, log: log.With("address", cfg.Address), writes: make(chan *writeReq, 16)}, nil
}

// Stats returns a snapshot of the session counters.
func (s *Session) Stats() Stats {
	return Stats{
		Connects: s.st.connects.Load(), Disconnects: s.st.disconnects.Load(),
		Reports: s.st.reports.Load(), Reads: s.st.reads.Load(), Keepalives: s.st.keepalives.Load(),
		Malformed: s.st.malformed.Load(), ErrorMessages: s.st.errmsgs.Load(), FailedConnects: s.st.failed.Load(),
		Implausible: s.st.implausible.Load(), ClockSteps: s.st.steps.Load(),
	}
}

// Run connects, reads and reconnects until ctx ends; it then closes the
// connection politely (CLOSE_CONNECTION) and returns nil.
func (s *Session) Run(ctx context.Context) error {
	attempt := 0
	for {
		healthy, err := s.runOnce(ctx)
		if ctx.Err() != nil {
			if healthy {
				s.event(rfid.ReaderEvent{Kind: rfid.EventDisconnected, Err: context.Cause(ctx)})
			}
			return nil
		}
		if healthy {
			attempt = 0
		}
		wait := s.cfg.Backoff(attempt)
		attempt++
		if err != nil {
			s.log.Warn("llrp session ended", "err", err, "retry_in", wait)
		} else {
			s.log.Warn("llrp session ended", "retry_in", wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (s *Session) event(e rfid.ReaderEvent) {
	e.Reader = s.cfg.ReaderID
	if e.Time.IsZero() {
		e.Time = s.cfg.Now()
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(e)
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// conn is one connection: its decoder, write buffer and the deadline guard
// that lets context cancellation interrupt a blocked read.
type conn struct {
	s   *Session
	nc  net.Conn
	in  pacedReader
	dec *Decoder
	out []byte
	rep ReportDecoder
	// deadline is the read deadline last set.
	deadline time.Time

	mu      sync.Mutex
	stopped bool

	pending  map[uint32]*writeReq // access spec id → write waiting for its result
	toDelete []uint32             // access specs done, to delete

	rfWarnings string // RF settings and trigger the reader could not take

	// up: the connected event was sent. Until then the inputs' state read
	// at setup (gpiAtConnect) and the GPI changes heard (setupGPI) wait,
	// so that OnEvent sees them after it and in the order they happened.
	up           bool
	gpiAtConnect []GPIEvent
	setupGPI     []setupGPI
	// connEvent is the connection event's time on the reader's clock;
	// readAtConnect the inputs whose state was read at setup. A GPI event
	// the reader dates before connEvent was held over the outage: for
	// those inputs the state read at connect is newer, and it is dropped.
	connEvent     EventData
	readAtConnect map[uint16]bool

	caps  Capabilities
	wmu   sync.Mutex // serializes writes: SetGPO sends from its caller's goroutine
	gpoMu sync.Mutex
	// gpoWait: message id → the call (SetGPO, ApplyRF) waiting for the
	// answer; gpoGone once the connection ended.
	gpoWait map[uint32]waiter
	gpoGone bool
	calls   atomic.Int32 // calls waiting for their answer: reads are not paced meanwhile
	// roActive: the reader's last ROSpecEvent said the ROSpec started
	// (its trigger fired) and not yet that it ended.
	roActive atomic.Bool
	// The ROSpec running and its trigger; rfCaps: the capabilities with
	// the RF tables (nil until asked for). ApplyRF's, under Session.applyMu.
	ro     ROSpec
	trig   Trigger
	rfCaps *Capabilities
}

type writeReq struct {
	spec AccessSpec
	done chan writeResp
	// abandoned: the caller stopped waiting. A queued write is then never
	// sent, and a sent one's access spec is deleted so that a tag coming
	// into the field later is not written for nobody.
	abandoned atomic.Bool
}

type writeResp struct {
	res WriteResult
	err error
}

// WriteEPC rewrites the EPC of the tag whose EPC is target with newEPC
// (access password 0 for unlocked tags) through an AccessSpec that runs
// once, and returns when the reader reports the write. The tag must be in
// the field while the ROSpec runs. The request is sent when the session next
// hears from the reader (at least every keepalive period).
func (s *Session) WriteEPC(ctx context.Context, target, newEPC rfid.EPC, password uint32) (WriteResult, error) {
	spec, err := WriteEPCSpec(s.accessID.Add(1), s.cfg.ROSpecID, 0, target, newEPC, password)
	if err != nil {
		return WriteResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return WriteResult{}, err
	}
	req := &writeReq{spec: spec, done: make(chan writeResp, 1)}
	select {
	case s.writes <- req:
	case <-ctx.Done():
		return WriteResult{}, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.res, r.err
	case <-ctx.Done():
		req.abandoned.Store(true)
		select {
		case r := <-req.done: // reported meanwhile
			return r.res, r.err
		default:
		}
		return WriteResult{}, fmt.Errorf("llrp: write of EPC %s not reported (if it was sent, the tag may have been written: read it to know): %w", target, ctx.Err())
	}
}

// serviceWrites deletes finished access specs and starts queued writes.
func (c *conn) serviceWrites() error {
	for id, w := range c.pending {
		if w.abandoned.Load() {
			delete(c.pending, id)
			c.toDelete = append(c.toDelete, id)
		}
	}
	del := c.toDelete
	c.toDelete = nil // results reported meanwhile queue up again
	for _, id := range del {
		if _, err := c.request(MsgDeleteAccessSpec, func(b []byte, mid uint32) []byte { return AppendU32(b, MsgDeleteAccessSpec, mid, id) }); err != nil {
			var se *StatusError
			if !errors.As(err, &se) {
				return err
			}
		}
	}
	for {
		var w *writeReq
		select {
		case w = <-c.s.writes:
		default:
			return nil
		}
		if w.abandoned.Load() {
			continue // the caller has its error already
		}
		added := false
		for _, typ := range []uint16{MsgAddAccessSpec, MsgEnableAccessSpec} {
			_, err := c.request(typ, func(b []byte, mid uint32) []byte {
				if typ == MsgAddAccessSpec {
					return AppendAddAccessSpec(b, mid, w.spec)
				}
				return AppendU32(b, typ, mid, w.spec.ID)
			})
			if err != nil {
				w.done <- writeResp{err: fmt.Errorf("llrp: write EPC: %w", err)}
				if added {
					c.toDelete = append(c.toDelete, w.spec.ID) // added, not enabled
				}
				var se *StatusError
				if !errors.As(err, &se) {
					return err
				}
				w = nil
				break
			}
			added = true
		}
		switch {
		case w == nil:
		case w.abandoned.Load():
			// Given up on while it was being set up: delete it now, not
			// at the next message.
			if _, err := c.request(MsgDeleteAccessSpec, func(b []byte, mid uint32) []byte { return AppendU32(b, MsgDeleteAccessSpec, mid, w.spec.ID) }); err != nil {
				var se *StatusError
				if !errors.As(err, &se) {
					return err
				}
			}
		default:
			c.pending[w.spec.ID] = w
		}
	}
}

// failWrites answers every pending write when the connection ends.
func (c *conn) failWrites(err error) {
	for id, w := range c.pending {
		w.done <- writeResp{err: fmt.Errorf("llrp: connection ended before the write was reported: %w", err)}
		delete(c.pending, id)
	}
}

func (c *conn) readDeadline(t time.Time) {
	c.mu.Lock()
	if !c.stopped {
		_ = c.nc.SetReadDeadline(t)
	}
	c.mu.Unlock()
}

func (c *conn) interrupt() {
	c.mu.Lock()
	c.stopped = true
	_ = c.nc.SetReadDeadline(aLongTimeAgo)
	c.mu.Unlock()
}

func (c *conn) isStopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// send writes one message whole, from any goroutine.
func (c *conn) send(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.s.cfg.ResponseTimeout))
	_, err := c.nc.Write(b)
	return err
}

// errStopped marks a read interrupted by context cancellation.
var errStopped = errors.New("llrp: session stopped")

func (c *conn) next(what string, timeout time.Duration, half bool) (Message, error) {
	// The deadline moves on with every message; it is set again only once
	// it has moved by a sixteenth of the timeout (or must come sooner):
	// setting it costs more than a report does to decode.
	if d := time.Now().Add(timeout); d.Before(c.deadline) || d.Sub(c.deadline) > timeout/16 {
		c.readDeadline(d)
		c.deadline = d
	}
	m, err := c.dec.Next()
	if err == nil {
		return m, nil
	}
	if c.isStopped() {
		return m, errStopped
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		if half {
			return m, fmt.Errorf("%w: nothing from the reader for %v (twice the keepalive period); connection is half-open", rfid.ErrKeepaliveTimeout, timeout)
		}
		return m, fmt.Errorf("llrp: no %s from the reader within %v", what, timeout)
	}
	if errors.Is(err, io.EOF) {
		return m, fmt.Errorf("llrp: reader closed the connection while waiting for %s", what)
	}
	return m, err
}

func (s *Session) runOnce(ctx context.Context) (healthy bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.ResponseTimeout)
	nc, err := s.cfg.Dial(dctx, "tcp", s.cfg.Address)
	cancel()
	if err != nil {
		s.st.failed.Add(1)
		err = fmt.Errorf("llrp: connect %s: %w", s.cfg.Address, err)
		s.event(rfid.ReaderEvent{Kind: rfid.EventConnectFailed, Err: err})
		return false, err
	}
	c := &conn{s: s, nc: nc, out: make([]byte, 0, 512), pending: map[uint32]*writeReq{},
		gpoWait: map[uint32]waiter{}}
	c.in = pacedReader{r: nc, hurry: &c.calls}
	c.dec = NewDecoder(&c.in, s.cfg.MaxMessage)
	c.rep.Reader = s.cfg.ReaderID
	stop := context.AfterFunc(ctx, c.interrupt)
	defer func() {
		stop()
		_ = nc.Close()
	}()
	if err := c.setup(); err != nil {
		if errors.Is(err, errStopped) {
			return false, err
		}
		s.st.failed.Add(1)
		s.event(rfid.ReaderEvent{Kind: rfid.EventConnectFailed, Err: err})
		return false, err
	}
	start := s.cfg.Now()
	s.st.connects.Add(1)
	s.log.Info("llrp session up")
	s.live.Store(c)
	s.event(rfid.ReaderEvent{Kind: rfid.EventConnected, Message: c.rfWarnings})
	c.reportGPIAtConnect()
	err = c.loop()
	s.live.CompareAndSwap(c, nil)
	c.gpoEnd(err)
	c.releaseHeld() // no report is lost with the connection
	c.failWrites(err)
	healthy = s.cfg.Now().Sub(start) >= s.cfg.HealthyAfter
	if errors.Is(err, errStopped) {
		c.close()
		return true, err
	}
	s.st.disconnects.Add(1)
	s.event(rfid.ReaderEvent{Kind: rfid.EventDisconnected, Err: err})
	return healthy, err
}

// setup runs steps 1–6 of the robust session sequence.
func (c *conn) setup() error {
	s := c.s
	to := s.cfg.ResponseTimeout
	// 1. The reader greets with a ConnectionAttemptEvent.
	for {
		m, err := c.next("connection event", to, false)
		if err != nil {
			return err
		}
		if m.Type != MsgReaderEventNotification {
			if err := c.handle(m); err != nil {
				return err
			}
			continue
		}
		ev, err := ParseReaderEvent(m.Body)
		if err != nil {
			return fmt.Errorf("llrp: connection event: %w", err)
		}
		if !ev.HasConnectionAttempt {
			c.events(ev)
			continue
		}
		if ev.ConnectionAttempt != ConnSuccess {
			return fmt.Errorf("%w: %s", rfid.ErrConnectionRefused, ConnectionStatusText(ev.ConnectionAttempt))
		}
		c.anchor(ev)
		c.connEvent = ev
		break
	}
	// 3. Capabilities: antenna count, and the RF tables when RF settings
	// are to be mapped on them.
	rf, perAntenna := s.rfSettings()
	what := CapabilitiesGeneral
	if !rf.IsZero() || len(perAntenna) > 0 {
		what = CapabilitiesAll
	}
	body, err := c.request(MsgGetReaderCapabilities, func(b []byte, id uint32) []byte {
		return AppendGetCapabilities(b, id, what)
	})
	if err != nil {
		return err
	}
	caps, err := ParseCapabilities(body)
	if err != nil {
		return fmt.Errorf("llrp: capabilities: %w", err)
	}
	c.caps = caps
	if what == CapabilitiesAll {
		c.rfCaps = &caps
	}
	trig, trigWarning := s.checkTrigger(caps)
	c.trig = trig
	for _, a := range s.cfg.Antennas {
		if caps.MaxAntennas > 0 && a > caps.MaxAntennas {
			return fmt.Errorf("llrp: antenna %d configured but the reader has %d antenna ports; fix the reader's antennas list", a, caps.MaxAntennas)
		}
	}
	// 4. Clear stale specs; a reader without any may answer with an error.
	stale := []uint16{MsgDeleteAccessSpec, MsgDeleteROSpec}
	if s.cfg.NoInventory {
		stale = nil
	}
	for _, typ := range stale {
		if _, err := c.request(typ, func(b []byte, id uint32) []byte { return AppendU32(b, typ, id, 0) }); err != nil {
			var se *StatusError
			if !errors.As(err, &se) {
				return err
			}
			s.log.Debug("clearing specs refused", "err", err)
		}
	}
	// 5. Keepalives, events, hold reports over reconnects.
	rc := ReaderConfig{
		KeepaliveMS: uint32(s.cfg.KeepalivePeriod / time.Millisecond),
		Events: []EventNotification{
			{Type: EventAntenna, On: true}, {Type: EventReportBufferWarning, On: true},
			{Type: EventReaderException, On: true}, {Type: EventROSpec, On: true},
		},
		SetHold: true, HoldEvents: !s.cfg.NoHoldEvents,
	}
	s.gpioConfig(&rc, trig, caps)
	if _, err := c.request(MsgSetReaderConfig, func(b []byte, id uint32) []byte { return AppendSetReaderConfig(b, id, rc) }); err != nil {
		return err
	}
	// The inputs' state now, once they are enabled: reported at connect.
	if err := c.readGPIStates(rc.GPIPorts); err != nil {
		return err
	}
	if s.cfg.NoInventory {
		return c.send(AppendEmpty(c.out[:0], MsgEnableEventsAndReports, s.msgID.Add(1)))
	}
	// 6. The ROSpec: start by START_ROSPEC, run until stopped, report every N.
	ro, warnings := s.rospec(caps, trig, rf, perAntenna)
	c.ro = ro
	if len(warnings) > 0 {
		c.rfWarnings = warningText(warnings)
	}
	if trigWarning != "" {
		s.log.Warn("trigger not set", "err", trigWarning)
		if c.rfWarnings != "" {
			c.rfWarnings += "; "
		}
		c.rfWarnings += trigWarning
	}
	if _, err := c.request(MsgAddROSpec, func(b []byte, id uint32) []byte { return AppendAddROSpec(b, id, ro) }); err != nil {
		return err
	}
	for _, typ := range enableSteps(ro) {
		if _, err := c.request(typ, func(b []byte, id uint32) []byte { return AppendU32(b, typ, id, ro.ID) }); err != nil {
			return err
		}
	}
	if err := c.startIfTriggered(ro); err != nil {
		return err
	}
	return c.send(AppendEmpty(c.out[:0], MsgEnableEventsAndReports, s.msgID.Add(1)))
}

// request sends one request and returns the body of its response, handling
// whatever else arrives meanwhile.
func (c *conn) request(typ uint16, build func([]byte, uint32) []byte) ([]byte, error) {
	id := c.s.msgID.Add(1)
	c.out = build(c.out[:0], id)
	if err := c.send(c.out); err != nil {
		return nil, fmt.Errorf("llrp: send message type %d: %w", typ, err)
	}
	want, _ := ResponseType(typ)
	deadline := time.Now().Add(c.s.cfg.ResponseTimeout)
	for {
		m, err := c.next(fmt.Sprintf("response to message type %d", typ), time.Until(deadline), false)
		if err != nil {
			return nil, err
		}
		switch {
		case m.Type == want && m.ID == id:
			if typ == MsgGetReaderCapabilities {
				return m.Body, nil
			}
			return m.Body, CheckResponse(typ, m.Body)
		case m.Type == MsgErrorMessage && (m.ID == id || m.ID == 0):
			// Some readers answer a request they cannot parse with an
			// ERROR_MESSAGE of id 0.
			if err := CheckResponse(typ, m.Body); err != nil {
				return nil, err
			}
			return nil, &StatusError{Request: typ, Status: Status{Code: 100, Description: "ERROR_MESSAGE"}}
		}
		if err := c.handle(m); err != nil {
			return nil, err
		}
	}
}

// loop reads until an error; every message restarts the keepalive deadline.
func (c *conn) loop() error {
	half := 2 * c.s.cfg.KeepalivePeriod
	c.in.every = c.s.cfg.ReadInterval
	for {
		if err := c.serviceWrites(); err != nil {
			return err
		}
		m, err := c.next("message", half, true)
		if err != nil {
			return err
		}
		if err := c.handle(m); err != nil {
			return err
		}
	}
}

// handle deals with a message outside a request/response exchange.
func (c *conn) handle(m Message) error {
	s := c.s
	if m.Type != MsgROAccessReport {
		c.releaseStale()
	}
	if m.Type != MsgErrorMessage && m.Type != MsgROAccessReport && c.answerCall(m) {
		return nil
	}
	switch m.Type {
	case MsgKeepalive:
		s.st.keepalives.Add(1)
		return c.send(AppendEmpty(c.out[:0], MsgKeepaliveAck, m.ID))
	case MsgROAccessReport:
		if err := c.rep.Decode(m.Body); err != nil {
			s.st.malformed.Add(1)
			s.log.Warn("report rejected", "err", err)
			return nil
		}
		s.st.reports.Add(1)
		c.deliver()
	case MsgReaderEventNotification:
		ev, err := ParseReaderEvent(m.Body)
		if err != nil {
			s.st.malformed.Add(1)
			s.log.Warn("reader event rejected", "err", err)
			return nil
		}
		c.events(ev)
		if ev.ConnectionClose {
			return errors.New("llrp: reader closed the session (ConnectionCloseEvent)")
		}
	case MsgErrorMessage:
		s.st.errmsgs.Add(1)
		err := CheckResponse(MsgErrorMessage, m.Body)
		if err == nil {
			err = &StatusError{Request: MsgErrorMessage, Status: Status{Code: 100, Description: "ERROR_MESSAGE"}}
		}
		if m.ID == 0 || !c.answerCall(m) {
			s.log.Warn("reader sent ERROR_MESSAGE", "err", err)
		}
	}
	return nil
}

// deliver dates the report's reads on the gateway's clock (see clock.go)
// and hands them to OnReads, unless they are held until it is known whether
// they are a backlog or the reader's clock stepped back.
func (c *conn) deliver() {
	s := c.s
	k := &s.clock
	now := s.cfg.Now()
	reads := c.rep.Reads
	s.st.reads.Add(uint64(len(reads)))
	// The report's sample is its smallest arrival − reader time, of the
	// plausible reads if there are any.
	var low, bad time.Duration
	haveLow, haveBad := false, false
	for i := range reads {
		rt := reads[i].ReaderTime
		if rt.IsZero() {
			continue
		}
		d := now.Sub(rt)
		if k.classify(d) == sampleImplausible {
			if !haveBad || d < bad {
				bad, haveBad = d, true
			}
		} else if !haveLow || d < low {
			low, haveLow = d, true
		}
	}
	hold := false
	switch {
	case haveLow && k.classify(low) == sampleConsistent:
		c.releaseHeld()
		k.learn(low, now)
	case haveLow:
		if c.candidate(low, now) {
			break
		}
		hold = !k.cand.backlog && len(k.held)+len(reads) <= clockMaxHeld
		if !hold {
			c.releaseHeld() // a backlog: the offset stands
		}
	case haveBad:
		c.releaseHeld()
		c.candidate(bad, now)
	}
	if hold {
		for i := range reads {
			k.held = append(k.held, heldRead{arrival: now, read: reads[i]})
		}
	} else {
		c.date(reads, now)
		if len(reads) > 0 && s.cfg.OnReads != nil {
			s.cfg.OnReads(reads)
		}
	}
	for _, w := range c.rep.Writes {
		if p := c.pending[w.AccessSpecID]; p != nil {
			delete(c.pending, w.AccessSpecID)
			c.toDelete = append(c.toDelete, w.AccessSpecID)
			var err error
			if w.Result != 0 {
				err = fmt.Errorf("%w: writing EPC %s failed: %s", rfid.ErrReaderStatus, w.EPC, WriteResultText(w.Result))
			}
			p.done <- writeResp{res: w, err: err}
		}
		if c.s.cfg.OnWrite != nil {
			c.s.cfg.OnWrite(w)
		}
	}
}

func (c *conn) events(ev EventData) {
	for _, r := range ev.ROSpecs {
		if r.ROSpecID == c.s.cfg.ROSpecID {
			c.roActive.Store(r.Type == 0) // started; ended or preempted
		}
	}
	for _, g := range ev.GPIs {
		if c.up && c.heldBeforeConnect(ev, g) {
			c.s.log.Debug("GPI change from before the connection dropped: the state read at connect is newer", "gpi", g.Port, "high", g.High)
			continue
		}
		if !c.up {
			// Reported after the state at connect; whether it was held
			// is known once that state is read.
			c.setupGPI = append(c.setupGPI, setupGPI{g, ev})
			continue
		}
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventGPI, Port: g.Port, High: g.High})
	}
	for _, a := range ev.Antennas {
		k := rfid.EventAntennaDisconnected
		if a.Connected {
			k = rfid.EventAntennaConnected
		}
		c.s.event(rfid.ReaderEvent{Kind: k, Antenna: a.Antenna})
	}
	if ev.BufferWarning {
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventBufferWarning, Level: int(ev.BufferLevel)})
	}
	if ev.BufferOverflow {
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventBufferOverflow})
	}
	if ev.Exception {
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventReaderException, Message: ev.ExceptionMessage})
	}
}

// close sends CLOSE_CONNECTION and waits briefly for its response (step 9).
func (c *conn) close() {
	grace := min(c.s.cfg.ResponseTimeout, time.Second)
	id := c.s.msgID.Add(1)
	c.wmu.Lock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(grace))
	_, err := c.nc.Write(AppendEmpty(c.out[:0], MsgCloseConnection, id))
	c.wmu.Unlock()
	if err != nil {
		return
	}
	deadline := time.Now().Add(grace)
	c.mu.Lock()
	_ = c.nc.SetReadDeadline(deadline)
	c.mu.Unlock()
	for time.Now().Before(deadline) {
		m, err := c.dec.Next()
		if err != nil || m.Type == MsgCloseConnectionResponse {
			return
		}
	}
}
