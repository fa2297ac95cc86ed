package llrp

// GPIO and trigger parameter types (LLRP 1.0.1 §10.2, §12.2.3, §12.2.6.3,
// §13.2.6.3).
const (
	ParamPeriodicTriggerValue uint16 = 180
	ParamGPITriggerValue      uint16 = 181
	ParamGPOWriteData         uint16 = 219
	ParamGPIPortCurrentState  uint16 = 225
	ParamGPIEvent             uint16 = 248
)

// ROSpec start and stop trigger types beyond null, immediate and duration.
const (
	StartTriggerPeriodic uint8 = 2 // PeriodicTriggerValue
	StartTriggerGPI      uint8 = 3 // GPITriggerValue
	StopTriggerGPI       uint8 = 2 // GPI with a timeout: GPITriggerValue
)

// GPI port states in GPIPortCurrentState.
const (
	GPIStateLow     uint8 = 0
	GPIStateHigh    uint8 = 1
	GPIStateUnknown uint8 = 2
)

const gpioHighBit uint8 = 0x80 // GPIEvent, GPOData, Config: the first bit

// PeriodicTrigger is a PeriodicTriggerValue: the ROSpec starts OffsetMS
// after it is enabled, then every PeriodMS (0: once).
type PeriodicTrigger struct {
	OffsetMS uint32
	PeriodMS uint32
}

// GPITrigger is a GPITriggerValue: the trigger fires when GPI Port goes
// high (High) or low. TimeoutMS bounds a GPI stop trigger (the ROSpec stops
// at the latest TimeoutMS after it started; 0: no timeout); a start trigger
// ignores it.
type GPITrigger struct {
	Port      uint16
	High      bool
	TimeoutMS uint32
}

// GPOWrite is a GPOWriteData: set output Port (from 1) high or low.
type GPOWrite struct {
	Port uint16
	High bool
}

// GPIPort is a GPIPortCurrentState: Enabled turns input Port on (GPI
// triggers and events need it); State is GPIState* (ignored in
// SET_READER_CONFIG).
type GPIPort struct {
	Port    uint16
	Enabled bool
	State   uint8
}

// GPIEvent is a GPIEvent in a READER_EVENT_NOTIFICATION: input Port
// changed to High or low.
type GPIEvent struct {
	Port uint16
	High bool
}

func flag(b bool) uint8 {
	if b {
		return gpioHighBit
	}
	return 0
}

func (w *builder) gpiTrigger(t GPITrigger) {
	o := w.begin(ParamGPITriggerValue)
	w.u16(t.Port)
	w.u8(flag(t.High))
	w.u32(t.TimeoutMS)
	w.end(o)
}

func parseGPITrigger(v []byte) (*GPITrigger, error) {
	r := reader{b: v, what: "GPITriggerValue"}
	t := GPITrigger{Port: r.u16(), High: r.u8()&gpioHighBit != 0, TimeoutMS: r.u32()}
	return &t, r.err
}

func (w *builder) periodicTrigger(t PeriodicTrigger) {
	o := w.begin(ParamPeriodicTriggerValue)
	w.u32(t.OffsetMS)
	w.u32(t.PeriodMS)
	// UTCTimestamp (optional) is not sent: the offset counts from enabling.
	w.end(o)
}

func parsePeriodicTrigger(v []byte) (*PeriodicTrigger, error) {
	r := reader{b: v, what: "PeriodicTriggerValue"}
	t := PeriodicTrigger{OffsetMS: r.u32(), PeriodMS: r.u32()}
	return &t, r.err
}

// startTrigger appends an ROSpecStartTrigger: its type, and the trigger
// value its type needs when s carries one.
func (w *builder) startTrigger(s ROSpec) {
	st := w.begin(ParamROSpecStartTrigger)
	w.u8(s.StartTrigger)
	switch {
	case s.StartTrigger == StartTriggerPeriodic && s.StartPeriodic != nil:
		w.periodicTrigger(*s.StartPeriodic)
	case s.StartTrigger == StartTriggerGPI && s.StartGPI != nil:
		w.gpiTrigger(*s.StartGPI)
	}
	w.end(st)
}

// stopTrigger appends an ROSpecStopTrigger.
func (w *builder) stopTrigger(s ROSpec) {
	sp := w.begin(ParamROSpecStopTrigger)
	w.u8(s.StopTrigger)
	w.u32(s.StopMS)
	if s.StopTrigger == StopTriggerGPI && s.StopGPI != nil {
		w.gpiTrigger(*s.StopGPI)
	}
	w.end(sp)
}

// parseStartTrigger decodes an ROSpecStartTrigger value into s; unknown
// and custom parameters in it are skipped.
func parseStartTrigger(v []byte, s *ROSpec) error {
	r := reader{b: v, what: "ROSpecStartTrigger"}
	s.StartTrigger = r.u8()
	if r.err != nil {
		return r.err
	}
	it := NewParams(r.b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		var err error
		switch p.Type {
		case ParamPeriodicTriggerValue:
			s.StartPeriodic, err = parsePeriodicTrigger(p.Value)
		case ParamGPITriggerValue:
			s.StartGPI, err = parseGPITrigger(p.Value)
		}
		if err != nil {
			return err
		}
	}
	return it.Err()
}

// parseStopTrigger decodes an ROSpecStopTrigger value into s.
func parseStopTrigger(v []byte, s *ROSpec) error {
	r := reader{b: v, what: "ROSpecStopTrigger"}
	s.StopTrigger, s.StopMS = r.u8(), r.u32()
	if r.err != nil {
		return r.err
	}
	it := NewParams(r.b)
	for p, ok := it.Next(); ok; p, ok = it.Next() {
		if p.Type == ParamGPITriggerValue {
			t, err := parseGPITrigger(p.Value)
			if err != nil {
				return err
			}
			s.StopGPI = t
		}
	}
	return it.Err()
}

// gpoWrites appends a GPOWriteData parameter for each of ws.
func (w *builder) gpoWrites(ws []GPOWrite) {
	for _, g := range ws {
		o := w.begin(ParamGPOWriteData)
		w.u16(g.Port)
		w.u8(flag(g.High))
		w.end(o)
	}
}

// gpiPorts appends a GPIPortCurrentState parameter for each of ps.
func (w *builder) gpiPorts(ps []GPIPort) {
	for _, g := range ps {
		o := w.begin(ParamGPIPortCurrentState)
		w.u16(g.Port)
		w.u8(flag(g.Enabled))
		w.u8(g.State)
		w.end(o)
	}
}

// parseGPIO decodes a GPOWriteData or GPIPortCurrentState parameter into c;
// it returns false for other parameters.
func parseGPIO(p Param, c *ReaderConfig) (bool, error) {
	switch p.Type {
	case ParamGPOWriteData:
		r := reader{b: p.Value, what: "GPOWriteData"}
		g := GPOWrite{Port: r.u16(), High: r.u8()&gpioHighBit != 0}
		if r.err != nil {
			return true, r.err
		}
		c.GPOWrites = append(c.GPOWrites, g)
	case ParamGPIPortCurrentState:
		r := reader{b: p.Value, what: "GPIPortCurrentState"}
		g := GPIPort{Port: r.u16(), Enabled: r.u8()&gpioHighBit != 0, State: r.u8()}
		if r.err != nil {
			return true, r.err
		}
		c.GPIPorts = append(c.GPIPorts, g)
	default:
		return false, nil
	}
	return true, nil
}

func (w *builder) gpiEvents(es []GPIEvent) {
	for _, g := range es {
		o := w.begin(ParamGPIEvent)
		w.u16(g.Port)
		w.u8(flag(g.High))
		w.end(o)
	}
}
