package zpl

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Field kinds reported by Interpret.
const (
	FieldText       = "text"
	FieldCode128    = "code128"
	FieldQR         = "qr"
	FieldDataMatrix = "datamatrix"
	FieldGraphic    = "graphic"
	FieldBox        = "box"
	FieldRFIDWrite  = "rfid-write"
)

// Field is one field of a format as a printer would execute it.
type Field struct {
	Kind string
	// X, Y is the ^FO origin.
	X, Y int
	// Data is the payload the printer encodes or prints, after ^FH hex
	// escapes and the symbology's own escapes: for Code 128 and DataMatrix
	// FNC1 separators are 0x1D and a leading FNC1 sets GS1; for QR it is
	// the data after the mode prefix; for an RFID write the hex EPC.
	Data string
	GS1  bool
	// Module is the ^BY narrow bar, ^BQ magnification or ^BX module size.
	Module int
	// Height is the bar height (^BC) or font height (^A).
	Height int
	// QRLevel and QRMode come from the QR prefix ('Q', "A" or "M,B").
	QRLevel byte
	QRMode  string
	// Graphic size for ^GF, in dots.
	GraphicW, GraphicH int
	// Graphic bitmap rows for ^GF, packed as in the command.
	Graphic []byte
}

// Format is one ^XA … ^XZ label format.
type Format struct {
	Fields []Field
	// Quantity is the ^PQ count (1 when absent).
	Quantity int
	// Commands lists every command in order, e.g. "^XA", "^CI28", "^PW".
	Commands []string
	// Width and Length are ^PW and ^LL (0 when absent).
	Width, Length int
}

// Labels is the number of labels the formats print.
func Labels(fs []Format) int {
	n := 0
	for _, f := range fs {
		n += f.Quantity
	}
	return n
}

// Interpret reads ZPL and returns its formats with the payload of each
// field. Text outside ^XA … ^XZ is ignored, as a printer does; ~ commands
// are listed in no format. A field whose data the printer could not
// encode as written is an error.
func Interpret(b []byte) ([]Format, error) {
	in := &interp{src: b}
	return in.run()
}

type interp struct {
	src     []byte
	pos     int
	formats []Format
	cur     *Format

	x, y    int
	fh      byte // ^FH indicator, 0 when off
	fb      bool
	barcode string   // "BC", "BQ", "BX" pending for the next ^FD
	params  []string // its parameters
	by      int
	font    int
	rfid    bool
	modeD   bool
}

func (in *interp) errf(format string, a ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, in.pos, fmt.Sprintf(format, a...))
}

// until returns the bytes up to the next command prefix.
func (in *interp) until() string {
	start := in.pos
	for in.pos < len(in.src) && in.src[in.pos] != '^' && in.src[in.pos] != '~' {
		in.pos++
	}
	return string(in.src[start:in.pos])
}

func (in *interp) run() ([]Format, error) {
	for in.pos < len(in.src) {
		c := in.src[in.pos]
		if c != '^' && c != '~' {
			in.pos++
			continue
		}
		if in.pos+3 > len(in.src) {
			return nil, in.errf("truncated command %q", in.src[in.pos:])
		}
		cmd := strings.ToUpper(string(in.src[in.pos+1 : in.pos+3]))
		in.pos += 3
		if c == '~' {
			in.until()
			continue
		}
		if cmd[0] == 'A' { // ^A<font>: one letter command, font is the parameter
			in.pos -= 1
			cmd = "A"
		}
		if err := in.command(cmd); err != nil {
			return nil, err
		}
	}
	if in.cur != nil {
		return nil, in.errf("format started with ^XA has no ^XZ")
	}
	return in.formats, nil
}

func (in *interp) command(cmd string) error {
	if cmd == "XA" {
		if in.cur != nil {
			return in.errf("^XA inside a format")
		}
		in.cur = &Format{Quantity: 1}
		in.resetField()
		in.cur.Commands = append(in.cur.Commands, "^XA")
		in.until()
		return nil
	}
	if in.cur == nil {
		in.until()
		return nil
	}
	in.cur.Commands = append(in.cur.Commands, "^"+cmd)
	if cmd == "FD" {
		return in.fieldData()
	}
	p := in.until()
	args := strings.Split(strings.TrimRight(p, "\r\n"), ",")
	num := func(i, def int) int {
		if i < len(args) {
			if v, err := strconv.Atoi(strings.TrimSpace(args[i])); err == nil {
				return v
			}
		}
		return def
	}
	switch cmd {
	case "XZ":
		in.formats = append(in.formats, *in.cur)
		in.cur = nil
	case "FO", "FT":
		in.x, in.y = num(0, 0), num(1, 0)
	case "FH":
		in.fh = '_'
		if s := strings.TrimSpace(p); s != "" {
			in.fh = s[0]
		}
	case "FB":
		in.fb = true
	case "A":
		in.font = num(1, 0)
	case "BY":
		in.by = num(0, 2)
	case "BC", "BQ", "BX":
		in.barcode, in.params = cmd, args
		in.modeD = cmd == "BC" && len(args) > 5 && strings.TrimSpace(args[5]) == "D"
	case "RF":
		in.rfid = strings.HasPrefix(strings.ToUpper(p), "W")
	case "PQ":
		in.cur.Quantity = num(0, 1)
		if in.cur.Quantity < 1 {
			in.cur.Quantity = 1
		}
	case "PW":
		in.cur.Width = num(0, 0)
	case "LL":
		in.cur.Length = num(0, 0)
	case "GB":
		in.cur.Fields = append(in.cur.Fields, Field{Kind: FieldBox, X: in.x, Y: in.y})
	case "GF":
		f, err := in.graphic(args)
		if err != nil {
			return err
		}
		in.cur.Fields = append(in.cur.Fields, f)
	case "FS":
		in.resetField()
	}
	return nil
}

func (in *interp) resetField() {
	in.fh, in.fb, in.barcode, in.params, in.rfid, in.modeD = 0, false, "", nil, false, false
}

// unhex applies ^FH escapes.
func (in *interp) unhex(s string) (string, error) {
	if in.fh == 0 || strings.IndexByte(s, in.fh) < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != in.fh {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", in.errf("^FH escape %q is cut short", s[i:])
		}
		v, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", in.errf("^FH escape %q is not two hex digits", s[i:i+3])
		}
		b.WriteByte(v[0])
		i += 2
	}
	return b.String(), nil
}

func (in *interp) fieldData() error {
	raw := in.until()
	data, err := in.unhex(raw)
	if err != nil {
		return err
	}
	f := Field{X: in.x, Y: in.y}
	switch {
	case in.rfid:
		f.Kind, f.Data = FieldRFIDWrite, strings.TrimSpace(data)
	case in.barcode == "BC":
		f.Kind, f.Module, f.Height = FieldCode128, in.by, atoi(in.params, 1)
		if in.modeD {
			f.GS1 = true
			f.Data = strings.NewReplacer("(", "", ")", "", " ", "").Replace(data)
			f.Data, _, err = code128Payload(">:" + f.Data)
		} else {
			f.Data, f.GS1, err = code128Payload(data)
		}
		if err != nil {
			return in.errf("%v", err)
		}
	case in.barcode == "BQ":
		f.Kind, f.Module = FieldQR, atoi(in.params, 2)
		if err := qrPayload(&f, data); err != nil {
			return in.errf("%v", err)
		}
	case in.barcode == "BX":
		f.Kind, f.Module = FieldDataMatrix, atoi(in.params, 1)
		esc := byte('~') // firmware default differs; the engine always passes one
		if len(in.params) > 6 && strings.TrimSpace(in.params[6]) != "" {
			esc = strings.TrimSpace(in.params[6])[0]
		}
		f.Data, f.GS1, err = dmPayload(data, esc)
		if err != nil {
			return in.errf("%v", err)
		}
	default:
		f.Kind, f.Height = FieldText, in.font
		if in.fb {
			data = strings.NewReplacer(`\\`, `\`, `\&`, "\n").Replace(data)
		}
		f.Data = data
	}
	in.cur.Fields = append(in.cur.Fields, f)
	return nil
}

func atoi(params []string, i int) int {
	if i < len(params) {
		v, _ := strconv.Atoi(strings.TrimSpace(params[i]))
		return v
	}
	return 0
}

// code128Payload reads ^BC mode N data: invocation codes select subsets
// and FNC1; it returns the encoded data with FNC1 separators as 0x1D.
func code128Payload(s string) (string, bool, error) {
	set := byte('B')
	var b strings.Builder
	gs1, first := false, true
	fnc1 := func() {
		if first {
			gs1 = true
		} else {
			b.WriteByte(0x1D)
		}
	}
	i := 0
	if strings.HasPrefix(s, ">;") {
		set, i = 'C', 2
	} else if strings.HasPrefix(s, ">:") {
		i = 2
	} else if strings.HasPrefix(s, ">9") {
		set, i = 'A', 2
	}
	for i < len(s) {
		c := s[i]
		if c == '>' {
			if i+1 >= len(s) {
				return "", false, fmt.Errorf("^BC data ends in a lone '>'")
			}
			code := s[i+1]
			i += 2
			switch code {
			case '8':
				fnc1()
			case '5':
				set = 'C'
			case '6':
				set = 'B'
			case '7':
				set = 'A'
			case '0':
				b.WriteByte('>')
			case '<':
				b.WriteByte('^')
			case '=':
				b.WriteByte('~')
			default:
				return "", false, fmt.Errorf("^BC invocation code >%c is not one the encoder writes", code)
			}
			if code == '0' || code == '<' || code == '=' {
				first = false
				if set == 'C' {
					return "", false, fmt.Errorf("^BC literal >%c in subset C", code)
				}
			}
			continue
		}
		if set == 'C' {
			if i+1 < len(s) && c >= '0' && c <= '9' && s[i+1] >= '0' && s[i+1] <= '9' {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
				i += 2
				first = false
				continue
			}
			return "", false, fmt.Errorf("^BC subset C holds digit pairs; %q at %d would be dropped", s[i:min(i+2, len(s))], i)
		}
		b.WriteByte(c)
		first = false
		i++
	}
	return b.String(), gs1, nil
}

// qrPayload reads the ^BQ field data prefix: error correction level, then
// A, (automatic) or M, with a character mode; B takes a 4-digit byte count.
func qrPayload(f *Field, s string) error {
	if len(s) < 3 || !strings.ContainsRune("HQML", rune(s[0])) {
		return fmt.Errorf("QR data %q must start with H, Q, M or L", trunc(s))
	}
	f.QRLevel = s[0]
	switch {
	case s[1] == 'A' && s[2] == ',':
		f.QRMode, f.Data = "A", s[3:]
	case s[1] == 'M' && s[2] == ',':
		if len(s) < 4 {
			return fmt.Errorf("QR manual mode without a character mode")
		}
		switch s[3] {
		case 'B':
			if len(s) < 8 {
				return fmt.Errorf("QR byte mode needs a 4-digit count")
			}
			n, err := strconv.Atoi(s[4:8])
			if err != nil {
				return fmt.Errorf("QR byte count %q is not 4 digits", s[4:8])
			}
			if n > len(s)-8 {
				return fmt.Errorf("QR byte count %d but %d bytes follow", n, len(s)-8)
			}
			f.QRMode, f.Data = "M,B", s[8:8+n]
			if rest := s[8+n:]; rest != "" {
				return fmt.Errorf("QR byte count %d leaves %q unencoded", n, trunc(rest))
			}
		case 'N', 'A':
			f.QRMode, f.Data = "M,"+s[3:4], s[4:]
		default:
			return fmt.Errorf("QR character mode %q is not N, A or B", s[3])
		}
	default:
		return fmt.Errorf("QR data %q: second character must be A, or M,", trunc(s))
	}
	return nil
}

// dmPayload reads ^BX field data with escape character esc.
func dmPayload(s string, esc byte) (string, bool, error) {
	var b strings.Builder
	gs1 := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != esc {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			return "", false, fmt.Errorf("DataMatrix data ends in the escape character")
		}
		i++
		switch n := s[i]; {
		case n == esc:
			b.WriteByte(esc)
		case n == '1':
			if b.Len() == 0 && !gs1 {
				gs1 = true
			} else {
				b.WriteByte(0x1D)
			}
		case n == 'd':
			if i+3 >= len(s) {
				return "", false, fmt.Errorf("DataMatrix %cd needs three digits", esc)
			}
			v, err := strconv.Atoi(s[i+1 : i+4])
			if err != nil || v > 255 {
				return "", false, fmt.Errorf("DataMatrix %cd%s is not a byte value", esc, s[i+1:i+4])
			}
			b.WriteByte(byte(v))
			i += 3
		case n >= '@' && n <= '_':
			b.WriteByte(n - '@')
		default:
			return "", false, fmt.Errorf("DataMatrix escape %c%c is not one the encoder writes", esc, n)
		}
	}
	return b.String(), gs1, nil
}

func (in *interp) graphic(args []string) (Field, error) {
	f := Field{Kind: FieldGraphic, X: in.x, Y: in.y}
	if len(args) < 5 {
		return f, in.errf("^GF needs a,b,c,d,data")
	}
	total, err1 := strconv.Atoi(args[2])
	bpr, err2 := strconv.Atoi(args[3])
	if err1 != nil || err2 != nil || bpr <= 0 || total < 0 || total%bpr != 0 {
		return f, in.errf("^GF byte counts %q,%q", args[2], args[3])
	}
	data := strings.TrimSpace(strings.Join(args[4:], ","))
	var raw []byte
	switch {
	case strings.HasPrefix(data, ":Z64:"):
		parts := strings.Split(data[5:], ":")
		if len(parts) != 2 {
			return f, in.errf("^GF Z64 data needs :Z64:<base64>:<crc>")
		}
		if want := fmt.Sprintf("%04x", CRC16XMODEM([]byte(parts[0]))); !strings.EqualFold(want, parts[1]) {
			return f, in.errf("^GF Z64 CRC %s, computed %s", parts[1], want)
		}
		z, err := base64.StdEncoding.DecodeString(parts[0])
		if err != nil {
			return f, in.errf("^GF Z64 base64: %v", err)
		}
		zr, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			return f, in.errf("^GF Z64 zlib: %v", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, int64(total)+1))
		if err != nil {
			return f, in.errf("^GF Z64 zlib: %v", err)
		}
	default:
		var err error
		raw, err = hex.DecodeString(data)
		if err != nil {
			return f, in.errf("^GF hex data: %v", err)
		}
	}
	if len(raw) != total {
		return f, in.errf("^GF declares %d bytes, data holds %d", total, len(raw))
	}
	f.GraphicW, f.GraphicH, f.Graphic = bpr*8, total/bpr, raw
	return f, nil
}

func trunc(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}
