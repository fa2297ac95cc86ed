package gs1

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func els(kv ...string) []Element {
	var out []Element
	for i := 0; i < len(kv); i += 2 {
		out = append(out, Element{AI: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"0952012345678", '8'},
		{"0950600013435", '2'},
		{"09501234567890123", '7'}, // SSCC (00)095012345678901237
		{"629104150021", '3'},      // GTIN-13 6291041500213
		{"0", '0'},
	}
	for _, tt := range tests {
		got, err := CheckDigit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("CheckDigit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12a4"} {
		if _, err := CheckDigit(bad); err == nil {
			t.Errorf("CheckDigit(%q) succeeded", bad)
		}
	}
}

func TestCheckPair(t *testing.T) {
	// GenSpecs / syntax-test examples of the alphanumeric check pair.
	for _, v := range []string{"1987654Ad4X4bL5ttr2310c2K", "12345678901234567890123NT", "12345_ABCDEFGHIJKLMCP", "0881063PhHvY89", "00000!HV", "22"} {
		if f := lintCsumAlpha(v); f.err != nil {
			t.Errorf("csumalpha(%q): %s", v, f.msg)
		}
	}
	for _, v := range []string{"1987654Ad4X4bL5ttr2310cXK", "33", "2"} {
		if f := lintCsumAlpha(v); f.err == nil {
			t.Errorf("csumalpha(%q) passed", v)
		}
	}
}

// The four forms of the same message.
var forms = []struct {
	name                  string
	hri, es, scan, dl     string
	elements              []Element
	dlElementsInPathOrder []Element
}{
	{
		name:     "gtin lot expiry",
		hri:      "(01)09520123456788(10)ABC123(17)251231",
		es:       "^010952012345678810ABC123^17251231",
		scan:     "]C1010952012345678810ABC123\x1d17251231",
		dl:       "https://id.gs1.org/01/09520123456788/10/ABC123?17=251231",
		elements: els("01", "09520123456788", "10", "ABC123", "17", "251231"),
	},
	{
		name:     "genspecs digital link example",
		hri:      "(01)09520123456788(10)ABC1(21)12345(17)180426",
		es:       "^010952012345678810ABC1^2112345^17180426",
		scan:     "]C1010952012345678810ABC1\x1d2112345\x1d17180426",
		dl:       "https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426",
		elements: els("01", "09520123456788", "10", "ABC1", "21", "12345", "17", "180426"),
	},
	{
		name:     "sscc logistic label",
		hri:      "(00)095012345678901237(02)09520123456788(37)24(10)LOT-7(3103)000195",
		es:       "^0009501234567890123702095201234567883724^10LOT-7^3103000195",
		scan:     "]C10009501234567890123702095201234567883724\x1d10LOT-7\x1d3103000195",
		dl:       "https://id.gs1.org/00/095012345678901237?02=09520123456788&37=24&10=LOT-7&3103=000195",
		elements: els("00", "095012345678901237", "02", "09520123456788", "37", "24", "10", "LOT-7", "3103", "000195"),
	},
	{
		name:     "reserved characters",
		hri:      "(01)09520123456788(10)A/B+C%D&E?F",
		es:       "^010952012345678810A/B+C%D&E?F",
		scan:     "]C1010952012345678810A/B+C%D&E?F",
		dl:       "https://id.gs1.org/01/09520123456788/10/A%2FB%2BC%25D%26E%3FF",
		elements: els("01", "09520123456788", "10", "A/B+C%D&E?F"),
	},
	{
		name:     "gln with extension",
		hri:      "(414)9520123456788(254)32a%2Fb",
		es:       "^4149520123456788254" + "32a%2Fb",
		scan:     "]C14149520123456788254" + "32a%2Fb",
		dl:       "https://id.gs1.org/414/9520123456788/254/32a%252Fb",
		elements: els("414", "9520123456788", "254", "32a%2Fb"),
	},
}

func TestParseForms(t *testing.T) {
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			hri, err := ParseHRI(f.hri)
			if err != nil {
				t.Fatalf("ParseHRI: %v", err)
			}
			if !reflect.DeepEqual(hri.Elements, f.elements) {
				t.Fatalf("ParseHRI = %v", hri.Elements)
			}
			es, err := ParseElementString(f.es)
			if err != nil || !reflect.DeepEqual(es.Elements, f.elements) {
				t.Fatalf("ParseElementString = %v, %v", es.Elements, err)
			}
			sd, sym, err := ParseScanData([]byte(f.scan))
			if err != nil || sym != "]C1" || !reflect.DeepEqual(sd.Elements, f.elements) {
				t.Fatalf("ParseScanData = %v, %q, %v", sd.Elements, sym, err)
			}
			dl, err := ParseDigitalLink(f.dl)
			if err != nil {
				t.Fatalf("ParseDigitalLink: %v", err)
			}
			if !sameSet(dl.Elements, f.elements) {
				t.Fatalf("ParseDigitalLink = %v", dl.Elements)
			}
			// Builders give the exact forms back.
			m := Message{Elements: f.elements}
			if got := m.HRI(); got != f.hri {
				t.Errorf("HRI() = %q", got)
			}
			if got := m.ElementString(); got != f.es {
				t.Errorf("ElementString() = %q", got)
			}
			if got := m.ScanData("]C1"); got != f.scan {
				t.Errorf("ScanData() = %q", got)
			}
			if got, err := m.DigitalLink(""); err != nil || got != f.dl {
				t.Errorf("DigitalLink() = %q, %v", got, err)
			}
			// Parse auto-detects every form.
			for _, in := range []string{f.hri, f.es, f.scan, f.dl} {
				p, err := Parse(in)
				if err != nil || !sameSet(p.Elements, f.elements) {
					t.Errorf("Parse(%q) = %v, %v", in, p.Elements, err)
				}
			}
		})
	}
}

func sameSet(a, b []Element) bool {
	if len(a) != len(b) {
		return false
	}
	x := slices.Clone(a)
	y := slices.Clone(b)
	cmp := func(p, q Element) int { return strings.Compare(p.AI+"\x00"+p.Value, q.AI+"\x00"+q.Value) }
	slices.SortFunc(x, cmp)
	slices.SortFunc(y, cmp)
	return reflect.DeepEqual(x, y)
}

func TestScanDataIdentifiers(t *testing.T) {
	want := els("01", "09520123456788", "10", "ABC123", "17", "251231")
	data := "010952012345678810ABC123\x1d17251231"
	for _, sym := range []string{"]C1", "]d2", "]Q3", "]e0", "]J1"} {
		m, got, err := ParseScanData([]byte(sym + data))
		if err != nil || got != sym || !reflect.DeepEqual(m.Elements, want) {
			t.Errorf("%s: %v %q %v", sym, m.Elements, got, err)
		}
	}
	// Bare data: assumed ]C1; a leading GS is tolerated.
	for _, in := range []string{data, "\x1d" + data, "]C1\x1d" + data} {
		m, sym, err := ParseScanData([]byte(in))
		if err != nil || sym != "]C1" || !reflect.DeepEqual(m.Elements, want) {
			t.Errorf("%q: %v %q %v", in, m.Elements, sym, err)
		}
	}
	// ]Q1 carries a Digital Link URI; a bare URI is assumed ]Q1.
	uri := "https://id.gs1.org/01/09520123456788/10/ABC123?17=251231"
	for _, in := range []string{"]Q1" + uri, uri} {
		m, sym, err := ParseScanData([]byte(in))
		if err != nil || sym != "]Q1" || !sameSet(m.Elements, want) {
			t.Errorf("%q: %v %q %v", in, m.Elements, sym, err)
		}
	}
	for _, bad := range []string{"]Q1010952012345678810ABC", "]X9" + data, "]C1" + uri, "", "\x1d"} {
		if _, _, err := ParseScanData([]byte(bad)); err == nil {
			t.Errorf("ParseScanData(%q) succeeded", bad)
		}
	}
	if got := (Message{Elements: want}).ScanData("]Q1"); got != "]Q1"+uri {
		t.Errorf("ScanData(]Q1) = %q", got)
	}
}

// A forgotten FNC1 after a variable-length AI swallows the next element:
// scan-back comparisons must be AI by AI.
func TestMissingSeparatorSwallowsNextAI(t *testing.T) {
	m, err := ParseElementString("^010952012345678810ABC12317251231")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.Get("10"); v != "ABC12317251231" {
		t.Errorf("(10) = %q", v)
	}
	if _, ok := m.Get("17"); ok {
		t.Error("(17) should have been swallowed by (10)")
	}
}

func TestElementStringSeparators(t *testing.T) {
	tests := []struct {
		els  []Element
		want string
	}{
		// Predefined-length AIs need no separator, even when not last.
		{els("01", "09520123456788", "17", "251231", "10", "LOT"), "^01095201234567881725123110LOT"},
		// (8111) is N4 but not predefined: it needs a separator.
		{els("255", "9520123456788", "8111", "0100", "17", "251231"), "^2559520123456788^81110100^17251231"},
		// Variable-length AI last: no trailing separator.
		{els("00", "095012345678901237", "400", "PO-1"), "^00095012345678901237400PO-1"},
	}
	for _, tt := range tests {
		m := Message{Elements: tt.els}
		if got := m.ElementString(); got != tt.want {
			t.Errorf("ElementString() = %q, want %q", got, tt.want)
		}
		back, err := ParseElementString(tt.want)
		if err != nil || !reflect.DeepEqual(back.Elements, tt.els) {
			t.Errorf("ParseElementString(%q) = %v, %v", tt.want, back.Elements, err)
		}
	}
	// A redundant separator after a predefined-length AI is accepted.
	m, err := ParseElementString("^0109520123456788^17251231^10LOT")
	if err != nil || len(m.Elements) != 3 {
		t.Errorf("redundant FNC1: %v %v", m.Elements, err)
	}
}

func TestOrderForSymbol(t *testing.T) {
	in := els("10", "LOT", "01", "09520123456788", "21", "S1", "17", "251231")
	got := OrderForSymbol(in)
	want := els("01", "09520123456788", "17", "251231", "10", "LOT", "21", "S1")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("OrderForSymbol = %v", got)
	}
	if in[0].AI != "10" {
		t.Error("OrderForSymbol modified its input")
	}
	if es := (Message{Elements: got}).ElementString(); es != "^01095201234567881725123110LOT^21S1" {
		t.Errorf("ordered element string = %q", es)
	}
}

func TestGS1128Capacity(t *testing.T) {
	ok := Message{Elements: els("01", "09520123456788", "17", "251231", "10", "ABCDEFGHIJKLMNOPQRST")}
	// 2+14 + 2+6 + 2+20 = 46
	if n := GS1128DataChars(ok); n != 46 {
		t.Errorf("GS1128DataChars = %d", n)
	}
	if err := CheckGS1128Capacity(ok); err != nil {
		t.Error(err)
	}
	// Separators count: (10) before (21) adds one FNC1. 2+14 + 2+20+1 + 2+10 = 51
	big := Message{Elements: els("01", "09520123456788", "10", "ABCDEFGHIJKLMNOPQRST", "21", "1234567890")}
	if n := GS1128DataChars(big); n != 51 {
		t.Errorf("GS1128DataChars = %d", n)
	}
	if err := CheckGS1128Capacity(big); !errors.Is(err, ErrCapacity) {
		t.Errorf("CheckGS1128Capacity = %v", err)
	}
}

func TestHRIEscapesParenthesis(t *testing.T) {
	m := Message{Elements: els("01", "09520123456788", "10", "L(A)")}
	hri := m.HRI()
	if hri != `(01)09520123456788(10)L\(A)` {
		t.Fatalf("HRI() = %q", hri)
	}
	back, err := ParseHRI(hri)
	if err != nil || !reflect.DeepEqual(back.Elements, m.Elements) {
		t.Fatalf("ParseHRI(%q) = %v, %v", hri, back.Elements, err)
	}
}

func TestDuplicates(t *testing.T) {
	m, err := ParseHRI("(01)09520123456788(10)A(01)09520123456788")
	if err != nil || len(m.Elements) != 2 {
		t.Errorf("same AI, same value: %v %v", m.Elements, err)
	}
	_, err = ParseHRI("(01)09520123456788(10)A(10)B")
	if !errors.Is(err, ErrDuplicate) {
		t.Errorf("same AI, different value: %v", err)
	}
	if err := Validate(Message{Elements: els("01", "09520123456788", "10", "A", "10", "B")}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Validate duplicate: %v", err)
	}
}

func TestGet(t *testing.T) {
	m := Message{Elements: els("01", "09520123456788", "10", "A")}
	if v, ok := m.Get("10"); !ok || v != "A" {
		t.Errorf("Get(10) = %q %v", v, ok)
	}
	if _, ok := m.Get("21"); ok {
		t.Error("Get(21) found a value")
	}
}

func TestResolveYear(t *testing.T) {
	tests := []struct{ yy, now, want int }{
		{25, 2026, 2025}, {76, 2026, 2076}, {77, 2026, 1977}, {99, 2026, 1999}, {0, 2026, 2000},
		{10, 2099, 2110}, {49, 2099, 2149}, {50, 2099, 2050},
	}
	for _, tt := range tests {
		if got := ResolveYear(tt.yy, tt.now); got != tt.want {
			t.Errorf("ResolveYear(%d, %d) = %d, want %d", tt.yy, tt.now, got, tt.want)
		}
	}
}

func TestAddJoinHRIText(t *testing.T) {
	var m Message
	for _, kv := range [][2]string{{"01", "09520123456788"}, {"10", "L(1"}, {"17", "251231"}, {"10", "L(1"}} {
		if err := m.Add(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.Elements) != 3 {
		t.Fatalf("Add kept %v", m.Elements)
	}
	if err := m.Add("10", "OTHER"); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Add duplicate = %v", err)
	}
	if err := m.Add("17", "251332"); !errors.Is(err, ErrDate) {
		t.Errorf("Add bad date = %v", err)
	}
	if got := m.Join(">8", ">8"); got != ">8010952012345678810L(1>817251231" {
		t.Errorf("Join = %q", got)
	}
	if got := m.HRIText(); got != "(01)09520123456788(10)L(1(17)251231" {
		t.Errorf("HRIText = %q", got)
	}
}
