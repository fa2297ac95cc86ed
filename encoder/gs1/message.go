package gs1

import (
	"strconv"
	"strings"
)

// FNC1 as written in element strings.
const FNC1 = '^'

// GS is the ASCII group separator scanners send for FNC1.
const GS = 0x1D

// Element is one AI and its value.
type Element struct{ AI, Value string }

// Message is a sequence of elements in input order.
type Message struct{ Elements []Element }

// Get returns the value of the first element with the AI.
func (m Message) Get(ai string) (string, bool) {
	for _, e := range m.Elements {
		if e.AI == ai {
			return e.Value, true
		}
	}
	return "", false
}

// Add appends an element after checking its value (ValidateValue). The same
// AI with the same value again is ignored; with another value it is
// ErrDuplicate. Whole-message rules are left to Validate.
func (m *Message) Add(ai, value string) error {
	if err := ValidateValue(ai, value); err != nil {
		return err
	}
	for _, e := range m.Elements {
		if e.AI == ai {
			if e.Value == value {
				return nil
			}
			return newErr(ai, -1, "duplicate", ErrDuplicate, "appears twice with different values "+strconv.Quote(e.Value)+" and "+strconv.Quote(value))
		}
	}
	m.Elements = append(m.Elements, Element{AI: ai, Value: value})
	return nil
}

// Title returns the dictionary title of an element's AI, or "".
func (e Element) Title() string {
	if a, ok := Lookup(e.AI); ok {
		return a.Title
	}
	return ""
}

// Parse auto-detects the input form: "(" starts HRI, "^" an element string,
// "http://" or "https://" a Digital Link URI, "]" a symbology identifier and
// anything else bare scan data (AI digits with GS separators).
func Parse(input string) (Message, error) {
	switch {
	case input == "":
		return Message{}, newErr("", 0, "syntax", ErrEmpty, "empty input; give HRI \"(01)...\", an element string \"^01...\", scan data or a Digital Link URI")
	case input[0] == '(':
		return ParseHRI(input)
	case input[0] == FNC1:
		return ParseElementString(input)
	case hasHTTPPrefix(input):
		return ParseDigitalLink(input)
	default:
		m, _, err := ParseScanData([]byte(input))
		return m, err
	}
}

func hasHTTPPrefix(s string) bool {
	return len(s) >= 7 && strings.EqualFold(s[:7], "http://") || len(s) >= 8 && strings.EqualFold(s[:8], "https://")
}

// add appends an element unless the same AI with the same value is already
// there.
func add(els []Element, e Element) []Element {
	for _, o := range els {
		if o == e {
			return els
		}
	}
	return append(els, e)
}

// ParseElementString reads "^0109520123456788^10ABC123": '^' stands for FNC1
// and must come first; after a variable-length AI, '^' ends the value.
func ParseElementString(s string) (Message, error) {
	if s == "" || s[0] != FNC1 {
		return Message{}, newErr("", 0, "syntax", ErrSyntax, "element string must start with FNC1 '^'")
	}
	m, err := parseAIData(s, 1, FNC1)
	if err != nil {
		return Message{}, err
	}
	return m, nil
}

// parseAIData reads AI data from s[off:] where sep separates elements, then
// validates the message. Positions in errors are offsets in s.
func parseAIData(s string, off int, sep byte) (Message, error) {
	els := make([]Element, 0, 4)
	i := off
	for i < len(s) {
		if s[i] == sep {
			return Message{}, newErr("", i, "syntax", ErrSyntax, "empty element: separator at position "+strconv.Itoa(i)+" where an AI should start")
		}
		a, n := matchAt(s[i:])
		if a == nil {
			return Message{}, unknownAIAt(s, i)
		}
		vs := i + n
		var ve int
		if fl := fixedLen[lookupIndex(a.Code)-1]; a.Predefined && fl > 0 {
			ve = vs + fl
			if ve > len(s) {
				ve = len(s)
			}
			if j := strings.IndexByte(s[vs:ve], sep); j >= 0 {
				ve = vs + j
			}
		} else {
			j := strings.IndexByte(s[vs:], sep)
			if j < 0 {
				ve = len(s)
			} else {
				ve = vs + j
			}
		}
		v := s[vs:ve]
		if err := checkValue(a, v); err != nil {
			err.Pos += vs
			return Message{}, err
		}
		els = add(els, Element{AI: a.Code, Value: v})
		if dup := dupAt(els); dup >= 0 {
			p := els[dup]
			return Message{}, newErr(a.Code, vs, "duplicate", ErrDuplicate, "appears twice with different values "+strconv.Quote(p.Value)+" and "+strconv.Quote(v))
		}
		i = ve
		if i < len(s) && s[i] == sep {
			i++
			if i == len(s) {
				return Message{}, newErr(a.Code, i-1, "syntax", ErrSyntax, "separator at the end of the data")
			}
		}
	}
	if len(els) == 0 {
		return Message{}, newErr("", off, "syntax", ErrEmpty, "no AI data after the leading FNC1")
	}
	if err := checkAssociations(els); err != nil {
		return Message{}, err
	}
	return Message{Elements: els}, nil
}

// dupAt returns the index of an earlier element with the last element's AI
// and a different value, or -1.
func dupAt(els []Element) int {
	last := els[len(els)-1]
	for i, o := range els[:len(els)-1] {
		if o.AI == last.AI && o.Value != last.Value {
			return i
		}
	}
	return -1
}

func unknownAIAt(s string, i int) error {
	j := i
	for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j-i < 2 {
		end := i + 8
		if end > len(s) {
			end = len(s)
		}
		return newErr("", i, "ai", ErrUnknownAI, "expected AI digits at position "+strconv.Itoa(i)+", found "+strconv.Quote(s[i:end]))
	}
	// Name the shortest prefix no AI starts with.
	n := 2
	for n < j-i && aiPrefixExists(s[i:i+n]) {
		n++
	}
	return newErr(s[i:i+n], i, "ai", ErrUnknownAI, "unknown AI at position "+strconv.Itoa(i)+"; check the AI digits against the GS1 General Specifications")
}

func aiPrefixExists(p string) bool {
	for i := range table {
		if strings.HasPrefix(table[i].Code, p) {
			return true
		}
	}
	return false
}

// ParseHRI reads bracketed AI syntax "(01)09520123456788(10)ABC123". A '('
// inside a value is written "\(" (HRI escapes it that way).
func ParseHRI(s string) (Message, error) {
	if s == "" || s[0] != '(' {
		return Message{}, newErr("", 0, "syntax", ErrSyntax, "HRI must start with \"(\" and an AI, e.g. (01)09520123456788")
	}
	var els []Element
	i := 0
	for i < len(s) {
		if s[i] != '(' {
			return Message{}, newErr("", i, "syntax", ErrSyntax, "expected \"(\" at position "+strconv.Itoa(i))
		}
		close := strings.IndexByte(s[i:], ')')
		if close < 0 {
			return Message{}, newErr("", i, "syntax", ErrSyntax, "unclosed \"(\" at position "+strconv.Itoa(i))
		}
		ai := s[i+1 : i+close]
		k := lookupIndex(ai)
		if k == 0 {
			if len(ai) < 2 || len(ai) > 4 || !isDigits(ai) {
				return Message{}, newErr("", i+1, "ai", ErrUnknownAI, "expected 2 to 4 AI digits in brackets at position "+strconv.Itoa(i)+", found "+strconv.Quote("("+ai+")"))
			}
			return Message{}, newErr(ai, i+1, "ai", ErrUnknownAI, "unknown AI; check the AI digits against the GS1 General Specifications")
		}
		a := &table[k-1]
		vs := i + close + 1
		// The value runs to the next unescaped '('.
		j := vs
		escaped := false
		for j < len(s) && s[j] != '(' {
			if s[j] == '\\' && j+1 < len(s) && s[j+1] == '(' {
				escaped = true
				j += 2
				continue
			}
			j++
		}
		v := s[vs:j]
		if escaped {
			v = strings.ReplaceAll(v, `\(`, "(")
		}
		if err := checkValue(a, v); err != nil {
			err.Pos += vs
			return Message{}, err
		}
		els = add(els, Element{AI: a.Code, Value: v})
		if dup := dupAt(els); dup >= 0 {
			return Message{}, newErr(a.Code, vs, "duplicate", ErrDuplicate, "appears twice with different values "+strconv.Quote(els[dup].Value)+" and "+strconv.Quote(v))
		}
		i = j
	}
	if err := checkAssociations(els); err != nil {
		return Message{}, err
	}
	return Message{Elements: els}, nil
}

// Symbology identifiers of GS1 AI data and of plain data carrying a URI.
const (
	SymGS1128       = "]C1"
	SymDataMatrix   = "]d2"
	SymQR           = "]Q3"
	SymDataBar      = "]e0"
	SymDotCode      = "]J1"
	SymQRPlain      = "]Q1"
	SymDataMatrixPl = "]d1"
)

// ParseScanData reads what a scanner sends: an optional symbology identifier
// (]C1, ]d2, ]Q3, ]e0, ]J1 for GS1 AI data; ]Q1 or ]d1 carrying a Digital
// Link URI), then the data with GS (0x1D) separators. Without an identifier,
// a URI is taken as ]Q1 and AI data as ]C1. A leading GS (the first FNC1
// sent as GS) is tolerated. It
// returns the symbology identifier it read or assumed.
func ParseScanData(b []byte) (Message, string, error) {
	s := string(b)
	sym := ""
	if len(s) >= 3 && s[0] == ']' {
		sym = s[:3]
		s = s[3:]
		switch sym {
		case SymGS1128, SymDataMatrix, SymQR, SymDataBar, SymDotCode:
			if hasHTTPPrefix(s) {
				return Message{}, sym, newErr("", 3, "syntax", ErrSyntax, "symbology identifier "+sym+" announces GS1 AI data but a URI follows")
			}
			off := 0
			if s != "" && s[0] == GS {
				off = 1 // some scanners send the leading FNC1 as GS too
			}
			m, err := parseAIData(s, off, GS)
			return m, sym, at3(err)
		case SymQRPlain, SymDataMatrixPl:
			if !hasHTTPPrefix(s) {
				return Message{}, sym, newErr("", 3, "syntax", ErrSyntax, "symbology identifier "+sym+" carries plain data; only a GS1 Digital Link URI can be read from it")
			}
			m, err := ParseDigitalLink(s)
			return m, sym, at3(err)
		default:
			return Message{}, sym, newErr("", 0, "syntax", ErrSyntax, "symbology identifier "+strconv.Quote(sym)+" is not a GS1 one; expected ]C1, ]d2, ]Q3, ]e0, ]J1, or ]Q1/]d1 with a Digital Link URI")
		}
	}
	if hasHTTPPrefix(s) {
		m, err := ParseDigitalLink(s)
		return m, SymQRPlain, err
	}
	off := 0
	if s != "" && s[0] == GS {
		off = 1
	}
	if off == len(s) {
		return Message{}, SymGS1128, newErr("", 0, "syntax", ErrEmpty, "no scan data")
	}
	m, err := parseAIData(s, off, GS)
	return m, SymGS1128, err
}

func at3(err error) error {
	if err == nil {
		return nil
	}
	return at(err, 3)
}
