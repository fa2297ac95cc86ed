package zebra

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// Control characters framing status replies.
const (
	STX = 0x02
	ETX = 0x03
)

// Commands.
var (
	CmdHS   = []byte("~HS")
	CmdHQES = []byte("~HQES")
	CmdHQOD = []byte("~HQOD") // odometer (print length counters)
	CmdRVE  = []byte("~RVE")  // report RFID encoding results, one per format
	CmdRVD  = []byte("~RVD")  // stop reporting them
)

// HostStatus is a parsed ~HS reply, every field as the printer sent it.
// Flags are kept as their digit (0 off, anything else on) so that a field
// read from the wrong position shows.
type HostStatus struct {
	// String 1.
	CommSettings    int `json:"comm_settings"`     // aaa, bit-encoded (see Comm)
	PaperOut        int `json:"paper_out"`         // b
	Paused          int `json:"paused"`            // c
	LabelLength     int `json:"label_length"`      // dddd, dots
	FormatsInBuffer int `json:"formats_in_buffer"` // eee
	BufferFull      int `json:"buffer_full"`       // f
	CommDiagMode    int `json:"comm_diag_mode"`    // g
	PartialFormat   int `json:"partial_format"`    // h
	Unused1         int `json:"unused1"`           // iii (always 000)
	CorruptRAM      int `json:"corrupt_ram"`       // j
	UnderTemp       int `json:"under_temp"`        // k
	OverTemp        int `json:"over_temp"`         // l
	// String 2.
	FunctionSettings    int    `json:"function_settings"`     // mmm, bit-encoded
	Unused2             int    `json:"unused2"`               // n
	HeadUp              int    `json:"head_up"`               // o
	RibbonOut           int    `json:"ribbon_out"`            // p
	ThermalTransfer     int    `json:"thermal_transfer"`      // q
	PrintMode           string `json:"print_mode"`            // r: 0 rewind, 1 peel-off, 2 tear-off, 3 cutter, 4 applicator, 5 delayed cut …
	PrintWidthMode      int    `json:"print_width_mode"`      // s
	LabelWaiting        int    `json:"label_waiting"`         // t
	LabelsRemaining     int    `json:"labels_remaining"`      // uuuuuuuu
	FormatWhilePrinting int    `json:"format_while_printing"` // v (always 1)
	GraphicsStored      int    `json:"graphics_stored"`       // www
	// String 3.
	Password  int `json:"password"`   // xxxx
	StaticRAM int `json:"static_ram"` // y
}

// Comm decodes the aaa communication settings of string 1.
type Comm struct {
	Baud      int    // 110 … 115200; 0 for an unknown code
	DataBits  int    // 7 or 8
	StopBits  int    // 1 or 2
	Parity    string // none, odd or even
	Handshake string // xonxoff or dtr
}

var bauds = []int{110, 300, 600, 1200, 2400, 4800, 9600, 19200, 28800, 38400, 57600, 115200}

// Comm decodes CommSettings: a7 handshake (0 XON/XOFF, 1 DTR), a6 parity
// (0 odd, 1 even), a5 parity enable, a4 stop bits (0 two, 1 one), a3 data
// bits (0 seven, 1 eight), a8 a2 a1 a0 the baud code.
func (h HostStatus) Comm() Comm {
	a := h.CommSettings
	c := Comm{DataBits: 7, StopBits: 2, Parity: "none", Handshake: "xonxoff"}
	if a&(1<<7) != 0 {
		c.Handshake = "dtr"
	}
	if a&(1<<5) != 0 {
		c.Parity = "odd"
		if a&(1<<6) != 0 {
			c.Parity = "even"
		}
	}
	if a&(1<<4) != 0 {
		c.StopBits = 1
	}
	if a&(1<<3) != 0 {
		c.DataBits = 8
	}
	code := a&7 | (a>>8&1)<<3
	if code < len(bauds) {
		c.Baud = bauds[code]
	}
	return c
}

// ExtendedStatus is a parsed ~HQES reply.
type ExtendedStatus struct {
	ErrorFlag   int    `json:"error_flag"`
	Errors      uint64 `json:"errors"` // group 2 << 32 | group 1
	WarningFlag int    `json:"warning_flag"`
	Warnings    uint64 `json:"warnings"`
}

// Error bits of ~HQES (nibble 1 is bits 0-3, nibble 2 bits 4-7).
const (
	ErrMediaOut       = 1 << 0
	ErrRibbonOut      = 1 << 1
	ErrHeadOpen       = 1 << 2
	ErrCutterFault    = 1 << 3
	ErrHeadOverTemp   = 1 << 4
	ErrMotorOverTemp  = 1 << 5
	ErrBadHeadElement = 1 << 6
	ErrHeadDetection  = 1 << 7
)

// Warning bits of ~HQES (nibble 1).
const (
	WarnCalibrate    = 1 << 0
	WarnCleanHead    = 1 << 1
	WarnReplaceHead  = 1 << 2
	WarnPaperNearEnd = 1 << 3
)

// FrameError is a status frame that could not be parsed.
type FrameError struct {
	Frame  []byte
	Reason string
}

func (e *FrameError) Error() string {
	f := e.Frame
	if len(f) > 64 {
		f = f[:64]
	}
	return fmt.Sprintf("status frame %q: %s", f, e.Reason)
}

// Unwrap returns printers.ErrBadStatus.
func (e *FrameError) Unwrap() error { return printers.ErrBadStatus }

// field parses one fixed-width decimal field.
func field(s string, width int, name string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) == 0 || len(s) > width {
		return 0, fmt.Errorf("field %s %q: want 1-%d digits", name, s, width)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("field %s %q: not a decimal number", name, s)
	}
	return n, nil
}

type spec struct {
	name  string
	width int
	dst   *int
}

func parseFields(frame []byte, specs []spec) error {
	parts := strings.Split(string(frame), ",")
	if len(parts) != len(specs) {
		return &FrameError{Frame: frame, Reason: fmt.Sprintf("%d fields, want %d", len(parts), len(specs))}
	}
	for i, sp := range specs {
		if sp.dst == nil {
			continue
		}
		n, err := field(parts[i], sp.width, sp.name)
		if err != nil {
			return &FrameError{Frame: frame, Reason: err.Error()}
		}
		*sp.dst = n
	}
	return nil
}

func (h *HostStatus) parse1(f []byte) error {
	return parseFields(f, []spec{
		{"aaa", 3, &h.CommSettings}, {"b", 1, &h.PaperOut}, {"c", 1, &h.Paused},
		{"dddd", 4, &h.LabelLength}, {"eee", 3, &h.FormatsInBuffer}, {"f", 1, &h.BufferFull},
		{"g", 1, &h.CommDiagMode}, {"h", 1, &h.PartialFormat}, {"iii", 3, &h.Unused1},
		{"j", 1, &h.CorruptRAM}, {"k", 1, &h.UnderTemp}, {"l", 1, &h.OverTemp},
	})
}

func (h *HostStatus) parse2(f []byte) error {
	if err := parseFields(f, []spec{
		{"mmm", 3, &h.FunctionSettings}, {"n", 1, &h.Unused2}, {"o", 1, &h.HeadUp},
		{"p", 1, &h.RibbonOut}, {"q", 1, &h.ThermalTransfer}, {"r", 1, nil},
		{"s", 1, &h.PrintWidthMode}, {"t", 1, &h.LabelWaiting}, {"uuuuuuuu", 8, &h.LabelsRemaining},
		{"v", 1, &h.FormatWhilePrinting}, {"www", 3, &h.GraphicsStored},
	}); err != nil {
		return err
	}
	r := strings.TrimSpace(strings.Split(string(f), ",")[5])
	if len(r) != 1 || !isAlnum(r[0]) {
		return &FrameError{Frame: f, Reason: fmt.Sprintf("field r (print mode) %q: want one character", r)}
	}
	h.PrintMode = r
	return nil
}

func (h *HostStatus) parse3(f []byte) error {
	return parseFields(f, []spec{{"xxxx", 4, &h.Password}, {"y", 1, &h.StaticRAM}})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// parseHQES parses the body of a ~HQES frame.
func parseHQES(f []byte) (ExtendedStatus, error) {
	var x ExtendedStatus
	var gotE, gotW bool
	for _, line := range strings.Split(string(f), "\n") {
		line = strings.TrimSpace(line)
		var flag *int
		var bits *uint64
		switch {
		case strings.HasPrefix(line, "ERRORS:"):
			flag, bits, gotE = &x.ErrorFlag, &x.Errors, true
			line = line[len("ERRORS:"):]
		case strings.HasPrefix(line, "WARNINGS:"):
			flag, bits, gotW = &x.WarningFlag, &x.Warnings, true
			line = line[len("WARNINGS:"):]
		default:
			continue
		}
		fs := strings.Fields(line)
		if len(fs) != 3 {
			return x, &FrameError{Frame: f, Reason: fmt.Sprintf("line %q: want flag and two 8-digit hex groups", line)}
		}
		n, err := field(fs[0], 1, "flag")
		if err != nil {
			return x, &FrameError{Frame: f, Reason: err.Error()}
		}
		*flag = n
		var v uint64
		for _, g := range fs[1:] {
			if len(g) != 8 {
				return x, &FrameError{Frame: f, Reason: fmt.Sprintf("group %q: want 8 hex digits", g)}
			}
			u, err := strconv.ParseUint(g, 16, 32)
			if err != nil {
				return x, &FrameError{Frame: f, Reason: fmt.Sprintf("group %q: not hex", g)}
			}
			v = v<<32 | u
		}
		*bits = v
	}
	if !gotE || !gotW {
		return x, &FrameError{Frame: f, Reason: "want an ERRORS: and a WARNINGS: line"}
	}
	return x, nil
}

// isHQESFrame reports whether a frame is a ~HQES reply.
func isHQESFrame(f []byte) bool {
	return bytes.Contains(f, []byte("ERRORS:")) || bytes.Contains(f, []byte("PRINTER STATUS"))
}

// ParseHS parses a complete ~HS reply (three frames).
func ParseHS(b []byte) (HostStatus, error) {
	r := NewReader(bytes.NewReader(b))
	for {
		rep, err := r.Next()
		if err != nil {
			if errors.Is(err, errEOF) {
				return HostStatus{}, fmt.Errorf("%w: ~HS reply incomplete: want three STX…ETX strings", printers.ErrBadStatus)
			}
			return HostStatus{}, err
		}
		if rep.HS != nil {
			return *rep.HS, nil
		}
	}
}

// ParseHQES parses a complete ~HQES reply.
func ParseHQES(b []byte) (ExtendedStatus, error) {
	r := NewReader(bytes.NewReader(b))
	for {
		rep, err := r.Next()
		if err != nil {
			if errors.Is(err, errEOF) {
				return ExtendedStatus{}, fmt.Errorf("%w: ~HQES reply incomplete: want one STX…ETX frame with ERRORS and WARNINGS lines", printers.ErrBadStatus)
			}
			return ExtendedStatus{}, err
		}
		if rep.HQES != nil {
			return *rep.HQES, nil
		}
	}
}

// Apply sets the fields of s that ~HS reports.
func (h HostStatus) Apply(s *printers.Status) {
	s.Known = true
	s.Sources = append(s.Sources, "~HS")
	s.PaperOut = s.PaperOut || h.PaperOut != 0
	s.Paused = h.Paused != 0
	s.FormatsInBuffer = h.FormatsInBuffer
	s.BufferFull = h.BufferFull != 0
	s.PartialFormat = h.PartialFormat != 0
	s.CorruptRAM = h.CorruptRAM != 0
	s.UnderTemp = h.UnderTemp != 0
	s.OverTemp = h.OverTemp != 0
	s.HeadOpen = s.HeadOpen || h.HeadUp != 0
	s.RibbonOut = s.RibbonOut || h.RibbonOut != 0
	s.LabelWaiting = h.LabelWaiting != 0
	s.LabelsRemaining = h.LabelsRemaining
	s.LabelLength = h.LabelLength
}

// Apply sets the fields of s that ~HQES reports.
func (x ExtendedStatus) Apply(s *printers.Status) {
	s.Known = true
	s.Sources = append(s.Sources, "~HQES")
	e := x.Errors
	if x.ErrorFlag == 0 {
		e = 0
	}
	s.ErrorBits = e
	s.WarningBits = x.Warnings
	s.PaperOut = s.PaperOut || e&ErrMediaOut != 0
	s.RibbonOut = s.RibbonOut || e&ErrRibbonOut != 0
	s.HeadOpen = s.HeadOpen || e&ErrHeadOpen != 0
	s.CutterFault = e&ErrCutterFault != 0
	s.HeadOverTemp = e&ErrHeadOverTemp != 0
	s.MotorOverTemp = e&ErrMotorOverTemp != 0
	s.BadHead = e&ErrBadHeadElement != 0
	s.HeadDetect = e&ErrHeadDetection != 0
}

// Status builds a printers.Status from the replies that arrived (either may
// be nil). With neither it is unknown.
func Status(at time.Time, hs *HostStatus, x *ExtendedStatus) printers.Status {
	s := printers.Unknown(at)
	if x != nil {
		x.Apply(&s)
	}
	if hs != nil {
		hs.Apply(&s)
	}
	return s
}
