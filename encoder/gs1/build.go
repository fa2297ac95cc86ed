package gs1

import (
	"strings"
)

// needsSep reports whether an FNC1 must follow the element when another one
// comes after it.
func needsSep(ai string) bool {
	k := lookupIndex(ai)
	return k == 0 || !table[k-1].Predefined
}

func (m Message) encode(first string, sep byte) string {
	return m.Join(first, string(sep))
}

// Join writes lead, then the elements in order with sep wherever an FNC1
// separator is needed (after a variable-length element that is not last).
// It lets a printer language use its own FNC1 notation, e.g. Join(">8", ">8")
// for ZPL Code 128 or Join("_1", "_1") for ^BX with ^FH.
func (m Message) Join(lead, sep string) string {
	n := len(lead)
	for _, e := range m.Elements {
		n += len(e.AI) + len(e.Value) + len(sep)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(lead)
	for i, e := range m.Elements {
		b.WriteString(e.AI)
		b.WriteString(e.Value)
		if i < len(m.Elements)-1 && needsSep(e.AI) {
			b.WriteString(sep)
		}
	}
	return b.String()
}

// ElementString writes the elements in order with FNC1 as '^', including the
// leading one, and a '^' after every variable-length element that is not
// last.
func (m Message) ElementString() string { return m.encode("^", FNC1) }

// ScanData writes what a scanner would send: the symbology identifier, then
// the elements with GS (0x1D) after every variable-length element that is
// not last. For ]Q1 and ]d1 it writes the identifier and the Digital Link URI
// on id.gs1.org ("" if the message has no primary key). "" writes bare data.
func (m Message) ScanData(symbologyID string) string {
	if symbologyID == SymQRPlain || symbologyID == SymDataMatrixPl {
		u, err := m.DigitalLink("")
		if err != nil {
			return ""
		}
		return symbologyID + u
	}
	return m.encode(symbologyID, GS)
}

// HRI writes "(01)09520123456788(10)ABC123". A '(' inside a value is written
// "\(" so that ParseHRI reads the same message back.
func (m Message) HRI() string {
	var b strings.Builder
	for _, e := range m.Elements {
		b.WriteByte('(')
		b.WriteString(e.AI)
		b.WriteByte(')')
		if strings.IndexByte(e.Value, '(') >= 0 {
			b.WriteString(strings.ReplaceAll(e.Value, "(", `\(`))
		} else {
			b.WriteString(e.Value)
		}
	}
	return b.String()
}

// HRIText is the human-readable line printed under a symbol:
// "(01)09520123456788(10)ABC123", values exactly as they are (no escaping,
// so it is for people, not for ParseHRI).
func (m Message) HRIText() string {
	var b strings.Builder
	for _, e := range m.Elements {
		b.WriteByte('(')
		b.WriteString(e.AI)
		b.WriteByte(')')
		b.WriteString(e.Value)
	}
	return b.String()
}

// OrderForSymbol returns the elements reordered to need the fewest FNC1
// separators: predefined-length elements first, then variable-length ones,
// each group in its original order, so only the variable-length ones but the
// last need a separator. The input slice is not modified.
func OrderForSymbol(els []Element) []Element {
	out := make([]Element, 0, len(els))
	for _, e := range els {
		if !needsSep(e.AI) {
			out = append(out, e)
		}
	}
	for _, e := range els {
		if needsSep(e.AI) {
			out = append(out, e)
		}
	}
	return out
}

// MaxGS1128DataChars is the GS1-128 limit on data characters per symbol
// (GenSpecs §5.4.1).
const MaxGS1128DataChars = 48

// GS1128DataChars counts the data characters a GS1-128 symbol of the message
// carries in the given order: AI digits, values and the FNC1 separators
// between elements. The leading FNC1 (part of the start pattern) and the
// symbol check character are not counted.
func GS1128DataChars(m Message) int {
	return len(m.encode("", GS))
}

// CheckGS1128Capacity reports ErrCapacity when the message, in its current
// order, needs more than 48 data characters in a GS1-128 symbol.
func CheckGS1128Capacity(m Message) error {
	if n := GS1128DataChars(m); n > MaxGS1128DataChars {
		return newErr("", -1, "capacity", ErrCapacity, "GS1-128 holds at most 48 data characters (AIs, values and FNC1 separators); this message needs "+itoa(n)+": split it over two symbols or use GS1 DataMatrix")
	}
	return nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
