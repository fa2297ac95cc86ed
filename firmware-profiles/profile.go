package firmwareprofiles

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var embedded embed.FS

// Sentinel errors. Errors returned by Parse and Lookup wrap one of them.
var (
	// ErrUnknownProfile: no embedded profile has the requested id.
	ErrUnknownProfile = errors.New("unknown firmware profile")
	// ErrInvalidProfile: a profile file breaks a validation rule.
	ErrInvalidProfile = errors.New("invalid firmware profile")
)

// Printer languages.
const (
	LangZPL  = "zpl"
	LangEPL2 = "epl2"
	LangTSPL = "tspl"
	LangDPL  = "dpl"
	LangSBPL = "sbpl"
)

// Symbology rendering modes.
const (
	Native = "native" // the printer draws the symbol from its own command
	Raster = "raster" // the engine draws the symbol and sends it as ^GF
)

// Symbology names used as keys of Profile.Symbologies.
const (
	SymCode128    = "code128"
	SymGS1128     = "gs1-128"
	SymQR         = "qr"
	SymDataMatrix = "datamatrix"
)

// ValidDPI lists the print-head resolutions a profile may declare.
var ValidDPI = []int{152, 203, 300, 600}

// Profile describes one printer model at one resolution.
type Profile struct {
	ID     string `yaml:"id" json:"id"`
	Vendor string `yaml:"vendor" json:"vendor"`
	Model  string `yaml:"model" json:"model"`
	// DPI is the print-head resolution: 152, 203, 300 or 600.
	DPI int `yaml:"dpi" json:"dpi"`
	// PrintWidthDots is the print-head width in dots (^PW may not exceed it).
	PrintWidthDots int `yaml:"print_width_dots" json:"print_width_dots"`
	// MaxLabelLengthMM is the longest label the printer feeds.
	MaxLabelLengthMM float64 `yaml:"max_label_length_mm" json:"max_label_length_mm"`
	// Language is the printer language; only "zpl" is supported for now.
	Language string `yaml:"language" json:"language"`
	// Emulation is true when the printer runs ZPL as an emulation.
	Emulation bool `yaml:"emulation" json:"emulation"`
	// Firmware names the firmware family the features below describe.
	Firmware string      `yaml:"firmware" json:"firmware"`
	ZPL      ZPLFeatures `yaml:"zpl" json:"zpl"`
	// Symbologies maps code128, gs1-128, qr and datamatrix to native or raster.
	Symbologies map[string]string `yaml:"symbologies" json:"symbologies"`
	RFID        RFID              `yaml:"rfid" json:"rfid"`
	Status      Status            `yaml:"status" json:"status"`
	Transport   Transport         `yaml:"transport" json:"transport"`
	// Quirks are known deviations an operator or a driver must know.
	Quirks []string `yaml:"quirks" json:"quirks"`
}

// ZPLFeatures are the ZPL capabilities that differ by firmware.
type ZPLFeatures struct {
	// BCModeD: ^BC accepts mode D (UCC/EAN), firmware x.11 and later.
	BCModeD bool `yaml:"bc_mode_d" json:"bc_mode_d"`
	// CI28: ^CI28 selects UTF-8, firmware x.14 and later.
	CI28 bool `yaml:"ci28" json:"ci28"`
	// BXEscapeDefault is the ^BX escape character when none is passed
	// ("_" or "~"). The engine always passes one explicitly.
	BXEscapeDefault string `yaml:"bx_escape_default" json:"bx_escape_default"`
	// QRMaxMagnification is the largest ^BQ magnification (1–10).
	QRMaxMagnification int `yaml:"qr_max_magnification" json:"qr_max_magnification"`
}

// RFID describes the tag encoder of an RFID printer.
type RFID struct {
	Supported bool `yaml:"supported" json:"supported"`
	// Setup selects the tag type, e.g. "^RS8" for EPC Gen2.
	Setup string `yaml:"setup" json:"setup"`
	// WriteEPC is the command that writes the EPC bank before ^FD<hex>^FS,
	// e.g. "^RFW,H,,,A" (hex, automatic PC bits).
	WriteEPC string `yaml:"write_epc" json:"write_epc"`
	// ReadEPC reads the EPC back, e.g. "^RFR,H,0,12,E".
	ReadEPC string `yaml:"read_epc" json:"read_epc"`
	// EPCBits lists the EPC lengths the encoder writes, e.g. [96, 128].
	EPCBits []int `yaml:"epc_bits" json:"epc_bits"`
	// RV: the firmware reports each RFID format's encoding result when
	// ~RVE is sent ("_+,N_" success or "_-,N_" failure, N labels voided).
	RV bool `yaml:"rv" json:"rv"`
	// Tries is how many labels the printer tries for one tag before it
	// gives up (^RS n, 1-10; default 3): a tag that takes no write voids
	// its label and the next label is tried.
	Tries int `yaml:"tries" json:"tries"`
	// VoidLengthDots is how much of a voided label is printed with VOID
	// (^RS v, dots; 0: the whole label).
	VoidLengthDots int `yaml:"void_length_dots" json:"void_length_dots"`
}

// Status lists the status commands the printer answers.
type Status struct {
	HS   bool `yaml:"hs" json:"hs"`     // ~HS host status
	HQES bool `yaml:"hqes" json:"hqes"` // ~HQES extended status
	// HQESWarnings is false when the printer always reports zero warnings.
	HQESWarnings bool `yaml:"hqes_warnings" json:"hqes_warnings"`
	SGD          bool `yaml:"sgd" json:"sgd"` // Link-OS ! U1 getvar
	HV           bool `yaml:"hv" json:"hv"`   // ^HV host verification (RFID per-label reply)
	// LabelCounter is the printer's non-volatile label counter the spooler
	// reads to learn which labels of an interrupted batch printed:
	// "sgd" (odometer.total_label_count through SGD getvar, with
	// device.uptime to see a power cycle), "hqod" (the ~HQOD print length,
	// in whole inches or cm, divided by the label length) or "none".
	LabelCounter string `yaml:"label_counter" json:"label_counter"`
}

// Label counters (Status.LabelCounter).
const (
	CounterSGD  = "sgd"
	CounterHQOD = "hqod"
	CounterNone = "none"
)

// Transport holds the connection defaults.
type Transport struct {
	TCPPort int    `yaml:"tcp_port" json:"tcp_port"`
	Serial  Serial `yaml:"serial" json:"serial"`
	// MaxConnections is how many raw TCP connections the printer serves at
	// once; most serve one, so jobs must be serialised per printer.
	MaxConnections int `yaml:"max_connections" json:"max_connections"`
}

// Serial holds the default serial line settings.
type Serial struct {
	Baud      int    `yaml:"baud" json:"baud"`
	DataBits  int    `yaml:"data_bits" json:"data_bits"`
	Parity    string `yaml:"parity" json:"parity"` // none, even, odd
	StopBits  int    `yaml:"stop_bits" json:"stop_bits"`
	Handshake string `yaml:"handshake" json:"handshake"` // none, xonxoff, dtr
}

// DotsPerMM is the resolution in dots per millimetre.
func (p *Profile) DotsPerMM() float64 { return float64(p.DPI) / 25.4 }

// Dots converts millimetres to dots at the profile's resolution, rounded.
func (p *Profile) Dots(mm float64) int {
	d := mm * p.DotsPerMM()
	if d < 0 {
		return -int(-d + 0.5)
	}
	return int(d + 0.5)
}

// MaxLabelLengthDots is MaxLabelLengthMM in dots.
func (p *Profile) MaxLabelLengthDots() int { return p.Dots(p.MaxLabelLengthMM) }

// Native reports whether the printer draws the symbology itself. An
// unlisted symbology is rasterised.
func (p *Profile) Native(symbology string) bool { return p.Symbologies[symbology] == Native }

// Supported reports whether the engine can drive this printer (ZPL only).
func (p *Profile) Supported() bool { return p.Language == LangZPL }

// Parse decodes and validates one profile. name is used in error messages
// (usually the file name). Unknown keys are errors with their line.
func Parse(name string, data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var p Profile
	if err := dec.Decode(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s: empty document", ErrInvalidProfile, name)
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalidProfile, name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%w: %s: more than one YAML document; keep one profile per file", ErrInvalidProfile, name)
	}
	p.fillDefaults()
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &p, nil
}

func (p *Profile) fillDefaults() {
	if p.Language == "" {
		p.Language = LangZPL
	}
	if p.Transport.TCPPort == 0 {
		p.Transport.TCPPort = 9100
	}
	if p.Transport.MaxConnections == 0 {
		p.Transport.MaxConnections = 1
	}
	s := &p.Transport.Serial
	if s.Baud == 0 {
		s.Baud = 9600
	}
	if s.DataBits == 0 {
		s.DataBits = 8
	}
	if s.Parity == "" {
		s.Parity = "none"
	}
	if s.StopBits == 0 {
		s.StopBits = 1
	}
	if s.Handshake == "" {
		s.Handshake = "none"
	}
	if p.ZPL.QRMaxMagnification == 0 {
		p.ZPL.QRMaxMagnification = 10
	}
	if p.Status.LabelCounter == "" {
		p.Status.LabelCounter = CounterNone
	}
	if p.RFID.Supported && p.RFID.Tries == 0 {
		p.RFID.Tries = 3
	}
}

// Validate checks every field and returns an error naming the first field
// that is wrong and how to fix it.
func (p *Profile) Validate() error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w %q: %s: %s", ErrInvalidProfile, p.ID, field, fmt.Sprintf(format, a...))
	}
	if p.ID == "" {
		return bad("id", "missing; set a lowercase id such as zebra-zt411-203")
	}
	for _, r := range p.ID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return bad("id", "%q may hold only a-z, 0-9 and '-'", p.ID)
		}
	}
	if p.Vendor == "" {
		return bad("vendor", "missing")
	}
	if p.Model == "" {
		return bad("model", "missing")
	}
	okDPI := false
	for _, d := range ValidDPI {
		okDPI = okDPI || p.DPI == d
	}
	if !okDPI {
		return bad("dpi", "%d is not a print-head resolution; use 152, 203, 300 or 600", p.DPI)
	}
	if p.PrintWidthDots <= 0 || p.PrintWidthDots > 24*p.DPI {
		return bad("print_width_dots", "%d is out of range; give the print-head width in dots (e.g. 832 for a 4-inch 203-dpi head)", p.PrintWidthDots)
	}
	if p.MaxLabelLengthMM <= 0 || p.MaxLabelLengthMM > 10000 {
		return bad("max_label_length_mm", "%g is out of range; give the longest label in mm (e.g. 991)", p.MaxLabelLengthMM)
	}
	switch p.Language {
	case LangZPL, LangEPL2, LangTSPL, LangDPL, LangSBPL:
	default:
		return bad("language", "%q is not one of zpl, epl2, tspl, dpl, sbpl", p.Language)
	}
	switch p.ZPL.BXEscapeDefault {
	case "", "_", "~":
	default:
		return bad("zpl.bx_escape_default", "%q: use \"_\" or \"~\"", p.ZPL.BXEscapeDefault)
	}
	if m := p.ZPL.QRMaxMagnification; m < 1 || m > 10 {
		return bad("zpl.qr_max_magnification", "%d: ^BQ magnification is 1 to 10", m)
	}
	for k, v := range p.Symbologies {
		switch k {
		case SymCode128, SymGS1128, SymQR, SymDataMatrix:
		default:
			return bad("symbologies", "unknown symbology %q; use code128, gs1-128, qr or datamatrix", k)
		}
		if v != Native && v != Raster {
			return bad("symbologies."+k, "%q: use native or raster", v)
		}
	}
	if p.RFID.Supported {
		if p.RFID.Setup == "" || p.RFID.WriteEPC == "" {
			return bad("rfid", "supported but setup or write_epc is missing (e.g. setup: \"^RS8\", write_epc: \"^RFW,H,,,A\")")
		}
		for _, c := range []string{p.RFID.Setup, p.RFID.WriteEPC, p.RFID.ReadEPC} {
			if c != "" && !strings.HasPrefix(c, "^") {
				return bad("rfid", "command %q must start with '^'", c)
			}
			if strings.ContainsAny(c, "\r\n~") || strings.Contains(c, "^FD") || strings.Contains(c, "^X") {
				return bad("rfid", "command %q must not contain ^FD, ^X, ~ or line breaks", c)
			}
		}
		for _, b := range p.RFID.EPCBits {
			if b <= 0 || b > 496 || b%16 != 0 {
				return bad("rfid.epc_bits", "%d is not a whole number of 16-bit words up to 496", b)
			}
		}
		if p.RFID.Tries < 1 || p.RFID.Tries > 10 {
			return bad("rfid.tries", "%d: ^RS tries a tag on 1 to 10 labels (default 3)", p.RFID.Tries)
		}
		if p.RFID.VoidLengthDots < 0 || p.RFID.VoidLengthDots > p.MaxLabelLengthDots() {
			return bad("rfid.void_length_dots", "%d: give the VOID print length in dots, 0 for the whole label", p.RFID.VoidLengthDots)
		}
		if p.RFID.ReadEPC != "" && !strings.HasPrefix(p.RFID.ReadEPC, "^RFR,") {
			return bad("rfid.read_epc", "%q: the read-back command is ^RFR,<format>,<block>,<bytes>,<bank>, e.g. ^RFR,H,0,12,E", p.RFID.ReadEPC)
		}
	} else if p.RFID.Setup != "" || p.RFID.WriteEPC != "" || p.RFID.RV || p.RFID.Tries != 0 || p.RFID.VoidLengthDots != 0 {
		return bad("rfid", "RFID settings given but supported is false")
	}
	if t := p.Transport.TCPPort; t < 1 || t > 65535 {
		return bad("transport.tcp_port", "%d is not a TCP port", t)
	}
	if p.Transport.MaxConnections < 1 {
		return bad("transport.max_connections", "%d: at least 1", p.Transport.MaxConnections)
	}
	s := p.Transport.Serial
	switch s.Baud {
	case 1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 115200:
	default:
		return bad("transport.serial.baud", "%d is not a standard rate (9600, 19200, 38400, 57600, 115200 …)", s.Baud)
	}
	if s.DataBits != 7 && s.DataBits != 8 {
		return bad("transport.serial.data_bits", "%d: use 7 or 8", s.DataBits)
	}
	if s.Parity != "none" && s.Parity != "even" && s.Parity != "odd" {
		return bad("transport.serial.parity", "%q: use none, even or odd", s.Parity)
	}
	if s.StopBits != 1 && s.StopBits != 2 {
		return bad("transport.serial.stop_bits", "%d: use 1 or 2", s.StopBits)
	}
	if s.Handshake != "none" && s.Handshake != "xonxoff" && s.Handshake != "dtr" {
		return bad("transport.serial.handshake", "%q: use none, xonxoff or dtr", s.Handshake)
	}
	if !p.Status.HQES && p.Status.HQESWarnings {
		return bad("status.hqes_warnings", "true but hqes is false")
	}
	switch p.Status.LabelCounter {
	case CounterNone:
	case CounterSGD, CounterHQOD:
		if !p.Status.HS {
			return bad("status.label_counter", "%s needs hs: true: the counter is read once ~HS shows the buffer empty", p.Status.LabelCounter)
		}
		if p.Status.LabelCounter == CounterSGD && !p.Status.SGD {
			return bad("status.label_counter", "sgd needs sgd: true (Link-OS getvar)")
		}
	default:
		return bad("status.label_counter", "%q: use sgd, hqod or none", p.Status.LabelCounter)
	}
	return nil
}

var (
	loadOnce sync.Once
	byID     map[string]*Profile
	all      []*Profile
	loadErr  error
)

func load() {
	byID = map[string]*Profile{}
	entries, err := fs.Glob(embedded, "*.yaml")
	if err != nil {
		loadErr = err
		return
	}
	for _, e := range entries {
		data, err := embedded.ReadFile(e)
		if err != nil {
			loadErr = err
			return
		}
		p, err := Parse(e, data)
		if err != nil {
			loadErr = err
			return
		}
		if want := strings.TrimSuffix(path.Base(e), ".yaml"); p.ID != want {
			loadErr = fmt.Errorf("%w: %s: id %q must match the file name %q", ErrInvalidProfile, e, p.ID, want)
			return
		}
		byID[p.ID] = p
		all = append(all, p)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
}

// Lookup returns a copy of the embedded profile with this id.
func Lookup(id string) (*Profile, error) {
	loadOnce.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	p, ok := byID[id]
	if !ok {
		ids := make([]string, len(all))
		for i, q := range all {
			ids[i] = q.ID
		}
		return nil, fmt.Errorf("%w %q; known profiles: %s", ErrUnknownProfile, id, strings.Join(ids, ", "))
	}
	return p.clone(), nil
}

// List returns copies of all embedded profiles sorted by id.
func List() []*Profile {
	loadOnce.Do(load)
	out := make([]*Profile, len(all))
	for i, p := range all {
		out[i] = p.clone()
	}
	return out
}

// LoadError reports whether the embedded profiles failed validation.
func LoadError() error {
	loadOnce.Do(load)
	return loadErr
}

func (p *Profile) clone() *Profile {
	q := *p
	q.Symbologies = make(map[string]string, len(p.Symbologies))
	for k, v := range p.Symbologies {
		q.Symbologies[k] = v
	}
	q.Quirks = append([]string(nil), p.Quirks...)
	q.RFID.EPCBits = append([]int(nil), p.RFID.EPCBits...)
	return &q
}
