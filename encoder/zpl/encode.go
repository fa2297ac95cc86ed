package zpl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dockgate/dockgate/encoder/label"
	"github.com/dockgate/dockgate/encoder/raster"
)

// Sentinel errors.
var (
	// ErrProfile: the layout was made for another profile or the profile
	// cannot take it.
	ErrProfile = errors.New("zpl: layout does not match profile")
	// ErrSyntax: Interpret met ZPL it cannot read.
	ErrSyntax = errors.New("zpl: syntax error")
)

// DataMatrixEscape is the ^BX escape character the encoder always passes.
const DataMatrixEscape = '_'

const hexDigits = "0123456789ABCDEF"

// Encode writes the layout as one ZPL format for the profile.
func Encode(l *label.Layout, prof *label.Profile) ([]byte, error) {
	if prof == nil || l == nil {
		return nil, fmt.Errorf("%w: nil layout or profile", ErrProfile)
	}
	if prof.DPI != l.DPI || l.Width > prof.PrintWidthDots {
		return nil, fmt.Errorf("%w: layout %s is for %d dpi and %d dots; profile %s is %d dpi with %d dots; render the template for this profile",
			ErrProfile, l.Template, l.DPI, l.Width, prof.ID, prof.DPI, prof.PrintWidthDots)
	}
	if l.UTF8 && !prof.ZPL.CI28 {
		return nil, fmt.Errorf("%w: layout has non-ASCII text and profile %s has no ^CI28", ErrProfile, prof.ID)
	}
	var b strings.Builder
	b.Grow(1024)
	b.WriteString("^XA\n")
	if prof.ZPL.CI28 {
		b.WriteString("^CI28\n")
	}
	fmt.Fprintf(&b, "^PW%d\n^LL%d\n^LH0,0\n", l.Width, l.Length)
	for i := range l.Elements {
		e := &l.Elements[i]
		if e.Kind != label.KindRFID {
			continue
		}
		if !prof.RFID.Supported {
			return nil, fmt.Errorf("%w: element %q writes an EPC and profile %s has no RFID encoder", ErrProfile, e.Name, prof.ID)
		}
		b.WriteString(prof.RFID.Setup)
		b.WriteString("\n")
		b.WriteString(prof.RFID.WriteEPC)
		b.WriteString("^FD")
		for j := 0; j < len(e.EPC); j++ {
			if !strings.ContainsRune(hexDigits, rune(e.EPC[j])) {
				return nil, fmt.Errorf("%w: element %q: EPC %q is not upper-case hex", label.ErrData, e.Name, e.EPC)
			}
		}
		b.WriteString(e.EPC)
		b.WriteString("^FS\n")
	}
	for i := range l.Elements {
		e := &l.Elements[i]
		if err := element(&b, e); err != nil {
			return nil, fmt.Errorf("element %q (%s): %w", e.Name, e.Kind, err)
		}
	}
	fmt.Fprintf(&b, "^PQ%d,0,1,Y\n^XZ\n", l.Quantity)
	return []byte(b.String()), nil
}

func element(b *strings.Builder, e *label.Element) error {
	switch e.Kind {
	case label.KindRFID:
		return nil
	case label.KindText:
		for i, line := range e.Lines {
			b.WriteString("^FO")
			b.WriteString(strconv.Itoa(e.X))
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(e.Y + i*e.LineHeight))
			b.WriteString("^A0N,")
			b.WriteString(strconv.Itoa(e.FontHeight))
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(e.FontHeight))
			fb := e.Align == label.AlignCenter || e.Align == label.AlignRight
			if fb {
				b.WriteString("^FB")
				b.WriteString(strconv.Itoa(e.W))
				b.WriteString(",1,0,")
				if e.Align == label.AlignCenter {
					b.WriteString("C")
				} else {
					b.WriteString("R")
				}
				b.WriteString(",0")
			}
			b.WriteString("^FH^FD")
			writeEscaped(b, line, fb)
			b.WriteString("^FS\n")
		}
		return nil
	case label.KindBox:
		fmt.Fprintf(b, "^FO%d,%d^GB%d,%d,%d^FS\n", e.X, e.Y, e.W, e.H, e.Thickness)
		return nil
	case label.KindLine:
		fmt.Fprintf(b, "^FO%d,%d^GB%d,%d,%d^FS\n", e.X, e.Y, e.W, e.H, min(e.W, e.H))
		return nil
	}
	if e.Raster || e.Kind == label.KindImage {
		bm, err := raster.Symbol(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "^FO%d,%d%s^FS\n", e.X, e.Y, GF(bm))
		return nil
	}
	switch e.Kind {
	case label.KindCode128, label.KindGS1128:
		if e.Module < 1 || e.Module > label.MaxModule1D {
			return fmt.Errorf("%w: module %d dots; ^BY takes 1 to 10", label.ErrData, e.Module)
		}
		fmt.Fprintf(b, "^FO%d,%d^BY%d^BCN,%d,N,N,N^FD", e.X, e.Y, e.Module, e.H)
		if err := code128Data(b, e.Code128); err != nil {
			return err
		}
		b.WriteString("^FS\n")
	case label.KindQR:
		fmt.Fprintf(b, "^FO%d,%d^BQN,2,%d,%c^FH^FD%cM,B%04d", e.X, e.Y, e.Module, e.QRLevel, e.QRLevel, len(e.Data))
		writeEscaped(b, e.Data, false)
		b.WriteString("^FS\n")
	case label.KindDataMatrix:
		fmt.Fprintf(b, "^FO%d,%d^BXN,%d,200,%d,%d,,%c^FD", e.X, e.Y, e.Module, e.Modules, e.Rows, DataMatrixEscape)
		if e.GS1 {
			b.WriteString("_1")
		}
		for i := 0; i < len(e.Data); i++ {
			c := e.Data[i]
			switch {
			case c == label.FNC1 && e.GS1:
				b.WriteString("_1")
			case c == DataMatrixEscape:
				b.WriteString("__")
			case c < 0x20 || c >= 0x7F || c == '^' || c == '~':
				fmt.Fprintf(b, "_d%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteString("^FS\n")
	default:
		return fmt.Errorf("%w: unknown element kind %q", label.ErrData, e.Kind)
	}
	return nil
}

// writeEscaped writes field data for ^FH: "^", "~", "_", control
// characters and every byte above 0x7E as _XX, so the field holds only
// printable ASCII and no command prefix. In a ^FB block a backslash is
// doubled (^FB reads \& as a line break).
func writeEscaped(b *strings.Builder, s string, fb bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '^' || c == '~' || c == '_' || c < 0x20 || c >= 0x7F:
			b.WriteByte('_')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		case c == '\\' && fb:
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
}

// code128Data writes ^BC mode N field data for the symbol characters:
// start code, subset switches and FNC1 as invocation codes, digits in
// subset C as pairs, and ">" "^" "~" in subset B as >0 >< >=.
func code128Data(b *strings.Builder, c label.Code128) error {
	cw := c.Codewords
	if len(cw) == 0 {
		return fmt.Errorf("%w: empty Code 128 symbol", label.ErrData)
	}
	set := byte('B')
	switch cw[0] {
	case 105:
		set = 'C'
		b.WriteString(">;")
	case 104:
		b.WriteString(">:")
	default:
		return fmt.Errorf("%w: Code 128 start character %d", label.ErrData, cw[0])
	}
	for _, v := range cw[1:] {
		switch {
		case v == 102:
			b.WriteString(">8")
		case set == 'C' && v == 100:
			set = 'B'
			b.WriteString(">6")
		case set == 'B' && v == 99:
			set = 'C'
			b.WriteString(">5")
		case set == 'C' && v < 100:
			b.WriteByte(byte('0' + v/10))
			b.WriteByte(byte('0' + v%10))
		case set == 'B' && v < 95:
			switch ch := byte(v + 32); ch {
			case '>':
				b.WriteString(">0")
			case '^':
				b.WriteString("><")
			case '~':
				b.WriteString(">=")
			default:
				b.WriteByte(ch)
			}
		default:
			return fmt.Errorf("%w: Code 128 symbol character %d in subset %c has no ZPL form", label.ErrData, v, set)
		}
	}
	return nil
}
