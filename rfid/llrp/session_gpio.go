package llrp

import (
	"context"
	"errors"
	"fmt"
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

// IsZero reports whether t is the default (START_ROSPEC, no stop).
func (t Trigger) IsZero() bool { return t == Trigger{} }

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
	id := s.msgID.Add(1)
	done := make(chan error, 1)
	c.gpoMu.Lock()
	if c.gpoGone {
		c.gpoMu.Unlock()
		return fmt.Errorf("%w: reader %s: GPO %d not set; the connection ended", ErrNotConnected, s.name(), port)
	}
	c.gpoWait[id] = done
	c.gpoMu.Unlock()
	drop := func() {
		c.gpoMu.Lock()
		delete(c.gpoWait, id)
		c.gpoMu.Unlock()
	}
	msg := AppendSetReaderConfig(nil, id, ReaderConfig{GPOWrites: []GPOWrite{{Port: port, High: high}}})
	if err := c.send(msg); err != nil {
		drop()
		return fmt.Errorf("llrp: reader %s: set GPO %d: %w", s.name(), port, err)
	}
	t := time.NewTimer(s.cfg.ResponseTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("llrp: reader %s: set GPO %d: %w", s.name(), port, err)
		}
		return nil
	case <-ctx.Done():
		drop()
		return fmt.Errorf("llrp: reader %s: set GPO %d: no answer yet: %w", s.name(), port, ctx.Err())
	case <-t.C:
		drop()
		return fmt.Errorf("llrp: reader %s: set GPO %d: no answer within %v", s.name(), port, s.cfg.ResponseTimeout)
	}
}

var _ rfid.GPOSetter = (*Session)(nil)

// gpoAnswer hands a SET_READER_CONFIG response (or ERROR_MESSAGE) to the
// SetGPO waiting for it; false if none waits for id.
func (c *conn) gpoAnswer(id uint32, err error) bool {
	c.gpoMu.Lock()
	done, ok := c.gpoWait[id]
	delete(c.gpoWait, id)
	c.gpoMu.Unlock()
	if ok {
		done <- err
	}
	return ok
}

// gpoEnd fails the SetGPO calls still waiting when the connection ends.
func (c *conn) gpoEnd(err error) {
	c.gpoMu.Lock()
	defer c.gpoMu.Unlock()
	c.gpoGone = true
	for id, done := range c.gpoWait {
		done <- fmt.Errorf("%w: the connection ended before the reader answered: %v", ErrNotConnected, err)
		delete(c.gpoWait, id)
	}
}
