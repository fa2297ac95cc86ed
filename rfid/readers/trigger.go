package readers

import (
	"fmt"
	"math"
	"time"

	"github.com/dockgate/dockgate/rfid/llrp"
)

// Trigger values.
const (
	TriggerImmediate = "immediate"
	TriggerPeriodic  = "periodic"
	TriggerGPI       = "gpi"
	TriggerNone      = "none"
	TriggerTimeout   = "timeout"
	LevelHigh        = "high"
	LevelLow         = "low"
)

// Trigger is when an LLRP reader reads (the trigger: key of a reader). The
// zero value reads from connection to shutdown.
type Trigger struct {
	// Start: immediate (default: as soon as the session is up), periodic
	// (every Period) or gpi (when GPI Port goes to Level).
	Start string `yaml:"start"`
	// Port is the GPI port (from 1) of start: gpi and stop: gpi.
	Port uint16 `yaml:"port"`
	// Level is the start level of start: gpi: high (default) or low.
	Level  string        `yaml:"level"`
	Period time.Duration `yaml:"period"`
	// Stop: none (default), gpi (when Port goes to StopLevel, or at the
	// latest After after the start when After is set) or timeout (After
	// after the start).
	Stop string `yaml:"stop"`
	// StopLevel defaults to the opposite of Level.
	StopLevel string        `yaml:"stop_level"`
	After     time.Duration `yaml:"after"`
}

// immediate reports whether t reads from connection to shutdown.
func (t Trigger) immediate() bool {
	return (t.Start == "" || t.Start == TriggerImmediate) && (t.Stop == "" || t.Stop == TriggerNone)
}

// validate returns the problems of t, each naming its key and the fix.
func (t Trigger) validate(typ string) []string {
	if typ == TypeSerial {
		if !t.immediate() {
			return []string{"trigger: serial readers have no GPI and no reader-side triggers; remove trigger from this serial reader (it reads continuously)"}
		}
		return nil
	}
	var probs []string
	add := func(format string, a ...any) { probs = append(probs, "trigger."+fmt.Sprintf(format, a...)) }
	gpi := t.Start == TriggerGPI || t.Stop == TriggerGPI
	switch t.Start {
	case "", TriggerImmediate:
		if t.Stop == TriggerGPI || t.Stop == TriggerTimeout {
			// An immediate ROSpec that stops waits for START_ROSPEC,
			// which the session sends only at its setup.
			add("stop: %s needs start: gpi or start: periodic: with start: immediate the reader would read once after connecting and then never again; set a start trigger, or remove stop", t.Stop)
		}
	case TriggerGPI:
		if t.Stop == "" || t.Stop == TriggerNone {
			// The ROSpec would start at the first trigger and never stop:
			// the door reads all the time from then on, and a later
			// trigger does nothing.
			add("stop: start: gpi needs stop: gpi (when the input goes back, e.g. the photo eye clears) or stop: timeout (with after: how long each trigger reads); with no stop the reader reads from the first trigger on until the gateway stops, and leave trigger out to read all the time")
		}
	case TriggerPeriodic:
		if t.Period <= 0 {
			add("period is required for start: periodic (e.g. period: 10s)")
		}
		if t.Stop == "" || t.Stop == TriggerNone {
			add("stop: start: periodic needs stop: timeout (with after: how long each period reads) or stop: gpi")
		}
		if t.Stop == TriggerTimeout && t.Period > 0 && t.After >= t.Period {
			add("after %v must be shorter than period %v (each period reads for after)", t.After, t.Period)
		}
	default:
		add("start %q is not immediate, periodic or gpi", t.Start)
	}
	if t.Period != 0 && t.Start != TriggerPeriodic {
		add("period is for start: periodic; remove it or set start: periodic")
	}
	switch t.Stop {
	case "", TriggerNone:
		if t.After != 0 {
			add("after is for stop: timeout or stop: gpi; remove it or set stop")
		}
	case TriggerGPI:
	case TriggerTimeout:
		if t.After <= 0 {
			add("after is required for stop: timeout (how long to read after the start, e.g. after: 5s)")
		}
	default:
		add("stop %q is not none, gpi or timeout", t.Stop)
	}
	switch {
	case gpi && t.Port == 0:
		add("port is required for start: gpi or stop: gpi: the GPI port (from 1) the sensor is wired to")
	case !gpi && t.Port != 0:
		add("port is for start: gpi or stop: gpi; remove it or set start: gpi")
	}
	for _, l := range []struct{ key, v string }{{"level", t.Level}, {"stop_level", t.StopLevel}} {
		if l.v != "" && l.v != LevelHigh && l.v != LevelLow {
			add("%s %q is not high or low", l.key, l.v)
		}
	}
	if t.Level != "" && t.Start != TriggerGPI {
		add("level is the start level of start: gpi; remove it or set start: gpi")
	}
	if t.StopLevel != "" && t.Stop != TriggerGPI {
		add("stop_level is for stop: gpi; remove it or set stop: gpi")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"period", t.Period}, {"after", t.After}} {
		if d.v < 0 || d.v > math.MaxUint32*time.Millisecond || (d.v > 0 && d.v < time.Millisecond) {
			add("%s %v must be 1ms to 49 days", d.key, d.v)
		}
	}
	return probs
}

// llrp converts a validated t.
func (t Trigger) llrp() llrp.Trigger {
	var out llrp.Trigger
	startHigh := t.Level != LevelLow
	switch t.Start {
	case TriggerPeriodic:
		out.Start = llrp.StartTriggerPeriodic
		out.Periodic = llrp.PeriodicTrigger{PeriodMS: uint32(t.Period / time.Millisecond)}
	case TriggerGPI:
		out.Start = llrp.StartTriggerGPI
		out.StartGPI = llrp.GPITrigger{Port: t.Port, High: startHigh}
	}
	switch t.Stop {
	case TriggerTimeout:
		out.Stop = llrp.StopTriggerDuration
		out.StopMS = uint32(t.After / time.Millisecond)
	case TriggerGPI:
		stopHigh := !startHigh
		if t.StopLevel != "" {
			stopHigh = t.StopLevel == LevelHigh
		}
		out.Stop = llrp.StopTriggerGPI
		out.StopGPI = llrp.GPITrigger{Port: t.Port, High: stopHigh, TimeoutMS: uint32(t.After / time.Millisecond)}
	}
	return out
}
