package readers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dockgate/dockgate/rfid"
	"github.com/dockgate/dockgate/rfid/llrp"
	"github.com/dockgate/dockgate/rfid/readersim"
	"github.com/dockgate/dockgate/rfid/serialrdr"
)

// Reader types.
const (
	TypeLLRP   = "llrp"
	TypeSerial = "serial"
	TypeSim    = "sim"
)

// Config is one reader as configured under the readers: key.
type Config struct {
	ID string `yaml:"id"`
	// Type is llrp (default), serial or sim (in-process LLRP simulator).
	Type string `yaml:"type"`
	// Address is host:port of an LLRP reader (port 5084 when omitted).
	Address string `yaml:"address"`
	// Device, Baud and Protocol (m100, ru5102, ascii) for serial readers;
	// Baud defaults to 115200.
	Device   string `yaml:"device"`
	Baud     int    `yaml:"baud"`
	Protocol string `yaml:"protocol"`
	// Pattern parses ASCII reader lines (default serialrdr.DefaultASCIIPattern).
	Pattern string `yaml:"pattern"`
	// Antennas to inventory (LLRP; default all).
	Antennas []uint16 `yaml:"antennas"`
	// KeepAlive is the LLRP keepalive period (default 5s); silence for twice
	// this reconnects.
	KeepAlive time.Duration `yaml:"keepalive"`
	// ReportEveryN asks an LLRP reader for a report every N tags (default 1).
	ReportEveryN uint16 `yaml:"report_every_n"`
	// PollInterval between inventory commands of serial readers (default 100ms).
	PollInterval time.Duration `yaml:"poll_interval"`
	// RF settings for all antennas (LLRP and sim), and per antenna over them.
	RF        `yaml:",inline"`
	AntennaRF map[uint16]RF `yaml:"antenna_rf"`
	// Trigger starts and stops reading on the reader's GPI (a photo eye),
	// periodically or after a time (LLRP and sim); default: always read.
	Trigger Trigger `yaml:"trigger"`
	// Scenario and TimeScale for type sim (default dock-in at 1×).
	Scenario  string  `yaml:"scenario"`
	TimeScale float64 `yaml:"time_scale"`
	// Model is the reader a sim presents: sim (default), r700 or fx9600.
	Model string `yaml:"model"`
}

// WithDefaults returns a copy with zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Type == "" {
		c.Type = TypeLLRP
	}
	if c.Type == TypeLLRP && c.Address != "" {
		if _, _, err := net.SplitHostPort(c.Address); err != nil {
			c.Address = net.JoinHostPort(c.Address, "5084")
		}
	}
	if c.Type == TypeSerial && c.Baud == 0 {
		c.Baud = 115200
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = 5 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.Type == TypeSim {
		if c.Scenario == "" {
			c.Scenario = "dock-in"
		}
		if c.TimeScale == 0 {
			c.TimeScale = 1
		}
	}
	return c
}

// Validate checks a config after WithDefaults; errors name the field and the fix.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("reader %q: "+format, append([]any{c.ID}, a...)...))
	}
	if c.ID == "" {
		add("id is empty; give every reader an id")
	}
	switch c.Type {
	case TypeLLRP:
		if c.Address == "" {
			add("address is required for type llrp (host:port, port 5084 by default)")
		} else if _, port, err := net.SplitHostPort(c.Address); err != nil {
			add("address %q is not host:port (e.g. 10.0.0.21:5084)", c.Address)
		} else if n, err := net.LookupPort("tcp", port); err != nil || n == 0 {
			// Caught here: the session would otherwise redial it forever.
			add("address %s: port %q is not a port number 1 to 65535 (LLRP's is 5084)", c.Address, port)
		}
	case TypeSerial:
		if c.Device == "" {
			add("device is required for type serial (e.g. /dev/ttyUSB0)")
		}
		switch c.Protocol {
		case serialrdr.ProtocolM100, serialrdr.ProtocolRU5102, serialrdr.ProtocolASCII:
		default:
			add("protocol %q is not one of m100, ru5102, ascii", c.Protocol)
		}
	case TypeSim:
		if c.TimeScale <= 0 {
			add("time_scale %v must be positive", c.TimeScale)
		}
		if c.Model != "" && !slices.Contains(readersim.Models(), c.Model) {
			add("model %q is not one of %s", c.Model, strings.Join(readersim.Models(), ", "))
		}
		if p := c.Trigger.Port; p > readersim.SimGPIs {
			add("trigger.port %d: the simulated reader has GPI ports 1 to %d; use one of them", p, readersim.SimGPIs)
		}
	default:
		add("type %q is not one of llrp, serial, sim", c.Type)
	}
	for _, a := range c.Antennas {
		if a == 0 {
			add("antenna 0 listed; antennas are numbered from 1")
		}
	}
	if c.KeepAlive < 100*time.Millisecond {
		add("keepalive %v is too short (5s is typical)", c.KeepAlive)
	}
	for _, p := range c.validateRF() {
		add("%s", p)
	}
	for _, p := range c.Trigger.validate(c.Type) {
		add("%s", p)
	}
	return errors.Join(errs...)
}

// Handlers are where a reader delivers what it sees. OnReads and OnEvent
// are called from the reader's Run goroutine; a batch is valid only during
// the call.
type Handlers struct {
	OnReads func([]rfid.Read)
	OnEvent func(rfid.ReaderEvent)
	// Logger receives the driver's warnings; it names the reader
	// (reader=ID): the drivers do not add it.
	Logger *slog.Logger
	Now    func() time.Time
	// Backoff overrides the reconnect backoff (tests).
	Backoff func(attempt int) time.Duration
}

// New builds the reader cfg describes (defaults applied, validated).
func New(cfg Config, h Handlers) (rfid.Reader, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	switch cfg.Type {
	case TypeSerial:
		return serialrdr.New(serialrdr.Config{ReaderID: cfg.ID, Protocol: cfg.Protocol, Device: cfg.Device, Baud: cfg.Baud,
			Pattern: cfg.Pattern, PollInterval: cfg.PollInterval, TxPowerDBm: cfg.TxPowerDBm, Backoff: h.Backoff, Now: h.Now,
			OnReads: h.OnReads, OnEvent: h.OnEvent, Logger: h.Logger})
	case TypeSim:
		sc, err := readersim.Load(cfg.Scenario)
		if err != nil {
			return nil, fmt.Errorf("reader %q: %w", cfg.ID, err)
		}
		return &simReader{cfg: cfg, sim: readersim.New(sc), h: h, rf: newLiveRF(cfg)}, nil
	}
	s, err := llrp.NewSession(llrpConfig(cfg, cfg.Address, h))
	if err != nil {
		return nil, err
	}
	return &llrpReader{Session: s, rf: newLiveRF(cfg)}, nil
}

func llrpConfig(cfg Config, addr string, h Handlers) llrp.Config {
	rf, perAntenna := cfg.llrpRF()
	return llrp.Config{ReaderID: cfg.ID, Address: addr, Antennas: cfg.Antennas, KeepalivePeriod: cfg.KeepAlive,
		RF: rf, AntennaRF: perAntenna, Trigger: cfg.Trigger.llrp(),
		ReportEveryN: cfg.ReportEveryN, Backoff: h.Backoff, Now: h.Now,
		OnReads: h.OnReads, OnEvent: h.OnEvent, Logger: h.Logger}
}

// simReader runs the LLRP simulator on a loopback port and an LLRP session
// against it, so a demo exercises the same code as a real reader.
type simReader struct {
	cfg  Config
	sim  *readersim.Sim
	h    Handlers
	sess atomic.Pointer[llrp.Session] // while Run runs
	rf   *liveRF
}

func (r *simReader) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("reader %q: simulator listen: %w", r.cfg.ID, err)
	}
	sim := r.sim
	sim.TimeScale = r.cfg.TimeScale
	sim.Model = r.cfg.Model
	sim.Logger = r.h.Logger
	cfg := r.cfg // with the RF settings applied so far
	f := r.rf.get()
	cfg.RF, cfg.AntennaRF = f.RF, f.AntennaRF
	s, err := llrp.NewSession(llrpConfig(cfg, ln.Addr().String(), r.h))
	if err != nil {
		ln.Close()
		return err
	}
	r.sess.Store(s)
	defer r.sess.Store(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	simErr := make(chan error, 1)
	go func() {
		simErr <- sim.Serve(ctx, ln)
		cancel()
	}()
	err = s.Run(ctx)
	cancel()
	return errors.Join(err, <-simErr)
}

// SetGPO sets an output of the simulated reader through its LLRP session,
// as for a real reader (rfid.GPOSetter).
func (r *simReader) SetGPO(ctx context.Context, port uint16, high bool) error {
	s := r.sess.Load()
	if s == nil {
		return fmt.Errorf("%w: reader %q (simulator) is not running; GPO %d not set", llrp.ErrNotConnected, r.cfg.ID, port)
	}
	return s.SetGPO(ctx, port, high)
}

// Simulator is the in-process simulated reader: its GPO state and writes
// (tests, demos).
func (r *simReader) Simulator() *readersim.Sim { return r.sim }

var _ rfid.GPOSetter = (*simReader)(nil)
