package printers

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	firmwareprofiles "github.com/dockgate/dockgate/firmware-profiles"
)

// Transport names.
const (
	TransportTCP    = "tcp"
	TransportSerial = "serial"
	TransportUSB    = "usb"
	TransportFile   = "file"
)

// Status query modes (Config.Status).
const (
	StatusAuto = "auto"    // from the firmware profile; ~HS and ~HQES without one
	StatusBoth = "hs+hqes" // ~HQES for faults (answers while faulted) and ~HS for the buffer
	StatusHS   = "hs"
	StatusHQES = "hqes"
	StatusNone = "none" // no status: a job is confirmed once written
)

// Config is one printer of the gateway's "printers:" list.
//
//	printers:
//	  - id: dock1-zt411
//	    profile: zebra-zt411-203
//	    door: dock-1
//	    address: 10.0.4.21:9100      # shorthand for transport: tcp
//	    timeouts: {status: 2s, confirm: 60s}
//	  - id: dock2-serial
//	    transport: serial
//	    serial: {device: /dev/ttyUSB0, baud: 9600, data_bits: 8, parity: none, stop_bits: 1, handshake: xonxoff}
//	  - id: dock3-usb
//	    transport: usb
//	    device: /dev/usb/lp0
//	  - id: archive
//	    transport: file
//	    path: /var/lib/dockgate/labels.zpl
type Config struct {
	// ID names the printer in jobs, events and keys: letters, digits, '.',
	// '_' and '-'.
	ID string `yaml:"id" json:"id"`
	// Profile is a firmware profile id (firmware-profiles); it supplies the
	// default TCP port, serial settings and status commands.
	Profile string `yaml:"profile" json:"profile,omitempty"`
	// Door is the dock door the printer serves (carried in events).
	Door string `yaml:"door" json:"door,omitempty"`
	// Address is host:port (or host, port from the profile, else 9100) for
	// raw TCP; setting it implies transport tcp.
	Address string `yaml:"address" json:"address,omitempty"`
	// Transport is tcp, serial, usb or file.
	Transport string `yaml:"transport" json:"transport,omitempty"`
	// Serial settings (transport serial).
	Serial Serial `yaml:"serial" json:"serial,omitempty"`
	// Device is the USB printer device file (transport usb), e.g. /dev/usb/lp0.
	Device string `yaml:"device" json:"device,omitempty"`
	// Path is the file the file sink appends to (transport file).
	Path string `yaml:"path" json:"path,omitempty"`
	// Status selects the status queries: auto, hs+hqes, hs, hqes or none.
	Status   string   `yaml:"status" json:"status,omitempty"`
	Timeouts Timeouts `yaml:"timeouts" json:"timeouts"`
	// BatchJobs is the most jobs the spooler sends before confirming them
	// together (default 16); 1 confirms every job before sending the next.
	BatchJobs int `yaml:"batch_jobs" json:"batch_jobs,omitempty"`
	// BatchBytes caps the ZPL bytes of a batch (default 262144).
	BatchBytes int `yaml:"batch_bytes" json:"batch_bytes,omitempty"`
	// LabelCounter is the printer's label counter the spooler reads
	// before each batch, so that a batch cut by a dropped connection, a
	// stall or a restart is resolved label by label: auto (from the
	// profile; none without one), sgd, hqod or none.
	LabelCounter string `yaml:"label_counter" json:"label_counter,omitempty"`
	// VerifyEncode is how an RFID job's tag write is verified: auto (from
	// the profile), rv (~RV reports), readback (^RFR + ^HV), rv+readback
	// or none.
	VerifyEncode string `yaml:"verify_encode" json:"verify_encode,omitempty"`
	// OnEncodeFailure is what an encode failure does besides failing the
	// job and raising label.encode_failed: reprint (send the job once
	// more), hold (hold the printer's queue until the job is reprinted or
	// cancelled) or alert (nothing more; the default).
	OnEncodeFailure string `yaml:"on_encode_failure" json:"on_encode_failure,omitempty"`
	// CaptureTID reads each RFID label's TID bank with its EPC read-back
	// and records it with the label's encode outcome.
	CaptureTID bool `yaml:"capture_tid" json:"capture_tid,omitempty"`
	// Lock locks each RFID label's tag after its EPC is written: "epc"
	// writes the access password (AccessPasswordFile) to the tag's
	// reserved bank and locks the EPC bank and the access password
	// (^RFW,H,P and ^RLM), so that the EPC cannot be changed without the
	// password; "" (the default) leaves tags unlocked.
	Lock string `yaml:"lock" json:"lock,omitempty"`
	// AccessPasswordFile holds the tags' access password (8 hex digits,
	// not 00000000: a zero password locks nothing); AccessPassword is
	// read from it, or from DOCKGATE_TAG_ACCESS_PASSWORD, when the
	// configuration is loaded.
	AccessPasswordFile string `yaml:"access_password_file" json:"access_password_file,omitempty"`
	AccessPassword     string `yaml:"-" json:"-"`
}

// LockEPC is Config.Lock's value that locks the EPC bank.
const LockEPC = "epc"

// accessPasswordRE is a Gen2 access password: 32 bits in hex.
var accessPasswordRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}$`)

// CheckAccessPassword reports what is wrong with a tag access password, or
// nil.
func CheckAccessPassword(pw string) error {
	if !accessPasswordRE.MatchString(pw) {
		return fmt.Errorf("want 8 hex digits (32 bits), got %d characters", len(pw))
	}
	if strings.Trim(pw, "0") == "" {
		return errors.New("00000000 is no password: a tag locked with it opens to anyone; choose another")
	}
	return nil
}

// Serial holds serial line settings.
type Serial struct {
	Device   string `yaml:"device" json:"device,omitempty"`
	Baud     int    `yaml:"baud" json:"baud,omitempty"`
	DataBits int    `yaml:"data_bits" json:"data_bits,omitempty"`
	// Parity is none, even, odd, mark or space.
	Parity   string `yaml:"parity" json:"parity,omitempty"`
	StopBits int    `yaml:"stop_bits" json:"stop_bits,omitempty"`
	// Handshake is none or xonxoff (handled by the gateway on the byte
	// stream). dtr is refused: set the printer to XON/XOFF or none.
	Handshake string `yaml:"handshake" json:"handshake,omitempty"`
}

// Timeouts bound each printer operation.
type Timeouts struct {
	// Dial is how long opening the connection may take (default 5s).
	Dial time.Duration `yaml:"dial" json:"dial"`
	// Write bounds writing one batch of jobs (default 30s).
	Write time.Duration `yaml:"write" json:"write"`
	// Status is how long to wait for a status reply (default 2s).
	Status time.Duration `yaml:"status" json:"status"`
	// Confirm is how long a printer that answers and is not faulted may take
	// to drain its buffer after a job was written (default 60s).
	Confirm time.Duration `yaml:"confirm" json:"confirm"`
	// Poll is the interval between status polls while confirming or while a
	// job is held (default 1s; confirmation polls start at 5ms and back off
	// up to it).
	Poll time.Duration `yaml:"poll" json:"poll"`
	// Idle closes the connection after this long without work so other
	// tools can reach the printer (default 5s; printers serve one
	// connection at a time).
	Idle time.Duration `yaml:"idle" json:"idle"`
	// Watch is how often the status of an idle printer is read, so a
	// fault shows before the next job (default 30s).
	Watch time.Duration `yaml:"watch" json:"watch"`
}

// Defaults.
const (
	DefaultTCPPort    = 9100
	DefaultBatchJobs  = 16
	DefaultBatchBytes = 256 << 10
)

// DefaultTimeouts are the timeouts of a printer that sets none.
var DefaultTimeouts = Timeouts{
	Dial: 5 * time.Second, Write: 30 * time.Second, Status: 2 * time.Second,
	Confirm: 60 * time.Second, Poll: time.Second, Idle: 5 * time.Second, Watch: 30 * time.Second,
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// WithDefaults returns a copy of c with every unset field filled in: from
// the firmware profile when Profile names one, else from the defaults above.
// It does not validate; call Validate on the result.
func (c Config) WithDefaults() Config {
	var prof *firmwareprofiles.Profile
	if c.Profile != "" {
		prof, _ = firmwareprofiles.Lookup(c.Profile)
	}
	if c.Transport == "" {
		switch {
		case c.Address != "":
			c.Transport = TransportTCP
		case c.Serial.Device != "":
			c.Transport = TransportSerial
		case c.Device != "":
			c.Transport = TransportUSB
		case c.Path != "":
			c.Transport = TransportFile
		}
	}
	if c.Transport == TransportTCP && c.Address != "" {
		if !strings.Contains(c.Address, ":") {
			port := DefaultTCPPort
			if prof != nil && prof.Transport.TCPPort > 0 {
				port = prof.Transport.TCPPort
			}
			c.Address = net.JoinHostPort(c.Address, strconv.Itoa(port))
		}
	}
	if c.Transport == TransportSerial {
		def := firmwareprofiles.Serial{Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1, Handshake: "none"}
		if prof != nil && prof.Transport.Serial.Baud > 0 {
			def = prof.Transport.Serial
		}
		if c.Serial.Baud == 0 {
			c.Serial.Baud = def.Baud
		}
		if c.Serial.DataBits == 0 {
			c.Serial.DataBits = def.DataBits
		}
		if c.Serial.Parity == "" {
			c.Serial.Parity = def.Parity
		}
		if c.Serial.StopBits == 0 {
			c.Serial.StopBits = def.StopBits
		}
		if c.Serial.Handshake == "" {
			c.Serial.Handshake = def.Handshake
		}
	}
	if c.Status == "" || c.Status == StatusAuto {
		c.Status = StatusBoth
		if c.Transport == TransportFile {
			c.Status = StatusNone
		} else if prof != nil {
			switch {
			case prof.Status.HS && prof.Status.HQES:
				c.Status = StatusBoth
			case prof.Status.HS:
				c.Status = StatusHS
			case prof.Status.HQES:
				c.Status = StatusHQES
			default:
				c.Status = StatusNone
			}
		}
	}
	if c.LabelCounter == "" || c.LabelCounter == CounterAuto {
		c.LabelCounter = CounterNone
		if prof != nil && c.Transport != TransportFile && (c.Status == StatusBoth || c.Status == StatusHS) {
			switch prof.Status.LabelCounter {
			case firmwareprofiles.CounterSGD:
				c.LabelCounter = CounterSGD
			case firmwareprofiles.CounterHQOD:
				c.LabelCounter = CounterHQOD
			}
		}
	}
	if c.VerifyEncode == "" || c.VerifyEncode == VerifyAuto {
		c.VerifyEncode = VerifyNone
		if prof != nil && prof.RFID.Supported && c.Transport != TransportFile && c.Status != StatusNone {
			rb := prof.RFID.ReadEPC != "" && prof.Status.HV
			switch {
			case prof.RFID.RV && rb:
				c.VerifyEncode = VerifyBoth
			case prof.RFID.RV:
				c.VerifyEncode = VerifyRV
			case rb:
				c.VerifyEncode = VerifyReadback
			}
		}
	}
	if c.OnEncodeFailure == "" {
		c.OnEncodeFailure = OnEncodeAlert
	}
	d := DefaultTimeouts
	t := &c.Timeouts
	for _, p := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&t.Dial, d.Dial}, {&t.Write, d.Write}, {&t.Status, d.Status}, {&t.Confirm, d.Confirm}, {&t.Poll, d.Poll}, {&t.Idle, d.Idle}, {&t.Watch, d.Watch}} {
		if *p.v == 0 {
			*p.v = p.def
		}
	}
	if c.BatchJobs == 0 {
		c.BatchJobs = DefaultBatchJobs
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	return c
}

// Validate checks a configuration (normally one returned by WithDefaults)
// and returns a *ConfigError naming the first wrong field and the fix.
func (c Config) Validate() error {
	name := c.ID
	if name == "" {
		name = "(no id)"
	}
	bad := func(field, format string, args ...any) error {
		return &ConfigError{Printer: name, Field: field, Problem: fmt.Sprintf(format, args...)}
	}
	if !idRE.MatchString(c.ID) {
		return bad("id", "%q is not a printer id: use 1-64 letters, digits, '.', '_' or '-'", c.ID)
	}
	if c.Profile != "" {
		prof, err := firmwareprofiles.Lookup(c.Profile)
		if err != nil {
			ids := []string{}
			for _, p := range firmwareprofiles.List() {
				ids = append(ids, p.ID)
			}
			return bad("profile", "unknown firmware profile %q; choose one of: %s", c.Profile, strings.Join(ids, ", "))
		}
		// A printer at a door prints the carton labels of its receipts,
		// and labels are rendered in ZPL only: found here rather than at
		// the first receipt, which would fail.
		if c.Door != "" && !prof.Supported() {
			ids := []string{}
			for _, p := range firmwareprofiles.List() {
				if p.Supported() {
					ids = append(ids, p.ID)
				}
			}
			return bad("profile", "%s speaks %s, but a printer at door %s prints carton labels, which dockgate renders in ZPL only; choose a ZPL profile (%s) or give the door another printer",
				c.Profile, prof.Language, c.Door, strings.Join(ids, ", "))
		}
	}
	switch c.Transport {
	case TransportTCP:
		host, port, err := net.SplitHostPort(c.Address)
		if err != nil || host == "" {
			return bad("address", "%q is not host:port; write e.g. 10.0.4.21:9100", c.Address)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return bad("address", "port %q is not 1-65535", port)
		}
	case TransportSerial:
		s := c.Serial
		if s.Device == "" {
			return bad("serial.device", "missing; set the serial device, e.g. /dev/ttyUSB0")
		}
		if s.Baud <= 0 {
			return bad("serial.baud", "%d is not a baud rate; Zebra printers default to 9600", s.Baud)
		}
		if s.DataBits < 5 || s.DataBits > 8 {
			return bad("serial.data_bits", "%d is not 5-8 (printers use 7 or 8)", s.DataBits)
		}
		switch s.Parity {
		case "none", "even", "odd", "mark", "space":
		default:
			return bad("serial.parity", "%q is not none, even, odd, mark or space", s.Parity)
		}
		if s.StopBits != 1 && s.StopBits != 2 {
			return bad("serial.stop_bits", "%d is not 1 or 2", s.StopBits)
		}
		switch s.Handshake {
		case "none", "xonxoff":
		case "dtr":
			return bad("serial.handshake", "dtr hardware handshake is not supported; set the printer's serial handshake to XON/XOFF (handshake: xonxoff) or none")
		default:
			return bad("serial.handshake", "%q is not none or xonxoff", s.Handshake)
		}
	case TransportUSB:
		if c.Device == "" {
			return bad("device", "missing; set the USB printer device file, e.g. /dev/usb/lp0")
		}
	case TransportFile:
		if c.Path == "" {
			return bad("path", "missing; set the file the file sink appends to")
		}
	case "":
		return bad("transport", "missing; set address (host:port) or transport: tcp|serial|usb|file with its settings")
	default:
		return bad("transport", "%q is not tcp, serial, usb or file", c.Transport)
	}
	switch c.Status {
	case StatusBoth, StatusHS, StatusHQES, StatusNone:
	default:
		return bad("status", "%q is not auto, hs+hqes, hs, hqes or none", c.Status)
	}
	t := c.Timeouts
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"timeouts.dial", t.Dial}, {"timeouts.write", t.Write}, {"timeouts.status", t.Status}, {"timeouts.confirm", t.Confirm}, {"timeouts.poll", t.Poll}, {"timeouts.idle", t.Idle}, {"timeouts.watch", t.Watch}} {
		if p.v <= 0 {
			return bad(p.name, "%v is not a positive duration (e.g. 2s)", p.v)
		}
	}
	if c.BatchJobs < 1 || c.BatchJobs > 1000 {
		return bad("batch_jobs", "%d is not 1-1000", c.BatchJobs)
	}
	if c.BatchBytes < 1024 {
		return bad("batch_bytes", "%d is below 1024", c.BatchBytes)
	}
	switch c.LabelCounter {
	case CounterNone:
	case CounterSGD, CounterHQOD:
		if c.Status != StatusBoth && c.Status != StatusHS {
			return bad("label_counter", "%s is read once ~HS shows the printer's buffer empty: it needs status hs+hqes or hs, not %s", c.LabelCounter, c.Status)
		}
	default:
		return bad("label_counter", "%q is not auto, sgd, hqod or none", c.LabelCounter)
	}
	switch c.VerifyEncode {
	case VerifyNone:
	case VerifyRV, VerifyReadback, VerifyBoth:
		if c.Status == StatusNone {
			return bad("verify_encode", "%s reads the printer's reports on the connection: it needs a status channel (status is none)", c.VerifyEncode)
		}
	default:
		return bad("verify_encode", "%q is not auto, rv, readback, rv+readback or none", c.VerifyEncode)
	}
	switch c.OnEncodeFailure {
	case OnEncodeReprint, OnEncodeHold, OnEncodeAlert:
	default:
		return bad("on_encode_failure", "%q is not reprint, hold or alert", c.OnEncodeFailure)
	}
	switch c.Lock {
	case "":
	case LockEPC:
		prof, _ := firmwareprofiles.Lookup(c.Profile)
		if prof == nil || !prof.RFID.Supported {
			return bad("lock", "epc locks RFID tags: the printer's profile %q has no RFID encoder", c.Profile)
		}
		if c.AccessPasswordFile == "" && c.AccessPassword == "" {
			return bad("lock", "epc needs the tags' access password: set access_password_file (a file of 8 hex digits) or DOCKGATE_TAG_ACCESS_PASSWORD")
		}
		if c.AccessPassword != "" {
			if err := CheckAccessPassword(c.AccessPassword); err != nil {
				return bad("access_password_file", "%v", err)
			}
		}
	default:
		return bad("lock", "%q is not epc (or left out: tags unlocked)", c.Lock)
	}
	if c.CaptureTID && c.VerifyEncode != VerifyReadback && c.VerifyEncode != VerifyBoth {
		return bad("capture_tid", "the TID is read with the EPC read-back: it needs verify_encode readback or rv+readback (an RFID profile with read_epc and hv), not %s", c.VerifyEncode)
	}
	return nil
}

// ValidateAll validates a list of printers (already defaulted) and checks
// that ids are unique.
func ValidateAll(list []Config) error {
	seen := map[string]int{}
	var errs []error
	for i, c := range list {
		if err := c.Validate(); err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) && c.ID == "" {
				ce.Printer = fmt.Sprintf("printers[%d]", i)
			}
			errs = append(errs, err)
			continue
		}
		if j, dup := seen[c.ID]; dup {
			errs = append(errs, &ConfigError{Printer: c.ID, Field: "id", Problem: fmt.Sprintf("used twice (printers[%d] and printers[%d]); give each printer its own id", j, i)})
		}
		seen[c.ID] = i
	}
	return errors.Join(errs...)
}

// Target is the human name of where the printer is reached.
func (c Config) Target() string {
	switch c.Transport {
	case TransportTCP:
		return "tcp://" + c.Address
	case TransportSerial:
		return "serial://" + c.Serial.Device
	case TransportUSB:
		return "usb://" + c.Device
	case TransportFile:
		return "file://" + c.Path
	}
	return c.Transport
}
