package readersim

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// The simulated reader's general purpose inputs and outputs.
const (
	SimGPIs = 4
	SimGPOs = 4
)

// GPI states in scenarios.
const (
	GPIHigh = "high"
	GPILow  = "low"
)

// GPIStep changes a general purpose input at a scenario time: a photo eye
// or a forklift sensor at the door.
type GPIStep struct {
	At    time.Duration `yaml:"at"`
	Port  uint16        `yaml:"port"`  // 1..SimGPIs
	State string        `yaml:"state"` // high | low

	high bool
}

// GPOWrite is one output change a client made (GPOWriteData).
type GPOWrite struct {
	Port uint16
	High bool
	Time time.Time
}

// prepareGPI validates the GPI steps, sorts them by time and returns the
// time of the last.
func (sc *Scenario) prepareGPI() (time.Duration, error) {
	var end time.Duration
	for i := range sc.GPI {
		g := &sc.GPI[i]
		switch g.State {
		case GPIHigh, GPILow:
			g.high = g.State == GPIHigh
		default:
			return 0, fmt.Errorf("readersim: gpi[%d]: state %q must be high or low", i, g.State)
		}
		if g.Port == 0 || g.Port > SimGPIs {
			return 0, fmt.Errorf("readersim: gpi[%d]: port %d outside 1..%d (the simulator has %d GPI ports)", i, g.Port, SimGPIs, SimGPIs)
		}
		if g.At < 0 {
			return 0, fmt.Errorf("readersim: gpi[%d]: at must not be negative", i)
		}
		end = max(end, g.At)
	}
	slices.SortStableFunc(sc.GPI, func(a, b GPIStep) int { return cmp.Compare(a.At, b.At) })
	return end, nil
}

// gpiBetween returns the GPI steps of scenario times in (from, to], looped
// scenarios repeating them every Duration; At is the step's time in the
// run, loops included.
func (sc *Scenario) gpiBetween(from, to time.Duration) []GPIStep {
	if len(sc.GPI) == 0 || to <= from {
		return nil
	}
	var out []GPIStep
	if !sc.Loop || sc.Duration <= 0 {
		for _, g := range sc.GPI {
			if g.At > from && g.At <= to {
				out = append(out, g)
			}
		}
		return out
	}
	for k := max(from, 0) / sc.Duration; k <= to/sc.Duration; k++ {
		for _, g := range sc.GPI {
			if g.At >= sc.Duration {
				continue
			}
			if t := k*sc.Duration + g.At; t > from && t <= to {
				g.At = t
				out = append(out, g)
			}
		}
	}
	return out
}

// gpiLevel returns whether input port is high at scenario time el: the
// state of its last step at or before el (a looped scenario repeating its
// steps every Duration), low before any. A step `at: 0s` sets the input
// before any client connects.
func (sc *Scenario) gpiLevel(port uint16, el time.Duration) bool {
	high := false
	if !sc.Loop || sc.Duration <= 0 {
		for _, g := range sc.GPI { // sorted by time
			if g.Port == port && g.At <= el {
				high = g.high
			}
		}
		return high
	}
	loops, into := el/sc.Duration, el%sc.Duration
	stepped := false
	for _, g := range sc.GPI {
		if g.Port == port && g.At < sc.Duration && g.At <= into {
			high, stepped = g.high, true
		}
	}
	if stepped || loops == 0 {
		return high
	}
	for _, g := range sc.GPI { // the previous loop's last step
		if g.Port == port && g.At < sc.Duration {
			high = g.high
		}
	}
	return high
}

// simGPIO is the reader's output state and the history of writes.
type simGPIO struct {
	mu     sync.Mutex
	gpo    map[uint16]bool
	writes []GPOWrite
}

// GPO reports whether output port is high (set by a client's GPOWriteData;
// outputs start low).
func (s *Sim) GPO(port uint16) bool {
	s.gpio.mu.Lock()
	defer s.gpio.mu.Unlock()
	return s.gpio.gpo[port]
}

// GPOWrites returns every output change clients made, oldest first.
func (s *Sim) GPOWrites() []GPOWrite {
	s.gpio.mu.Lock()
	defer s.gpio.mu.Unlock()
	return slices.Clone(s.gpio.writes)
}

// GPOStates returns the outputs as "1=high 2=low …" for logs and status.
func (s *Sim) GPOStates() string {
	s.gpio.mu.Lock()
	defer s.gpio.mu.Unlock()
	out := ""
	for p := uint16(1); p <= SimGPOs; p++ {
		if p > 1 {
			out += " "
		}
		out += fmt.Sprintf("%d=%s", p, level(s.gpio.gpo[p]))
	}
	return out
}

func level(high bool) string {
	if high {
		return GPIHigh
	}
	return GPILow
}

func (s *Sim) setGPO(w GPOWrite) {
	s.gpio.mu.Lock()
	if s.gpio.gpo == nil {
		s.gpio.gpo = map[uint16]bool{}
	}
	s.gpio.gpo[w.Port] = w.High
	s.gpio.writes = append(s.gpio.writes, w)
	s.gpio.mu.Unlock()
	s.log().Info("GPO set", "port", w.Port, "state", level(w.High))
	if s.OnGPO != nil {
		s.OnGPO(w)
	}
}

// connGPIO is one connection's GPI configuration and the ROSpecs its
// triggers run.
type connGPIO struct {
	events  bool            // GPI event notifications on
	enabled map[uint16]bool // GPI ports enabled (GPIPortCurrentState)
	last    time.Duration   // scenario time up to which GPI steps were applied
	started map[uint32]time.Duration
	next    map[uint32]time.Duration // periodic start trigger: next start
	// triggered: ROSpecs started by a trigger, at that scenario time;
	// from: reads of scenario times before it are not reported (the
	// earliest start of the running ROSpecs, 0 when one was started
	// otherwise).
	triggered map[uint32]time.Duration
	from      time.Duration
}

// setReaderGPIO applies the GPIO parts of a SET_READER_CONFIG; c.mu is
// held. A port the reader does not have is refused before anything is set.
func (c *simConn) setReaderGPIO(rc llrp.ReaderConfig) (llrp.Status, bool) {
	for _, g := range rc.GPOWrites {
		if g.Port == 0 || g.Port > SimGPOs {
			return llrp.Status{Code: statusFieldError, Description: fmt.Sprintf("GPO port %d does not exist (1..%d)", g.Port, SimGPOs)}, false
		}
	}
	for _, g := range rc.GPIPorts {
		if g.Port == 0 || g.Port > SimGPIs {
			return llrp.Status{Code: statusFieldError, Description: fmt.Sprintf("GPI port %d does not exist (1..%d)", g.Port, SimGPIs)}, false
		}
	}
	for _, e := range rc.Events {
		if e.Type == llrp.EventGPI {
			c.gpio.events = e.On
		}
	}
	for _, g := range rc.GPIPorts {
		if c.gpio.enabled == nil {
			c.gpio.enabled = map[uint16]bool{}
		}
		c.gpio.enabled[g.Port] = g.Enabled
	}
	for _, g := range rc.GPOWrites {
		c.s.setGPO(GPOWrite{Port: g.Port, High: g.High, Time: time.Now()})
	}
	return llrp.Status{}, true
}

// getReaderGPIO answers a GET_READER_CONFIG at scenario time el; c.mu is
// held. The simulator keeps no other configuration than its inputs, its
// outputs, the keepalive period and the hold flag: it answers RequestedData
// 0 (all: those), 9 (GPIPortCurrentState) and 10 (GPOWriteData), and
// refuses the others with a field error. An input the client has not
// enabled reports the unknown state: the simulator does not watch it.
func (c *simConn) getReaderGPIO(q llrp.GetReaderConfig, el time.Duration) (llrp.ReaderConfig, llrp.Status) {
	var rc llrp.ReaderConfig
	gpi := q.RequestedData == llrp.ConfigAll || q.RequestedData == llrp.ConfigGPIPortCurrentState
	gpo := q.RequestedData == llrp.ConfigAll || q.RequestedData == llrp.ConfigGPOWriteData
	if !gpi && !gpo {
		return rc, llrp.Status{Code: statusFieldError, Description: fmt.Sprintf(
			"RequestedData %d: the simulator reports 0 (all it keeps), 9 (GPIPortCurrentState) and 10 (GPOWriteData)", q.RequestedData)}
	}
	if gpi && q.GPIPort > SimGPIs {
		return rc, llrp.Status{Code: statusFieldError, Description: fmt.Sprintf("GPI port %d does not exist (1..%d; 0 for all)", q.GPIPort, SimGPIs)}
	}
	if gpo && q.GPOPort > SimGPOs {
		return rc, llrp.Status{Code: statusFieldError, Description: fmt.Sprintf("GPO port %d does not exist (1..%d; 0 for all)", q.GPOPort, SimGPOs)}
	}
	for p := uint16(1); gpi && p <= SimGPIs; p++ {
		if q.GPIPort != 0 && q.GPIPort != p {
			continue
		}
		st := llrp.GPIPort{Port: p, Enabled: c.gpio.enabled[p], State: llrp.GPIStateUnknown}
		if st.Enabled {
			st.State = llrp.GPIStateLow
			if c.s.sc.gpiLevel(p, el) {
				st.State = llrp.GPIStateHigh
			}
		}
		rc.GPIPorts = append(rc.GPIPorts, st)
	}
	for p := uint16(1); gpo && p <= SimGPOs; p++ {
		if q.GPOPort == 0 || q.GPOPort == p {
			rc.GPOWrites = append(rc.GPOWrites, llrp.GPOWrite{Port: p, High: c.s.GPO(p)})
		}
	}
	if q.RequestedData == llrp.ConfigAll {
		rc.KeepaliveMS = uint32(c.keepalive / time.Millisecond)
		rc.SetHold, rc.HoldEvents = true, c.hold
	}
	return rc, llrp.Status{}
}

// checkTriggers refuses an ROSpec whose triggers the simulator cannot run.
func checkTriggers(ro *llrp.ROSpec) string {
	switch ro.StartTrigger {
	case llrp.StartTriggerNull, llrp.StartTriggerImmediate:
	case llrp.StartTriggerPeriodic:
		if ro.StartPeriodic == nil {
			return "periodic start trigger without PeriodicTriggerValue"
		}
	case llrp.StartTriggerGPI:
		if ro.StartGPI == nil || ro.StartGPI.Port == 0 || ro.StartGPI.Port > SimGPIs {
			return fmt.Sprintf("GPI start trigger needs a GPITriggerValue with a port 1..%d", SimGPIs)
		}
	default:
		return fmt.Sprintf("start trigger type %d is not supported", ro.StartTrigger)
	}
	switch ro.StopTrigger {
	case llrp.StopTriggerNull, llrp.StopTriggerDuration:
	case llrp.StopTriggerGPI:
		if ro.StopGPI == nil || ro.StopGPI.Port == 0 || ro.StopGPI.Port > SimGPIs {
			return fmt.Sprintf("GPI stop trigger needs a GPITriggerValue with a port 1..%d", SimGPIs)
		}
	default:
		return fmt.Sprintf("stop trigger type %d is not supported", ro.StopTrigger)
	}
	return ""
}

// enableTriggers arms an enabled ROSpec's periodic start trigger at
// scenario time el; c.mu is held.
func (c *simConn) enableTriggers(id uint32, ro *llrp.ROSpec, el time.Duration) {
	if ro.StartTrigger == llrp.StartTriggerPeriodic && ro.StartPeriodic != nil {
		if c.gpio.next == nil {
			c.gpio.next = map[uint32]time.Duration{}
		}
		c.gpio.next[id] = el + ms(ro.StartPeriodic.OffsetMS)
	}
}

func ms(v uint32) time.Duration { return time.Duration(v) * time.Millisecond }

// stepGPIO applies the scenario's GPI steps up to scenario time el: GPI
// events to the client, ROSpecs started and stopped by their triggers
// (durations run on scenario time).
func (c *simConn) stepGPIO(el time.Duration) error {
	steps := c.s.sc.gpiBetween(c.gpio.last, el)
	c.mu.Lock()
	c.gpio.last = el
	if c.gpio.started == nil {
		c.gpio.started = map[uint32]time.Duration{}
		c.gpio.triggered = map[uint32]time.Duration{}
	}
	var ev llrp.EventData
	start := func(id uint32, at time.Duration) {
		c.running[id] = true
		c.gpio.started[id] = at
		c.gpio.triggered[id] = at
		ev.ROSpecs = append(ev.ROSpecs, llrp.ROSpecEvent{Type: 0, ROSpecID: id})
	}
	stop := func(id uint32) {
		delete(c.running, id)
		delete(c.gpio.started, id)
		delete(c.gpio.triggered, id)
		ev.ROSpecs = append(ev.ROSpecs, llrp.ROSpecEvent{Type: 1, ROSpecID: id})
	}
	ids := make([]uint32, 0, len(c.enabled))
	for id := range c.enabled {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, g := range steps {
		if !c.gpio.enabled[g.Port] {
			continue // a disabled input neither reports nor triggers
		}
		if c.gpio.events {
			ev.GPIs = append(ev.GPIs, llrp.GPIEvent{Port: g.Port, High: g.high})
		}
		for _, id := range ids {
			ro := c.rospecs[id]
			switch {
			case !c.running[id] && ro.StartTrigger == llrp.StartTriggerGPI && ro.StartGPI.Port == g.Port && ro.StartGPI.High == g.high:
				start(id, g.At)
			case c.running[id] && ro.StopTrigger == llrp.StopTriggerGPI && ro.StopGPI.Port == g.Port && ro.StopGPI.High == g.high:
				stop(id)
			}
		}
	}
	for _, id := range ids {
		ro := c.rospecs[id]
		if !c.running[id] {
			delete(c.gpio.started, id)
			delete(c.gpio.triggered, id)
			if at, ok := c.gpio.next[id]; ok && el >= at {
				start(id, at)
				if p := ms(ro.StartPeriodic.PeriodMS); p > 0 {
					c.gpio.next[id] = at + (el-at)/p*p + p
				} else {
					delete(c.gpio.next, id)
				}
			}
			continue
		}
		at, ok := c.gpio.started[id]
		if !ok {
			c.gpio.started[id] = el // started by START_ROSPEC or on enabling
			continue
		}
		switch {
		case ro.StopTrigger == llrp.StopTriggerDuration && el-at >= ms(ro.StopMS),
			ro.StopTrigger == llrp.StopTriggerGPI && ro.StopGPI.TimeoutMS > 0 && el-at >= ms(ro.StopGPI.TimeoutMS):
			stop(id)
		}
	}
	c.gpio.from = 0
	first := true
	for id := range c.running {
		at, ok := c.gpio.triggered[id]
		if !ok {
			at = 0
		}
		if first || at < c.gpio.from {
			c.gpio.from, first = at, false
		}
	}
	// A muted reader (half-open connection) changes state but says nothing.
	send := (c.reportsOn || !c.hold) && el >= c.mutedUntil && len(ev.GPIs)+len(ev.ROSpecs) > 0
	if send {
		c.nextID++
	}
	id := c.nextID
	c.mu.Unlock()
	if !send {
		return nil
	}
	ev.Timestamp = uint64(time.Now().UnixMicro())
	return c.write(llrp.AppendReaderEvent(nil, id, ev))
}
