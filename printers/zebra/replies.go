package zebra

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dockgate/dockgate/printers"
)

// Replies outside STX … ETX frames. A Zebra printer answers a few
// commands without framing: an SGD getvar with the quoted value, ~RV with
// "_+,N_" or "_-,N_" per RFID format, ^HV with the field data between the
// header and terminator the format gave, and ^HR with its calibration table
// between the start and end strings it gave. The gateway picks the ^HV and
// ^HR strings (VerifyHeader, CalibrationStart, CalibrationEnd) so that the
// Reader finds them in a stream that also carries status frames.

// Strings the gateway gives ^HV and ^HR, and that Reader recognises.
const (
	// VerifyHeader starts a ^HV reply; a tag naming the label follows, then
	// VerifyOpen, the data and VerifyClose (the ^HV terminator).
	VerifyHeader = "DGV"
	VerifyOpen   = '['
	VerifyClose  = ']'
	// CalibrationStart and CalibrationEnd are the ^HR start and end strings.
	CalibrationStart = "DGCALSTART"
	CalibrationEnd   = "DGCALEND"
)

// Bounds of unframed replies; a longer run is dropped as garbage.
const (
	maxSGD         = 1024
	maxVerifyTag   = 64
	maxVerifyData  = 512
	maxCalibration = 8 << 10
	maxRVDigits    = 4
)

// EncodeReport is one ~RV report: the outcome of one RFID format. Voids is
// the number the printer sent after the sign: the labels it voided for the
// format (0 when the first tag took the write).
type EncodeReport struct {
	OK    bool `json:"ok"`
	Voids int  `json:"voids"`
}

// Verify is one ^HV reply: the tag from the header (which label it is) and
// the field's data (for an EPC read back with ^RFR, hex).
type Verify struct {
	Tag  string `json:"tag"`
	Data string `json:"data"`
}

// SGDValue is the quoted value of an SGD getvar reply; "?" for a setting
// the printer does not know.
type SGDValue string

// Unknown reports whether the printer did not know the setting.
func (v SGDValue) Unknown() bool { return v == "?" }

// Odometer is a parsed ~HQOD reply: print length counters, in Unit ("in"
// or "cm"), as whole units.
type Odometer struct {
	Total int    `json:"total"`
	User1 int    `json:"user1"`
	User2 int    `json:"user2"`
	Unit  string `json:"unit"`
}

// Calibration is the table ^HR prints: the encoding position the printer
// chose and one row per position tried, saying whether a tag was read and
// written there.
type Calibration struct {
	Position string           `json:"position"`
	Rows     []CalibrationRow `json:"rows"`
}

// CalibrationRow is one position ^HR tried.
type CalibrationRow struct {
	Position string `json:"position"`
	Read     bool   `json:"read"`
	Write    bool   `json:"write"`
}

// isOdometerFrame reports whether a frame is a ~HQOD reply.
func isOdometerFrame(f []byte) bool { return bytes.Contains(f, []byte("PRINT METERS")) }

// parseOdometer parses the body of a ~HQOD frame:
//
//	PRINT METERS
//	   TOTAL NONRESETTABLE:              8 "
//	   USER RESETTABLE CNTR1:            9 "
//	   USER RESETTABLE CNTR2:            8 "
//
// The unit is `"` (inches) or cm.
func parseOdometer(f []byte) (Odometer, error) {
	var o Odometer
	got := 0
	for _, line := range strings.Split(string(f), "\n") {
		line = strings.TrimSpace(line)
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int
		switch strings.Join(strings.Fields(name), " ") {
		case "TOTAL NONRESETTABLE":
			dst = &o.Total
		case "USER RESETTABLE CNTR1":
			dst = &o.User1
		case "USER RESETTABLE CNTR2":
			dst = &o.User2
		default:
			continue
		}
		fs := strings.Fields(val)
		if len(fs) != 2 {
			return o, &FrameError{Frame: f, Reason: fmt.Sprintf("odometer line %q: want a number and a unit", line)}
		}
		n, err := strconv.Atoi(fs[0])
		if err != nil || n < 0 || len(fs[0]) > 10 {
			return o, &FrameError{Frame: f, Reason: fmt.Sprintf("odometer line %q: %q is not a count", line, fs[0])}
		}
		unit := ""
		switch fs[1] {
		case `"`:
			unit = "in"
		case "cm", "CM":
			unit = "cm"
		default:
			return o, &FrameError{Frame: f, Reason: fmt.Sprintf("odometer line %q: unit %q is not \" or cm", line, fs[1])}
		}
		if o.Unit != "" && o.Unit != unit {
			return o, &FrameError{Frame: f, Reason: "odometer lines in different units"}
		}
		o.Unit = unit
		*dst = n
		got++
	}
	if o.Unit == "" || got < 1 {
		return o, &FrameError{Frame: f, Reason: "no TOTAL NONRESETTABLE line"}
	}
	if !bytes.Contains(f, []byte("TOTAL NONRESETTABLE")) {
		return o, &FrameError{Frame: f, Reason: "no TOTAL NONRESETTABLE line"}
	}
	return o, nil
}

// ParseCalibration parses the text ^HR sends between its start and end
// strings:
//
//	position=195
//	190,R,W
//	195,R,W
//	200,R,
//
// A row's second and third fields are "R" when a tag was read, "W" when it
// was written, empty otherwise.
func ParseCalibration(text string) (Calibration, error) {
	var c Calibration
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if p, ok := strings.CutPrefix(line, "position="); ok {
			if p == "" || !isPosition(p) {
				return c, fmt.Errorf("%w: calibration position %q", errBadCalibration, p)
			}
			c.Position = p
			continue
		}
		fs := strings.Split(line, ",")
		if len(fs) != 3 || !isPosition(strings.TrimSpace(fs[0])) {
			return c, fmt.Errorf("%w: calibration row %q: want position,R|,W|", errBadCalibration, line)
		}
		r, w := strings.TrimSpace(fs[1]), strings.TrimSpace(fs[2])
		if (r != "" && r != "R") || (w != "" && w != "W") {
			return c, fmt.Errorf("%w: calibration row %q: want R or nothing, then W or nothing", errBadCalibration, line)
		}
		c.Rows = append(c.Rows, CalibrationRow{Position: strings.TrimSpace(fs[0]), Read: r == "R", Write: w == "W"})
	}
	if c.Position == "" {
		return c, fmt.Errorf("%w: no position= line", errBadCalibration)
	}
	return c, nil
}

var errBadCalibration = fmt.Errorf("%w: malformed ^HR calibration table", printers.ErrBadStatus)

// isPosition reports whether s is an encoding position: digits, or a
// Link-OS F/B followed by digits.
func isPosition(s string) bool {
	if s == "" || len(s) > 8 {
		return false
	}
	if s[0] == 'F' || s[0] == 'B' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ParseUptime parses the Link-OS device.uptime value, e.g.
// "00 days 01 hours 23 mins 45 secs".
func ParseUptime(s string) (time.Duration, error) {
	fs := strings.Fields(s)
	if len(fs) == 0 || len(fs)%2 != 0 {
		return 0, fmt.Errorf("uptime %q: want pairs of number and unit", s)
	}
	var d time.Duration
	seen := map[time.Duration]bool{}
	for i := 0; i < len(fs); i += 2 {
		if len(fs[i]) > 6 {
			return 0, fmt.Errorf("uptime %q: %q is too long", s, fs[i])
		}
		n, err := strconv.Atoi(fs[i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("uptime %q: %q is not a count", s, fs[i])
		}
		var unit time.Duration
		switch strings.ToLower(fs[i+1]) {
		case "day", "days":
			unit = 24 * time.Hour
		case "hour", "hours":
			unit = time.Hour
		case "min", "mins", "minute", "minutes":
			unit = time.Minute
		case "sec", "secs", "second", "seconds":
			unit = time.Second
		default:
			return 0, fmt.Errorf("uptime %q: unknown unit %q", s, fs[i+1])
		}
		if seen[unit] {
			return 0, fmt.Errorf("uptime %q: %s twice", s, fs[i+1])
		}
		seen[unit] = true
		d += time.Duration(n) * unit
	}
	return d, nil
}

// AppendUptime appends d as device.uptime reads: "DD days HH hours MM mins
// SS secs". The simulator answers with it.
func AppendUptime(b []byte, d time.Duration) []byte {
	s := int64(d / time.Second)
	return fmt.Appendf(b, "%02d days %02d hours %02d mins %02d secs", s/86400, s/3600%24, s/60%60, s%60)
}

// AppendOdometer appends o as a ~HQOD reply.
func AppendOdometer(b []byte, o Odometer) []byte {
	u := `"`
	if o.Unit == "cm" {
		u = "cm"
	}
	return fmt.Appendf(b, "\x02\r\n  PRINT METERS\r\n     TOTAL NONRESETTABLE:   %12d %s\r\n"+
		"     USER RESETTABLE CNTR1: %12d %s\r\n     USER RESETTABLE CNTR2: %12d %s\r\n\x03\r\n",
		o.Total, u, o.User1, u, o.User2, u)
}

// AppendEncodeReport appends a ~RV report.
func AppendEncodeReport(b []byte, r EncodeReport) []byte {
	sign := byte('-')
	if r.OK {
		sign = '+'
	}
	return fmt.Appendf(b, "_%c,%d_", sign, r.Voids)
}

// AppendVerify appends a ^HV reply with the gateway's header.
func AppendVerify(b []byte, v Verify) []byte {
	b = append(b, VerifyHeader...)
	b = append(b, v.Tag...)
	b = append(b, VerifyOpen)
	b = append(b, v.Data...)
	return append(b, VerifyClose)
}

// AppendSGD appends an SGD reply: the value in double quotes.
func AppendSGD(b []byte, v string) []byte {
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// AppendCalibration appends a ^HR table between the gateway's strings.
func AppendCalibration(b []byte, c Calibration) []byte {
	b = append(b, CalibrationStart...)
	b = append(b, "\r\nposition="...)
	b = append(b, c.Position...)
	b = append(b, "\r\n"...)
	for _, r := range c.Rows {
		b = append(b, r.Position...)
		b = append(b, ',')
		if r.Read {
			b = append(b, 'R')
		}
		b = append(b, ',')
		if r.Write {
			b = append(b, 'W')
		}
		b = append(b, "\r\n"...)
	}
	return append(b, CalibrationEnd+"\r\n"...)
}

// scan outcomes of one unframed token.
const (
	tokNone       = iota // not a token here: skip a byte
	tokIncomplete        // may complete with more bytes
	tokDone              // a complete token
)

// scanToken tries to read one unframed reply at the start of b. It returns
// the outcome, the bytes consumed and the reply.
func scanToken(b []byte) (int, int, Reply) {
	switch b[0] {
	case '"':
		i := bytes.IndexByte(b[1:], '"')
		if i < 0 {
			if len(b) > maxSGD+1 {
				return tokNone, 0, Reply{}
			}
			return tokIncomplete, 0, Reply{}
		}
		if i > maxSGD {
			return tokNone, 0, Reply{}
		}
		v := SGDValue(b[1 : 1+i])
		return tokDone, i + 2, Reply{SGD: &v}
	case '_':
		// _+,N_ or _-,N_
		if len(b) < 2 {
			return tokIncomplete, 0, Reply{}
		}
		if b[1] != '+' && b[1] != '-' {
			return tokNone, 0, Reply{}
		}
		if len(b) < 3 {
			return tokIncomplete, 0, Reply{}
		}
		if b[2] != ',' {
			return tokNone, 0, Reply{}
		}
		n, i := 0, 3
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if i-3 >= maxRVDigits {
				return tokNone, 0, Reply{}
			}
			n = n*10 + int(b[i]-'0')
		}
		if i == len(b) {
			return tokIncomplete, 0, Reply{}
		}
		if i == 3 || b[i] != '_' {
			return tokNone, 0, Reply{}
		}
		return tokDone, i + 1, Reply{Encode: &EncodeReport{OK: b[1] == '+', Voids: n}}
	case VerifyHeader[0]:
		v, c := matchPrefix(b, VerifyHeader), matchPrefix(b, CalibrationStart)
		switch {
		case c != tokNone:
			return scanCalibration(b)
		case v == tokIncomplete:
			return tokIncomplete, 0, Reply{}
		case v == tokNone:
			return tokNone, 0, Reply{}
		}
		i := len(VerifyHeader)
		for ; i < len(b) && b[i] != VerifyOpen; i++ {
			if !isTagChar(b[i]) || i-len(VerifyHeader) >= maxVerifyTag {
				return tokNone, 0, Reply{}
			}
		}
		if i == len(b) {
			return tokIncomplete, 0, Reply{}
		}
		tag := string(b[len(VerifyHeader):i])
		if tag == "" {
			return tokNone, 0, Reply{}
		}
		j := bytes.IndexByte(b[i+1:], VerifyClose)
		if j < 0 {
			if len(b)-(i+1) > maxVerifyData {
				return tokNone, 0, Reply{}
			}
			return tokIncomplete, 0, Reply{}
		}
		if j > maxVerifyData {
			return tokNone, 0, Reply{}
		}
		data := b[i+1 : i+1+j]
		for _, c := range data {
			if c < 0x20 || c > 0x7e {
				return tokNone, 0, Reply{}
			}
		}
		return tokDone, i + 2 + j, Reply{Verify: &Verify{Tag: tag, Data: string(data)}}
	}
	return tokNone, 0, Reply{}
}

// scanCalibration reads CalibrationStart … CalibrationEnd.
func scanCalibration(b []byte) (int, int, Reply) {
	switch matchPrefix(b, CalibrationStart) {
	case tokNone:
		return tokNone, 0, Reply{}
	case tokIncomplete:
		return tokIncomplete, 0, Reply{}
	}
	j := bytes.Index(b[len(CalibrationStart):], []byte(CalibrationEnd))
	if j < 0 {
		if len(b) > maxCalibration {
			return tokNone, 0, Reply{}
		}
		return tokIncomplete, 0, Reply{}
	}
	if len(CalibrationStart)+j > maxCalibration {
		return tokNone, 0, Reply{}
	}
	body := string(b[len(CalibrationStart) : len(CalibrationStart)+j])
	c, err := ParseCalibration(body)
	if err != nil {
		return tokNone, 0, Reply{}
	}
	return tokDone, len(CalibrationStart) + j + len(CalibrationEnd), Reply{Calibration: &c}
}

// matchPrefix reports whether b starts with p (tokDone), is a prefix of p
// (tokIncomplete) or neither.
func matchPrefix(b []byte, p string) int {
	n := min(len(b), len(p))
	if string(b[:n]) != p[:n] {
		return tokNone
	}
	if n < len(p) {
		return tokIncomplete
	}
	return tokDone
}

func isTagChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.' || c == '-' || c == ':' || c == '_'
}
