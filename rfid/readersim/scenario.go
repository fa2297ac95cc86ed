package readersim

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dockgate/dockgate/rfid"
)

// Scenario describes what a simulated reader sees over time. Times are
// scenario time from the start of serving.
type Scenario struct {
	Name string `yaml:"name"`
	Seed uint64 `yaml:"seed"` // random seed for read misses and strays (default 1)
	// Duration is the scenario's length (default: until the last carton has
	// left plus one second). With Loop the scenario then starts over.
	Duration time.Duration `yaml:"duration"`
	Loop     bool          `yaml:"loop"`
	// Cycle is the inventory round period (default 50ms).
	Cycle time.Duration `yaml:"cycle"`
	// Antennas is the number of antenna ports of the reader (default 4).
	Antennas uint16 `yaml:"antennas"`
	// Sensitivity in dBm: nothing weaker is read (default -80).
	Sensitivity int `yaml:"sensitivity"`
	// AllowSecondClient lets a second LLRP client connect; by default the
	// reader refuses it like real readers do.
	AllowSecondClient bool     `yaml:"allow_second_client"`
	Doors             []Door   `yaml:"doors"`
	Cartons           []Carton `yaml:"cartons"`
	Strays            []Stray  `yaml:"strays"`
	Faults            []Fault  `yaml:"faults"`
	// GPI changes the reader's inputs at scenario times (photo eyes).
	GPI []GPIStep `yaml:"gpi"`
}

// Door is a portal: antennas outside and inside the building.
type Door struct {
	ID      string   `yaml:"id"`
	Outside []uint16 `yaml:"outside"`
	Inside  []uint16 `yaml:"inside"`
}

// Carton is a set of tags moving through a door together.
type Carton struct {
	Name      string        `yaml:"name"`
	Door      string        `yaml:"door"`
	Direction string        `yaml:"direction"` // in | out
	At        time.Duration `yaml:"at"`        // when it enters the read field
	Dwell     time.Duration `yaml:"dwell"`     // time in the read field (default 2s)
	EPCs      []string      `yaml:"epcs"`
	PeakRSSI  int           `yaml:"peak_rssi"` // dBm at the closest point (default -45)
	EdgeRSSI  int           `yaml:"edge_rssi"` // dBm at the field's edges (default -75)
	ReadRate  float64       `yaml:"read_rate"` // chance a tag is read per antenna and cycle (default 0.8)
	// Dead lists tags of the carton that are never read (damaged or
	// detuned tags): a portal cannot see them, receiving must notice.
	Dead []string `yaml:"dead"`
	// Curves override the per-antenna RSSI curves derived from the door and
	// direction.
	Curves []Curve `yaml:"curves"`

	epcs []rfid.EPC
	dead []rfid.EPC
}

// Curve is one antenna's view of a carton: RSSI peaks at fraction Peak of the
// dwell time and falls linearly to the carton's EdgeRSSI at ±Width/2.
type Curve struct {
	Antenna uint16  `yaml:"antenna"`
	Peak    float64 `yaml:"peak"`  // 0..1 of the dwell
	RSSI    int     `yaml:"rssi"`  // peak dBm (default: the carton's PeakRSSI)
	Width   float64 `yaml:"width"` // 0..2 of the dwell (default 1)
}

// Stray is a tag read now and then by one antenna: a tag on a nearby rack,
// a carton on the next door's lane.
type Stray struct {
	EPC     string        `yaml:"epc"`
	Antenna uint16        `yaml:"antenna"`
	RSSI    int           `yaml:"rssi"` // default -78
	Rate    float64       `yaml:"rate"` // chance per cycle (default 0.05)
	From    time.Duration `yaml:"from"`
	Until   time.Duration `yaml:"until"` // default: the scenario's end

	epc rfid.EPC
}

// Fault kinds.
const (
	FaultDrop          = "drop"           // close the TCP connection abruptly
	FaultMute          = "mute"           // go silent (no keepalives, reports or answers) for For: a half-open connection
	FaultAntennaDown   = "antenna_down"   // report Antenna disconnected (AntennaEvent)
	FaultBufferWarning = "buffer_warning" // report the report buffer Level percent full
)

// Fault breaks the connection or raises a reader event at a scenario time.
type Fault struct {
	At      time.Duration `yaml:"at"`
	Kind    string        `yaml:"kind"`
	For     time.Duration `yaml:"for"`     // mute: how long (default 10s)
	Antenna uint16        `yaml:"antenna"` // antenna_down
	Level   uint8         `yaml:"level"`   // buffer_warning: percent (default 80)
}

//go:embed scenarios/*.yaml
var builtin embed.FS

// BuiltinNames lists the built-in scenarios.
func BuiltinNames() []string {
	ents, _ := builtin.ReadDir("scenarios")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// Load returns a built-in scenario by name, or reads a YAML file.
func Load(nameOrPath string) (*Scenario, error) {
	if b, err := builtin.ReadFile("scenarios/" + nameOrPath + ".yaml"); err == nil {
		return Parse(bytes.NewReader(b))
	}
	f, err := os.Open(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("readersim: scenario %q is neither a built-in (%s) nor a readable file: %w",
			nameOrPath, strings.Join(BuiltinNames(), ", "), err)
	}
	defer f.Close()
	sc, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameOrPath, err)
	}
	return sc, nil
}

// Parse decodes a scenario strictly (unknown keys are errors), fills its
// defaults and validates it.
func Parse(r io.Reader) (*Scenario, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("readersim: scenario YAML: %w", err)
	}
	if err := sc.Prepare(); err != nil {
		return nil, err
	}
	return &sc, nil
}

// Prepare fills defaults and validates; Parse calls it, code that builds a
// Scenario by hand calls it before use.
func (sc *Scenario) Prepare() error {
	if sc.Seed == 0 {
		sc.Seed = 1
	}
	if sc.Cycle == 0 {
		sc.Cycle = 50 * time.Millisecond
	}
	if sc.Cycle < time.Millisecond {
		return fmt.Errorf("readersim: cycle %v is too short; use at least 1ms", sc.Cycle)
	}
	if sc.Antennas == 0 {
		sc.Antennas = 4
	}
	if sc.Sensitivity == 0 {
		sc.Sensitivity = -80
	}
	doors := map[string]*Door{}
	for i := range sc.Doors {
		d := &sc.Doors[i]
		if d.ID == "" {
			return fmt.Errorf("readersim: doors[%d] has no id", i)
		}
		if len(d.Outside) == 0 || len(d.Inside) == 0 {
			return fmt.Errorf("readersim: door %q needs outside and inside antennas", d.ID)
		}
		for _, a := range slices.Concat(d.Outside, d.Inside) {
			if a == 0 || a > sc.Antennas {
				return fmt.Errorf("readersim: door %q uses antenna %d; the reader has antennas 1..%d (set antennas:)", d.ID, a, sc.Antennas)
			}
		}
		doors[d.ID] = d
	}
	var end time.Duration
	for i := range sc.Cartons {
		c := &sc.Cartons[i]
		what := fmt.Sprintf("readersim: cartons[%d] (%s)", i, c.Name)
		if c.Dwell == 0 {
			c.Dwell = 2 * time.Second
		}
		if c.PeakRSSI == 0 {
			c.PeakRSSI = -45
		}
		if c.EdgeRSSI == 0 {
			c.EdgeRSSI = -75
		}
		if c.ReadRate == 0 {
			c.ReadRate = 0.8
		}
		if c.ReadRate < 0 || c.ReadRate > 1 {
			return fmt.Errorf("%s: read_rate %v must be within 0..1", what, c.ReadRate)
		}
		if len(c.EPCs) == 0 {
			return fmt.Errorf("%s: no epcs", what)
		}
		if !dBm(c.PeakRSSI) || !dBm(c.EdgeRSSI) {
			return fmt.Errorf("%s: peak_rssi %d and edge_rssi %d must be dBm within -128..0", what, c.PeakRSSI, c.EdgeRSSI)
		}
		if c.At < 0 || c.Dwell < 0 {
			return fmt.Errorf("%s: at and dwell must not be negative", what)
		}
		c.epcs, c.dead = c.epcs[:0], c.dead[:0]
		for _, s := range c.EPCs {
			e, err := rfid.ParseEPC(s)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			c.epcs = append(c.epcs, e)
		}
		for _, s := range c.Dead {
			e, err := rfid.ParseEPC(s)
			if err != nil {
				return fmt.Errorf("%s: dead: %w", what, err)
			}
			c.dead = append(c.dead, e)
		}
		if len(c.Curves) == 0 {
			d, ok := doors[c.Door]
			if !ok {
				return fmt.Errorf("%s: door %q is not in doors (or give curves)", what, c.Door)
			}
			first, second := d.Outside, d.Inside
			switch c.Direction {
			case "in":
			case "out":
				first, second = second, first
			default:
				return fmt.Errorf("%s: direction %q must be in or out", what, c.Direction)
			}
			for _, a := range first {
				c.Curves = append(c.Curves, Curve{Antenna: a, Peak: 0.3})
			}
			for _, a := range second {
				c.Curves = append(c.Curves, Curve{Antenna: a, Peak: 0.7})
			}
		}
		for j := range c.Curves {
			cv := &c.Curves[j]
			if cv.RSSI == 0 {
				cv.RSSI = c.PeakRSSI
			}
			if cv.Width == 0 {
				cv.Width = 1
			}
			if !dBm(cv.RSSI) || cv.Width < 0 || cv.Width > 2 || cv.Peak < 0 || cv.Peak > 1 {
				return fmt.Errorf("%s: curve of antenna %d: rssi within -128..0, peak within 0..1, width within 0..2", what, cv.Antenna)
			}
			if cv.Antenna == 0 || cv.Antenna > sc.Antennas {
				return fmt.Errorf("%s: curve antenna %d outside 1..%d", what, cv.Antenna, sc.Antennas)
			}
		}
		end = max(end, c.At+c.Dwell)
	}
	for i := range sc.Strays {
		s := &sc.Strays[i]
		e, err := rfid.ParseEPC(s.EPC)
		if err != nil {
			return fmt.Errorf("readersim: strays[%d]: %w", i, err)
		}
		s.epc = e
		if s.RSSI == 0 {
			s.RSSI = -78
		}
		if s.Rate == 0 {
			s.Rate = 0.05
		}
		if !dBm(s.RSSI) || s.Rate < 0 || s.Rate > 1 {
			return fmt.Errorf("readersim: strays[%d]: rssi %d must be within -128..0 and rate %v within 0..1", i, s.RSSI, s.Rate)
		}
		if s.Antenna == 0 || s.Antenna > sc.Antennas {
			return fmt.Errorf("readersim: strays[%d]: antenna %d outside 1..%d", i, s.Antenna, sc.Antennas)
		}
	}
	for i := range sc.Faults {
		f := &sc.Faults[i]
		switch f.Kind {
		case FaultDrop:
		case FaultMute:
			if f.For == 0 {
				f.For = 10 * time.Second
			}
		case FaultAntennaDown:
			if f.Antenna == 0 || f.Antenna > sc.Antennas {
				return fmt.Errorf("readersim: faults[%d]: antenna_down needs antenna: 1..%d", i, sc.Antennas)
			}
		case FaultBufferWarning:
			if f.Level == 0 {
				f.Level = 80
			}
		default:
			return fmt.Errorf("readersim: faults[%d]: kind %q must be one of %s, %s, %s, %s", i, f.Kind,
				FaultDrop, FaultMute, FaultAntennaDown, FaultBufferWarning)
		}
	}
	gpiEnd, err := sc.prepareGPI()
	if err != nil {
		return err
	}
	end = max(end, gpiEnd)
	if sc.Duration == 0 {
		sc.Duration = end + time.Second
	}
	return nil
}

func dBm(v int) bool { return v >= -128 && v <= 0 }

// Pass is the known truth of one carton: which EPCs crossed which door in
// which direction (readable tags in EPCs, dead ones in Dead).
type Pass struct {
	Carton    string
	Door      string
	Direction string
	EPCs      []rfid.EPC
	Dead      []rfid.EPC
}

// Truth lists the cartons as passes, for checking portal output.
func (sc *Scenario) Truth() []Pass {
	var out []Pass
	for _, c := range sc.Cartons {
		out = append(out, Pass{Carton: c.Name, Door: c.Door, Direction: c.Direction,
			EPCs: slices.Clone(c.epcs), Dead: slices.Clone(c.dead)})
	}
	return out
}

// Generator produces a scenario's reads cycle by cycle, deterministically
// for a seed.
type Generator struct {
	sc    *Scenario
	rng   *rand.Rand
	cycle int64
}

// NewGenerator starts at cycle 0.
func (sc *Scenario) NewGenerator() *Generator {
	return &Generator{sc: sc, rng: rand.New(rand.NewPCG(sc.Seed, sc.Seed^0x9E3779B97F4A7C15))}
}

// errNoScenario is returned for a nil scenario.
var errNoScenario = errors.New("readersim: no scenario")

// Elapsed is the scenario time of the next cycle.
func (g *Generator) Elapsed() time.Duration { return time.Duration(g.cycle) * g.sc.Cycle }

// Next runs one inventory cycle and appends its reads (Time = scenario
// time as an offset from t0, ReaderTime likewise) to dst.
func (g *Generator) Next(dst []rfid.Read, t0 time.Time) []rfid.Read {
	sc := g.sc
	t := g.Elapsed()
	if sc.Loop && sc.Duration > 0 {
		t %= sc.Duration
	}
	g.cycle++
	at := t0.Add(g.Elapsed() - sc.Cycle)
	for i := range sc.Cartons {
		c := &sc.Cartons[i]
		if t < c.At || t >= c.At+c.Dwell {
			continue
		}
		f := float64(t-c.At) / float64(c.Dwell)
		for _, cv := range c.Curves {
			dist := f - cv.Peak
			if dist < 0 {
				dist = -dist
			}
			if dist > cv.Width/2 {
				continue
			}
			rssi := float64(cv.RSSI) - float64(cv.RSSI-c.EdgeRSSI)*dist/(cv.Width/2)
			if int(rssi) < sc.Sensitivity {
				continue
			}
			for _, e := range c.epcs {
				if g.rng.Float64() >= c.ReadRate {
					continue
				}
				v := min(max(int(rssi)+g.rng.IntN(5)-2, -128), 0)
				dst = append(dst, rfid.Read{EPC: e, Antenna: cv.Antenna, RSSI: int8(v), HasRSSI: true,
					Time: at, ReaderTime: at, SeenCount: 1})
			}
		}
	}
	for i := range sc.Strays {
		s := &sc.Strays[i]
		if t < s.From || (s.Until > 0 && t >= s.Until) {
			continue
		}
		if g.rng.Float64() < s.Rate {
			dst = append(dst, rfid.Read{EPC: s.epc, Antenna: s.Antenna, RSSI: int8(s.RSSI), HasRSSI: true,
				Time: at, ReaderTime: at, SeenCount: 1})
		}
	}
	return dst
}
