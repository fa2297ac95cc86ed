package llrp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/dockgate/dockgate/rfid"
)

// ErrNotConnected: a request (SetGPO) made while the session has no set-up
// connection to its reader.
var ErrNotConnected = errors.New("llrp: reader not connected")

// Trigger says when the reader runs the ROSpec. The zero value is the
// session's default: the ROSpec starts at setup (START_ROSPEC) and runs
// until the session ends.
type Trigger struct {
	// Start is StartTriggerNull (START_ROSPEC at setup),
	// StartTriggerImmediate, StartTriggerPeriodic (Periodic) or
	// StartTriggerGPI (StartGPI: when the port reaches the level).
	Start    uint8
	Periodic PeriodicTrigger
	StartGPI GPITrigger
	// Stop is StopTriggerNull (never), StopTriggerDuration (StopMS after
	// the start) or StopTriggerGPI (StopGPI: when the port reaches the
	// level, or StopGPI.TimeoutMS after the start, whichever comes first).
	Stop    uint8
	StopMS  uint32
	StopGPI GPITrigger
}

// Ports returns the GPI ports t listens to.
func (t Trigger) Ports() []uint16 {
	var ps []uint16
	if t.Start == StartTriggerGPI {
		ps = append(ps, t.StartGPI.Port)
	}
	if t.Stop == StopTriggerGPI && (len(ps) == 0 || ps[0] != t.StopGPI.Port) {
		ps = append(ps, t.StopGPI.Port)
	}
	return ps
}

func (t Trigger) validate() error {
	switch t.Start {
	case StartTriggerNull, StartTriggerImmediate, StartTriggerPeriodic, StartTriggerGPI:
	default:
		return fmt.Errorf("llrp: start trigger type %d is not 0 (null), 1 (immediate), 2 (periodic) or 3 (GPI)", t.Start)
	}
	switch t.Stop {
	case StopTriggerNull, StopTriggerDuration, StopTriggerGPI:
	default:
		return fmt.Errorf("llrp: stop trigger type %d is not 0 (null), 1 (duration) or 2 (GPI with timeout)", t.Stop)
	}
	for _, p := range t.Ports() {
		if p == 0 {
			return errors.New("llrp: trigger GPI port 0: GPI ports are numbered from 1")
		}
	}
	if t.Start == StartTriggerPeriodic && t.Periodic.PeriodMS == 0 && t.Periodic.OffsetMS == 0 {
		return errors.New("llrp: periodic start trigger without a period; give Periodic.PeriodMS")
	}
	if t.Stop == StopTriggerDuration && t.StopMS == 0 {
		return errors.New("llrp: duration stop trigger of 0 ms; give StopMS")
	}
	return nil
}

// apply sets the ROSpec's triggers.
func (t Trigger) apply(ro *ROSpec) {
	ro.StartTrigger, ro.StopTrigger = t.Start, t.Stop
	switch t.Start {
	case StartTriggerPeriodic:
		p := t.Periodic
		ro.StartPeriodic = &p
	case StartTriggerGPI:
		g := t.StartGPI
		g.TimeoutMS = 0 // ignored when starting
		ro.StartGPI = &g
	}
	switch t.Stop {
	case StopTriggerDuration:
		ro.StopMS = t.StopMS
	case StopTriggerGPI:
		g := t.StopGPI
		ro.StopGPI = &g
	}
}

// checkTrigger returns the trigger to send to a reader with caps: the
// configured one, or the default with a warning when it names a GPI port
// the reader does not have.
func (s *Session) checkTrigger(caps Capabilities) (Trigger, string) {
	t := s.cfg.Trigger
	for _, p := range t.Ports() {
		if p > caps.NumGPIs {
			return Trigger{}, fmt.Sprintf("trigger GPI port %d but the reader has %d GPI ports (1 to %d): the trigger is not set, the reader reads continuously; fix the reader's trigger port",
				p, caps.NumGPIs, caps.NumGPIs)
		}
	}
	return t, ""
}

// gpioConfig adds to rc what the trigger and WatchGPI need: GPI event
// notifications and the GPI ports enabled.
func (s *Session) gpioConfig(rc *ReaderConfig, t Trigger, caps Capabilities) {
	ports := t.Ports()
	if s.cfg.WatchGPI {
		ports = ports[:0]
		for p := uint16(1); p <= caps.NumGPIs; p++ {
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		return
	}
	rc.Events = append(rc.Events, EventNotification{Type: EventGPI, On: true})
	for _, p := range ports {
		rc.GPIPorts = append(rc.GPIPorts, GPIPort{Port: p, Enabled: true})
	}
}

// readGPIStates asks the reader for the current state of the inputs the
// session watches (GET_READER_CONFIG for GPIPortCurrentState, all ports)
// and keeps the known ones for reportGPIAtConnect: a photo eye blocked
// when the session starts is reported high at once, not at its first
// change. Inputs the reader reports disabled or in an unknown state are
// left out (unknown is not low). A reader that refuses the request or
// answers what does not parse is logged and the session goes on without
// them; only a connection failure (or no answer in time) is an error.
func (c *conn) readGPIStates(watched []GPIPort) error {
	s := c.s
	if len(watched) == 0 {
		if s.cfg.WatchGPI {
			s.log.Debug("the reader has no GPI ports (GPIOCapabilities): no inputs to report")
		}
		return nil
	}
	body, err := c.request(MsgGetReaderConfig, func(b []byte, id uint32) []byte {
		return AppendGetReaderConfig(b, id, GetReaderConfig{RequestedData: ConfigGPIPortCurrentState})
	})
	var rc ReaderConfig
	if err == nil {
		rc, err = ParseGetReaderConfigResponse(body)
		if errors.Is(err, ErrMalformed) {
			s.st.malformed.Add(1)
		}
	}
	if err != nil {
		var se *StatusError
		if !errors.As(err, &se) && !errors.Is(err, ErrMalformed) {
			return err
		}
		level := slog.LevelDebug
		if !s.gpiStateLogged {
			level, s.gpiStateLogged = slog.LevelInfo, true
		}
		s.log.Log(context.Background(), level, "GPI states not read at connect; each input is known from its first change", "err", err)
		return nil
	}
	want := map[uint16]bool{}
	for _, p := range watched {
		want[p.Port] = true
	}
	c.gpiAtConnect = c.gpiAtConnect[:0]
	for _, p := range rc.GPIPorts {
		switch {
		case !want[p.Port]:
		case !p.Enabled:
			s.log.Debug("GPI port disabled on the reader at connect; its state is not reported", "gpi", p.Port)
		case p.State == GPIStateHigh || p.State == GPIStateLow:
			c.gpiAtConnect = append(c.gpiAtConnect, GPIEvent{Port: p.Port, High: p.State == GPIStateHigh})
		default:
			s.log.Debug("GPI state unknown at connect", "gpi", p.Port, "state", p.State)
		}
	}
	slices.SortStableFunc(c.gpiAtConnect, func(a, b GPIEvent) int { return cmp.Compare(a.Port, b.Port) })
	c.readAtConnect = map[uint16]bool{}
	for _, g := range c.gpiAtConnect {
		c.readAtConnect[g.Port] = true
	}
	return nil
}

// setupGPI is a GPI change heard during setup, with its reader event.
type setupGPI struct {
	g  GPIEvent
	ev EventData
}

// setupChanges returns the GPI changes heard during setup that were not
// held over the outage (heldBeforeConnect), in order, and how many were.
func (c *conn) setupChanges() (changes []GPIEvent, held int) {
	for _, sg := range c.setupGPI {
		if c.heldBeforeConnect(sg.ev, sg.g) {
			held++
			continue
		}
		changes = append(changes, sg.g)
	}
	return changes, held
}

// heldBeforeConnect reports whether g, of the reader event ev, is a change
// the reader made before this connection opened and held over the outage
// (HoldEventsAndReportsUponReconnect), for an input whose state was read
// at connect: that state is newer, and reporting the held change after it
// would show an input in a state it has left. Both times are the reader's
// own clock (and the same kind: UTC or uptime).
func (c *conn) heldBeforeConnect(ev EventData, g GPIEvent) bool {
	return c.readAtConnect[g.Port] && ev.Timestamp != 0 && c.connEvent.Timestamp != 0 &&
		ev.Uptime == c.connEvent.Uptime && ev.Timestamp < c.connEvent.Timestamp
}

// startIfTriggered starts a ROSpec whose start input is already at its
// trigger level when the session sets it up (a photo eye blocked by a
// pallet parked in the door): a GPI trigger fires on a change, and without
// START_ROSPEC the portal would not read until the eye cleared and was
// blocked again. The level is the state read at connect, or the last
// change heard during setup. Its stop trigger ends it as it would have. A
// reader that refuses (the trigger fired meanwhile and the ROSpec is
// already running, say) is logged; only a connection failure is an error.
func (c *conn) startIfTriggered(ro ROSpec) error {
	if ro.StartTrigger != StartTriggerGPI || ro.StartGPI == nil {
		return nil
	}
	port, level := ro.StartGPI.Port, ro.StartGPI.High
	known, high := false, false
	changes, _ := c.setupChanges()
	for _, g := range slices.Concat(c.gpiAtConnect, changes) {
		if g.Port == port {
			known, high = true, g.High
		}
	}
	if !known || high != level {
		return nil
	}
	_, err := c.request(MsgStartROSpec, func(b []byte, id uint32) []byte { return AppendU32(b, MsgStartROSpec, id, ro.ID) })
	var se *StatusError
	switch {
	case err == nil:
		c.s.log.Info("trigger input already at its level at connect: ROSpec started", "gpi", port, "high", level)
	case errors.As(err, &se):
		c.s.log.Warn("trigger input already at its level at connect, but the reader refused to start the ROSpec; reads start at the input's next change", "gpi", port, "high", level, "err", err)
	default:
		return err
	}
	return nil
}

// reportGPIAtConnect hands OnEvent, after the connected event, the inputs'
// state read at setup (EventGPI with Initial) and then the changes heard
// during setup, in order.
func (c *conn) reportGPIAtConnect() {
	c.up = true
	for _, g := range c.gpiAtConnect {
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventGPI, Port: g.Port, High: g.High, Initial: true})
	}
	changes, held := c.setupChanges()
	if held > 0 {
		c.s.log.Debug("GPI changes from before the connection dropped: the state read at connect is newer", "changes", held)
	}
	for _, g := range changes {
		c.s.event(rfid.ReaderEvent{Kind: rfid.EventGPI, Port: g.Port, High: g.High})
	}
	c.gpiAtConnect, c.setupGPI = nil, nil
}

// name is how errors name the reader.
func (s *Session) name() string {
	if s.cfg.ReaderID != "" && s.cfg.ReaderID != s.cfg.Address {
		return fmt.Sprintf("%q (%s)", s.cfg.ReaderID, s.cfg.Address)
	}
	return s.cfg.Address
}

// SetGPO sets general purpose output port (from 1) high or low with
// SET_READER_CONFIG (GPOWriteData) and returns once the reader answered. It
// is sent at once, alongside the reads; it fails when the session is not
// connected, when the reader has no such port (GPIOCapabilities), when the
// reader refuses it or does not answer within the response timeout. It
// implements rfid.GPOSetter.
//
// Do not call it from the session's OnReads or OnEvent callbacks (an
// EventConnected handler resetting outputs, say): their goroutine is the
// one that reads the answer, so the call would wait for the response
// timeout and fail. Call it from another goroutine.
func (s *Session) SetGPO(ctx context.Context, port uint16, high bool) error {
	if port == 0 {
		return fmt.Errorf("llrp: reader %s: GPO port 0: GPO ports are numbered from 1", s.name())
	}
	c := s.live.Load()
	if c == nil {
		return fmt.Errorf("%w: reader %s: GPO %d not set; it can be set once the session is up", ErrNotConnected, s.name(), port)
	}
	if port > c.caps.NumGPOs {
		return fmt.Errorf("llrp: reader %s has %d GPO ports; port %d does not exist (use 1 to %d)", s.name(), c.caps.NumGPOs, port, c.caps.NumGPOs)
	}
	msg := func(b []byte, id uint32) []byte {
		return AppendSetReaderConfig(b, id, ReaderConfig{GPOWrites: []GPOWrite{{Port: port, High: high}}})
	}
	if _, err := c.call(ctx, MsgSetReaderConfig, msg); err != nil {
		return fmt.Errorf("llrp: reader %s: set GPO %d: %w", s.name(), port, err)
	}
	return nil
}

var _ rfid.GPOSetter = (*Session)(nil)

// answer is a reply to a request sent by call: the body of a
// GET_READER_CAPABILITIES response, or the status of any other.
type answer struct {
	body []byte
	err  error
}

// waiter is a call waiting for the response to its request.
type waiter struct {
	req  uint16 // the request's message type
	done chan answer
}

// call sends one request from the caller's goroutine and waits for its
// answer, which the Run goroutine reads and hands over by message id
// (answerCall): the reads keep flowing meanwhile, not paced by
// ReadInterval so that the answer is not held up. It fails when the
// connection ends, when the reader refuses the request (a *StatusError)
// or does not answer within the response timeout.
func (c *conn) call(ctx context.Context, typ uint16, build func([]byte, uint32) []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		// Not sent: a caller that gave up must not change the reader.
		return nil, fmt.Errorf("message type %d not sent: %w", typ, err)
	}
	c.calls.Add(1)
	defer c.calls.Add(-1)
	id := c.s.msgID.Add(1)
	done := make(chan answer, 1)
	c.gpoMu.Lock()
	if c.gpoGone {
		c.gpoMu.Unlock()
		return nil, fmt.Errorf("%w: the connection ended", ErrNotConnected)
	}
	c.gpoWait[id] = waiter{req: typ, done: done}
	c.gpoMu.Unlock()
	drop := func() {
		c.gpoMu.Lock()
		delete(c.gpoWait, id)
		c.gpoMu.Unlock()
	}
	if err := c.send(build(nil, id)); err != nil {
		drop()
		return nil, fmt.Errorf("send message type %d: %w", typ, err)
	}
	t := time.NewTimer(c.s.cfg.ResponseTimeout)
	defer t.Stop()
	select {
	case a := <-done:
		return a.body, a.err
	case <-ctx.Done():
		drop()
		return nil, fmt.Errorf("no answer yet to message type %d: %w", typ, ctx.Err())
	case <-t.C:
		drop()
		return nil, fmt.Errorf("no answer to message type %d within %v", typ, c.s.cfg.ResponseTimeout)
	}
}

// answerCall hands m, a response or an ERROR_MESSAGE, to the call waiting
// for it; false if none waits for it.
func (c *conn) answerCall(m Message) bool {
	c.gpoMu.Lock()
	w, ok := c.gpoWait[m.ID]
	want, _ := ResponseType(w.req)
	if !ok || m.Type != want && m.Type != MsgErrorMessage {
		c.gpoMu.Unlock()
		return false
	}
	delete(c.gpoWait, m.ID)
	c.gpoMu.Unlock()
	var a answer
	switch {
	case m.Type == MsgErrorMessage:
		a.err = CheckResponse(w.req, m.Body)
		if a.err == nil {
			a.err = &StatusError{Request: w.req, Status: Status{Code: 100, Description: "ERROR_MESSAGE"}}
		}
	case w.req == MsgGetReaderCapabilities:
		a.body = append([]byte(nil), m.Body...) // the decoder reuses its buffer
	default:
		a.err = CheckResponse(w.req, m.Body)
	}
	w.done <- a
	return true
}

// gpoEnd fails the calls still waiting when the connection ends.
func (c *conn) gpoEnd(err error) {
	c.gpoMu.Lock()
	defer c.gpoMu.Unlock()
	c.gpoGone = true
	for id, w := range c.gpoWait {
		w.done <- answer{err: fmt.Errorf("%w: the connection ended before the reader answered: %v", ErrNotConnected, err)}
		delete(c.gpoWait, id)
	}
}
